"""What people ask of common jobs, written for Dispatch and shipped with it.

A manifest says what an agent does in a line or two ("Maintenance: repairs and the building").
People ask for help in the words of the problem ("the radiator in 412 is stone cold"), and a
static embedding model cannot bridge the two from one line. These are the everyday requests
that recur for a role in most workplaces. Each role goes to the one agent of a fleet whose
own profile is closest to it, if any is close enough, and its phrasings then count for that
agent as its own examples would. They are fleet-neutral: no agent names, no one company.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    description: str
    phrases: tuple[str, ...]


_SOFTWARE_AND_CREATIVE = """
# backend engineering: servers, APIs, databases, integrations, payments processing
the api is returning 500 errors
checkout payments are timing out
the database queries are really slow
add an endpoint for exporting orders
the webhook from the payment provider is failing
fix the bug where users get logged out
the sync job between the two systems is broken
the login service is down
migrate the database schema
the search results are wrong
customers are being charged twice
the password reset emails never arrive
orders aren't showing up in the admin
connect our system to the supplier's
the numbers in the app don't match what's saved
the export file is missing half the rows
the integration with the accounting system stopped syncing
requests are timing out under load
users see someone else's data
the order page spins forever after someone pays
discount codes get applied twice at checkout
uploading a big csv in the admin throws an error
stock levels don't update after an order is placed

# frontend web development: website pages, browser, layout, css, forms
the button on the website doesn't do anything
the page looks broken in safari
the signup form won't submit
make the homepage load faster
the menu overlaps the text on small screens
build the new pricing page
fix the layout on the checkout page
the images on the site are blurry
the contact form gives an error
the site looks weird on my phone
add a cookie banner to the website
a link on the homepage goes nowhere
the cart icon doesn't update
the font looks wrong on windows
fields in the form don't line up
the dropdown menu gets cut off at the bottom
the logo is stretched on the about us page
the popup won't close on mobile
the date picker shows the wrong month

# mobile app development: ios and android apps, app store releases
the app crashes when I open it on my phone
the android app won't load on tablets
push notifications stopped arriving on iphones
submit the new version to the app store
the app drains the battery
add dark mode to the app
the app store rejected our update
the app freezes after the latest update
people on older phones can't install it
the app logs people out every time they close it
users say the app shows a white screen on startup
the barcode scanner in the app won't focus
our new build has been waiting for review for days
fingerprint login stopped working in the app

# infrastructure and operations: deploys, servers, outages, cloud, monitoring, uptime
the site is down
we're getting an outage alert
deploy the release to production
the ssl certificate expires next week
the servers are running out of disk space
our cloud bill doubled this month
set up monitoring and alerts
the build pipeline keeps failing
roll back the last release
everything is really slow since this morning
the backups haven't run for a week
the domain name is about to expire
we need more capacity for the launch
the website is crawling
the server crashed overnight
move us to a different cloud provider
people get an error page when they visit
someone keeps getting paged at night about memory
the staging environment has been down since yesterday
the dns change still hasn't taken effect
the containers keep restarting in a loop

# security: vulnerabilities, breaches, suspicious access, phishing, passwords, hacking
someone got a phishing email pretending to be the ceo
we might have leaked customer data
there were strange logins from abroad overnight
review this for security holes
rotate the leaked api keys
a laptop with client files was stolen
I clicked a link in a dodgy email
we think we've been hacked
ransomware has locked some files
a researcher reported a vulnerability to us
a customer says someone else got into their account
should everyone have two-factor login
someone shared their password in the chat
we need a penetration test
an employee's account was used to send spam
block the suspicious ip addresses

# quality assurance and testing: test plans, regressions, reproducing bugs
test the new release before it goes out
write a test plan for the checkout
can someone reproduce this bug
run the regression tests
check the update didn't break anything
the tests fail at random
go through the new feature and find what's broken
try it on different browsers and phones
sign off the release candidate
the same bug came back after the fix
test it on the oldest supported phone
check the new version against the old one
click through every page before friday's launch
the bug only happens sometimes, figure out the steps
make a checklist of what to try on the new booking flow
the automated checks are red on the main branch

# data engineering: pipelines, etl, data warehouse, syncing data between systems, data quality
the nightly data load didn't run
the dashboard numbers haven't refreshed since monday
the figures in the two systems don't match
get the sales data into the warehouse
a column of the export is full of blanks
there are duplicate customers in the data
stream the events into the database
clean up the messy spreadsheet imports
the overnight copy of the orders table failed again
half the rows came through with the dates mangled
automate the weekly csv we paste in by hand
the feed from the online shop stops every weekend
timestamps are in three different time zones across tables

# machine learning and ai: models, predictions, recommendations, chatbots, classification
the recommendations show people irrelevant products
the model's predictions got worse this month
train something to sort the support tickets automatically
can we predict which customers will leave
the chatbot gives wrong answers
detect fraud automatically
the ai keeps making things up
summarise thousands of reviews automatically
can we spot damaged products from a photo automatically
the auto-tagging labels half the photos wrong
score which leads are most likely to buy
build a bot that answers questions from our handbook
the similar items suggestions always show the same things

# data and analytics: numbers, dashboards, reports, trends, forecasts, spreadsheets
which products make the least profit
pull the numbers for last quarter
build a dashboard of weekly sales
why did sign-ups drop in march
forecast demand for next month
crunch the survey results
what's our churn rate
compare this year's figures with last year
which channel brings the most customers
where do people drop off in the funnel
how many active users do we have
did the experiment actually work
make a chart of the trend over the year
what's the average order value
how many customers came back a second time
break down revenue by region
which day of the week is busiest
how many people visited the site last week
what share of free trials turn into paying customers
put the monthly figures into a pivot table
is this week's jump in traffic a blip or a trend

# statistics and research methods: study design, sample sizes, significance, regression, surveys
how many people do we need in the study
is this difference significant or just chance
which test should I use for this data
check the analysis before we publish
design the questionnaire so it isn't biased
the reviewers don't like our statistics
what does this p-value actually mean
control for age and gender in the analysis
our survey only got 40 replies, is that enough
the two groups are different sizes, does that matter
should we randomise who gets the new version
the data is really skewed, what do I do
how do I work out the confidence interval

# it support: laptops, accounts, passwords, wifi, printers, software access, email, computers
my laptop won't turn on
I'm locked out of my account
the wifi is down in the office
the printer isn't working
install the software on the new starter's machine
give her access to the shared drive
my email isn't syncing on my phone
the screen keeps flickering
I need a new keyboard and mouse
my computer is really slow
I forgot my password
set up a laptop for the new hire
the video call keeps dropping
my headset doesn't work on calls
I can't open the shared folder
the projector in the meeting room won't connect
my phone isn't getting work email
I need admin rights to install something
my second monitor isn't being detected
my mailbox is full and won't send anything
the vpn won't connect when I work from home

# research computing: hpc cluster, compute jobs, research data storage, scientific software
my analysis takes days to run on my laptop
the jobs are stuck waiting in the queue
our project folder ran out of quota
install the scientific package on the cluster
back up the raw data from the instrument
I need a machine with a lot of memory
the shared storage is full
my simulation got killed after twelve hours
I need access to the gpu nodes
how do I move terabytes of sequencing files safely
the old compiler version I need has disappeared
where do we archive the data once the project ends

# technical writing and documentation: help docs, manuals, release notes, api docs, guides
the help docs are out of date
write the release notes
document the api
the setup guide is missing a step
write a user manual for the new feature
the readme doesn't explain how to install it
turn these notes into a how-to guide
update the faq
the screenshots in the handbook show the old screens
nobody can follow the installation instructions
explain what every option on the settings page does
we need a getting started page for developers

# product management: roadmap, features, priorities, specs, user stories, feedback
what should we build next
write the spec for the feature
prioritise the backlog
turn the feedback into user stories
customers keep asking for the same feature
decide what goes into the next release
we have too many feature requests, which matter
plan the roadmap for next year
sales promised a client something we haven't built
is this idea worth building at all
what problem are we really solving here
the team can't agree what to do first
write acceptance criteria for these tickets

# user research and ux: usability, user interviews, user testing, personas, journeys
watch people try the new signup flow
interview customers about why they left
users find the onboarding confusing
nobody understands what this button does
run a usability test on the prototype
map the customer journey
who are our users really
people give up halfway through the form, why
talk to a few customers before we build this
new users can't work out where to start
why do people phone us instead of using the site
do people understand the labels in the navigation

# visual and product design: mockups, screens, layouts, brand, logos, presentations
mock up the settings screen
design a new logo
redesign the onboarding flow
make the slides look nicer
create a style guide for the brand
design the poster for the event
sketch a wireframe for the dashboard
pick colours and fonts for the brand
design the packaging for the new product
design a flyer
our brochure looks dated
the website looks old fashioned
make an infographic of the results
design the menu cards
design new business cards
make the annual report look professional
our shop sign needs a fresh look

# images and illustration: pictures, banners, artwork, photo editing, graphics
make a banner for the homepage
draw an illustration for the blog post
generate some product photos
edit this photo to remove the background
create a header image
make an icon set
retouch the team photos
draw a cartoon for the newsletter
brighten these pictures, they're too dark
resize these pictures so they fit the website
draw little characters for the welcome screens
make a hand-drawn map for the festival
make a thumbnail for the new video

# animation and motion graphics: animated logos, explainers, gifs, motion design
animate the logo for the intro
make a short animated explainer
turn this chart into an animation
a looping gif for the launch
add motion to the slides
make the loading spinner more playful
a little bouncing character for the error page
the numbers should count up on screen in the video
the transitions between scenes feel clunky
an opening sequence for our video channel
make the title text slide in smoothly
our mascot should wave and blink

# photography and visual content: photo shoots, product photography, lifestyle shots, headshots
we need photos of the new products
shoot the team headshots
our product pictures look dull
organise a photo shoot for the new collection
take pictures at the event
get some shots of the food for the menu
lifestyle photos of people using it
our rooms look small and dark in the pictures
book a photographer for the conference
shoot the new range flat on a white background
get shots of staff at work for the careers page
we need fresh photos of the outside of the building

# video and audio: video editing, podcasts, voice-over, music, sound effects, trailers
edit the video from the event
cut a trailer
record a voice-over
make the music for the intro
mix the podcast episode
add subtitles to the video
film a short clip for the website
the sound in the recording is terrible
make a how-to video
turn the webinar into short clips
the video needs a voice over in spanish
add music under the trailer
there's a buzzing hum all through the interview
the footage from the two cameras doesn't match in colour
we need a jingle for the radio spot

# game design: levels, mechanics, balance, quests, difficulty, players' experience
this level is too hard
rebalance the weapons
design a new boss fight
players are finding an exploit
write the quest storyline
players quit after the tutorial
the game gets boring after an hour
design a new character's abilities
the second world is too easy
players don't understand the crafting
one character is way stronger than the rest
players get lost on the third map
the controls feel floaty when jumping
there's no reason to keep playing after the ending

# game art and animation: characters, sprites, environments, 3d models, game assets
make sprites for the new enemy
model the new vehicle in 3d
the character's walk animation looks stiff
paint the background for the forest level
design some new skins
the textures look muddy up close
the hero needs an idle and a victory pose
make tiles for the dungeon floor
the castle model has way too many polygons
concept sketches for the new monster
the fire spell effect looks weak
the new enemy is hard to see against the background

# game operations and monetisation: in-game store, events, economy, battle pass, live updates
players say the shop prices are a rip-off
plan the holiday event in the game
the in-game currency is too easy to get
add a new season pass
schedule the next content update
switch on double xp for the weekend
gold is piling up and everything is getting inflated
take the limited skins out of the shop on sunday
how many gems should the starter pack give
which bundles sold best over the weekend
players say the loot boxes feel rigged
line up rewards for the next season

# community management: players, members, forums, discord servers, moderation, feedback
players are angry about the update on the forum
moderate the discord server
gather feedback from the community
announce the patch to the players
someone is harassing other members
our members feel ignored
organise a meetup for the community
a post in the group is getting out of hand
welcome the new members in the group
the forum is full of complaints
run a competition for the fans
pin some new rules in the chat channels
host a live q and a with the developers
a big fan account is spreading rumours about us

# hardware and electronics engineering: circuit boards, firmware, devices, prototypes, sensors
the device keeps rebooting
the board overheats after an hour
update the firmware on the units
the sensor readings are drifting
build a prototype of the new gadget
the battery on the device dies too fast
the led doesn't light up on half the units
the units lose their wireless connection out in the field
the buttons don't register when pressed
shrink the pcb so it fits the new case
the charger gets too hot when plugged in
our gadget failed the interference test

# mechanical and product engineering: physical product design, cad, parts, materials, prototypes
design a bracket to hold the panel
the hinge snaps after a few weeks
which material should the casing be
make the part cheaper to produce
3d print a prototype
the lid doesn't close flush
the screw holes don't line up on the housing
the plastic warps when it gets warm
make it lighter without it breaking
send drawings of the part to the workshop
the handle cracked in the drop test
the mould costs are way too high

# trust and safety and moderation: abuse, fake accounts, spam, reported content, bans
someone posted abusive messages
there are loads of fake accounts signing up
a user reported a harmful post
spam is flooding the comments
a user says they were banned unfairly
someone is posting explicit pictures in the group
a user is pretending to be a celebrity
bots keep posting links to dodgy sites
a parent says an adult was messaging their child
there's hate speech in the reviews
the same person keeps coming back with new accounts
a user posted that they want to hurt themselves

# fraud and payment risk: chargebacks, stolen cards, suspicious orders, scams
a customer used a stolen card
we're getting lots of chargebacks
this order looks suspicious
someone is scamming our customers pretending to be us
loads of orders going to one address with different cards
the bank says our dispute rate is too high
someone keeps reusing the first-order discount with new emails
a cardholder says they never made this purchase
a buyer overpaid and wants us to send the difference back
a new account placed huge orders at 3am
someone is buying gift cards in bulk with different cards
should we hold this order until we check it

# player support: players' accounts, lost items, in-game purchases, bans, bug reports from players
a player lost their items after the crash
refund a player's in-game purchase
a player can't log into their account
a player says they were charged twice for gems
a player says their progress got wiped
a kid spent money in the game on their parent's card
a player wants to know why they were suspended
event rewards never showed up for this player
someone took over a player's account and sold their skins
a player's redeem code says it's invalid
a player says the game crashes every time on level five
a player wants to move their save to a new phone

# software licences and it purchasing: licences, subscriptions to tools, new equipment for staff
we need more licences for the design software
cancel the tools nobody uses
order laptops for the new team
the subscription for the software is about to lapse
how many seats are we paying for
we pay for two tools that do the same thing
the free trial ends friday, should we buy it
who approves buying a new laptop
the renewal quote went up forty percent
get a monitor and docking station for the new designer
is there a cheaper plan for the team
a contractor needs a copy of the pdf editor

# network and telephony: office network, phone system, internet connection, cabling
the internet in the office keeps dropping
the phone system is down
set up phones for the new office
we need more network points in the meeting room
the wifi doesn't reach the back of the warehouse
calls keep cutting out halfway through
the broadband crawls every afternoon
move my extension to my new desk
people hear an echo on the desk phones
we need a new number for the support line
a light on the box in the comms cupboard is flashing orange
run ethernet to the new desks upstairs

# database administration: database performance, backups, restores, access to data
restore the database from last night's backup
the database is almost full
give the analyst read access to the data
the queries lock up the database
someone dropped a table by accident
rows were deleted in production, can we get them back
the nightly dump takes nine hours now
add an index to speed up the orders table
the replica is hours behind
our version goes out of support next year
remove the old contractor's login to production data
which queries are eating all the cpu

# accessibility: disabled users, screen readers, captions, accessible design
make the site work with screen readers
is our building accessible for wheelchair users
the colours are too hard to read for some people
add captions for deaf viewers
a blind customer can't get through checkout
you can't use the site with just a keyboard
the pdfs can't be read aloud by software
book a sign language interpreter for the talk
the text is tiny and won't zoom
a colleague with dyslexia struggles with our forms
the flashing banner could trigger seizures
add alt text to the images on the site
"""
"""Software, data, design and creative work, games."""

_BUSINESS = """
# writing and editing: articles, copy, blog posts, emails, press releases, proofreading
write a blog post about the launch
draft the newsletter
proofread this document
write the product description
rewrite this email so it sounds friendlier
write the copy for the landing page
this text is too long, cut it down
make the wording clearer
check the spelling and grammar
come up with a catchy headline
write a speech for the boss
turn these bullet points into a proper letter
write a short bio for the website
summarise this report in a page
tighten up the intro paragraph
write a thank-you note to our customers
this reads like a robot wrote it

# social media: posts, tweets, instagram, tiktok, linkedin, comments, followers
post this on our instagram
write a few tweets about the sale
reply to the comments on our last post
plan next week's social posts
someone is trolling us on twitter
grow our linkedin following
nobody is engaging with our posts
make a short video for tiktok
a post of ours went viral for the wrong reasons
schedule posts for the week
we need more followers
a customer complained about us publicly on facebook
the direct messages are piling up
what hashtags should we use
our last clip only got fifty views
someone left us a 1 star google review, can we reply to it
answer the reviews on google and tripadvisor

# marketing: campaigns, promotions, offers, launches, brand awareness, audiences
put together a spring promotion
run a campaign for the new product
plan the launch campaign
how do we get more people to hear about us
create a discount deal for returning customers
who should we be targeting
the leaflets didn't bring anyone in
come up with a referral scheme
plan something for black friday
get our name out in the local area
what should the launch look like
build some buzz before the new store opens
the summer sale barely moved anything
what freebie would get people talking about us

# email marketing and crm: newsletters, mailing lists, subscribers, automated emails, open rates
email a discount code to subscribers
people aren't opening the newsletter
send a welcome email to new subscribers
clean up the mailing list
lots of people unsubscribed after the last email
win back customers who haven't ordered in a while
set up a points scheme for regulars

# paid advertising: online ads, google ads, facebook ads, ad spend, cost per click, retargeting
run an ad campaign for the new product
set up google ads for us
the cost per click keeps going up
show ads to people who visited the site
which ads are working best
put more money behind the best sellers
we spent a thousand and got two sales
our ad got rejected for breaking the rules
cap the daily budget so we don't overspend
the sponsored posts get clicks but no sales
what's the return on the money we're putting in
show the promo only to people near our shops

# search engine optimisation: google rankings, search traffic, keywords, seo
we've dropped off the first page of google
nobody finds us when they search
what do people search for when they want this
the site isn't showing in search results
visits from google halved this month
get us ranking for our main product
every page on our site has the same title
a competitor comes up above us for our own name
traffic fell off a cliff after the redesign
get other sites to link to us
we don't show up when people look for shops nearby
which of our pages actually get found

# public relations and press: journalists, media coverage, statements, interviews, reputation
a journalist called asking for a comment
there's a bad story about us in the paper
get us some coverage in the press
prepare the boss for a radio interview
draft a statement about what happened
pitch our story to magazines
a reporter wants to visit
a tv crew is outside the office
someone leaked our internal memo to a newspaper
we won an award, get it in the trade papers
the boss said something awkward on a podcast
who should speak for us if the story breaks

# brand strategy and audience insight: positioning, personas, messaging, research on customers
why do people choose a competitor over us
work out what makes us different
the brand feels confused, what do we stand for
name the new product

# influencer and partnerships: creators, collaborations, sponsorships, affiliates, brand partners
find influencers who fit our brand
another company wants to team up with us
set up an affiliate scheme
a brand wants to sponsor us
sign up resellers in new areas
how much should we pay someone for one post
a creator with a big following wants free products
the blogger never posted what they promised
give people a code that earns them money on each sale
run a joint giveaway with another brand
the local football club wants our logo on their shirts
which creator actually drove the sales

# research: investigate, compare options, market and competitor research, find sources
research what our competitors charge
find studies on this topic
compare the three vendors for us
look into whether this market is worth entering
summarise what's been written about this
find out how other companies handle this
gather the facts on this
how big is the market for this really
what do people say about our rivals in reviews
find sources to back up this claim
is there any data on how many people do this
dig into what went wrong when others tried this

# sales: quotes, proposals, leads, prospects, pricing a deal, winning customers
send them a quote for the job
follow up with the prospect from yesterday
write a proposal for the new client
a potential customer wants a price
chase the leads from the trade show
renew the contract with our biggest customer
a big company wants a demo
how do we win this deal
put together a pitch for the meeting
they want a discount for a bigger order
a company asked for our price list
the customer wants a better price
book a meeting with the buyer
the prospect went quiet after the demo
they want to pilot it for free first
what do I say when they say it's too expensive

# account management and customer success: existing clients, renewals, upsells, retention, onboarding customers
our biggest client seems unhappy
check in with customers whose renewal is coming up
a client wants to upgrade their plan
customers are cancelling after the first month
help the new customer get set up
plan the quarterly review with the client
a key account is thinking of leaving
the client hasn't logged in for two months
our main contact at the client just left
they're asking to drop to a cheaper plan
which clients might want the add-on
a client only uses a fraction of what they pay for

# customer service: customer questions, complaints, orders, delivery queries, replies
a customer wants to know when their parcel will arrive
reply to the angry customer
a client says the delivery never arrived
the customer is on the phone and upset
answer this customer's question
a customer says the item isn't what they ordered
reply to the bad review
a customer wants to change their order
we have a pile of unanswered emails from customers
someone complained about how they were treated
a customer never got a reply
they were promised a callback that never came
a customer wants to speak to a manager
an order went to the wrong address
a customer wants a copy of their receipt
someone's asking if we're open on the bank holiday
a customer asked if this comes in another colour

# returns and refunds: sending things back, exchanges, damaged items, money back
someone wants a refund
a customer wants to send it back
the item arrived broken
exchange it for a different size
the refund hasn't reached their card
they want their money back for a faulty product
a customer returned something used
the prepaid label never came through
they posted it back two weeks ago and heard nothing
the box came back to us with parts missing
can sale items be sent back
the customer would rather have store credit

# technical support for customers: customers' technical problems, troubleshooting, tickets, escalations
a customer can't log in to their account
a user gets an error when they upload a file
walk the customer through the setup
a client's integration stopped working
the customer has tried everything and it still fails
escalate this ticket, it's been open for a week
write a help article for this problem
a customer's device won't pair with our app
a client gets a timeout every time they export a report
a user says the screen goes blank after signing in
a customer's activation key isn't accepted
the customer's sync has been failing since the update

# call centre and reception: phones, callers, messages, front desk, visitors
the phones are ringing off the hook
take a message for the manager
a visitor is waiting at the front desk
nobody is answering the main number
redirect calls while we're closed
who's covering the switchboard over lunch
there are twenty people waiting in the queue on the line
put this caller through to accounts
the voicemail box is full of messages
sign in the guests arriving at ten
someone keeps calling for a colleague who's away
callers say they're on hold for ages

# customer onboarding and implementation: setting up new customers, data imports, go-live, training customers
get the new customer live by next month
import the client's old data
train the client's staff on the system
the customer's setup is stuck halfway
the client's spreadsheet won't load into our system
match their old fields to ours
set up logins for the new client's team
plan the kickoff call with the new account
they want to switch over on the first of the month
run a workshop for their admins
their product catalogue has thousands of items to load
what needs checking before they start using it for real

# sales operations and crm: crm, pipeline, quotas, territories, sales reports
the crm has duplicate contacts
clean up the sales pipeline
how many deals will close this quarter
assign the new leads to the reps
half the deals in the system have no close date
a rep left, reassign their open opportunities
set the targets for each rep next quarter
which rep owns the accounts up north now
the commission numbers don't match the closed deals
show me win rates by rep for last month
new leads from the website all go to one person
stale opportunities are inflating the forecast

# surveys and customer feedback: satisfaction surveys, nps, reviews, feedback forms
send a satisfaction survey to customers
what are people saying in the reviews
our review score has dropped
collect feedback after each visit
how likely are customers to recommend us this quarter
nobody fills in the questionnaire we send after delivery
what are the top complaints in the comments people leave
we got a wave of one star ratings this week
ask guests how their stay was after checkout
write the questions for the post-purchase questionnaire
pull the common themes out of thousands of customer comments
add a thumbs up or down at the end of each chat

# membership services: members, memberships, renewals, freezes, cancellations, member benefits
a member wants to freeze their membership
renew the memberships due this month
a member can't get into the club
send the new members their cards
someone wants to pause their plan for two months while travelling
his direct debit for the monthly fee failed
she wants to quit the club and stop paying
can her partner be added to the family plan
what discounts do our cardholders get at partner shops
his annual fee went up and he's not happy
upgrade her from the basic tier to premium
someone who lapsed wants to rejoin at the old price
"""
"""Marketing, sales and customer service."""

_FINANCE_PEOPLE_LAW = """
# accounting and finance: invoices, bookkeeping, expenses, budgets, payments, accounts, margins
our invoices have the wrong vat
reconcile the bank account
how much did we spend on travel
set the budget for next year
the accounts don't balance
close the books for the month
what's our profit margin on each product
a payout we received looks smaller than it should be
categorise these transactions
how much money do we actually have
prepare the annual accounts
post the month's journals
the card statement doesn't match the receipts
we were charged interest on the overdraft
the ledger is off by a few hundred
accrue for the electricity bill we haven't received yet
what's the depreciation on the new vans

# accounts payable: paying suppliers, supplier invoices, payment runs, duplicate payments
pay the supplier invoices
a supplier says we haven't paid them
the same invoice was paid twice
set up a new supplier for payment
when is the next payment run
this bill needs approving before we pay it
the supplier's bank details have changed
a vendor bill has been sitting unapproved for weeks
the purchase order and the bill don't match
we got a late fee from a vendor we forgot about
get the contractor's bill settled before friday
a vendor statement lists bills we never received
how much do we owe our vendors this month

# credit control and debt collection: unpaid invoices, overdue payments, chasing money owed
a client hasn't paid us in three months
chase the overdue invoices
who owes us money
send a reminder about the unpaid bill
the customer keeps promising to pay and doesn't
should we stop supplying them until they pay
agree a payment plan for what they owe
the client is ninety days late settling up
hand this bad debt to a collection agency
write off the balance from the customer that went bust
put the account on stop until they settle
send a final demand letter to the client
the aged debtors list keeps getting longer

# billing: client bills, charges, time records, statements, credit notes, subscriptions
a client disputes the charges
break down the charges on this invoice
send the final bill
fix the time entries before billing
combine their charges into one statement
raise a credit note
a customer was charged the wrong price
the subscription renewed at the old price
invoice the client for the extra work
the hours logged on the project haven't been invoiced
change the customer's plan and prorate the difference
the monthly invoice went out with last year's rates
the client was invoiced for a month after they left

# payroll: salaries, wages, payslips, overtime pay, pensions
someone was paid the wrong amount
run payroll this month
a payslip is missing overtime
set up the new starter on payroll
someone's pay hasn't arrived
pay the bonuses this month
the pension deductions look wrong
holiday pay for the leaver
the tax code on a payslip is wrong
pay the casual staff for their hours
someone was underpaid last month

# tax: tax returns, vat filings, what we owe the tax office, tax rules
how much tax do we owe this year
file the vat return
is this expense tax deductible
work out the sales tax for the new state
the tax office sent us a letter
claim back tax on research spending

# audit and expense control: expense claims, receipts, checks, fraud, controls
an expense claim has no receipt
check these expenses look legitimate
flag suspicious expense claims
prepare the documents the auditors asked for
claim back what I spent on the trip
someone's spending looks odd
who signed off this purchase
someone put a family dinner on the company card
the mileage someone submitted looks way too high
two people approved their own purchases
the same hotel bill was submitted twice by one person
the auditors found gaps in who can approve payments
what's the limit for meals when travelling for work

# planning and forecasting: cash flow, runway, scenarios, budgets versus actuals
how long will our cash last
stress test the forecast for late payments
model the scenario where sales drop by a fifth
can we afford two more hires this year
are we on track against budget
plan next year's numbers
what happens to our bank balance if the big client pays late
rebuild the twelve month outlook with the new prices
why did we overspend on marketing compared to plan
if we open a second site when do we break even
update the three year model for the board
what does a best case and worst case year look like
reforecast the rest of the year after a slow quarter

# treasury and banking: bank accounts, transfers, currency, loans, payments blocked
the bank blocked a payment
move money between our accounts
open a new bank account
what rate are we getting on the euro payment
the loan repayment is due
our card was declined
the international wire hasn't landed after five days
should we lock in the dollar exchange rate now
the overdraft limit needs raising before month end
add a new signatory to the business account
our dollar balance is low, convert some euros
put the spare cash somewhere it earns interest
renew the credit facility with the lender

# fundraising and investors: investors, funding rounds, board reporting, shareholders
prepare for the investor meeting
update the shareholders on the quarter
we need to raise money next year
put together the board pack
an investor wants to see the numbers
draft the pitch deck for the series a
a vc wants a call next week about our raise
what valuation should we ask for
update the cap table after the new raise
send the monthly update to our backers
the term sheet came in, what does it mean
prepare the data room for due diligence

# people and hr: staff matters, leave, absence, contracts, policies, complaints, wellbeing
someone has been off sick for two weeks
a staff member complained about their manager
approve holiday requests
someone wants to resign
draft a contract for the new hire
someone wants to go part time
a team member is on maternity leave soon
update the staff handbook
two colleagues aren't getting along
someone keeps turning up late
a disciplinary meeting needs setting up
how many days off does she have left
the team is burnt out
someone is being bullied at work
a new policy on working from home
a member of staff has a complaint about pay
someone's probation is ending
someone wants to work compressed hours with fridays off
can i take unpaid time off for a family emergency
my manager still hasn't done my appraisal this year

# recruitment and hiring: vacancies, job ads, interviews, candidates, temps, staffing
we need to hire a new receptionist
put out a job ad for a manager
we're short staffed for the busy season
screen the applicants for the role
set up interviews with the shortlist
find temp workers for next month
make an offer to the candidate
we need more people on the team
nobody good has applied for the job
write the job description
check references for the new hire
the pile of cvs for the designer role is huge
the person we picked turned down our offer
we need a headhunter for the finance director role
book the second round for the three finalists

# onboarding new staff: first days, inductions, new starter setup
onboard the new starter on monday
plan the first week for the new hire
what does a new joiner need on day one
an induction for the new team
a new hire starts monday, make sure everything is ready
put together a welcome pack for people joining
assign a buddy to the graduate starting next week
what paperwork does someone need to sign before starting
create a 30 60 90 day plan for the new manager
write the orientation checklist for the warehouse team
the hire who joined yesterday spent all morning with nothing to do
who is meeting the graduate cohort when they arrive

# staff scheduling and rotas: shifts, cover, rosters, who works when
plan the staff rota for next week
someone called in sick, find cover for the shift
swap shifts between two staff
we're short on the weekend shift
who's working over the holidays
can anyone take my saturday, i can't make it
we need two more people on the bar friday night
who's on call this weekend
the night team is one person down tonight
too many people booked the same week off in august
split the hours fairly between the part-timers
who's opening up tomorrow morning

# training and education: courses, lessons, tutorials, teaching material, certifications
create a training course for new staff
write a tutorial for the feature
staff need first aid training
book the team on a course
their certificates are about to expire
teach the team how to use the new system
nobody knows how to use the new machine
the team needs refresher training
set up an online course
make a quiz to check people understood the module
record a short how-to on submitting timesheets
which workshops should managers go on this year
hardly anyone has finished the e-learning

# contracts and commercial law: agreements, ndas, terms, leases, clauses
draft an nda for the new partner
review the supplier agreement
what does this clause mean
update our terms and conditions
the lease renewal needs checking
can we get out of this contract
they want changes to our standard agreement
the supplier broke the agreement
what happens if we end the contract early
add a penalty clause for late delivery
the other side sent back a heavily redlined draft
who is liable if the software fails under this deal
does the auto-renewal in the service contract catch us
can we transfer this contract to our new subsidiary

# litigation and disputes: court, lawsuits, claims, injunctions, threats to sue
they're threatening to take us to court
we want to sue the supplier
a claim has been filed against us
get an urgent injunction
respond to the solicitor's letter
we received court papers
the other side won't settle
a former customer has issued proceedings against us
we got a letter before action this morning
should we go to mediation or fight it
the hearing date has been set for march
preserve all the emails because of the dispute
the judge ruled against us, can we appeal

# employment law: dismissals, tribunals, settlement agreements, workplace disputes
an ex-employee says the dismissal was unfair
negotiate an exit package for an employee
we need to let someone go properly
a discrimination complaint from a worker
can we make roles redundant
a fired employee has started an unfair sacking case
is it legal to change everyone's working hours
someone says they were pushed out after raising a grievance
we want to end someone's job during probation, what's the risk
a pregnant employee says she was treated unfairly
do our zero hours workers count as employees
a whistleblower says they were punished for speaking up

# intellectual property: trademarks, copyright, patents, brand protection, fakes
someone copied our logo
can we use this photo we found online
register our brand name
a competitor is selling fakes of our product
can we patent this idea
someone is using our name

# property and real estate: buying and leasing premises, landlords, tenants, rent, offices
we're moving to a bigger office
the landlord wants to put the rent up
find a new unit for the warehouse
sell the building
the break date on our unit is coming up
find a shop unit on a busy high street
the building owner's service charge has doubled
sublet the empty floor we don't use
ask for six months free on the new space
the dilapidations bill when we hand back the unit
should we buy the freehold of our building
find a site for a second restaurant

# wills, estates and private clients: wills, probate, inheritance, power of attorney
update my will
someone died and the family need the estate sorted
set up a power of attorney for my mother
how is inheritance tax worked out
my father passed away, what happens to his house
i'm an executor and don't know where to start
set up a trust for the grandchildren
mum has dementia and can't manage her bank account anymore
my uncle died without a will, who gets what
the siblings are arguing over what their late mother left
a client wants to leave money to a charity when they die
name guardians for my children if something happens to me

# family law: divorce, separation, children arrangements, custody
the client wants a divorce
arrangements for the children after separation
sort out the finances in the divorce
my ex won't let me see the kids
how is the house split when a marriage ends
draft a prenuptial agreement before they marry
she wants to move abroad with the children
child support payments have stopped coming
the couple are splitting up and can't agree on the pension
a client needs protection from an abusive partner
grandparents want contact with their grandchildren

# immigration and visas: work permits, sponsorship, visa applications, right to work
sponsor a visa for the new hire
her work permit runs out soon
check this person has the right to work here
an overseas applicant needs a visa letter
renew our licence to hire staff from overseas
the new engineer from overseas needs to relocate by june
which passport copies do we need before someone starts
can her spouse and kids come with her
the embassy wants more documents
can a student on a study visa work for us part time
move an employee from our overseas team over here
someone's residence card is lost and they start next week

# compliance and regulation: rules, licences, audits, are we allowed to, regulators
are we allowed to do this under the regulations
get ready for the audit
check our licence covers it
a regulator sent us a letter
what rules apply to selling this
is this advert allowed
make sure we follow the new law
our licence is up for renewal
the inspector found problems
do we need a permit for this
are we meeting the anti-money laundering requirements
write a policy on gifts and hospitality from suppliers
we need to self-report a mistake to the watchdog

# privacy and data protection: personal data, gdpr, deletion requests, consent, data breaches
handle a right to be forgotten request
someone asked for a copy of the data we hold on them
do we have consent to email these people
review how long we keep personal data
is this gdpr compliant
we emailed a list to the wrong person
can we share the customer list with our partner
a laptop with client files was left on the train
how long can we keep camera footage of staff
is our cookie popup actually legal
an ex-employee wants every email that mentions him
can we store customer records on a server overseas

# company secretarial and governance: board meetings, minutes, filings, shareholders, company records
file the annual return
write up the board minutes
update the register of shareholders
appoint a new director
a director is resigning, what needs updating
the confirmation statement is due at the registry
issue new shares to the cofounder
change our registered office address
draft the agenda and notice for the agm
update the list of people who control the company
write a resolution to approve the dividend
where is the statutory register kept

# client intake and conflict checks: new clients, enquiries, conflicts of interest, engagement letters
a new client wants to instruct us
run a conflict check on the new matter
send the engagement letter to the new client
someone rang asking if we can take their case
check we don't already act for the other side
do the id and money laundering checks before we start work
someone filled in the web form asking for legal advice
send the client care letter before we start
is this matter something we can take on
open a file for the new matter
we acted for their opponent two years ago, can we help
a caller wants to know if we handle this kind of dispute

# legal research and case preparation: case law, precedents, court bundles, document review
find case law on this point
prepare the court bundle
go through the disclosure documents
summarise the judgment for the partner
has any judge decided this point before
pull together the witness statements for the hearing
tag the relevant emails in the disclosure pile
draft a skeleton argument for tuesday
check whether this ruling has been overturned
find the legislation that applies here
put together a chronology from the client's documents
research how the statute has been interpreted

# conveyancing and property transactions: buying and selling property, searches, completion, title
the buyer's searches came back with a problem
when is completion
check the title deeds
the sale fell through at the last minute
the mortgage offer expires before we finish
exchange contracts on the flat this week
the seller's lawyer hasn't answered our questions
there's a boundary issue on the house plans
how much stamp duty on the new house
the buyer wants to move in before the money transfers
the chain is holding everything up
the registration of the new owner got rejected

# health insurance and medical billing: insurers, claims, codes, patient bills
the insurer rejected the claim
a patient got a bill they didn't expect
which code do we use for this treatment
chase the insurer for payment
the pre-authorisation for the mri was denied
a patient's plan doesn't cover the physio sessions
the explanation of benefits doesn't match what we charged
resubmit the rejected reimbursement with the right diagnosis
a patient can't afford their treatment invoice
is the patient's cover still active
the reimbursement from the health plan is way below our rate
a patient was billed twice for one visit
"""
"""Finance, people and the law."""

_OPERATIONS = """
# facilities and maintenance: repairs, broken things, plumbing, heating, electrics, the building
the heating is not working
there's no hot water in the bathroom
there's a leak in the ceiling
the lift is broken
a light is flickering
the toilet is blocked
the air conditioning is making a noise
fix the broken door lock
the washing machine is leaking
there's mould on the wall
a window won't close
the fridge stopped working
the power keeps tripping
the shower is dripping
the door won't shut properly
the car park barrier is stuck
the lights went out on the second floor
a tile fell off in the bathroom
the drains smell
the radiator by my desk is freezing cold
a socket in the kitchen sparks when you plug in
the sink tap won't turn off

# office management and administration: office supplies, post, meeting rooms, keys, visitors
we've run out of coffee and printer paper
book a meeting room for thursday
the post needs sending out
get keys cut for the new starter
order new chairs for the office
sort out lunch for the workshop
we're out of milk and teabags in the kitchen
order more staples, envelopes and pens
a parcel arrived for someone who left
the boardroom is double booked tomorrow
get a quote for a new water cooler
find desks for three extra people next month

# housekeeping and cleaning: rooms, cleaning, linen, laundry, lost property
the room wasn't cleaned
a guest left something behind in the room
we need fresh towels
there's a stain on the carpet
return a charger a guest forgot
deep clean the lobby
the bins haven't been emptied
the toilets are filthy
put an extra bed in the room
the carpets need shampooing
there's rubbish in the corridor
the windows are filthy
lost property was handed in

# physical security: guards, alarms, cctv, building access, passes, break-ins
the alarm went off overnight
someone followed me in through the door without a pass
I lost my building pass
get the camera footage from last night
there was a break-in at the yard
a stranger was wandering around the building
the back gate was left unlocked all night
someone forced the back door overnight
give the contractor a badge for the week
review the camera recordings from the car park
a man keeps hanging around the entrance
the night patrol missed two rounds
my fob stopped opening the side door

# health and safety: accidents, hazards, injuries, risk assessments, dangerous goods, working hours
someone slipped and hurt themselves
do a risk assessment for the site
dangerous goods rules for a shipment
drivers are working too many hours without breaks
the fire exit is blocked
report a near miss
someone cut their hand badly
people aren't wearing their safety gear
the fire alarm test is overdue
there's a chemical spill on the floor
a worker hurt their back lifting
the fire extinguishers need checking
someone fainted at work
write the method statement for the job
the ladder in the store room looks unsafe
a forklift nearly hit someone in the yard
the first aid kit is empty

# environment and sustainability: carbon footprint, waste, recycling, pollution, energy use
measure our carbon footprint
cut down the waste we send to landfill
set up recycling in the building
something leaked into the drain
our energy bills are huge, how do we use less
write the sustainability report
how do we cut our emissions by next year
the skip is overflowing with cardboard
lights stay on all night in the empty building
switch to a green electricity tariff
a customer asked for our net zero plan
oil got into the stream behind the yard
get rid of single use plastic in the canteen

# food and drinks: restaurant, kitchen, menus, table bookings, dietary needs, catering
book a table for dinner tonight
a party of eight wants a table on saturday
a guest has a nut allergy
change the breakfast menu
the chef needs more stock
plan the catering for the conference
the food came out cold
add vegan options to the menu
order the wine for the weekend
the kitchen ran out of an ingredient
a guest wants gluten free food
we need a children's menu
the coffee machine in the bar is broken
a diner sent back their steak as overcooked
put a seasonal special on the dinner list
the bar needs more limes and ice
is there any milk in the nuggets, her son can't have dairy
does the burger have gluten in it

# café food and drink: coffee, cakes, sandwiches, toasties, milk, snacks, hot drinks, the counter
we've run out of soya milk
the baguettes never arrived this morning
the brownies have nearly all gone
we need more coffee beans by the weekend
someone wants a dairy free hot chocolate
the coffee machine keeps leaking
restock the crisps and flapjacks on the counter
the drinks fridge isn't cold enough
can we do sandwiches for a group of twenty
we need more takeaway cups and lids
put a soup of the day on
a customer asked if the cookies have nuts in

# events: weddings, parties, conferences, venues, entertainment, celebrations
plan a wedding reception
hire entertainment for the party
organise the company conference
can the venue hold 200 people
set up the room for the gala
organise the summer party
find a venue for the awards night
plan the open day
a christening party for forty
the conference needs breakout rooms
quote for a private party
book a band for the christmas do
a dj and a photographer for the birthday bash
we need a marquee for the outdoor reception
send save the dates for the launch night

# guest and client relations: special requests, vip and loyal customers, welcome, surprises
arrange a welcome gift for a returning guest
a vip arrives tomorrow
a guest wants an early check-in
apologise to a guest about a bad stay
a guest complained about the noise
a guest wants to complain to the manager
a returning guest wants the same room as last time
a couple on their honeymoon, put flowers in the room
our most frequent guest is back next week
a guest's birthday is tomorrow, do something nice
leave a handwritten note for the returning family
a guest wants champagne waiting in the suite

# reservations and bookings: rooms, availability, booking changes, cancellations, group blocks
move the booking to another date
do we have rooms free next weekend
cancel the reservation
hold twenty rooms for the group
the booking shows the wrong dates

# pricing and revenue: rates, occupancy, demand, discounts, yield, how full we are
should we raise prices for the festival weekend
how full are we next month
set the rates for the holiday season
occupancy is low for next week
what should we charge for the new plan
competitors dropped their prices for the holiday weekend
we're selling out too early, are we too cheap
what's our average nightly price this month
should longer stays get a cheaper price per night
set a minimum stay for the bank holiday
revenue per available room is down on last year
should we charge more for sea view rooms

# transport planning and dispatch: routes, drivers, trucks, deliveries, schedules
plan the delivery routes for tomorrow
which driver can take the run to leeds
a truck broke down halfway, reroute the loads
schedule the pickups for the week
move the delivery to the afternoon
we have more loads than trucks tomorrow
the driver is stuck in traffic and will be late
combine the two drops into one run
a delivery slot needs changing
the van is overloaded for the morning round
a driver is off sick, who takes his drops
the customer wants a timed drop before 8am
which lorry is nearest the depot right now

# carriers and subcontracted transport: hauliers, outside carriers, freight rates, capacity
find a haulier to take the extra load
get rates from other carriers
we need a third party truck for friday
the transport firm we use put their prices up
tender the long distance lanes to a few trucking firms
the contracted truck didn't show for collection
find a pallet network for the small loads
compare the cost per pallet between transport firms
book a full truckload with an outside firm
the trucking firm overcharged us on the fuel surcharge

# shipping and parcels: couriers, postage, labels, tracking, international delivery
book a courier to collect the parcels
the shipping labels won't print
how much is postage to europe
the parcel is stuck in transit
the courier didn't turn up
the tracking hasn't updated for days
send it by next day delivery

# customs and trade: imports, exports, duties, tariffs, customs clearance, paperwork
the shipment is held at the port
what duty do we pay on these goods
which commodity code do we use
export paperwork for the order to the us
the border held our container for inspection
the courier wants extra fees before handing over the box from abroad
do we need a certificate of origin for this
sending goods outside the trade bloc, what forms do we need
the broker needs the commercial invoice and packing list
can we reclaim the charges on goods we sent back
which incoterms are on the order, who pays what
is this product restricted from being sent abroad

# warehouse and inventory: stock, pallets, picking, storage, stock counts, goods in
a shipment is missing from the depot
we're running low on stock
do a stock count
the order was picked wrong
make room in the warehouse
the delivery from the supplier was short
the system says we have stock but the shelf is empty
damaged boxes came in
the stock figures are off
a pallet fell and damaged the goods

# buying and merchandising: what to stock, ranges, reorders, sale prices, new products for retail
what should we stock for the season
how many should we reorder
put the slow sellers on sale
find new products to sell
which items should we drop
a supplier sent samples
which lines sold best at christmas
we have far too many winter coats left
mark down the summer collection by 30 percent
choose what goes in the spring collection
what sizes should we order in the new trainers
how much open-to-buy is left this season

# purchasing and suppliers: vendors, procurement, purchase orders, subcontractors, outside providers
find a supplier for packaging
order more materials
get quotes from outside contractors
hire a subcontractor for the overflow work
the supplier delivered the wrong parts
raise a purchase order
the supplier put their prices up
compare prices from three suppliers
the supplier is late again
we need a cheaper supplier
the delivery came with the wrong items

# vehicles and fleet maintenance: vans, trucks, servicing, tyres, breakdowns, inspections
the van needs a service
a lorry failed its inspection
the tyres are worn
book the truck in for repairs
a vehicle broke down on the motorway
the truck's brakes are making a noise
the lorry needs its annual test
the engine warning light is on in the pickup
the windscreen on the lorry has a big crack
the minibus won't start this morning
the clutch is slipping on the delivery vehicle
the tail lift on the lorry is stuck halfway
the company car is overdue an oil change
the tachograph in the cab needs calibrating
the pool car's battery is flat again

# manufacturing and production: production line, batches, output, shifts, factory
the line stopped this morning
production is behind schedule
plan the next batch
we can't make enough to meet the order
the machine on line two keeps jamming
how much can we make per week
changeovers between products are taking two hours
we ran short of raw material halfway through the run
how many units did we make yesterday
the plant is only running at half capacity
we need five thousand more units by friday
the bottling run keeps stopping at the filler
the bakery can't keep up with the christmas orders
release the works orders for next week's runs

# quality control: defects, inspections, tolerances, recalls, batches, standards
customers found faults in a batch
the parts are out of spec
recall the affected products
inspect the goods that came in
why are so many coming back faulty
get ready for the quality certification
the paint is flaking off some of the finished units
the last lot measures a couple of millimetres too big
the welds on these frames look weak
the colour doesn't match the approved sample
put the suspect stock on hold until it's checked
the certificate of conformity is missing for this delivery
log a non-conformance for the cracked housings
why do the seals on the lids keep failing

# engineering and equipment maintenance: machines, plant, breakdowns, servicing, spare parts
the compressor is overheating
the conveyor keeps stopping
schedule the machines' servicing
we need a spare part for the pump
the generator broke down
something is leaking oil

# construction site management: building sites, trades, programme, snagging, handover
the trades are behind on site
schedule the deliveries to site
list the snags before handover
who's on site tomorrow
the scaffolding needs moving
the build is running late
the plasterers haven't turned up today
the electricians and plumbers keep getting in each other's way
the concrete pour is thursday, is the rebar done
the crane's booked but the steel hasn't arrived
the rain has put the groundworks a week behind
the skip on the job is full and needs swapping
update the two week lookahead for the foremen
the client walked round and found loads of unfinished bits

# estimating and tenders: pricing new building work, bids, take-offs, cost plans
how much would it cost to build
price up this job
put the tender together
measure the quantities off the plans
a rough budget for the new project
what's the going rate per square metre for a loft conversion
how many bricks and blocks will this drawing need
count the doors and windows off the drawings
fill in the bill of quantities for the school job
get prices from the roofers for the new job before friday
the client's budget won't cover the scheme as drawn
add prelims and overheads to the total
should we go in for the hospital refurb contract

# quantity surveying and commercial management: valuations, variations, subcontractor accounts, final accounts
the client wants changes, what will they cost
work out what we're owed for this month's work
the subcontractor's claim looks high
agree the final account with the client
are we making or losing money on this job

# architecture and building design: drawings, plans, building regulations, structures, planning permission
draw up plans for the extension
the drawings don't match each other
does this meet building regulations
apply for planning permission
the neighbours objected to the plans
will the wall hold the weight
sketch a few options for the loft conversion
the elevations need updating after the window change
the building inspector says the stair headroom is too low
the client wants more daylight in the back rooms
make a 3d model of the new school block
the council says the rear extension is too tall
the glazing won't meet the energy targets
can we knock through between the kitchen and dining room

# equipment and plant hire: hiring machines, tools, diggers, generators, off-hire
hire a digger for next week
send the hired tools back
we need a generator on site
the cherry picker is booked for the wrong day
we need a mini excavator on site on monday
book a scissor lift for two days next week
how much a week for a telehandler
extend the rental on the scaffold tower until friday
we're still being charged for the roller we sent back
the rented mixer broke down, get a replacement out
call the depot to collect the breaker, we're done with it
get a lighting tower delivered for the night work

# retail store operations: shops, tills, shop floor, displays, opening hours, shoplifting
the till isn't working
change the window display
someone stole from the shop
the shop floor is a mess
open the store later on sunday
the card reader at the counter keeps going offline
the queue is out the door, open another checkout
shelf edge labels don't match the price at the register
the cash was twenty down when we cashed up
the fitting rooms are piled with clothes
the aisles need tidying before the doors open
face up the shelves before we close tonight
we need the sale signs up before the weekend

# field service: sending engineers and technicians to customers, call-outs, repairs at customers
send an engineer to the customer's house
book a technician visit
the repair visit was missed
how soon can someone get there
a client's machine is down and they need someone out today
assign the urgent jobs to whoever is nearest
the fix didn't hold, they need a second visit
the job sheet from yesterday's visit hasn't come back
the installer left the client's house without finishing
the homeowner wants a morning slot for the fitting
send someone with the right part to the care home
the client says the fitter was rude and left a mess

# property and tenancy management: tenants, rent, repairs in rented homes, inspections
the tenant in flat 2 has no heating
collect the rent arrears
a tenant wants to leave early
find a new tenant for the house
the couple who moved out want their deposit back
the gas safety certificate on the house has expired
the occupants of number 5 keep complaining about the neighbours' noise
do the check-out walk round before the keys come back
someone in the upstairs flat hasn't paid for two months
the let on flat 3 ends soon, do they want to stay
a resident says the damp in the bedroom keeps coming back
draw up the agreement for the people moving into the cottage

# grounds and landscaping: gardens, grass, trees, outdoor areas, snow and gritting
the grass needs cutting
a tree is leaning over the fence
the car park needs gritting before the frost
tidy up the flower beds by the entrance
the outdoor lights in the garden are out
the hedges along the car park are overgrown
the lawn out front is full of moss and weeds
a branch came down in the storm and blocks the path
leaves are piling up on the footpaths
salt the walkways before it freezes tonight
the sprinklers aren't coming on
weeds are coming up through the paving
plant some bulbs by the front entrance for spring

# pest control: mice, rats, insects, wasps, infestations
there are mice in the kitchen
we found a wasps' nest by the door
bed bugs in one of the rooms
droppings in the store room
something has been gnawing the cables in the loft
cockroaches behind the fridge in the kitchen
pigeons are nesting on the roof and fouling the entrance
ants all over the staff kitchen counter
scratching noises in the ceiling at night
fruit flies swarming round the bins
moths are eating the carpets in the storeroom
there's a smell of something dead under the floorboards

# food safety and hygiene: kitchen hygiene, fridge temperatures, allergens labelling, inspections
the fridge log shows it was too warm overnight
the food hygiene inspector is coming
label the allergens on the sandwiches
someone got food poisoning after eating here
the chicken was left out on the counter all afternoon
the walk-in freezer reads minus five on the probe
someone used the raw meat board for the salad
the prepped food has no use-by date labels
a diner reacted, was there sesame in the bread
the rating sticker on our door dropped to three stars
the glasswasher isn't getting hot enough to sanitise
the chefs need their food handling certificates renewed

# interior design and fit-out: decor, furniture, layouts of rooms, finishes
redo the decor in the reception
choose furniture for the new office
the new carpet colour doesn't work
what colour should we paint the meeting spaces
the new flooring clashes with the walls
pick fabrics for the sofas in the lounge
split the open plan area into two offices with a partition
the lighting in the lobby feels cold and harsh
source some artwork for the corridor walls
choose tiles and worktops for the staff kitchen
the joinery for the bar counter needs signing off

# estate agency and property sales: valuations, viewings, listings, offers on homes
value the house for sale
book viewings for the flat
an offer came in below the asking price
list the property online
what would our flat fetch on the market right now
the sellers want to knock the asking price down
the couple want a second look round on saturday
write the particulars for the three bed semi
get a floorplan drawn up for the bungalow
put the for sale board up outside
the house has sat on the market for three months
two buyers are bidding against each other for the cottage

# tours and activities: excursions, tour bookings, guides, activities for visitors
book a boat trip for the guests
find a guide for the walking tour
plan activities for the group's free afternoon
the coach for the day trip hasn't turned up
get museum tickets for the whole group
the kayaking was called off because of the wind
what can the guests do if it rains all day
organise a wine tasting for the delegates
the cooking class is overbooked for thursday
a family wants a private sightseeing trip tomorrow
the snorkelling trip left without two of our guests

# sports and fitness: coaching, training plans, classes, gym equipment, fitness
plan a training programme for the team
a treadmill in the gym is broken
add more spin classes
a member injured themselves on a machine
the rowing machine's screen has gone blank
the saturday yoga session is always full
write a strength programme for the under 16s squad
a member is asking for a personal trainer
nobody puts the dumbbells back on the rack
the squad keeps picking up hamstring injuries
what warm up should the players do before matches
the football pitch is double booked on saturday
"""
"""Buildings, hospitality, logistics, retail, manufacturing and construction."""

_SECTORS = """
# medical care: patients, symptoms, diagnosis, treatment, prescriptions, clinical questions
a patient has chest pain
review the patient's symptoms
the prescription needs renewing
is this dose safe
a patient reacted badly to the medication
lab results came back abnormal
a patient's rash isn't clearing up
should this patient be referred to a specialist
a child has had a fever for three days
a patient feels dizzy after the new tablets
a patient needs a sick note
the wound looks infected
a patient wants a second opinion
a patient's blood sugar keeps running high
an elderly man has a persistent cough and is losing weight
a patient's ankle is badly swollen after a fall

# nursing and patient care: wards, dressings, observations, care plans, patients' comfort
the patient in bed four needs help
change the dressing on the wound
the patient's blood pressure is dropping
write the care plan for the new resident
a patient keeps falling
the patient in bay two hasn't been turned for hours
a resident has a pressure sore on her heel
the man in side room six can't settle and keeps calling out
help the patient wash and get dressed this morning
the drip has stopped running
check her temperature and pulse every hour tonight
the patient hasn't eaten or drunk anything today
the catheter bag needs emptying

# pharmacy and medicines: drugs, prescriptions, interactions, stock of medicines
can these two medicines be taken together
we're out of a common antibiotic
check the dose for a child
a patient wants a repeat prescription
can these capsules be crushed for someone who can't swallow
is this antibiotic okay to take while pregnant
the inhalers are on back order with the wholesaler
the controlled cupboard count is one ampoule short
the insulin in the fridge got too warm overnight
these tablets are out of date, how do we dispose of them
the script says the wrong strength of tablet
a patient ran out of their blood thinners over the weekend

# patient administration and appointments: bookings, registrations, waiting lists, referrals, records
book an appointment
reschedule the patient's appointment
register a new patient
how long is the waiting list
send the patient's notes to the hospital
a patient wants a copy of their records
a patient didn't turn up for their appointment
the clinic at ten o'clock is double booked
a patient's address and phone number have changed
send out the letters for next week's clinic
the notes are filed under the wrong patient number
chase the hospital about when he'll be seen
a patient wants to switch to a different doctor

# mental health and wellbeing: stress, anxiety, counselling, support for people who are struggling
someone on the team is really struggling
a student seems very low
set up counselling for staff
people are stressed and anxious
a colleague broke down in tears at her desk
someone had a panic attack during the meeting
he hasn't slept properly in weeks and seems on edge
a bereaved colleague is finding it hard to cope
someone said they don't see the point in going on
how can staff get talking therapy quickly
a staff member says they feel low all the time
someone keeps saying they can't cope with everything

# veterinary care: pets, animals, vets, vaccinations
the dog has stopped eating
book the cat in for its jabs
a horse is limping
the puppy ate a bar of chocolate
the cat has been sick three times today
the rabbit's teeth look overgrown
flea and worming treatment for the kittens
book the dog in to be neutered
the parrot keeps plucking out its feathers
a cow is struggling to calve
the lambs have got scours

# teaching and courses: lessons, modules, classes, coursework, teaching material
plan the lessons for next term
make a quiz on the material
a student needs more time for the assignment
the class timetable clashes
put the slides on the course page
find cover for a teacher who's off
write a scheme of work for year nine science
my group didn't get fractions, how else can I explain it
make a worksheet on the water cycle
set homework for the weekend
plan a practical for the chemistry students
adapt the activity for the weaker readers
the group needs a recap of last week before we move on

# exams and assessment: exams, marking, grades, resits, appeals, extra time
set the exam paper
a student wants to appeal their grade
a student needs extra time in exams
the marking is late
organise the resits
check the marks are fair across markers
a student was caught with notes in the test hall
these essays look like they were copied from the internet
the invigilators for friday haven't been confirmed
a student missed the paper because she was ill, what now
write the rubric for the final project
a bundle of answer scripts has gone missing
release the results to students on thursday
the pass mark looks too harsh this year

# admissions and student administration: applications, enrolment, student records, transcripts, fees
an applicant asks about entry requirements
enrol the new students
a student wants to transfer course
send a transcript to a former student
a student can't pay the fees on time
a student wants to defer a year

# student support and welfare: disability support, hardship, accommodation, wellbeing of students
a student has nowhere to live
a student needs support for dyslexia
a student is thinking of dropping out
help with money for a struggling student
a student's landlord is evicting her mid term
a student with adhd needs a note taker
an international student can't afford food this month
a student in halls says her flatmates are bullying her
a student hasn't been seen in lectures for weeks and won't reply
a student is caring for their mum and keeps falling behind
a student with a chronic illness needs rest breaks
a student's laptop was stolen and they can't afford another

# library and information: books, journals, articles, literature searches, references, archives
find articles on this topic
we can't access this journal
the book is overdue
sort out the references in the paper
find the old records in the archive
get hold of a copy of this report
we need access to a database of articles
request a book from another library
help me find sources for my essay
the ebook won't open on my laptop
renew the things I've got out on loan
my bibliography is in the wrong citation style
find papers from the last five years on this question
we're being asked to pay to read this paper

# research funding and grants: funding applications, funders, grant budgets, reports to funders
apply for funding for the project
the grant deadline is next month
the funder wants a progress report
which funders would support this
cost the project for the application
we got the grant, what happens now
the call for proposals closes in two weeks
how much postdoc salary can we put in the proposal
we underspent the award, can we carry it forward
can we move money from travel to equipment on the award
write the case for support section
is there a fellowship scheme for early career researchers
the reviewers scored our proposal low, should we resubmit

# research ethics: ethics approval, consent, studies with people or animals, research data
do we need ethics approval for the survey
write the consent form for participants
change the study after it was approved
can we keep the interview recordings
the committee sent our submission back with questions
can we interview children for the project
a participant wants their interview taken out
do we need to anonymise the transcripts
write the information sheet for people taking part
can we give shopping vouchers to respondents
the procedures on the mice need amending
do we need sign-off to use old patient notes for a project

# laboratory operations: lab equipment, reagents, samples, freezers, lab safety, consumables
we've run out of reagents
the freezer alarm is going off
book time on the microscope
where do we store the samples
get the instrument serviced
new students need the lab induction
dispose of the chemical waste
the water bath isn't heating
order more gloves and tips
the incubator temperature is off
a spill in the lab
the centrifuge is making a grinding noise
the fume cupboard airflow alarm keeps sounding
the liquid nitrogen dewar needs topping up
log the new antibodies in the inventory

# fundraising and donors: donations, donors, appeals, grants for charities, gift aid
thank our donors for the appeal
a donor wants to give a large gift
plan the christmas fundraising appeal
claim gift aid on donations
a donor wants to stop their monthly gift
run a sponsored event

# volunteers: recruiting and organising volunteers, volunteer rotas, thanking helpers
we need more volunteers for saturday
a volunteer didn't turn up
thank the volunteers
check the new volunteers are suitable
nobody has signed up to help at the food bank on friday
brief the saturday crew before the event starts
a retired teacher wants to give a few hours a week
a group of students want to help out over summer
people who sign up to help keep dropping out after a month
who's covering the charity shop counter on tuesday
a helper wants to claim mileage for driving people
plan a thank-you evening for everyone who gave their time

# charity programmes and casework: services to people in need, cases, referrals, support
a family needs emergency food
someone needs help with housing
follow up with the people we helped last month
how many people did the programme reach
a mum and her kids are about to be evicted
an elderly man can't afford to heat his home
the food parcels ran out before lunch
a client missed her appointment with the advice worker
log the outcomes for the families we worked with
a social worker sent someone our way
a young person is sleeping rough
someone needs help filling in a benefits form

# campaigns and public policy: advocacy, petitions, lobbying, consultations, politicians
write to our local mp
respond to the government consultation
start a petition
brief the minister's office
get supporters to email their councillors about the cuts
the bill has its second reading next week
write a briefing for the select committee
organise a demonstration outside parliament
draft our position on the proposed law change
team up with other groups to push for the change
collect signatures for the open letter
which members of parliament care about this issue

# news reporting and editorial: stories, reporters, fact checking, headlines, breaking news
a big story is breaking, who can cover it
fact check this claim before we run it
get a quote from the council
is this story worth running
edit the piece before it goes live
the reader says our article got it wrong
the source wants to stay anonymous
we need someone at the fire on the high street now
who's covering the council meeting tonight
the copy is three hundred words over
we named the wrong person in the piece, correct it
is this photo from the scene genuine
what's leading the front page tomorrow
keep the live blog updated through the evening

# scheduling and administration: calendars, meetings, inbox, appointments, diaries
book a meeting with the team next week
sort out my calendar
reschedule the call
find a time that works for everyone
clear my diary for friday
take notes at the meeting
move the meeting to next week
send out the invites for the workshop
remind everyone about the deadline
I'm double booked at three, sort it out
flag which of my emails need a reply today
set up a weekly catch-up with the team leads
find a slot that works across three time zones
block out time every morning for focused work

# travel: flights, hotels, trains, car hire, visas, itineraries, trips
book me a flight to berlin next tuesday
find a hotel near the venue
arrange a return trip for the team offsite
change my train to an earlier one
does she need a visa for the trip
plan the itinerary for the sales trip
arrange travel to the conference
our flight got cancelled
get me a taxi to the airport
we need rooms for the team near the client
the hotel booking was for the wrong night
the airline lost my suitcase
my passport expires before the trip
pick up a rental car when we land
get me an aisle seat on the overnight flight

# translation and localisation: languages, translating text, multilingual versions
translate the menu into french
we need this in spanish
localise the app for japan
check the german translation
a customer wrote to us in italian
the brochure needs to be in arabic and chinese
what does this email in dutch say
the german site still has english bits left in
get the contract certified in french for the court
dates and prices look wrong on the japanese site
we need an interpreter for the meeting on thursday
put polish subtitles on the safety video
a new worker only speaks portuguese, explain the induction to him

# internal communications: staff announcements, all-hands, intranet, staff newsletter
tell all staff about the office move
prepare the all-hands meeting
write the staff newsletter
announce the new manager to the team
let everyone know the canteen closes early on friday
the restructure news leaked before we told people
how do we explain the pay freeze to the whole company
the benefits page on the staff portal is out of date
nobody reads the company-wide emails
send a message from the ceo about the results
put a notice on the screens in the break rooms
prepare the town hall slides and questions

# insurance: policies, claims, cover, renewals, premiums
claim on the insurance for the flood damage
is the van covered if someone else drives it
renew the insurance policy
our premium went up a lot
the loss adjuster is coming on tuesday
does our public liability extend to the outdoor event
the broker sent three quotes for the building
the excess on the lorry accident is two thousand
a laptop was stolen from a car, will we get paid out
do we need professional indemnity for this contract
the insurer wants a new alarm fitted or they won't continue
are we protected if a visitor sues after a fall

# business strategy and development: growth plans, new markets, partnerships, competitors
should we open in another city
find companies to partner with
what are our competitors doing
write the business plan

# clinical imaging and diagnostics: scans, x-rays, blood tests, results, samples
book the patient in for an x-ray
the scan results are delayed
the blood sample was lost
chase the test results
the mri machine is down, move this afternoon's list
the ultrasound report still hasn't been typed up
the bloods were haemolysed, they need repeating
can a patient with a pacemaker have an mri
the ct report mentions an unexpected finding on the kidney
the urine pot came to the lab unlabelled
the radiologist wants more clinical detail on the request
the ecg printout is too faint to read

# infection prevention: infections, outbreaks, isolation, cleaning in care settings
there's a stomach bug going round the ward
which patients need isolating
the hand gel dispensers are empty
two residents have diarrhoea and vomiting since last night
a patient swab came back positive for mrsa
staff aren't washing their hands between patients
which masks should staff wear around the flu patients
the side room needs decontaminating after discharge
can relatives visit while covid is on the unit
should we close the bay to new admissions
the sharps bin in the treatment room is overflowing

# children's services and pastoral care: pupils, parents, safeguarding, behaviour, attendance
a parent is worried about bullying
a pupil keeps missing school
we have a safeguarding concern about a child
a child's behaviour in class is getting worse
a child came in with bruises on his arms
a boy in year eight has been truanting
two girls keep fighting at break time
a mum is angry about her son's detention
a kid said something worrying about home
a child keeps arriving hungry and in dirty clothes
a teenager is being sent nasty messages online
a child's dad isn't allowed to collect him

# clinical research and trials: trial protocols, participants, regulators, adverse events
recruit patients for the trial
a participant had a side effect
submit the protocol to the regulator

# records and archives: filing, document retention, archive boxes, scanning old paper
scan the old paper files
how long do we need to keep these records
find the file from five years ago
shred the old documents safely
the basement is crammed with paperwork nobody has looked at
where did the personnel files from the old office go
digitise the title deeds and plans
the offsite storage bill keeps going up
someone took a folder out and never brought it back
can we bin the invoices from ten years ago
nobody can find anything in the shared drive folders
index the folders in the cabinets so we can find things
"""
"""Health, education, research, charities, news, and office work everywhere."""


def _parse(*texts: str) -> tuple[Role, ...]:
    roles: list[Role] = []
    description = ""
    phrases: list[str] = []
    for line in "\n".join(texts).splitlines():
        line = line.strip()
        if line.startswith("# "):
            if description:
                roles.append(Role(description, tuple(phrases)))
            description, phrases = line[2:], []
        elif line:
            phrases.append(line)
    if description:
        roles.append(Role(description, tuple(phrases)))
    return tuple(roles)


ROLES = _parse(_SOFTWARE_AND_CREATIVE, _BUSINESS, _FINANCE_PEOPLE_LAW, _OPERATIONS, _SECTORS)
