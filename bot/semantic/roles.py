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

# data engineering: pipelines, etl, data warehouse, syncing data between systems, data quality
the nightly data load didn't run
the dashboard numbers haven't refreshed since monday
the figures in the two systems don't match
get the sales data into the warehouse
a column of the export is full of blanks
there are duplicate customers in the data
stream the events into the database
clean up the messy spreadsheet imports

# machine learning and ai: models, predictions, recommendations, chatbots, classification
the recommendations show people irrelevant products
the model's predictions got worse this month
train something to sort the support tickets automatically
can we predict which customers will leave
the chatbot gives wrong answers
detect fraud automatically
the ai keeps making things up
summarise thousands of reviews automatically

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

# statistics and research methods: study design, sample sizes, significance, regression, surveys
how many people do we need in the study
is this difference significant or just chance
which test should I use for this data
check the analysis before we publish
design the questionnaire so it isn't biased
the reviewers don't like our statistics
what does this p-value actually mean
control for age and gender in the analysis

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

# research computing: hpc cluster, compute jobs, research data storage, scientific software
my analysis takes days to run on my laptop
the jobs are stuck waiting in the queue
our project folder ran out of quota
install the scientific package on the cluster
back up the raw data from the instrument
I need a machine with a lot of memory
the shared storage is full

# technical writing and documentation: help docs, manuals, release notes, api docs, guides
the help docs are out of date
write the release notes
document the api
the setup guide is missing a step
write a user manual for the new feature
the readme doesn't explain how to install it
turn these notes into a how-to guide
update the faq

# product management: roadmap, features, priorities, specs, user stories, feedback
what should we build next
write the spec for the feature
prioritise the backlog
turn the feedback into user stories
customers keep asking for the same feature
decide what goes into the next release
we have too many feature requests, which matter
plan the roadmap for next year

# user research and ux: usability, user interviews, user testing, personas, journeys
watch people try the new signup flow
interview customers about why they left
users find the onboarding confusing
nobody understands what this button does
run a usability test on the prototype
map the customer journey
who are our users really

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

# images and illustration: pictures, banners, artwork, photo editing, graphics
make a banner for the homepage
draw an illustration for the blog post
generate some product photos
edit this photo to remove the background
create a header image
make an icon set
retouch the team photos
draw a cartoon for the newsletter

# animation and motion graphics: animated logos, explainers, gifs, motion design
animate the logo for the intro
make a short animated explainer
turn this chart into an animation
a looping gif for the launch
add motion to the slides

# photography and visual content: photo shoots, product photography, lifestyle shots, headshots
we need photos of the new products
shoot the team headshots
our product pictures look dull
organise a photo shoot for the new collection
take pictures at the event
get some shots of the food for the menu
lifestyle photos of people using it

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

# game art and animation: characters, sprites, environments, 3d models, game assets
make sprites for the new enemy
model the new vehicle in 3d
the character's walk animation looks stiff
paint the background for the forest level
design some new skins

# game operations and monetisation: in-game store, events, economy, battle pass, live updates
players say the shop prices are a rip-off
plan the holiday event in the game
the in-game currency is too easy to get
add a new season pass
schedule the next content update

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

# hardware and electronics engineering: circuit boards, firmware, devices, prototypes, sensors
the device keeps rebooting
the board overheats after an hour
update the firmware on the units
the sensor readings are drifting
build a prototype of the new gadget
the battery on the device dies too fast

# mechanical and product engineering: physical product design, cad, parts, materials, prototypes
design a bracket to hold the panel
the hinge snaps after a few weeks
which material should the casing be
make the part cheaper to produce
3d print a prototype

# trust and safety and moderation: abuse, fake accounts, spam, reported content, bans
someone posted abusive messages
there are loads of fake accounts signing up
a user reported a harmful post
spam is flooding the comments
a user says they were banned unfairly

# fraud and payment risk: chargebacks, stolen cards, suspicious orders, scams
a customer used a stolen card
we're getting lots of chargebacks
this order looks suspicious
someone is scamming our customers pretending to be us

# player support: players' accounts, lost items, in-game purchases, bans, bug reports from players
a player lost their items after the crash
refund a player's in-game purchase
a player can't log into their account
a player says they were charged twice for gems

# software licences and it purchasing: licences, subscriptions to tools, new equipment for staff
we need more licences for the design software
cancel the tools nobody uses
order laptops for the new team
the subscription for the software is about to lapse

# network and telephony: office network, phone system, internet connection, cabling
the internet in the office keeps dropping
the phone system is down
set up phones for the new office
we need more network points in the meeting room

# database administration: database performance, backups, restores, access to data
restore the database from last night's backup
the database is almost full
give the analyst read access to the data
the queries lock up the database

# accessibility: disabled users, screen readers, captions, accessible design
make the site work with screen readers
is our building accessible for wheelchair users
the colours are too hard to read for some people
add captions for deaf viewers
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

# search engine optimisation: google rankings, search traffic, keywords, seo
we've dropped off the first page of google
nobody finds us when they search
what do people search for when they want this
the site isn't showing in search results
visits from google halved this month
get us ranking for our main product

# public relations and press: journalists, media coverage, statements, interviews, reputation
a journalist called asking for a comment
there's a bad story about us in the paper
get us some coverage in the press
prepare the boss for a radio interview
draft a statement about what happened
pitch our story to magazines
a reporter wants to visit

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

# research: investigate, compare options, market and competitor research, find sources
research what our competitors charge
find studies on this topic
compare the three vendors for us
look into whether this market is worth entering
summarise what's been written about this
find out how other companies handle this
gather the facts on this

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

# account management and customer success: existing clients, renewals, upsells, retention, onboarding customers
our biggest client seems unhappy
check in with customers whose renewal is coming up
a client wants to upgrade their plan
customers are cancelling after the first month
help the new customer get set up
plan the quarterly review with the client
a key account is thinking of leaving

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

# returns and refunds: sending things back, exchanges, damaged items, money back
someone wants a refund
a customer wants to send it back
the item arrived broken
exchange it for a different size
the refund hasn't reached their card
they want their money back for a faulty product
a customer returned something used

# technical support for customers: customers' technical problems, troubleshooting, tickets, escalations
a customer can't log in to their account
a user gets an error when they upload a file
walk the customer through the setup
a client's integration stopped working
the customer has tried everything and it still fails
escalate this ticket, it's been open for a week
write a help article for this problem

# call centre and reception: phones, callers, messages, front desk, visitors
the phones are ringing off the hook
take a message for the manager
a visitor is waiting at the front desk
nobody is answering the main number
redirect calls while we're closed

# customer onboarding and implementation: setting up new customers, data imports, go-live, training customers
get the new customer live by next month
import the client's old data
train the client's staff on the system
the customer's setup is stuck halfway

# sales operations and crm: crm, pipeline, quotas, territories, sales reports
the crm has duplicate contacts
clean up the sales pipeline
how many deals will close this quarter
assign the new leads to the reps

# surveys and customer feedback: satisfaction surveys, nps, reviews, feedback forms
send a satisfaction survey to customers
what are people saying in the reviews
our review score has dropped
collect feedback after each visit

# membership services: members, memberships, renewals, freezes, cancellations, member benefits
a member wants to freeze their membership
renew the memberships due this month
a member can't get into the club
send the new members their cards
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

# accounts payable: paying suppliers, supplier invoices, payment runs, duplicate payments
pay the supplier invoices
a supplier says we haven't paid them
the same invoice was paid twice
set up a new supplier for payment
when is the next payment run
this bill needs approving before we pay it
the supplier's bank details have changed

# credit control and debt collection: unpaid invoices, overdue payments, chasing money owed
a client hasn't paid us in three months
chase the overdue invoices
who owes us money
send a reminder about the unpaid bill
the customer keeps promising to pay and doesn't
should we stop supplying them until they pay
agree a payment plan for what they owe

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

# planning and forecasting: cash flow, runway, scenarios, budgets versus actuals
how long will our cash last
stress test the forecast for late payments
model the scenario where sales drop by a fifth
can we afford two more hires this year
are we on track against budget
plan next year's numbers

# treasury and banking: bank accounts, transfers, currency, loans, payments blocked
the bank blocked a payment
move money between our accounts
open a new bank account
what rate are we getting on the euro payment
the loan repayment is due
our card was declined

# fundraising and investors: investors, funding rounds, board reporting, shareholders
prepare for the investor meeting
update the shareholders on the quarter
we need to raise money next year
put together the board pack
an investor wants to see the numbers

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

# onboarding new staff: first days, inductions, new starter setup
onboard the new starter on monday
plan the first week for the new hire
what does a new joiner need on day one
an induction for the new team

# staff scheduling and rotas: shifts, cover, rosters, who works when
plan the staff rota for next week
someone called in sick, find cover for the shift
swap shifts between two staff
we're short on the weekend shift
who's working over the holidays

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

# litigation and disputes: court, lawsuits, claims, injunctions, threats to sue
they're threatening to take us to court
we want to sue the supplier
a claim has been filed against us
get an urgent injunction
respond to the solicitor's letter
we received court papers
the other side won't settle

# employment law: dismissals, tribunals, settlement agreements, workplace disputes
an ex-employee says the dismissal was unfair
negotiate an exit package for an employee
we need to let someone go properly
a discrimination complaint from a worker
can we make roles redundant

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

# wills, estates and private clients: wills, probate, inheritance, power of attorney
update my will
someone died and the family need the estate sorted
set up a power of attorney for my mother
how is inheritance tax worked out

# family law: divorce, separation, children arrangements, custody
the client wants a divorce
arrangements for the children after separation
sort out the finances in the divorce

# immigration and visas: work permits, sponsorship, visa applications, right to work
sponsor a visa for the new hire
her work permit runs out soon
check this person has the right to work here
an overseas applicant needs a visa letter

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

# privacy and data protection: personal data, gdpr, deletion requests, consent, data breaches
handle a right to be forgotten request
someone asked for a copy of the data we hold on them
do we have consent to email these people
review how long we keep personal data
is this gdpr compliant
we emailed a list to the wrong person

# company secretarial and governance: board meetings, minutes, filings, shareholders, company records
file the annual return
write up the board minutes
update the register of shareholders
appoint a new director

# client intake and conflict checks: new clients, enquiries, conflicts of interest, engagement letters
a new client wants to instruct us
run a conflict check on the new matter
send the engagement letter to the new client
someone rang asking if we can take their case

# legal research and case preparation: case law, precedents, court bundles, document review
find case law on this point
prepare the court bundle
go through the disclosure documents
summarise the judgment for the partner

# conveyancing and property transactions: buying and selling property, searches, completion, title
the buyer's searches came back with a problem
when is completion
check the title deeds
the sale fell through at the last minute

# health insurance and medical billing: insurers, claims, codes, patient bills
the insurer rejected the claim
a patient got a bill they didn't expect
which code do we use for this treatment
chase the insurer for payment
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

# office management and administration: office supplies, post, meeting rooms, keys, visitors
we've run out of coffee and printer paper
book a meeting room for thursday
the post needs sending out
get keys cut for the new starter
order new chairs for the office
sort out lunch for the workshop

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

# environment and sustainability: carbon footprint, waste, recycling, pollution, energy use
measure our carbon footprint
cut down the waste we send to landfill
set up recycling in the building
something leaked into the drain
our energy bills are huge, how do we use less
write the sustainability report

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

# guest and client relations: special requests, vip and loyal customers, welcome, surprises
arrange a welcome gift for a returning guest
a vip arrives tomorrow
a guest wants an early check-in
apologise to a guest about a bad stay
a guest complained about the noise
a guest wants to complain to the manager
a returning guest wants the same room as last time

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

# carriers and subcontracted transport: hauliers, outside carriers, freight rates, capacity
find a haulier to take the extra load
get rates from other carriers

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

# manufacturing and production: production line, batches, output, shifts, factory
the line stopped this morning
production is behind schedule
plan the next batch
we can't make enough to meet the order
the machine on line two keeps jamming
how much can we make per week

# quality control: defects, inspections, tolerances, recalls, batches, standards
customers found faults in a batch
the parts are out of spec
recall the affected products
inspect the goods that came in
why are so many coming back faulty
get ready for the quality certification

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

# estimating and tenders: pricing new building work, bids, take-offs, cost plans
how much would it cost to build
price up this job
put the tender together
measure the quantities off the plans
a rough budget for the new project

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

# equipment and plant hire: hiring machines, tools, diggers, generators, off-hire
hire a digger for next week
send the hired tools back
we need a generator on site
the cherry picker is booked for the wrong day

# retail store operations: shops, tills, shop floor, displays, opening hours, shoplifting
the till isn't working
change the window display
someone stole from the shop
the shop floor is a mess
open the store later on sunday

# field service: sending engineers and technicians to customers, call-outs, repairs at customers
send an engineer to the customer's house
book a technician visit
the repair visit was missed
how soon can someone get there

# property and tenancy management: tenants, rent, repairs in rented homes, inspections
the tenant in flat 2 has no heating
collect the rent arrears
a tenant wants to leave early
find a new tenant for the house

# grounds and landscaping: gardens, grass, trees, outdoor areas, snow and gritting
the grass needs cutting
a tree is leaning over the fence
the car park needs gritting before the frost
tidy up the flower beds by the entrance
the outdoor lights in the garden are out

# pest control: mice, rats, insects, wasps, infestations
there are mice in the kitchen
we found a wasps' nest by the door
bed bugs in one of the rooms
droppings in the store room

# food safety and hygiene: kitchen hygiene, fridge temperatures, allergens labelling, inspections
the fridge log shows it was too warm overnight
the food hygiene inspector is coming
label the allergens on the sandwiches
someone got food poisoning after eating here

# interior design and fit-out: decor, furniture, layouts of rooms, finishes
redo the decor in the reception
choose furniture for the new office
the new carpet colour doesn't work

# estate agency and property sales: valuations, viewings, listings, offers on homes
value the house for sale
book viewings for the flat
an offer came in below the asking price
list the property online

# tours and activities: excursions, tour bookings, guides, activities for visitors
book a boat trip for the guests
find a guide for the walking tour
plan activities for the group's free afternoon

# sports and fitness: coaching, training plans, classes, gym equipment, fitness
plan a training programme for the team
a treadmill in the gym is broken
add more spin classes
a member injured themselves on a machine
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

# nursing and patient care: wards, dressings, observations, care plans, patients' comfort
the patient in bed four needs help
change the dressing on the wound
the patient's blood pressure is dropping
write the care plan for the new resident
a patient keeps falling

# pharmacy and medicines: drugs, prescriptions, interactions, stock of medicines
can these two medicines be taken together
we're out of a common antibiotic
check the dose for a child
a patient wants a repeat prescription

# patient administration and appointments: bookings, registrations, waiting lists, referrals, records
book an appointment
reschedule the patient's appointment
register a new patient
how long is the waiting list
send the patient's notes to the hospital
a patient wants a copy of their records
a patient didn't turn up for their appointment

# mental health and wellbeing: stress, anxiety, counselling, support for people who are struggling
someone on the team is really struggling
a student seems very low
set up counselling for staff
people are stressed and anxious

# veterinary care: pets, animals, vets, vaccinations
the dog has stopped eating
book the cat in for its jabs
a horse is limping

# teaching and courses: lessons, modules, classes, coursework, teaching material
plan the lessons for next term
make a quiz on the material
a student needs more time for the assignment
the class timetable clashes
put the slides on the course page
find cover for a teacher who's off

# exams and assessment: exams, marking, grades, resits, appeals, extra time
set the exam paper
a student wants to appeal their grade
a student needs extra time in exams
the marking is late
organise the resits
check the marks are fair across markers

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

# research funding and grants: funding applications, funders, grant budgets, reports to funders
apply for funding for the project
the grant deadline is next month
the funder wants a progress report
which funders would support this
cost the project for the application
we got the grant, what happens now

# research ethics: ethics approval, consent, studies with people or animals, research data
do we need ethics approval for the survey
write the consent form for participants
change the study after it was approved
can we keep the interview recordings

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

# charity programmes and casework: services to people in need, cases, referrals, support
a family needs emergency food
someone needs help with housing
follow up with the people we helped last month
how many people did the programme reach

# campaigns and public policy: advocacy, petitions, lobbying, consultations, politicians
write to our local mp
respond to the government consultation
start a petition
brief the minister's office

# news reporting and editorial: stories, reporters, fact checking, headlines, breaking news
a big story is breaking, who can cover it
fact check this claim before we run it
get a quote from the council
is this story worth running
edit the piece before it goes live
the reader says our article got it wrong

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

# translation and localisation: languages, translating text, multilingual versions
translate the menu into french
we need this in spanish
localise the app for japan
check the german translation
a customer wrote to us in italian

# internal communications: staff announcements, all-hands, intranet, staff newsletter
tell all staff about the office move
prepare the all-hands meeting
write the staff newsletter
announce the new manager to the team

# insurance: policies, claims, cover, renewals, premiums
claim on the insurance for the flood damage
is the van covered if someone else drives it
renew the insurance policy
our premium went up a lot

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

# infection prevention: infections, outbreaks, isolation, cleaning in care settings
there's a stomach bug going round the ward
which patients need isolating
the hand gel dispensers are empty

# children's services and pastoral care: pupils, parents, safeguarding, behaviour, attendance
a parent is worried about bullying
a pupil keeps missing school
we have a safeguarding concern about a child
a child's behaviour in class is getting worse

# clinical research and trials: trial protocols, participants, regulators, adverse events
recruit patients for the trial
a participant had a side effect
submit the protocol to the regulator

# records and archives: filing, document retention, archive boxes, scanning old paper
scan the old paper files
how long do we need to keep these records
find the file from five years ago
shred the old documents safely
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
