"""Example phrasings of each intent, written for Dispatch and shipped with it.

The intent classifier compares a message with these by meaning (nearest neighbours over
sentence embeddings), so a new phrasing that means the same lands in the same place. They
are deliberately fleet-neutral: no agent names, no domain jargon. Keep each short, the way
people type in chat.
"""

from __future__ import annotations

STATUS = """
what's in flight
what is everyone working on
how far along is everything
has anything finished
has anything finished yet
is it done yet
are we done yet
any news
any update on my stuff
any progress
where are we with the launch stuff
where are we at
how's it going over there
status pls
give me a status update
what's the status of my requests
what's still running
what's still pending
what's left
what's outstanding
is anything stuck
is anyone still working on it
who is working on what right now
what are the agents up to
what's happening with my request
how's my request coming along
how is the work coming along
did they finish
did that go through
is the report ready yet
eta?
when will it be done
how long until it's done
how much longer
what's taking so long
still waiting on anything
what did I ask for today
what have I got open
show me what's running
show my open tasks
list my tasks
catch me up
update me
what's the holdup
is the deploy done
has the copy come back yet
did the designer finish
anything back yet
anything ready for me
what's done so far
progress report please
how are things going with that
"""

ROSTER = """
who's on the team
who do you have
what can you do
what kinds of things can your team do
what agents are available
list the agents
show me the roster
who can help me with design
who handles payroll
who should I ask about contracts
is anyone good with spreadsheets
does anyone know about taxes
can anyone here do video editing
who's the right agent for a logo
which agent does translations
what are your agents good at
what skills does the team have
do you have someone for legal stuff
who knows the database
is there an agent for social media
who covers customer support
what's everyone here for
what does everybody do
what is each of you for
help
help me
how does this work
how do I use you
what do you do
who are you
what are you
hi
hello
hey there
good morning
yo
thanks
thanks!
thank you so much
cheers
great, thanks
nice work
ok cool
sounds good
got it
lol
who's available right now
who's free
which agents are online
what are my options
can you introduce the team
what services do you offer
what have you got here
"""

CANCEL = """
cancel all
cancel everything
cancel that
cancel it
stop
stop everything
stop all of it
stop the banner
stop working on that
abort
abort the deploy
kill it
kill the job
nvm, kill it
never mind
nevermind, forget it
forget it
forget about the logo
scrap that
scrap the banner
scrap the whole thing
drop it
drop the tweets
call it off
call off the launch stuff
don't bother anymore
no longer needed
we don't need that anymore, cancel
please cancel my request
cancel the report
cancel the second one
halt everything
pull the plug on it
hold off on everything, cancel it
that's not needed anymore, stop
"""

CLARIFY = """
sort it out
please handle this one
handle it
redo it like before
do it again like last time
same as last time
make it better
fix it
fix this
fix that
can you take care of that
take care of it
deal with this
deal with it pls
you know what to do
do the thing
do the usual
the usual please
can you look into it
look at this
check it
have a look
work on it
finish it
finish it up
get it done
just do it
improve it
clean it up
update it
change it
tweak it a bit
help with this
can you do something about this
this needs attention
make it work
make it happen
can someone handle that
someone take this
one more please
again
"""

WORK = """
write a blog post about our new pricing
draft the newsletter for next week
design a logo for the coffee shop
fix the login bug on the signup form
the app crashes on launch on tablets
our invoices are going out with the wrong VAT
payments are timing out at the gateway
translate the landing page into spanish
schedule the posts for next week
build a dashboard of weekly signups
review this contract before friday
prepare the quarterly forecast
set up the staging database
deploy the new version to production
create a banner for the summer sale
research competitors in the EU market
summarize the customer interviews
run payroll for march
reconcile the bank statements
plan the offsite in Lisbon
book flights to Berlin for the team
what's the weather in Lisbon tomorrow
what is the capital of australia
how do I convert a recipe to metric
can you write a haiku about autumn
could someone look into why the build fails
can you make a presentation for the board meeting
i need a landing page for the beta
we need tweets for the launch
get me three options for the tagline
the checkout page is slow on mobile safari
customers can't reset their passwords
the numbers in the q3 report look off
help me write a cover letter
make a video for the product launch
edit the podcast episode
optimize our ads budget
analyze last month's churn
update the privacy policy for the new law
add input validation to the users endpoint
refactor the billing module
mock up the settings screen
generate an illustration for the article
post the announcement on linkedin
draft a reply to the angry customer
audit last month's expenses
onboard the new hire next monday
file the sales tax return
prepare an NDA for the new vendor
find a venue for the conference
is there a way to speed up the nightly export
"""

OFF_TOPIC = """
what's the weather like this weekend
who won the football last night
tell me a joke
what is the capital of peru
how many calories are in a banana
recommend a good movie for tonight
what time is it in tokyo right now
where can I get good pizza around here
how many miles is a marathon
what's the meaning of life
how tall is mount everest
who painted the mona lisa
when does the sun set today
is it going to rain later
what is 17 times 23
suggest a name for my new cat
how long should I boil an egg
what's a good gift for my sister
how do you play chess
which planet is the biggest
what's the best way to learn guitar
any tips for sleeping better
how far is the moon
what should I cook for dinner tonight
who is the richest person in the world
"""
"""Requests that belong to nobody in a work fleet: each fleet's agents are scored against
these once, and a part must beat that baseline to count as a fit (else the catch-all)."""

NO_FIT = [line.strip() for line in OFF_TOPIC.strip().splitlines() if line.strip()]

INTENTS: dict[str, list[str]] = {
    name: [line.strip() for line in block.strip().splitlines() if line.strip()]
    for name, block in {
        "status": STATUS,
        "roster": ROSTER,
        "cancel": CANCEL,
        "clarify": CLARIFY,
        "work": WORK,
    }.items()
}
