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


_TEXT = """
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

# frontend web development: website pages, browser, layout, css, forms
the button on the website doesn't do anything
the page looks broken in safari
the signup form won't submit
make the homepage load faster
the menu overlaps the text on small screens
build the new pricing page
fix the layout on the checkout page

# mobile app development: ios and android apps, app store releases
the app crashes when I open it on my phone
the android app won't load on tablets
push notifications stopped arriving on iphones
submit the new version to the app store
the app drains the battery
add dark mode to the app

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

# security: vulnerabilities, breaches, suspicious access, phishing, passwords
someone got a phishing email pretending to be the ceo
we might have leaked customer data
there were strange logins from abroad overnight
review this for security holes
rotate the leaked api keys
a laptop with client files was stolen

# quality assurance and testing: test plans, regressions, reproducing bugs
test the new release before it goes out
write a test plan for the checkout
can someone reproduce this bug
run the regression tests
check the update didn't break anything

# data and analytics: numbers, dashboards, reports, trends, forecasts, spreadsheets
which products make the least profit
pull the numbers for last quarter
build a dashboard of weekly sales
why did sign-ups drop in march
forecast demand for next month
crunch the survey results
what's our churn rate
compare this year's figures with last year

# visual and product design: mockups, screens, layouts, brand, logos, presentations
mock up the settings screen
design a new logo
redesign the onboarding flow
make the slides look nicer
create a style guide for the brand
design the poster for the event
sketch a wireframe for the dashboard

# images and illustration: pictures, banners, artwork, photo editing, graphics
make a banner for the homepage
draw an illustration for the blog post
generate some product photos
edit this photo to remove the background
create a header image
make an icon set

# writing and editing: articles, copy, blog posts, emails, press releases, proofreading
write a blog post about the launch
draft the newsletter
proofread this document
write the product description
draft a press release
rewrite this email so it sounds friendlier
write the copy for the landing page

# social media: posts, tweets, instagram, tiktok, linkedin, comments, followers
post this on our instagram
write a few tweets about the sale
reply to the comments on our last post
plan next week's social posts
someone is trolling us on twitter
grow our linkedin following

# marketing: campaigns, promotions, offers, mailing lists, ads, brand awareness
put together a spring promotion
email a discount code to subscribers
run an ad campaign for the new product
plan the launch campaign
how do we get more people to hear about us
create a discount deal for returning customers

# research: investigate, compare options, market and competitor research, find sources
research what our competitors charge
find studies on this topic
compare the three vendors for us
look into whether this market is worth entering
summarise what's been written about this

# sales: quotes, proposals, leads, prospects, pricing a deal, winning customers
send them a quote for the job
follow up with the prospect from yesterday
write a proposal for the new client
a potential customer wants a price
chase the leads from the trade show
renew the contract with our biggest customer

# customer service: customer complaints, orders, delivery questions, refunds, replies
a customer wants to know when their parcel will arrive
reply to the angry customer
a client says the delivery never arrived
someone wants a refund
the customer is on the phone and upset
answer this customer's question

# accounting and finance: invoices, tax, vat, expenses, budgets, payments, accounts
our invoices have the wrong vat
pay the supplier invoices
reconcile the bank account
prepare the quarterly tax return
how much did we spend on travel
set the budget for next year
the accounts don't balance
a client hasn't paid us in three months

# billing: client bills, charges, time records, payment chasing, statements
a client disputes the charges
break down the charges on this invoice
send the final bill
fix the time entries before billing
combine their charges into one statement
chase the unpaid bills

# payroll: salaries, wages, payslips, overtime pay, pensions
someone was paid the wrong amount
run payroll this month
a payslip is missing overtime
set up the new starter on payroll

# people and hr: hiring, vacancies, job ads, onboarding, leave, absence, staff issues
we need to hire a new receptionist
put out a job ad for a manager
onboard the new starter on monday
someone has been off sick for two weeks
a staff member complained about their manager
plan the staff rota for next week
approve holiday requests
someone wants to resign

# contracts and commercial law: agreements, ndas, terms, leases, clauses
draft an nda for the new partner
review the supplier agreement
what does this clause mean
update our terms and conditions
the lease renewal needs checking

# litigation and disputes: court, lawsuits, claims, injunctions, threats to sue
they're threatening to take us to court
we want to sue the supplier
a claim has been filed against us
get an urgent injunction
respond to the solicitor's letter

# employment law: dismissals, tribunals, settlement agreements, workplace disputes
an ex-employee says the dismissal was unfair
negotiate an exit package for an employee
we need to let someone go properly
a discrimination complaint from a worker

# compliance and regulation: rules, licences, gdpr, audits, are we allowed to
are we allowed to do this under the regulations
get ready for the audit
is this gdpr compliant
check our licence covers it
a regulator sent us a letter

# health and safety: accidents, hazards, injuries, risk assessments, dangerous goods, rules on hours
someone slipped and hurt themselves
do a risk assessment for the site
dangerous goods rules for a shipment
drivers are working too many hours without breaks
the fire exit is blocked
report a near miss

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

# housekeeping and cleaning: rooms, cleaning, linen, laundry, lost property
the room wasn't cleaned
a guest left something behind in the room
we need fresh towels
there's a stain on the carpet
return a charger a guest forgot
deep clean the lobby

# food and drinks: restaurant, kitchen, menus, table bookings, dietary needs, catering
book a table for dinner tonight
a party of eight wants a table on saturday
a guest has a nut allergy
change the breakfast menu
the chef needs more stock
plan the catering for the conference

# events: weddings, parties, conferences, venues, entertainment, celebrations
plan a wedding reception
hire entertainment for the party
organise the company conference
can the venue hold 200 people
set up the room for the gala

# guest and client relations: bookings, special requests, vip and loyal customers, welcome
arrange a welcome gift for a returning guest
a vip arrives tomorrow
a guest wants an early check-in
move the booking to another date
apologise to a guest about a bad stay

# pricing and revenue: rates, occupancy, demand, discounts, yield, how full we are
should we raise prices for the festival weekend
how full are we next month
set the rates for the holiday season
occupancy is low for next week

# transport planning and dispatch: routes, drivers, trucks, deliveries, schedules
plan the delivery routes for tomorrow
which driver can take the run to leeds
a truck broke down halfway, reroute the loads
schedule the pickups for the week

# warehouse and inventory: stock, pallets, picking, storage, stock counts
a shipment is missing from the depot
we're running low on stock
do a stock count
the order was picked wrong
make room in the warehouse

# purchasing and suppliers: vendors, procurement, purchase orders, subcontractors, outside providers
find a supplier for packaging
order more materials
get quotes from outside contractors
hire a subcontractor for the overflow work
the supplier delivered the wrong parts

# vehicles and fleet maintenance: vans, trucks, servicing, tyres, breakdowns, inspections
the van needs a service
a lorry failed its inspection
the tyres are worn
book the truck in for repairs

# scheduling and administration: calendars, meetings, travel, inbox, appointments
book a meeting with the team next week
arrange travel to the conference
sort out my calendar
reschedule the call
book an appointment
reschedule the patient's appointment

# translation and localisation: languages, translating text, multilingual versions
translate the menu into french
we need this in spanish
localise the app for japan
check the german translation

# video and audio: video editing, podcasts, voice-over, music, sound effects, trailers
edit the video from the event
cut a trailer
record a voice-over
make the music for the intro
mix the podcast episode

# medical care: patients, symptoms, diagnosis, treatment, prescriptions, clinical questions
a patient has chest pain
review the patient's symptoms
the prescription needs renewing
is this dose safe
a patient reacted badly to the medication
lab results came back abnormal

# game design: levels, mechanics, balance, quests, difficulty, players' experience
this level is too hard
rebalance the weapons
design a new boss fight
players are finding an exploit
write the quest storyline

# community management: players, members, forums, discord servers, moderation, feedback
players are angry about the update on the forum
moderate the discord server
gather feedback from the community
announce the patch to the players
someone is harassing other members

# it support: laptops, accounts, passwords, wifi, printers, software access
my laptop won't turn on
I'm locked out of my account
the wifi is down in the office
the printer isn't working
install the software on the new starter's machine
give her access to the shared drive

# training and education: courses, lessons, tutorials, teaching material
create a training course for new staff
write a tutorial for the feature
plan the lessons for next term
make a quiz on the material

# travel: flights, hotels, trains, car hire, visas, itineraries, trips
book me a flight to berlin next tuesday
find a hotel near the venue
arrange a return trip for the team offsite
change my train to an earlier one
does she need a visa for the trip
plan the itinerary for the sales trip

# privacy and data protection: personal data, deletion requests, consent, breaches of data
handle a right to be forgotten request
someone asked for a copy of the data we hold on them
do we have consent to email these people
review how long we keep personal data

# tax: tax returns, vat filings, what we owe the tax office, tax rules
how much tax do we owe this year
file the vat return
is this expense tax deductible
work out the sales tax for the new state

# audit and expense control: expense claims, receipts, checks, fraud, controls
an expense claim has no receipt
check these expenses look legitimate
flag suspicious expense claims
prepare the documents the auditors asked for

# planning and forecasting: cash flow, runway, scenarios, budgets versus actuals
how long will our cash last
stress test the forecast for late payments
model the scenario where sales drop by a fifth
can we afford two more hires this year

# product management: roadmap, features, priorities, specs, user stories, feedback
what should we build next
write the spec for the feature
prioritise the backlog
turn the feedback into user stories
"""


def _parse(text: str) -> tuple[Role, ...]:
    roles: list[Role] = []
    description = ""
    phrases: list[str] = []
    for line in [*text.splitlines(), "# "]:
        line = line.strip()
        if line.startswith("# "):
            if description:
                roles.append(Role(description, tuple(phrases)))
            description, phrases = line[2:], []
        elif line:
            phrases.append(line)
    return tuple(roles)


ROLES = _parse(_TEXT)
