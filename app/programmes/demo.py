"""Fictional demo programmes, their review history and implementation reports.

Every programme, provider and contact person here is invented (titles are made up; people
and providers carry "Demo" in their names; addresses use ``example.org``), and every
description ends by saying it is fictional. No real programme and no case data appear.

The programmes go through the real workflow (``app.programmes.service``: create, save,
submit, review, archive), so versions, mirrored terms and review threads are what a person
would have produced. Afterwards their timestamps are spread over the past years, so the
catalogue and the history pages look lived in; the e-mails the reviews queued for the demo
submitters are deleted (see ``_drop_demo_mail``). Running it again adds only what is
missing, matched by title among the demo programmes.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from babel import Locale
from sqlalchemy import Table, bindparam, delete, event, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.members.models import Member
from app.organisations.models import Organisation
from app.outbox.models import OutboxMessage
from app.programmes import reports as reports_service
from app.programmes import service
from app.programmes.models import (
    ImplementationReport,
    Programme,
    ProgrammeThreadEntry,
    ProgrammeVersion,
)

DEMO_SEED = 20261128

_ENGLISH = Locale("en")

# --- the kinds of programme ----------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """What programmes of one kind share: classification, practicalities and their text."""

    target_groups: tuple[str, ...]
    target_subgroups: tuple[str, ...]
    prevention_level: str
    settings: tuple[str, ...]
    delivery: tuple[str, ...]
    abuse_addressed: str
    ages: tuple[int | None, int | None]
    manual_chance: float
    training_chance: float
    durations: tuple[str, ...]
    costs: tuple[str, ...]
    summary: str
    body: str
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)


_HELPLINE = """## Why it exists

Most people who feel sexually attracted to children never abuse a child, and many of them
want help to make sure they never will. {title} gives them a place to talk without being
judged, at the moment they reach out.

## What the service offers

- anonymous telephone and chat counselling, {hours}
- a first conversation about risk, wellbeing and what support would help
- referral to specialised outpatient treatment and to general health services
- advice for partners and relatives who are worried about someone close to them

## Who answers

Counsellors are psychologists and social workers trained by the {provider}. They follow a
written conversation protocol, meet weekly for supervision and can consult a clinician on
duty.

## Confidentiality and its limits

At the start of each conversation, callers hear what stays confidential and when the
service must act to protect a child who is at risk now. Conversations are not recorded; only
anonymous figures (number of contacts, topics, referrals) are kept for the annual report."""

_SELF_HELP = """## Aims

{title} reaches people who search for sexual images of children online and want to stop. It
offers help at the moment of concern, anonymously and without a waiting list.

## The modules

1. Understanding what happens before, during and after viewing
2. Recognising triggers: stress, loneliness, boredom, alcohol
3. Coping with urges and building alternatives
4. The children in the images: understanding the harm
5. Relationships, intimacy and a healthy sexuality with adults
6. A personal plan for staying safe online

## How people find it

Warning messages shown by cooperating search engines and platforms link to {title} when
someone searches for abuse material. Helplines and clinics in {where} refer to it too.

## Safeguards

- no name or e-mail address is needed to take part
- participants can write to a counsellor through secure messages
- the programme points to face-to-face treatment for people who need more support"""

_HELP_CAMPAIGN = """## Why a campaign

Many people who worry about their sexual thoughts about children do not know that help
exists, or fear what happens if they ask. {title} speaks to them directly, without
sensationalism, and shows one clear way to anonymous help.

## What the campaign does

- short video and audio spots on social media, streaming services and search results
- posters in public transport and health centres, in {languages}
- a landing page that explains, step by step, what happens when someone calls
- briefings for journalists on how to report on prevention responsibly

## Who is behind it

The {provider} runs the campaign with helplines and treatment services that have agreed to
take the extra contacts it brings."""

_OUTPATIENT = """## Who it is for

Adults who notice a sexual interest in children and have not offended, or whose offending
is not known to the justice system, and who want help so that no child is harmed.

## How treatment works

1. A first contact by telephone or e-mail, anonymous if the person wishes
2. An assessment over two or three appointments
3. Individual and group sessions with a psychotherapist, over about a year
4. Follow-up appointments after the end of treatment

## What is worked on

- understanding one's own sexual interests without shame, and taking responsibility for
  behaviour
- managing urges and high-risk situations
- emotions, loneliness and self-esteem
- building relationships and a fulfilling life with adults

## Team

Treatment is provided by clinical psychologists, psychiatrists and sexologists of the
{provider}, with regular case supervision."""

_PROBATION = """## Aims

{title} helps people convicted of sexual offences against children to live without
offending. It combines a structured approach to reducing risk with work on the goals and
strengths that give life meaning.

## Structure

- an individual assessment with validated risk instruments
- group sessions of 8 to 10 participants, led by two trained facilitators
- individual sessions to prepare a personal safety plan
- a handover meeting with the probation officer at the end

## Themes

1. Taking responsibility and understanding the offence chain
2. Sexual self-regulation and managing risky situations
3. Emotions, intimacy and relationships
4. The impact on victims, and empathy
5. Planning a life after the sentence: work, housing, support

## Working with others

Facilitators share progress reports with the probation service under clear agreements that
participants know from the start."""

_CIRCLES = """## The idea

Isolation after release raises the risk of reoffending. {title} puts a released person (the
core member) at the centre of a small circle of four to six trained volunteers from the
community, who meet with them every week.

## How a circle works

- the volunteers offer practical and social support: housing, work, everyday contacts
- they talk openly about risk and notice warning signs early
- a professional coordinator supervises each circle and keeps in touch with probation and
  police
- an outer circle of professionals agrees what happens if concerns arise

## Volunteers

Volunteers are screened, take part in four days of training and meet for supervision every
month. Many come from social work, faith communities or local associations.

## Safety first

The first aim of every circle is that there are no new victims. Volunteers know what to do
and whom to tell if they see signs of risk."""

_HSB = """## Who it is for

Children and young people whose sexual behaviour has harmed others or put them at risk,
referred by schools, child protection services, youth justice or their families.

## Approach

Young people are first of all young people: most who receive help early do not repeat
harmful sexual behaviour. {title} works with the young person and with the adults around
them.

- an assessment of needs, strengths and risks, together with the family
- individual sessions on sexuality, relationships, consent and self-control
- family sessions that help parents supervise and support
- a safety plan agreed with school and youth services

## Team

Sessions are led by child and adolescent psychologists and family therapists of the
{provider}."""

_PARENTING = """## Why

Parents are the first protectors of their children, but many find it hard to talk about
sexuality and abuse. {title} gives them knowledge, words and confidence.

## Sessions

1. How children develop: bodies, curiosity and privacy
2. Talking with children about boundaries, feelings and secrets
3. How abuse happens: grooming, online contact and warning signs
4. Responding calmly when a child tells
5. Where to find help, for children and for worried adults

## Format

Groups of 8 to 14 parents meet with two trained facilitators, {venue}. Each session mixes
short input, discussion and practice in pairs; parents take home small exercises to do with
their children."""

_CARERS = """## Why

Children in foster and kinship care are more likely to have experienced abuse, and their
carers are often not prepared for what that means. {title} helps carers understand the
children's behaviour and make their home a safe place.

## Content

- how abuse affects children's development and behaviour
- safe routines at home: privacy, bedtime, bathing, screens
- talking with children about their bodies and their past, at their pace
- working with social workers when a child discloses or a concern arises

## Peer support

After the training, carers meet every month in small peer groups with an experienced
facilitator."""

_PARENTS_ONLINE = """## Aims

{title} helps families talk about online life before something goes wrong, so that
children know they can come to their parents without fear of losing their phone.

## What families do

- short videos and quizzes for parents on how online grooming and sextortion work
- conversation cards to use at the dinner table
- a family agreement on apps, privacy settings and what to do when something feels wrong
- a list of helplines and reporting services in {where}

## How it is used

Families use the course at home; schools and libraries also run it as a guided evening for
parents."""

_EARLY_YEARS = """## Aims

The first years are when children learn whether their body and their "no" are respected.
{title} supports parents and carers of young children to raise them with warmth, clear
boundaries and words for every part of the body.

## What it offers

- three home visits by a family health nurse during the first two years
- four group meetings for parents of toddlers and pre-school children
- picture books and cards about bodies, feelings and privacy
- guidance for safe care routines: changing, bathing, babysitters, medical visits

## Working with others

Nurses know the local child protection services and help parents find support when they
are worried about a child or about another adult's behaviour."""

_BODY_SAFETY = """## Aims

Children who know the words for their body, and know that they may say no and tell, are
better able to seek help. {title} brings these messages into ordinary lessons, with warmth
and without fear.

## Lessons

- six lessons of 45 minutes per school year, taught by class teachers
- stories, songs and role play adapted to each age group
- four simple rules: my body belongs to me; I can say no; there are no secrets about
  touching; I tell a trusted adult
- a parents' evening before the lessons start, and a leaflet to take home

## Whole-school approach

The school names a safeguarding lead, reviews its child protection policy and trains all
staff in how to respond to a disclosure."""

_CONSENT = """## Aims

{title} helps young people build respectful relationships and recognise abuse and
exploitation, including by peers and online.

## Units

1. Respect, equality and healthy relationships
2. What consent means, and why it can always be withdrawn
3. Pressure, power and manipulation
4. Sharing images: the law, the risks and what to do if an image is shared
5. Supporting a friend and getting help

## Teaching

Lessons are taught by trained teachers, sometimes with a youth worker, in groups where
students feel safe to talk. Ground rules, an anonymous question box and a clear route to
the school's safeguarding lead are part of every unit."""

_BYSTANDER = """## Why bystanders matter

Abuse in institutions is often noticed by colleagues long before it is reported. {title}
helps staff act on their unease early, safely and fairly.

## Content

- warning signs in children, and boundary-crossing behaviour by adults
- a code of conduct on professional closeness and distance
- practising conversations: with a child, with a colleague, with a manager
- the reporting procedure, and the protection of people who report

## Format

A half-day session for all staff, followed by a short online refresher every year.
Managers take an extra module on handling reports."""

_ONLINE_EDU = """## Aims

{title} prepares students for the risks they meet online, starting from what they already
do there: games, chats, social media and video.

## Lessons

1. Who is on the other side? Recognising grooming and manipulation
2. Images and videos: consent, the law and what to do if something is shared
3. Sextortion: why it is never the young person's fault, and how to get help fast
4. Being a good friend online

## Materials

Teachers receive lesson plans, short films and discussion cards; parents are invited to a
short online session in {languages}."""

_SPORT = """## Aims

Sport is good for children, and clubs can make it safe. {title} gives clubs a set of
standards and trains the adults who coach, drive and supervise children.

## Standards for clubs

- safe recruitment of coaches and volunteers, with references and record checks
- a code of conduct for changing rooms, travel, overnight stays and online contact
- a welfare officer in every club, known to the children
- a simple way for children and parents to raise concerns, inside and outside the club

## The coaches' course

A {course} on recognising warning signs, keeping appropriate boundaries and responding to a
child who discloses abuse."""

_FAITH = """## Why

Faith communities offer children belonging and care, and they must be safe places. {title}
helps leaders, volunteers and families to prevent abuse and respond well to concerns.

## What it offers

- a model safeguarding policy, adapted with each community
- training for leaders and volunteers who work with children and young people
- guidance for youth camps, choirs, classes and pastoral conversations
- an independent contact person outside the community's own hierarchy

## Working together

The programme brings together communities of different faiths in {where}, which share
training days and learn from each other."""

_CAMPAIGN = """## Aims

Everyone around children can help to prevent abuse. {title} explains in plain words how
abuse happens, what the warning signs are and where children, parents and worried adults
can get help.

## Activities

- posters, radio and social media spots in {languages}
- information stands at schools, health centres and local festivals
- a website with short guides for parents, young people and professionals
- free workshops for community groups on request

## Messages

Abuse is most often committed by someone the child knows. Children rarely tell straight
away. Adults who are worried about a child, or about their own thoughts, can get help
before anything happens."""

_YOUTH_PEER = """## The idea

Young people listen to each other. In {title}, trained young adults lead conversations with
teenagers and students about relationships, consent and the pressures they meet online.

## What peer educators do

- lead workshops in schools, youth centres and student associations
- run an online question service, answered within two days
- share clear information on sextortion and on removing images from the internet
- know when to hand over to a professional, and how

## Training and support

Peer educators aged 18 to 25 take a training of five days and meet every fortnight with a
youth worker for supervision."""

KINDS: dict[str, _Kind] = {
    "helpline": _Kind(
        target_groups=("offenders",),
        target_subgroups=("help_seekers",),
        prevention_level="secondary",
        settings=("community", "online"),
        delivery=("helpline",),
        abuse_addressed="both",
        ages=(18, None),
        manual_chance=0.7,
        training_chance=0.9,
        durations=(
            "Ongoing service; most callers have one to five conversations",
            "Ongoing; counselling contacts as often as the caller needs",
        ),
        costs=("Free of charge", "Free and anonymous"),
        summary=(
            "A confidential helpline in {where} for adults who are worried about their sexual "
            "thoughts or feelings towards children. Callers can stay anonymous; trained "
            "counsellors help them stay safe and find treatment before anyone is harmed."
        ),
        body=_HELPLINE,
        choices={
            "hours": (
                "on weekday evenings",
                "every day from 10:00 to 22:00",
                "on weekdays, with a chat service at weekends",
            )
        },
    ),
    "self_help": _Kind(
        target_groups=("offenders",),
        target_subgroups=("help_seekers",),
        prevention_level="secondary",
        settings=("online",),
        delivery=("self_help", "online"),
        abuse_addressed="online",
        ages=(18, None),
        manual_chance=0.9,
        training_chance=0.3,
        durations=(
            "Six online modules at the participant's own pace",
            "Six modules over about two months",
        ),
        costs=("Free of charge",),
        summary=(
            "An anonymous online self-help programme for people in {where} who are worried "
            "about viewing sexual images of children. Short modules based on cognitive-"
            "behavioural methods help them understand the behaviour, manage urges and stop."
        ),
        body=_SELF_HELP,
    ),
    "help_campaign": _Kind(
        target_groups=("offenders",),
        target_subgroups=("help_seekers",),
        prevention_level="secondary",
        settings=("online", "community"),
        delivery=("campaign", "online"),
        abuse_addressed="both",
        ages=(16, None),
        manual_chance=0.2,
        training_chance=0.1,
        durations=("Campaign waves of six weeks, twice a year",),
        costs=("Free of charge",),
        summary=(
            "A campaign in {where} that speaks directly to people who are worried about their "
            "sexual thoughts about children, and shows them the way to anonymous help before "
            "anyone is harmed."
        ),
        body=_HELP_CAMPAIGN,
    ),
    "outpatient": _Kind(
        target_groups=("offenders",),
        target_subgroups=("help_seekers",),
        prevention_level="secondary",
        settings=("health_care",),
        delivery=("face_to_face",),
        abuse_addressed="both",
        ages=(18, None),
        manual_chance=0.8,
        training_chance=1.0,
        durations=(
            "Weekly sessions for 12 to 18 months",
            "About 40 weekly sessions, individual and in groups",
        ),
        costs=("Free of charge (funded by the regional health service)", "Free for participants"),
        summary=(
            "Confidential outpatient treatment in {where} for adults who are sexually "
            "attracted to children and want help to never offend. Individual and group "
            "therapy works on sexual urges, emotions and relationships."
        ),
        body=_OUTPATIENT,
    ),
    "probation": _Kind(
        target_groups=("offenders",),
        target_subgroups=("criminal_proceedings",),
        prevention_level="tertiary",
        settings=("criminal_justice",),
        delivery=("face_to_face",),
        abuse_addressed="both",
        ages=(18, None),
        manual_chance=1.0,
        training_chance=1.0,
        durations=(
            "About 30 group sessions over nine months",
            "Weekly group sessions for one year, then monthly follow-up",
        ),
        costs=("Free of charge (part of the sentence plan)", "No cost to participants"),
        summary=(
            "A group treatment programme for men convicted of sexual offences against "
            "children, run in prisons and probation services in {where}. It strengthens "
            "self-control, relationships and a life plan without offending."
        ),
        body=_PROBATION,
    ),
    "circles": _Kind(
        target_groups=("offenders",),
        target_subgroups=("after_release",),
        prevention_level="tertiary",
        settings=("community", "criminal_justice"),
        delivery=("face_to_face",),
        abuse_addressed="contact",
        ages=(18, None),
        manual_chance=0.9,
        training_chance=1.0,
        durations=("Weekly circle meetings for one to two years", "About 18 months"),
        costs=("Free of charge", "Free for the core member; volunteers' travel is reimbursed"),
        summary=(
            "Circles of trained volunteers in {where} who support, and hold accountable, people "
            "released after a sexual offence, so that there are no new victims and no one "
            "returns to isolation."
        ),
        body=_CIRCLES,
    ),
    "hsb": _Kind(
        target_groups=("offenders", "parents"),
        target_subgroups=("harmful_sexual_behaviour", "families"),
        prevention_level="tertiary",
        settings=("health_care", "family_home", "community"),
        delivery=("face_to_face",),
        abuse_addressed="contact",
        ages=(10, 17),
        manual_chance=0.7,
        training_chance=1.0,
        durations=(
            "Weekly sessions for six to nine months, with a family session every month",
            "About 25 sessions over six months",
        ),
        costs=("Free of charge (funded by child and youth services)", "Free for families"),
        summary=(
            "Help for young people aged 10 to 17 in {where} who have shown harmful sexual "
            "behaviour, and for their families, early enough that the young person grows up "
            "safely and no other child is harmed."
        ),
        body=_HSB,
    ),
    "parenting": _Kind(
        target_groups=("parents",),
        target_subgroups=("parents", "families"),
        prevention_level="primary",
        settings=("community", "family_home"),
        delivery=("face_to_face",),
        abuse_addressed="both",
        ages=(None, None),
        manual_chance=0.9,
        training_chance=0.8,
        durations=("Five weekly evening sessions of two hours", "Six sessions of 90 minutes"),
        costs=("Free of charge", "€20 per family for the workbook; free on request"),
        summary=(
            "Evening sessions in {where} that help parents and carers talk with their children "
            "about bodies, boundaries and safety, recognise warning signs, and know where to "
            "turn with a worry."
        ),
        body=_PARENTING,
        choices={
            "venue": (
                "in family centres and schools",
                "in community centres, in the evening",
                "in person or, for some groups, online",
            )
        },
    ),
    "carers": _Kind(
        target_groups=("parents",),
        target_subgroups=("foster_kinship_carers",),
        prevention_level="secondary",
        settings=("family_home", "community"),
        delivery=("blended",),
        abuse_addressed="both",
        ages=(None, None),
        manual_chance=0.8,
        training_chance=0.6,
        durations=(
            "Three training days, then monthly peer groups",
            "Eight online modules and four group meetings",
        ),
        costs=("Free for registered foster and kinship carers",),
        summary=(
            "Training and peer support in {where} for foster and kinship carers of children who "
            "may have experienced sexual abuse, to keep the children safe and meet their needs."
        ),
        body=_CARERS,
    ),
    "parents_online": _Kind(
        target_groups=("parents", "children"),
        target_subgroups=("parents", "age_6_11", "age_12_17"),
        prevention_level="primary",
        settings=("online", "family_home"),
        delivery=("online", "self_help"),
        abuse_addressed="online",
        ages=(8, 16),
        manual_chance=0.5,
        training_chance=0.1,
        durations=("About two hours, plus family activities", "Four short video modules"),
        costs=("Free of charge",),
        summary=(
            "An online course in {where} for parents and their children aged 8 to 16 about "
            "staying safe online: grooming, sharing images, sextortion, and how to talk about "
            "it at home."
        ),
        body=_PARENTS_ONLINE,
    ),
    "early_years": _Kind(
        target_groups=("parents", "children"),
        target_subgroups=("parents", "families", "age_0_5"),
        prevention_level="primary",
        settings=("family_home", "health_care"),
        delivery=("face_to_face",),
        abuse_addressed="contact",
        ages=(0, 5),
        manual_chance=0.7,
        training_chance=0.9,
        durations=("Three home visits and four group meetings over two years",),
        costs=("Free of charge (part of child health services)",),
        summary=(
            "Home visits and group meetings in {where} for parents of children aged 0 to 5 on "
            "healthy development, respect for the child's body and safe care."
        ),
        body=_EARLY_YEARS,
    ),
    "body_safety": _Kind(
        target_groups=("schools", "children"),
        target_subgroups=("teachers", "whole_school", "age_6_11"),
        prevention_level="primary",
        settings=("school",),
        delivery=("face_to_face",),
        abuse_addressed="contact",
        ages=(4, 11),
        manual_chance=1.0,
        training_chance=0.9,
        durations=("Six lessons of 45 minutes per school year",),
        costs=("Free for schools", "Free; schools pay €150 for the teacher training day"),
        summary=(
            "A body-safety curriculum for primary schools in {where}: children aged 4 to 11 "
            "learn the names of their body parts, the difference between safe and unsafe "
            "touch and secrets, and whom to tell."
        ),
        body=_BODY_SAFETY,
    ),
    "consent": _Kind(
        target_groups=("schools", "children"),
        target_subgroups=("teachers", "whole_school", "age_12_17"),
        prevention_level="primary",
        settings=("school",),
        delivery=("face_to_face", "blended"),
        abuse_addressed="both",
        ages=(12, 17),
        manual_chance=1.0,
        training_chance=0.8,
        durations=("Five units of two lessons each", "Ten lessons over one school year"),
        costs=("Free for schools",),
        summary=(
            "A relationships and consent curriculum for secondary schools in {where}: "
            "students aged 12 to 17 discuss respect, consent, pressure and image sharing, and "
            "learn where to get help."
        ),
        body=_CONSENT,
    ),
    "bystander": _Kind(
        target_groups=("schools",),
        target_subgroups=("school_staff", "teachers", "child_professionals"),
        prevention_level="primary",
        settings=("school", "workplace"),
        delivery=("blended",),
        abuse_addressed="both",
        ages=(None, None),
        manual_chance=0.8,
        training_chance=0.5,
        durations=("Half a day, then a yearly online refresher of 45 minutes",),
        costs=("€300 per school", "Free for public schools"),
        summary=(
            "Training for school staff and other professionals in {where} to notice warning "
            "signs of abuse, respond to worrying behaviour by adults, and speak up through the "
            "right channels."
        ),
        body=_BYSTANDER,
    ),
    "online_edu": _Kind(
        target_groups=("children", "schools"),
        target_subgroups=("age_12_17", "age_6_11", "teachers"),
        prevention_level="primary",
        settings=("school", "online"),
        delivery=("blended", "online"),
        abuse_addressed="online",
        ages=(10, 16),
        manual_chance=0.9,
        training_chance=0.6,
        durations=("Four lessons of 45 minutes", "Four lessons and a parents' session"),
        costs=("Free for schools",),
        summary=(
            "Online safety lessons for students aged 10 to 16 in {where} about grooming, "
            "sextortion and sharing images, with materials for teachers and a short session "
            "for parents."
        ),
        body=_ONLINE_EDU,
    ),
    "sport": _Kind(
        target_groups=("schools", "children"),
        target_subgroups=("child_professionals", "age_6_11", "age_12_17"),
        prevention_level="primary",
        settings=("sport_leisure",),
        delivery=("blended", "face_to_face"),
        abuse_addressed="contact",
        ages=(6, 17),
        manual_chance=0.8,
        training_chance=0.9,
        durations=("One-day course for coaches; standards reviewed every two years",),
        costs=("Free for member clubs", "€40 per coach"),
        summary=(
            "Safeguarding standards and a coaches' course for sports clubs in {where}: safe "
            "recruitment, a code of conduct, a welfare officer in every club and a clear way "
            "for children to raise concerns."
        ),
        body=_SPORT,
        choices={
            "course": (
                "one-day course",
                "three-hour online course followed by a practical evening",
            )
        },
    ),
    "faith": _Kind(
        target_groups=("schools", "parents"),
        target_subgroups=("child_professionals", "families"),
        prevention_level="primary",
        settings=("faith", "community"),
        delivery=("face_to_face",),
        abuse_addressed="contact",
        ages=(None, None),
        manual_chance=0.7,
        training_chance=0.8,
        durations=("A training day, then yearly reviews of each community's policy",),
        costs=("Free for member communities",),
        summary=(
            "Safeguarding training and policies for faith communities in {where}: leaders, "
            "volunteers and families learn to make activities for children safe and to "
            "respond well to concerns."
        ),
        body=_FAITH,
    ),
    "campaign": _Kind(
        target_groups=("parents", "children"),
        target_subgroups=("parents", "age_12_17"),
        prevention_level="primary",
        settings=("community", "online"),
        delivery=("campaign",),
        abuse_addressed="both",
        ages=(None, None),
        manual_chance=0.2,
        training_chance=0.1,
        durations=("A campaign week every spring", "Three months each year"),
        costs=("Free of charge",),
        summary=(
            "A public awareness campaign in {where} that tells parents, young people and "
            "everyone around children how abuse happens, what the signs are and where to get "
            "help."
        ),
        body=_CAMPAIGN,
    ),
    "youth_peer": _Kind(
        target_groups=("children",),
        target_subgroups=("age_18_25", "age_12_17"),
        prevention_level="primary",
        settings=("online", "community"),
        delivery=("face_to_face", "online"),
        abuse_addressed="online",
        ages=(15, 25),
        manual_chance=0.6,
        training_chance=0.7,
        durations=("Workshops of two hours; the online service runs all year",),
        costs=("Free of charge",),
        summary=(
            "Peer education in {where}: trained young adults talk with teenagers and students "
            "about consent, online pressure and sextortion, and about how to help a friend."
        ),
        body=_YOUTH_PEER,
    ),
}

_EVALUATIONS = (
    "## Monitoring\n\nThe team records reach and participants' feedback with a university "
    "partner; about {people} people took part in the last year.",
    "## Monitoring\n\nThe team shares its anonymous monitoring data with researchers of the "
    "network and welcomes partners for further evaluation.",
    "## Feedback\n\nParticipants and staff value the clear structure and the respectful tone; "
    "some asked for more follow-up after the end.",
    "## Monitoring\n\nMonitoring since {start_year} shows steady demand. An external process "
    "review recommended more outreach to rural areas, which the team has started.",
)

_ADAPTATION = (
    "## Adapted from {original}\n\n{title} is an adaptation of {original} ({original_where}). "
    "The core model stayed the same; the team translated the materials, checked them against "
    "national law and child protection procedures, and tested them with a small group before "
    "the launch in {start_year}."
)

NOTE_EN = "_This programme is fictional: it is part of the portal's demo data._"

# --- programmes written in other languages ------------------------------------------------

_PL_SUMMARY = (
    "Bezpłatny i anonimowy telefon zaufania dla dorosłych, których niepokoją ich myśli lub "
    "uczucia seksualne wobec dzieci. Konsultanci pomagają zatrzymać się, zanim ktokolwiek "
    "zostanie skrzywdzony, i kierują do specjalistycznej terapii."
)
_PL_DESCRIPTION = """## Dlaczego powstał ten telefon

Wiele osób odczuwających pociąg seksualny do dzieci nigdy nie krzywdzi dziecka i chce, aby tak
pozostało. Linia Latarnia powstała w 2016 roku jako polska adaptacja holenderskiego modelu
Lantern Line, aby takie osoby mogły porozmawiać z kimś bez obawy przed oceną.

## Co oferujemy

- anonimowe rozmowy telefoniczne i czat, od poniedziałku do piątku wieczorem,
- wstępną ocenę potrzeb i ryzyka,
- skierowanie do terapeutów współpracujących z programem,
- wsparcie dla bliskich, którzy martwią się o kogoś z rodziny.

## Co zmieniliśmy w stosunku do oryginału

- materiały i scenariusze rozmów przetłumaczono i dostosowano do polskiego prawa,
- konsultanci przechodzą 40-godzinne szkolenie i comiesięczną superwizję,
- dodano dyżur czatu w weekendy, bo tego potrzebowali młodsi dorośli.

## Poufność

Na początku rozmowy konsultant wyjaśnia, co pozostaje poufne i w jakich sytuacjach musi
zadziałać, aby chronić dziecko. Nie nagrywamy rozmów.

_Ten program jest fikcyjny: należy do danych demonstracyjnych portalu._"""

_ES_SUMMARY = (
    "Un programa escolar de seguridad corporal para niñas y niños de 4 a 11 años: aprenden los "
    "nombres de las partes del cuerpo, la diferencia entre secretos buenos y malos y a quién "
    "pedir ayuda."
)
_ES_DESCRIPTION = """## Objetivos

Límites Claros adapta el currículo irlandés Bright Boundaries a las escuelas de la Comunidad
Valenciana. Quiere que cada niña y cada niño sepa que su cuerpo le pertenece, que puede decir
«no» y que siempre puede contárselo a una persona adulta de confianza.

## Cómo funciona

- seis sesiones de 45 minutos por curso, impartidas por el profesorado de la clase,
- cuentos, canciones y juegos de rol adaptados a cada edad,
- una reunión informativa para las familias antes de empezar,
- un protocolo claro para el profesorado si una niña o un niño revela un abuso.

## Formación del profesorado

Antes de impartir el programa, el profesorado participa en una jornada de formación sobre el
desarrollo sexual infantil, las señales de alarma y cómo responder con calma a una revelación.

## Adaptaciones

Los materiales se tradujeron al español y se revisaron con familias de distintos orígenes
culturales.

_Este programa es ficticio: forma parte de los datos de demostración del portal._"""

_PT_SUMMARY = (
    "Programa escolar de segurança corporal para crianças dos 4 aos 11 anos, adaptado da versão "
    "espanhola: as crianças aprendem a nomear o corpo, a distinguir segredos bons de segredos "
    "maus e a pedir ajuda a um adulto de confiança."
)
_PT_DESCRIPTION = """## Porquê este programa

Em 2020, um grupo de escolas do Porto procurava uma forma simples e respeitosa de falar de
segurança corporal com crianças pequenas. Escolheram adaptar o programa espanhol Límites
Claros, ele próprio uma adaptação do currículo irlandês Bright Boundaries.

## Como funciona

- seis sessões de 45 minutos por ano letivo, dadas pelos professores titulares,
- histórias, canções e jogos de papéis adequados a cada idade,
- uma sessão de apresentação para as famílias,
- um guia para os professores sobre como reagir a uma revelação.

## O que adaptámos

- os materiais foram traduzidos e revistos por professores e famílias portuguesas,
- acrescentámos uma sessão sobre segurança online para o 4.º ano,
- a formação dos professores passou a ser feita em dois momentos (início e meio do ano).

## Avaliação

Um estudo pré/pós com 14 turmas está em curso em parceria com uma universidade.

_Este programa é fictício: faz parte dos dados de demonstração do portal._"""

_FR_SUMMARY = (
    "Des ateliers pour parents et familles qui aident à parler avec les enfants de leur corps, "
    "de l'intimité et de la sécurité, dès le plus jeune âge et sans leur faire peur."
)
_FR_DESCRIPTION = """## Pourquoi ces ateliers

Beaucoup de parents veulent protéger leurs enfants des violences sexuelles mais ne savent pas
comment en parler. Parler pour protéger leur donne des mots simples, adaptés à l'âge de
l'enfant.

## Déroulement

- cinq ateliers de deux heures en petits groupes de 8 à 12 parents,
- des mises en situation et des échanges entre parents,
- un livret à emporter avec des idées de conversations à la maison,
- une séance optionnelle sur les écrans et la sécurité en ligne.

## Qui anime

Les ateliers sont animés par deux professionnels formés (travailleurs sociaux, psychologues
ou puéricultrices) de la Demo Family Support Association et de ses partenaires.

## Ce que disent les parents

Les parents disent se sentir plus à l'aise pour répondre aux questions de leurs enfants et
savoir vers qui se tourner en cas d'inquiétude.

_Ce programme est fictif : il fait partie des données de démonstration du portail._"""

_DE_SUMMARY = (
    "Vertrauliche ambulante Therapie für Erwachsene, die sich sexuell zu Kindern hingezogen "
    "fühlen und Hilfe suchen, damit es nie zu einem Übergriff kommt. Die Behandlung ist "
    "kostenlos und unterliegt der Schweigepflicht."
)
_DE_DESCRIPTION = """## Worum es geht

Die Weitblick-Sprechstunde richtet sich an Menschen, die bei sich sexuelle Gedanken oder
Fantasien in Bezug auf Kinder bemerken und keinen Übergriff begehen wollen, weder direkt noch
durch die Nutzung von Missbrauchsdarstellungen im Internet.

## Ablauf

1. Ein erstes Gespräch, telefonisch oder vor Ort, auf Wunsch ohne Namen
2. Eine ausführliche Diagnostik über zwei bis drei Termine
3. Einzel- und Gruppentherapie über etwa ein Jahr, mit verhaltenstherapeutischen Methoden
4. Nachsorgetermine nach Abschluss der Behandlung

## Inhalte der Therapie

- Umgang mit sexuellen Impulsen und riskanten Situationen
- Emotionsregulation, Einsamkeit und Selbstwert
- Beziehungen zu Erwachsenen und eine Sexualität, die niemandem schadet
- ein persönlicher Plan, um dauerhaft ohne Übergriffe zu leben

## Schweigepflicht

Was in der Therapie besprochen wird, unterliegt im Rahmen der gesetzlichen Bestimmungen der
Schweigepflicht.

_Dieses Programm ist fiktiv: Es gehört zu den Demodaten des Portals._"""

_IT_SUMMARY = (
    "Incontri per genitori ed educatori dei servizi per l'infanzia su come accompagnare i "
    "bambini da 0 a 5 anni nella conoscenza del corpo, del rispetto e della fiducia."
)
_IT_DESCRIPTION = """## Obiettivi

Piccoli Passi Sicuri aiuta le famiglie e il personale dei nidi e delle scuole dell'infanzia a
creare un ambiente in cui i bambini imparano, fin da piccoli, che il loro corpo va rispettato e
che possono sempre chiedere aiuto.

## Come funziona

- quattro incontri serali per i genitori, condotti da una psicologa e da un'educatrice,
- una formazione di un giorno per il personale educativo,
- schede illustrate da usare a casa e al nido,
- un colloquio individuale su richiesta per le famiglie preoccupate.

## Temi trattati

- nominare le parti del corpo con parole corrette
- privacy e cura del corpo (cambio, bagno, visite mediche)
- riconoscere e rispettare il «no» del bambino
- a chi rivolgersi in caso di dubbi

_Questo programma è fittizio: fa parte dei dati dimostrativi del portale._"""


# --- the programmes -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Edit:
    """A change a maintainer makes: fields set, codes added, a section appended."""

    note: str = ""
    set: dict[str, Any] = field(default_factory=dict)
    add: dict[str, tuple[str, ...]] = field(default_factory=dict)
    append: str = ""


@dataclass(frozen=True)
class _Spec:
    title: str
    kind: str
    countries: tuple[str, ...]
    languages: tuple[str, ...]
    start_year: int
    # Index into the demo organisations, or the name of a provider outside the directory.
    provider: int | str
    running: bool = True
    members_only: bool = False
    # published, draft, submitted, changes_requested, edit_submitted or archived.
    lifecycle: str = "published"
    adapted_from: str | None = None
    content_language: str = "en"
    summary: str | None = None
    description: str | None = None
    translations: tuple[tuple[str, str, str], ...] = ()
    overrides: dict[str, Any] = field(default_factory=dict)
    # Approved edits after the first publication (each a new published version).
    edits: tuple[_Edit, ...] = ()
    # The edit submitted but not yet reviewed (lifecycle edit_submitted).
    pending: _Edit | None = None
    # A coordinator's request before the first approval, and the fix that answered it.
    changes_first: tuple[str, _Edit] | None = None
    # The coordinator's message for lifecycle changes_requested, and archive reasons.
    review_note: str = ""
    submit_note: str = ""
    archive_reason: str = ""


SPECS: tuple[_Spec, ...] = (
    # A helpline model and its adaptations (two of them adapted again).
    _Spec(
        "Lantern Line",
        "helpline",
        ("NL",),
        ("nl", "en"),
        2008,
        1,
        edits=(
            _Edit(
                note="Added the chat service.",
                add={"delivery": ("online",)},
                append="## Chat service\n\nSince 2015 the service also offers an anonymous "
                "chat, which younger help-seekers use more than the telephone. Chat counsellors "
                "follow the same protocol as telephone counsellors.",
            ),
            _Edit(
                note="Counselling is now also offered in Arabic and Turkish.",
                add={"languages": ("ar", "tr")},
                set={"duration": "Ongoing; most callers have one to five conversations"},
            ),
        ),
        translations=(
            (
                "nl",
                "Lantern Line",
                "Een vertrouwelijke hulplijn voor volwassenen die zich zorgen maken over hun "
                "seksuele gedachten of gevoelens voor kinderen. Bellers kunnen anoniem blijven "
                "en krijgen hulp voordat er iemand schade lijdt.",
            ),
            (
                "de",
                "Lantern Line",
                "Ein vertrauliches Hilfetelefon für Erwachsene, die sich wegen ihrer sexuellen "
                "Gedanken oder Gefühle gegenüber Kindern sorgen. Anrufende können anonym bleiben "
                "und erhalten Hilfe, bevor jemand zu Schaden kommt.",
            ),
            (
                "fr",
                "Lantern Line",
                "Une ligne d'écoute confidentielle pour les adultes inquiets de leurs pensées ou "
                "sentiments sexuels envers des enfants. Les appelants peuvent rester anonymes et "
                "sont aidés avant que quiconque ne soit blessé.",
            ),
        ),
    ),
    _Spec(
        "Lantern Line Flanders",
        "helpline",
        ("BE",),
        ("nl", "fr"),
        2013,
        "Demo Flemish Prevention Service",
        adapted_from="Lantern Line",
        translations=(
            (
                "nl",
                "Lantern Line Vlaanderen",
                "Een anonieme hulplijn in Vlaanderen en Brussel voor volwassenen die zich zorgen "
                "maken over hun seksuele gevoelens voor kinderen, naar het Nederlandse model.",
            ),
            (
                "fr",
                "Lantern Line Flandre",
                "Une ligne d'écoute anonyme en Flandre et à Bruxelles pour les adultes inquiets "
                "de leurs sentiments sexuels envers des enfants, adaptée du modèle néerlandais.",
            ),
        ),
    ),
    _Spec(
        "Linia Latarnia",
        "helpline",
        ("PL",),
        ("pl",),
        2016,
        "Demo Foundation for Safe Childhood",
        adapted_from="Lantern Line",
        content_language="pl",
        summary=_PL_SUMMARY,
        description=_PL_DESCRIPTION,
        translations=(
            (
                "en",
                "Lantern Line Poland",
                "A free, anonymous helpline for adults who are worried about their sexual "
                "thoughts or feelings towards children. Counsellors help callers stop before "
                "anyone is harmed and refer them to specialised therapy.",
            ),
        ),
    ),
    _Spec(
        "Lucerna Line",
        "helpline",
        ("CZ", "SK"),
        ("cs", "sk"),
        2019,
        "Demo Prague Prevention Centre",
        adapted_from="Linia Latarnia",
        translations=(
            (
                "cs",
                "Linka Lucerna",
                "Anonymní linka pomoci pro dospělé, kteří se obávají svých sexuálních myšlenek "
                "nebo pocitů vůči dětem. Poradci pomáhají dřív, než někomu ublíží, a doporučí "
                "odbornou terapii.",
            ),
        ),
    ),
    _Spec(
        "Stillwater Chat",
        "helpline",
        ("SE",),
        ("sv", "en"),
        2019,
        3,
        overrides={"delivery": ["helpline", "online"], "settings": ["online"]},
        translations=(
            (
                "sv",
                "Stillwater Chat",
                "En anonym chatt för vuxna som oroar sig för sina sexuella tankar eller känslor "
                "kring barn. Samtalsstödjare hjälper dem att söka behandling innan någon skadas.",
            ),
        ),
    ),
    _Spec(
        "Quiet Hours Chat",
        "helpline",
        ("LU",),
        ("lb", "fr", "de"),
        2024,
        "Demo Luxembourg Family Service",
        lifecycle="submitted",
        overrides={"delivery": ["helpline", "online"]},
    ),
    # Help for people worried about their sexual interest in children.
    _Spec(
        "Clear Path Online",
        "self_help",
        ("DE", "AT", "CH"),
        ("de", "en"),
        2017,
        0,
        translations=(
            (
                "de",
                "Klarer Weg Online",
                "Ein anonymes Online-Selbsthilfeprogramm für Menschen, die sich Sorgen machen, "
                "weil sie sexuelle Darstellungen von Kindern ansehen. Kurze Module helfen, das "
                "eigene Verhalten zu verstehen und damit aufzuhören.",
            ),
        ),
    ),
    _Spec(
        "Northstar Self-Help",
        "self_help",
        ("FI",),
        ("fi", "sv"),
        2020,
        "Demo Helsinki Prevention Clinic",
    ),
    _Spec(
        "Reach Out Before",
        "help_campaign",
        ("UA",),
        ("uk", "ru"),
        2023,
        "Demo Kyiv Prevention Initiative",
    ),
    _Spec(
        "Weitblick-Sprechstunde",
        "outpatient",
        ("DE",),
        ("de",),
        2005,
        0,
        content_language="de",
        summary=_DE_SUMMARY,
        description=_DE_DESCRIPTION,
        translations=(
            (
                "en",
                "Weitblick Clinic",
                "Confidential outpatient therapy for adults who are sexually attracted to "
                "children and seek help so that abuse never happens. Treatment is free of "
                "charge and confidential.",
            ),
        ),
        edits=(
            _Edit(
                note="Videosprechstunde ergänzt.",
                add={"delivery": ("online",)},
                append="## Videosprechstunde\n\nSeit 2021 sind Erstgespräche und einzelne "
                "Therapiesitzungen auch per Video möglich. Das erleichtert Menschen in "
                "ländlichen Regionen den Zugang.",
            ),
        ),
    ),
    _Spec(
        "Riverside Outpatient Programme",
        "outpatient",
        ("AT",),
        ("de",),
        2012,
        5,
        members_only=True,
    ),
    _Spec(
        "Calm Waters Online Counselling",
        "outpatient",
        ("SI",),
        ("sl",),
        2025,
        "Demo Ljubljana Counselling Centre",
        lifecycle="draft",
        overrides={"delivery": ["online"], "settings": ["online", "health_care"]},
    ),
    # People in criminal proceedings, in custody or after release.
    _Spec(
        "Steady Ground Probation Groups",
        "probation",
        ("PT",),
        ("pt",),
        2009,
        2,
        members_only=True,
        edits=(
            _Edit(
                note="Added the follow-up groups after release.",
                set={
                    "duration": "About 30 group sessions over nine months, then monthly "
                    "follow-up groups"
                },
                append="## Follow-up groups\n\nSince 2018, participants who finish the "
                "programme can join monthly follow-up groups for up to a year after release.",
            ),
        ),
    ),
    _Spec(
        "Keystone Treatment Programme",
        "probation",
        ("EE",),
        ("et", "ru"),
        2014,
        6,
        members_only=True,
    ),
    _Spec(
        "Compass Custody Programme",
        "probation",
        ("RO",),
        ("ro",),
        2016,
        "Demo National Probation Directorate",
        members_only=True,
    ),
    _Spec(
        "Oakwood Probation Pathway",
        "probation",
        ("HR",),
        ("hr",),
        2015,
        "Demo Zagreb Prison and Probation Service",
        running=False,
        members_only=True,
        lifecycle="archived",
        archive_reason="The prison and probation service replaced this pilot with a national "
        "treatment programme in 2021. The record stays for reference.",
    ),
    _Spec("Harbour Circles", "circles", ("GB",), ("en",), 2002, "Demo Harbour Trust"),
    _Spec(
        "Harbour Circles Ireland",
        "circles",
        ("IE",),
        ("en", "ga"),
        2011,
        "Demo Reintegration Circle Ireland",
        adapted_from="Harbour Circles",
        members_only=True,
    ),
    _Spec(
        "Havenkringen",
        "circles",
        ("NL",),
        ("nl",),
        2015,
        "Demo Utrecht Circles Foundation",
        adapted_from="Harbour Circles",
        members_only=True,
        translations=(
            (
                "nl",
                "Havenkringen",
                "Kringen van getrainde vrijwilligers die mensen na hun vrijlating na een "
                "zedendelict steunen en aanspreken, zodat er geen nieuwe slachtoffers vallen.",
            ),
        ),
    ),
    _Spec(
        "Bridgehouse Reintegration Circles",
        "circles",
        ("DK",),
        ("da",),
        2013,
        "Demo Copenhagen Reintegration Network",
        adapted_from="Harbour Circles Ireland",
        members_only=True,
    ),
    # Young people with harmful sexual behaviour.
    _Spec(
        "New Leaf Youth Service",
        "hsb",
        ("GB",),
        ("en",),
        2006,
        "Demo Northbridge Youth Trust",
        changes_first=(
            "Thank you. Please say who can refer a young person and how quickly the first "
            "meeting happens: parents will read this page too.",
            _Edit(
                note="Added referrals and waiting times.",
                append="## Referrals\n\nSchools, social workers, youth justice teams, doctors "
                "and parents themselves can refer a young person. A first meeting takes place "
                "within three weeks.",
            ),
        ),
    ),
    _Spec("Turning Point Teens", "hsb", ("SE",), ("sv",), 2011, 3),
    _Spec(
        "Families Together Programme",
        "hsb",
        ("NL", "BE"),
        ("nl",),
        2016,
        1,
        members_only=True,
    ),
    _Spec(
        "Young Futures Clinic",
        "hsb",
        ("HU",),
        ("hu",),
        2019,
        "Demo Budapest Adolescent Clinic",
        members_only=True,
    ),
    _Spec(
        "Sunrise Family Clinic",
        "hsb",
        ("CH",),
        ("de", "fr"),
        2023,
        "Demo Basel Youth Clinic",
        lifecycle="changes_requested",
        overrides={"age_min": None, "age_max": None},
        review_note="Thank you for the submission. Please add the age range of the young "
        "people, say who delivers the sessions, and explain how families take part.",
    ),
    # Parents and carers.
    _Spec(
        "Parler pour protéger",
        "parenting",
        ("FR",),
        ("fr",),
        2010,
        7,
        content_language="fr",
        summary=_FR_SUMMARY,
        description=_FR_DESCRIPTION,
        translations=(
            (
                "en",
                "Talking to Protect",
                "Workshops for parents and families that help them talk with their children "
                "about their bodies, privacy and safety from an early age, without frightening "
                "them.",
            ),
        ),
    ),
    _Spec(
        "Talking to Protect Luxembourg",
        "parenting",
        ("LU",),
        ("fr", "lb", "de"),
        2018,
        "Demo Luxembourg Family Service",
        adapted_from="Parler pour protéger",
        translations=(
            (
                "fr",
                "Parler pour protéger Luxembourg",
                "Des ateliers pour parents au Luxembourg, en français, en luxembourgeois et en "
                "allemand, pour parler avec les enfants de leur corps, de l'intimité et de la "
                "sécurité.",
            ),
            (
                "de",
                "Reden, um zu schützen Luxemburg",
                "Workshops für Eltern in Luxemburg auf Französisch, Luxemburgisch und Deutsch, "
                "um mit Kindern über ihren Körper, Privatsphäre und Sicherheit zu sprechen.",
            ),
        ),
    ),
    _Spec(
        "Talking to Protect, French-speaking Switzerland",
        "parenting",
        ("CH",),
        ("fr",),
        2021,
        "Demo Geneva Parent Network",
        adapted_from="Parler pour protéger",
        translations=(
            (
                "fr",
                "Parler pour protéger, Suisse romande",
                "Des ateliers pour parents en Suisse romande, adaptés du programme français, "
                "pour parler de prévention avec les enfants dès le plus jeune âge.",
            ),
        ),
    ),
    _Spec(
        "Safe at Home Parent Course",
        "parenting",
        ("DE",),
        ("de", "tr", "ar"),
        2014,
        0,
        overrides={"delivery": ["face_to_face", "blended"]},
        translations=(
            (
                "de",
                "Sicher zu Hause: Elternkurs",
                "Abendkurse für Eltern, auch auf Türkisch und Arabisch, die helfen, mit Kindern "
                "über Körper, Grenzen und Sicherheit zu sprechen und Warnsignale zu erkennen.",
            ),
            (
                "tr",
                "Evde Güvende: Ebeveyn Kursu",
                "Ebeveynlerin çocuklarıyla beden, sınırlar ve güvenlik hakkında konuşmalarına ve "  # noqa: RUF001 - Turkish dotless i
                "uyarı işaretlerini tanımalarına yardımcı olan akşam kursları.",  # noqa: RUF001 - Turkish dotless i
            ),
        ),
        edits=(
            _Edit(
                note="Added groups in Ukrainian.",
                add={"languages": ("uk",)},
                append="## Groups in Ukrainian\n\nSince 2022 the course also runs in Ukrainian, "
                "led by facilitators who came to Germany themselves.",
            ),
        ),
    ),
    _Spec(
        "Parents as Protectors",
        "parenting",
        ("GR", "CY"),
        ("el",),
        2018,
        "Demo Athens Family Centre",
    ),
    _Spec(
        "Growing Safe Together",
        "parenting",
        ("RS", "BA", "ME"),
        ("sr", "bs"),
        2020,
        "Demo Balkan Parenting Network",
    ),
    _Spec(
        "Harbourside Parents' Evenings",
        "parenting",
        ("MT",),
        ("mt", "en"),
        2025,
        "Demo Valletta Family Centre",
        lifecycle="draft",
    ),
    _Spec("Open Doors Foster Carer Training", "carers", ("IE",), ("en", "ga"), 2012, 4),
    _Spec(
        "Kin and Care",
        "carers",
        ("RO", "MD"),
        ("ro", "ru"),
        2017,
        "Demo Kinship Care Alliance",
        running=False,
    ),
    _Spec(
        "Piccoli Passi Sicuri",
        "early_years",
        ("IT",),
        ("it",),
        2015,
        8,
        content_language="it",
        summary=_IT_SUMMARY,
        description=_IT_DESCRIPTION,
        translations=(
            (
                "en",
                "Small Safe Steps",
                "Meetings for parents and early-years educators on helping children aged 0 to 5 "
                "learn about their bodies, respect and trust.",
            ),
        ),
    ),
    _Spec(
        "Early Bonds Home Visits",
        "early_years",
        ("LV",),
        ("lv", "ru"),
        2016,
        "Demo Riga Family Health Service",
    ),
    _Spec(
        "Screen Smart Parents",
        "parents_online",
        ("BE",),
        ("nl", "fr"),
        2015,
        9,
        lifecycle="edit_submitted",
        pending=_Edit(
            note="Please review the new German edition.",
            add={"languages": ("de",)},
            append="## German edition\n\nA German edition for the German-speaking Community "
            "of Belgium is being prepared with local schools.",
        ),
        translations=(
            (
                "nl",
                "Schermslimme ouders",
                "Een online cursus voor ouders en kinderen van 8 tot 16 jaar over veilig online "
                "zijn: grooming, het delen van beelden, sextortion en hoe je erover praat.",
            ),
            (
                "fr",
                "Parents malins face aux écrans",
                "Un cours en ligne pour les parents et les enfants de 8 à 16 ans sur la sécurité "
                "en ligne : pédopiégeage, partage d'images, sextorsion et comment en parler.",
            ),
        ),
    ),
    _Spec(
        "Digital Home Base",
        "parents_online",
        ("FI",),
        ("fi", "sv"),
        2021,
        "Demo Helsinki Prevention Clinic",
    ),
    _Spec(
        "Family Online Compass",
        "parents_online",
        ("SI", "HR"),
        ("sl", "hr"),
        2019,
        "Demo Ljubljana Digital Family Project",
    ),
    # Schools: body safety for younger children, with a chain of adaptations.
    _Spec(
        "Bright Boundaries",
        "body_safety",
        ("IE",),
        ("en", "ga"),
        2004,
        4,
        overrides={"target_subgroups": ["teachers", "whole_school", "age_0_5", "age_6_11"]},
        translations=(
            (
                "pt",
                "Limites Luminosos",
                "Um currículo escolar de segurança corporal para crianças dos 4 aos 11 anos: "
                "aprendem os nomes das partes do corpo, a diferença entre toques e segredos "
                "seguros e inseguros, e a quem contar.",
            ),
            (
                "es",
                "Límites Luminosos",
                "Un currículo escolar de seguridad corporal para niñas y niños de 4 a 11 años: "
                "aprenden los nombres de las partes del cuerpo, la diferencia entre contactos y "
                "secretos seguros e inseguros, y a quién contárselo.",
            ),
        ),
        edits=(
            _Edit(
                note="Added the online safety unit for older pupils.",
                set={"duration": "Seven lessons of 45 minutes per school year"},
                append="## Online safety unit\n\nA new unit for the last year of primary school "
                "covers online contacts, sharing images and asking for help.",
            ),
        ),
    ),
    _Spec(
        "Bright Boundaries Malta",
        "body_safety",
        ("MT",),
        ("mt", "en"),
        2014,
        "Demo Malta Child Safety Council",
        adapted_from="Bright Boundaries",
    ),
    _Spec(
        "Límites Claros",
        "body_safety",
        ("ES",),
        ("es",),
        2017,
        "Demo Association for Protected Childhood",
        adapted_from="Bright Boundaries",
        content_language="es",
        summary=_ES_SUMMARY,
        description=_ES_DESCRIPTION,
        translations=(
            (
                "en",
                "Clear Limits",
                "A school body-safety programme for children aged 4 to 11: they learn the names "
                "of their body parts, the difference between good and bad secrets, and whom to "
                "ask for help.",
            ),
        ),
    ),
    _Spec(
        "Limites Claros (Portugal)",
        "body_safety",
        ("PT",),
        ("pt",),
        2020,
        "Demo Association Growing Up Safe",
        adapted_from="Límites Claros",
        content_language="pt",
        summary=_PT_SUMMARY,
        description=_PT_DESCRIPTION,
        translations=(
            (
                "en",
                "Clear Limits (Portugal)",
                "A school body-safety programme for children aged 4 to 11, adapted from the "
                "Spanish version: children learn to name their body, to tell good secrets from "
                "bad ones and to ask a trusted adult for help.",
            ),
        ),
    ),
    _Spec("Sunflower Lessons", "body_safety", ("AT",), ("de",), 2010, 5),
    _Spec(
        "Trust Tree Curriculum",
        "body_safety",
        ("PL",),
        ("pl",),
        2013,
        "Demo Foundation for Safe Childhood",
        running=False,
    ),
    _Spec(
        "Safe Hands Lessons",
        "body_safety",
        ("CY", "GR"),
        ("el", "tr"),
        2018,
        "Demo Cyprus Schools Partnership",
    ),
    _Spec(
        "Kite Club Lessons",
        "body_safety",
        ("LV",),
        ("lv", "ru"),
        2025,
        "Demo Riga Schools Network",
        lifecycle="draft",
    ),
    # Schools: consent, staff, online safety.
    _Spec(
        "Respect Matters Curriculum",
        "consent",
        ("SE",),
        ("sv",),
        2012,
        3,
        overrides={"age_min": None, "age_max": None, "training_required": False},
        changes_first=(
            "Please add the age range of the students and say whether teachers need training "
            "before they use the curriculum.",
            _Edit(
                note="Added the age range and the teacher training.",
                set={"age_min": 12, "age_max": 17, "training_required": True},
            ),
        ),
        translations=(
            (
                "sv",
                "Respekt spelar roll",
                "En läroplan om relationer och samtycke för skolan: elever i åldern 12 till 17 "
                "diskuterar respekt, samtycke, press och bilddelning, och lär sig var de kan få "
                "hjälp.",
            ),
        ),
    ),
    _Spec(
        "Clear Consent Workshops",
        "consent",
        ("NO",),
        ("no",),
        2016,
        "Demo Bergen Youth Health Service",
    ),
    _Spec(
        "Heartwise Curriculum",
        "consent",
        ("LT",),
        ("lt",),
        2017,
        "Demo Vilnius Youth Education Centre",
    ),
    _Spec(
        "Respectful Relationships Lab",
        "consent",
        ("IS",),
        ("is", "en"),
        2020,
        "Demo Reykjavik School Health Service",
        running=False,
    ),
    _Spec("Speak-Up Staff Training", "bystander", ("DE", "AT"), ("de",), 2018, 0),
    _Spec(
        "Eyes Open Training for School Staff",
        "bystander",
        ("CZ",),
        ("cs",),
        2016,
        "Demo Prague Teachers' Institute",
    ),
    _Spec(
        "Safe Spaces Staff Course",
        "bystander",
        ("BG",),
        ("bg",),
        2019,
        "Demo Sofia Child Safety Centre",
        members_only=True,
    ),
    _Spec(
        "Net Navigators",
        "online_edu",
        ("EE",),
        ("et", "ru"),
        2013,
        6,
        translations=(
            (
                "et",
                "Võrgunavigaatorid",
                "Veebiturvalisuse tunnid 10- kuni 16-aastastele õpilastele: ahvatlemine, "
                "väljapressimine ja piltide jagamine, koos materjalidega õpetajatele ja "
                "lapsevanematele.",
            ),
        ),
    ),
    _Spec("Cyber Compass Lessons", "online_edu", ("IT",), ("it",), 2017, 8),
    _Spec(
        "Pixel Guard",
        "online_edu",
        ("SK",),
        ("sk",),
        2018,
        "Demo Bratislava Digital Schools Project",
        running=False,
    ),
    _Spec(
        "Second Look Lessons",
        "online_edu",
        ("HU",),
        ("hu",),
        2021,
        "Demo Budapest Media Education Centre",
    ),
    # Sport and leisure, faith communities.
    _Spec(
        "Fair Play Safeguarding",
        "sport",
        ("ES",),
        ("es",),
        2014,
        "Demo Sports Federation for Safe Play",
        translations=(
            (
                "es",
                "Juego Limpio, Deporte Seguro",
                "Normas de protección y un curso para entrenadores de clubes deportivos: "
                "selección segura, código de conducta, una persona de referencia en cada club "
                "y vías claras para que niñas y niños expresen sus preocupaciones.",
            ),
        ),
    ),
    _Spec("Team Trust Coaches' Course", "sport", ("FR", "BE"), ("fr",), 2016, 7),
    _Spec(
        "Clubhouse Safe Standards",
        "sport",
        ("NO",),
        ("no",),
        2019,
        "Demo Norwegian Club Sports Association",
    ),
    _Spec(
        "Safer Summer Camps",
        "sport",
        ("HR",),
        ("hr",),
        2022,
        "Demo Zagreb Youth Camps Association",
    ),
    _Spec(
        "Trail Markers Outdoor Safeguarding",
        "sport",
        ("AT",),
        ("de",),
        2024,
        5,
        lifecycle="submitted",
        submit_note="First submission; the manual is being translated into English.",
        review_note="Thank you, I will review this next week.",
    ),
    _Spec(
        "Shelter of Trust",
        "faith",
        ("PL",),
        ("pl",),
        2015,
        "Demo Interfaith Council for Child Safety",
    ),
    _Spec(
        "Open Door Faith Communities",
        "faith",
        ("MT",),
        ("mt", "en"),
        2017,
        "Demo Malta Faith Communities Forum",
    ),
    _Spec(
        "Guardians in Faith",
        "faith",
        ("GE",),
        ("ka",),
        2021,
        "Demo Tbilisi Faith and Family Network",
    ),
    # Awareness campaigns and young people.
    _Spec("Blue Kite Campaign", "campaign", ("PT",), ("pt",), 2019, 2),
    _Spec(
        "Open Eyes Week",
        "campaign",
        ("AL", "MK"),
        ("sq", "mk"),
        2020,
        "Demo Tirana Child Rights Centre",
        running=False,
    ),
    _Spec(
        "Safer Clicks Week",
        "campaign",
        ("BE", "LU"),
        ("nl", "fr", "de"),
        2012,
        9,
        overrides={"abuse_addressed": "online", "settings": ["online", "school"]},
    ),
    _Spec(
        "Streetwise Peers",
        "youth_peer",
        ("DK",),
        ("da",),
        2020,
        "Demo Aarhus Youth Peer Network",
    ),
    _Spec("Pause and Report", "youth_peer", ("TR",), ("tr",), 2021, "Demo Istanbul Youth Network"),
    _Spec(
        "Campus Respect Circles",
        "youth_peer",
        ("MK",),
        ("mk", "sq"),
        2022,
        "Demo Skopje Youth Centre",
    ),
)


@dataclass(frozen=True)
class _ReportSpec:
    programme: str
    author: str  # e-mail address of a demo member
    country: str
    setting: str
    start_year: int
    end_year: int | None
    people_reached: int
    what_worked: str
    what_did_not_work: str
    adaptations: str
    visibility: str | None = None  # None: the programme's visibility


REPORTS: tuple[_ReportSpec, ...] = (
    _ReportSpec(
        "Lantern Line",
        "bram.visser@example.org",
        "NL",
        "online",
        2016,
        None,
        1850,
        "Evening chat hours reached younger help-seekers who had never called. A short, fixed "
        "opening script helped new counsellors through their first conversations.",
        "In the first year waiting times at peak hours were too long; some people left the chat "
        "before anyone answered.",
        "We added a callback option and a weekly team review of difficult contacts.",
    ),
    _ReportSpec(
        "Screen Smart Parents",
        "jonas.peeters@example.org",
        "BE",
        "school",
        2019,
        2023,
        2400,
        "Guided evenings at schools brought in parents who would not have opened the course on "
        "their own. The conversation cards were used at home long after the evening.",
        "Parents of teenagers came far less often than parents of younger children.",
        "We made a shorter version for secondary schools, shown at the start of parents' evenings.",
    ),
    _ReportSpec(
        "Bright Boundaries",
        "eimear.byrne@example.org",
        "IE",
        "school",
        2015,
        2019,
        3400,
        "Teachers liked having complete lesson plans; children remembered the four rules a year "
        "later.",
        "Schools without a named safeguarding lead struggled when a child disclosed.",
        "We ran an extra briefing for principals before the lessons started.",
    ),
    _ReportSpec(
        "Open Doors Foster Carer Training",
        "eimear.byrne@example.org",
        "IE",
        "family_home",
        2018,
        None,
        160,
        "The monthly peer groups kept carers coming back; many said they felt less alone.",
        "The online modules were hard to follow for carers with little computer experience.",
        "We offer the modules on paper and in a group session at the local family centre.",
    ),
    _ReportSpec(
        "Parler pour protéger",
        "helene.moreau@example.org",
        "FR",
        "community",
        2017,
        None,
        540,
        "Les jeux de rôle entre parents ont été le moment le plus apprécié. Le livret est "
        "utilisé à la maison.",
        "Les pères sont venus peu nombreux aux ateliers du soir.",
        "Nous avons ajouté des ateliers le samedi matin et un groupe réservé aux pères.",
    ),
    _ReportSpec(
        "Safe at Home Parent Course",
        "katrin.weber@example.org",
        "DE",
        "community",
        2016,
        None,
        720,
        "Groups in Turkish and Arabic, led by facilitators from the same communities, filled "
        "quickly and kept their members until the last session.",
        "Childcare during the sessions was hard to organise and cost more than planned.",
        "We moved the sessions to family centres that already offer childcare.",
    ),
    _ReportSpec(
        "Respect Matters Curriculum",
        "david.lindqvist@example.org",
        "SE",
        "school",
        2014,
        2020,
        5200,
        "The anonymous question box gave students a way to ask what they did not dare ask aloud.",
        "Some teachers felt unprepared for the unit on image sharing.",
        "We added a half-day training on online harms for teachers before that unit.",
    ),
    _ReportSpec(
        "Stillwater Chat",
        "david.lindqvist@example.org",
        "SE",
        "online",
        2020,
        None,
        930,
        "Most chatters had never told anyone before; many accepted a referral to treatment.",
        "Night-time requests could not be answered with the staff we had.",
        "An automatic message now gives night-time visitors the opening hours and self-help links.",
    ),
    _ReportSpec(
        "Net Navigators",
        "grete.tamm@example.org",
        "EE",
        "school",
        2015,
        None,
        8100,
        "Police officers and teachers teaching together made the lessons credible for students.",
        "Russian-language materials arrived a year later than the Estonian ones.",
        "We now prepare both language versions at the same time.",
    ),
    _ReportSpec(
        "Keystone Treatment Programme",
        "grete.tamm@example.org",
        "EE",
        "criminal_justice",
        2016,
        2022,
        95,
        "Pairing a psychologist with a probation officer as facilitators helped participants "
        "link the group work with their supervision plans.",
        "Participants released early often missed the last sessions.",
        "The last four sessions can now be completed at the probation office after release.",
    ),
    _ReportSpec(
        "Piccoli Passi Sicuri",
        "irene.russo@example.org",
        "IT",
        "family_home",
        2017,
        None,
        410,
        "Educators said the illustrated cards made it easier to talk with parents about "
        "privacy during nappy changes and bathing.",
        "Evening meetings were hard for parents working shifts.",
        "We recorded short videos of the main messages for parents who cannot come.",
    ),
    _ReportSpec(
        "Steady Ground Probation Groups",
        "luis.ferreira@example.org",
        "PT",
        "criminal_justice",
        2012,
        None,
        310,
        "A stable pair of facilitators for each group built trust and lowered drop-out.",
        "Transfers between prisons interrupted the programme for several participants.",
        "Participants who are transferred can continue in the group of their new prison.",
    ),
    _ReportSpec(
        "Sunflower Lessons",
        "felix.huber@example.org",
        "AT",
        "school",
        2013,
        2018,
        2600,
        "The songs and stories worked well with the youngest children.",
        "Parents' evenings reached few families whose first language is not German.",
        "We translated the parents' leaflet into six languages.",
    ),
    _ReportSpec(
        "Blue Kite Campaign",
        "carla.sousa@example.org",
        "PT",
        "community",
        2019,
        2021,
        45000,
        "Local radio spots reached rural areas where social media advertising did not.",
        "The website's traffic fell sharply after each campaign week.",
        "We now publish one short guide every month between campaign weeks.",
    ),
    _ReportSpec(
        "Bright Boundaries",
        "katrin.weber@example.org",
        "DE",
        "school",
        2021,
        2022,
        380,
        "A German pilot in two primary schools: teachers found the lessons easy to adapt.",
        "The rule about secrets needed more explanation for parents than in Ireland.",
        "We translated the lessons into German and added a second parents' evening.",
    ),
    _ReportSpec(
        "Havenkringen",
        "bram.visser@example.org",
        "NL",
        "community",
        2016,
        None,
        24,
        "Core members valued having people who knew their history and still met them weekly.",
        "Recruiting volunteers outside the big cities took much longer than planned.",
        "Two small towns now share one circle coordinator.",
    ),
    _ReportSpec(
        "Team Trust Coaches' Course",
        "helene.moreau@example.org",
        "FR",
        "sport_leisure",
        2018,
        None,
        650,
        "Clubs appointed welfare officers quickly once the regional federation asked for it.",
        "Volunteer coaches found a full day of training too long.",
        "We split the course into two evenings.",
        "members",
    ),
)

# Invented contact people, two per country.
_CONTACTS: dict[str, tuple[str, str]] = {
    "AL": ("Elira Demo-Hoxha", "Arben Demo-Krasniqi"),
    "AT": ("Sophie Demo-Gruber", "Florian Demo-Bauer"),
    "BE": ("Lotte Demo-Maes", "Wout Demo-Claes"),
    "BG": ("Elena Demo-Ivanova", "Georgi Demo-Dimitrov"),
    "CH": ("Nina Demo-Meier", "Lukas Demo-Favre"),
    "CY": ("Andreas Demo-Charalambous", "Maria Demo-Ioannou"),
    "CZ": ("Jana Demo-Dvořáková", "Petr Demo-Svoboda"),
    "DE": ("Lena Demo-Schneider", "Jonas Demo-Fischer"),
    "DK": ("Freja Demo-Jensen", "Mads Demo-Nielsen"),
    "EE": ("Liis Demo-Kask", "Kristjan Demo-Saar"),
    "ES": ("Lucía Demo-García", "Javier Demo-Martínez"),
    "FI": ("Aino Demo-Virtanen", "Mikko Demo-Korhonen"),
    "FR": ("Camille Demo-Martin", "Julien Demo-Bernard"),
    "GB": ("Hannah Demo-Clarke", "Priya Demo-Shah"),
    "GE": ("Nino Demo-Beridze", "Giorgi Demo-Kapanadze"),
    "GR": ("Eleni Demo-Papadopoulou", "Nikos Demo-Georgiou"),
    "HR": ("Ivana Demo-Horvat", "Luka Demo-Kovačić"),
    "HU": ("Eszter Demo-Nagy", "Bence Demo-Szabó"),
    "IE": ("Aoife Demo-Murphy", "Ciarán Demo-Walsh"),
    "IS": ("Guðrún Demo-Jónsdóttir", "Einar Demo-Sigurðsson"),
    "IT": ("Giulia Demo-Rossi", "Marco Demo-Bianchi"),
    "LT": ("Rūta Demo-Kazlauskienė", "Tomas Demo-Petraitis"),
    "LU": ("Claire Demo-Schmit", "Luc Demo-Weber"),
    "LV": ("Anna Demo-Bērziņa", "Jānis Demo-Kalniņš"),
    "MK": ("Marija Demo-Stojanovska", "Aleksandar Demo-Nikolovski"),
    "MT": ("Maria Demo-Borg", "Luke Demo-Camilleri"),
    "NL": ("Anouk Demo-Jansen", "Thijs Demo-Bakker"),
    "NO": ("Ingrid Demo-Hansen", "Henrik Demo-Johansen"),
    "PL": ("Zofia Demo-Nowak", "Marek Demo-Kowalczyk"),
    "PT": ("Inês Demo-Silva", "João Demo-Costa"),
    "RO": ("Ioana Demo-Popescu", "Andrei Demo-Ionescu"),
    "RS": ("Milica Demo-Jovanović", "Stefan Demo-Petrović"),
    "SE": ("Elsa Demo-Andersson", "Oskar Demo-Berg"),
    "SI": ("Nina Demo-Kranjc", "Jan Demo-Novak"),
    "SK": ("Zuzana Demo-Kováčová", "Martin Demo-Horváth"),
    "TR": ("Elif Demo-Yılmaz", "Mehmet Demo-Demir"),  # noqa: RUF001 - Turkish dotless i
    "UA": ("Olena Demo-Shevchenko", "Taras Demo-Kovalenko"),
}


# --- loading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoProgrammes:
    programmes_added: int
    reports_added: int


@dataclass
class _Story:
    """When each step of one programme happened, in days since it was created."""

    at: float = 0.0
    # Version number -> timestamp field -> day.
    versions: dict[int, dict[str, float]] = field(default_factory=dict)
    thread: list[float] = field(default_factory=list)
    published: list[float] = field(default_factory=list)
    archived: float | None = None

    def tick(self, rng: random.Random, low: float, high: float) -> None:
        self.at += rng.uniform(low, high)

    def mark(self, version: ProgrammeVersion | int, *names: str) -> None:
        number = version if isinstance(version, int) else version.number
        times = self.versions.setdefault(number, {})
        for name in names:
            times[name] = self.at

    def saved(self, version: ProgrammeVersion) -> None:
        """A save: a new version (after publication or a request for changes) or a change."""
        self.versions.setdefault(version.number, {}).setdefault("created_at", self.at)
        self.mark(version, "updated_at")


@dataclass
class _Crew:
    """The demo people who submit and review."""

    members: list[Member]
    reviewers: list[Member]
    by_email: dict[str, Member]

    def submitter(self, rng: random.Random, countries: Sequence[str]) -> Member:
        local = [member for member in self.members if member.country in countries]
        return local[0] if local else rng.choice(self.members)

    def other(self, rng: random.Random, member: Member) -> Member:
        others = [candidate for candidate in self.members if candidate.id != member.id]
        return rng.choice(others) if others else member


def add_demo_programmes(
    session: Session, organisations: Sequence[Organisation], *, seed: int = DEMO_SEED
) -> DemoProgrammes:
    """Add the demo programmes (and their reports) that are missing; return what was added.

    ``organisations`` are the demo organisations in the order of ``app.demo``; the demo
    members must exist already. Programmes are matched by title among the demo programmes.
    """
    crew = _demo_crew(session)
    if not crew.members or not crew.reviewers:
        return DemoProgrammes(programmes_added=0, reports_added=0)
    query = select(Programme.title, Programme.id).where(Programme.is_demo.is_(True))
    existing: dict[str, int] = dict(session.execute(query).all())
    ids: dict[str, int] = dict(existing)
    specs = {spec.title: spec for spec in SPECS}
    stories: dict[str, tuple[Programme, _Story, random.Random]] = {}
    queued: list[int] = []

    def note_mail(_session: Session, instance: object) -> None:
        if isinstance(instance, OutboxMessage):
            queued.append(instance.id)

    event.listen(session, "pending_to_persistent", note_mail)
    try:
        for spec in SPECS:
            if spec.title in existing:
                continue
            rng = random.Random(f"{seed}:{spec.title}")  # noqa: S311 - demo data, not secrets
            original_id = ids.get(spec.adapted_from) if spec.adapted_from else None
            original = specs.get(spec.adapted_from) if spec.adapted_from else None
            values = _content(spec, rng, organisations, original_id, original)
            programme, story = _live(session, crew, spec, values, rng)
            ids[spec.title] = programme.id
            stories[spec.title] = (programme, story, rng)
        reports = _add_reports(session, crew, organisations, stories)
    finally:
        event.remove(session, "pending_to_persistent", note_mail)
    _date(session, stories, reports)
    _drop_demo_mail(session, queued)
    return DemoProgrammes(programmes_added=len(stories), reports_added=len(reports))


def _demo_crew(session: Session) -> _Crew:
    people = list(
        session.scalars(
            select(Member)
            .where(Member.is_demo.is_(True), Member.status == "active")
            .order_by(Member.id)
        )
    )
    reviewers = [person for person in people if person.role == "coordinator"]
    reviewers += [person for person in people if person.role == "admin"]
    members = [person for person in people if person.role == "member"]
    return _Crew(
        members=members, reviewers=reviewers, by_email={person.email: person for person in people}
    )


def _english_list(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _countries(codes: Sequence[str]) -> str:
    return _english_list([_ENGLISH.territories.get(code, code) for code in codes])


def _languages(codes: Sequence[str]) -> str:
    return _english_list([_ENGLISH.languages.get(code, code) for code in codes])


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")


def _content(
    spec: _Spec,
    rng: random.Random,
    organisations: Sequence[Organisation],
    original_id: int | None,
    original: _Spec | None,
) -> dict[str, Any]:
    """The full content of a programme's first version."""
    kind = KINDS[spec.kind]
    organisation = organisations[spec.provider] if isinstance(spec.provider, int) else None
    provider = organisation.name if organisation is not None else str(spec.provider)
    words = {
        "title": spec.title,
        "where": _countries(spec.countries),
        "languages": _languages(spec.languages),
        "provider": provider,
        "start_year": spec.start_year,
        "people": rng.randrange(40, 400, 10),
        **{name: rng.choice(options) for name, options in kind.choices.items()},
    }
    if spec.description is not None:
        description = spec.description
    else:
        sections = [kind.body.format(**words)]
        if original is not None:
            sections.append(
                _ADAPTATION.format(
                    **words, original=original.title, original_where=_countries(original.countries)
                )
            )
        sections.append(rng.choice(_EVALUATIONS).format(**words))
        sections.append(NOTE_EN)
        description = "\n\n".join(sections)
    slug = _slug(spec.title)
    values: dict[str, Any] = {
        "title": spec.title,
        "summary": spec.summary if spec.summary is not None else kind.summary.format(**words),
        "description": description,
        "content_language": spec.content_language,
        "target_groups": list(kind.target_groups),
        "target_subgroups": list(kind.target_subgroups),
        "prevention_level": kind.prevention_level,
        "settings": list(kind.settings),
        "delivery": list(kind.delivery),
        "abuse_addressed": kind.abuse_addressed,
        "countries": list(spec.countries),
        "languages": list(spec.languages),
        "age_min": kind.ages[0],
        "age_max": kind.ages[1],
        "manual_available": rng.random() < kind.manual_chance,
        "training_required": rng.random() < kind.training_chance,
        "cost": rng.choice(kind.costs),
        "duration": rng.choice(kind.durations),
        "start_year": spec.start_year,
        "still_running": spec.running,
        "provider_organisation_id": organisation.id if organisation is not None else None,
        "provider_name": None if organisation is not None else provider,
        "contact_name": rng.choice(_CONTACTS.get(spec.countries[0], ("Alex Demo-Example",))),
        "contact_email": f"{slug}@example.org",
        "website": f"https://example.org/programmes/{slug}",
        "visibility": "members" if spec.members_only else "public",
        "adapted_from_id": original_id,
        "translations": [
            {"language": language, "title": title, "summary": summary}
            for language, title, summary in spec.translations
        ],
        "attachment_ids": [],
    }
    values.update(spec.overrides)
    return values


def _edited(values: dict[str, Any], edit: _Edit) -> dict[str, Any]:
    changed = {**values, **edit.set}
    for name, codes in edit.add.items():
        changed[name] = [*values[name], *(code for code in codes if code not in values[name])]
    if edit.append:
        description = str(values["description"])
        body, note = description, ""
        if "\n\n_" in description:
            body, note = description.rsplit("\n\n_", 1)
            note = "\n\n_" + note
        changed["description"] = f"{body}\n\n{edit.append}{note}"
    return changed


def _live(
    session: Session, crew: _Crew, spec: _Spec, values: dict[str, Any], rng: random.Random
) -> tuple[Programme, _Story]:
    """Take one programme through the workflow as people would have; note when."""
    story = _Story()
    author = crew.submitter(rng, spec.countries)
    reviewer = rng.choice(crew.reviewers)
    programme = service.create(session, author, values)
    programme.is_demo = True
    story.mark(1, "created_at", "updated_at")  # create makes version 1
    if spec.lifecycle == "draft":
        return programme, story

    story.tick(rng, 0.2, 4)
    story.mark(service.submit(session, author, programme, spec.submit_note), "submitted_at")
    story.thread.append(story.at)
    if spec.lifecycle == "submitted":
        if spec.review_note:
            story.tick(rng, 0.5, 3)
            service.comment(session, reviewer, programme, spec.review_note)
            story.thread.append(story.at)
        return programme, story

    story.tick(rng, 2, 12)
    if spec.lifecycle == "changes_requested":
        _decide(session, story, reviewer, programme, "request_changes", spec.review_note)
        story.tick(rng, 0.5, 3)
        service.comment(
            session, author, programme, "Thank you, we will add this after our team meeting."
        )
        story.thread.append(story.at)
        return programme, story
    if spec.changes_first is not None:
        request, fix = spec.changes_first
        _decide(session, story, reviewer, programme, "request_changes", request)
        story.tick(rng, 1, 8)
        values = _edited(values, fix)
        base = service.editable_base(session, programme)
        story.saved(service.save(session, author, programme, values, service.version_token(base)))
        story.tick(rng, 0.1, 1)
        story.mark(service.submit(session, author, programme, fix.note), "submitted_at")
        story.thread.append(story.at)
        story.tick(rng, 1, 7)
    _decide(session, story, reviewer, programme, "approve", "")

    editor = author
    if spec.edits or spec.pending is not None:
        editor = crew.other(rng, author)
        service.add_maintainer(session, programme, editor)
    for edit in spec.edits:
        story.tick(rng, 90, 400)
        values = _edited(values, edit)
        _propose(session, story, rng, editor, programme, values, edit.note)
        story.tick(rng, 1, 10)
        _decide(session, story, rng.choice(crew.reviewers), programme, "approve", "")
    if spec.pending is not None:
        story.tick(rng, 60, 200)
        pending = _edited(values, spec.pending)
        _propose(session, story, rng, editor, programme, pending, spec.pending.note)
    if spec.lifecycle == "archived":
        story.tick(rng, 200, 600)
        service.archive(session, reviewer, programme, spec.archive_reason)
        story.thread.append(story.at)
        story.archived = story.at
    return programme, story


def _propose(
    session: Session,
    story: _Story,
    rng: random.Random,
    editor: Member,
    programme: Programme,
    values: dict[str, Any],
    note: str,
) -> None:
    """A maintainer's edit of the published programme, saved and submitted."""
    base = service.editable_base(session, programme)
    story.saved(service.save(session, editor, programme, values, service.version_token(base)))
    story.tick(rng, 0.1, 2)
    story.mark(service.submit(session, editor, programme, note), "submitted_at")
    story.thread.append(story.at)


def _decide(
    session: Session,
    story: _Story,
    reviewer: Member,
    programme: Programme,
    decision: str,
    comment: str,
) -> None:
    outcome = service.review(session, reviewer, programme, decision, comment)
    story.mark(outcome.version, "decided_at")
    if decision == "approve":
        story.mark(outcome.version, "published_at")
        story.published.append(story.at)
    story.thread.append(story.at)


def _add_reports(
    session: Session,
    crew: _Crew,
    organisations: Sequence[Organisation],
    stories: dict[str, tuple[Programme, _Story, random.Random]],
) -> list[tuple[ImplementationReport, str]]:
    by_country: dict[str, Organisation] = {}
    for organisation in organisations:
        by_country.setdefault(organisation.country, organisation)
    added: list[tuple[ImplementationReport, str]] = []
    for entry in REPORTS:
        author = crew.by_email.get(entry.author)
        if entry.programme not in stories or author is None:
            continue
        programme, _story, _rng = stories[entry.programme]
        home = by_country.get(author.country or "")
        raw: dict[str, Any] = {
            "country": entry.country,
            "setting": entry.setting,
            "organisation_id": home.id if home is not None else None,
            "start_year": entry.start_year,
            "end_year": entry.end_year,
            "people_reached": entry.people_reached,
            "what_worked": entry.what_worked,
            "what_did_not_work": entry.what_did_not_work,
            "adaptations": entry.adaptations,
            "visibility": entry.visibility,
        }
        report = reports_service.create_report(session, author, programme, raw)
        report.is_demo = True
        added.append((report, entry.programme))
    return added


def _date(
    session: Session,
    stories: dict[str, tuple[Programme, _Story, random.Random]],
    reports: Sequence[tuple[ImplementationReport, str]],
) -> None:
    """Spread what was just created over the past years, keeping each story's order."""
    now = utcnow()
    last_published: dict[str, datetime] = {}
    versions = cast(Table, ProgrammeVersion.__table__)
    entries = cast(Table, ProgrammeThreadEntry.__table__)
    version_rows: list[dict[str, Any]] = []
    entry_rows: list[dict[str, Any]] = []
    programme_ids = [programme.id for programme, _story, _rng in stories.values()]
    version_ids = {
        (programme_id, number): version_id
        for version_id, programme_id, number in session.execute(
            select(
                ProgrammeVersion.id, ProgrammeVersion.programme_id, ProgrammeVersion.number
            ).where(ProgrammeVersion.programme_id.in_(programme_ids))
        )
    }
    by_programme: dict[int, list[int]] = {}
    for entry_id, programme_id in session.execute(
        select(ProgrammeThreadEntry.id, ProgrammeThreadEntry.programme_id)
        .where(ProgrammeThreadEntry.programme_id.in_(programme_ids))
        .order_by(ProgrammeThreadEntry.id)
    ):
        by_programme.setdefault(programme_id, []).append(entry_id)
    for programme, story, rng in stories.values():
        # Drafts and submissions are recent; published programmes were added over the
        # past years, though not before the year they started.
        recent = programme.status != "published"
        lead = rng.uniform(2, 40) if recent else rng.uniform(20, 1000)
        if programme.start_year is not None:
            running_for = (now - datetime(programme.start_year, 1, 1, tzinfo=UTC)).days
            lead = min(lead, max(running_for - story.at, 1.0))
        start = now - timedelta(days=story.at + lead)

        def moment(days: float, start: datetime = start) -> datetime:
            return start + timedelta(days=days)

        programme.created_at = moment(0)
        programme.updated_at = moment(story.at)
        if story.published:
            programme.published_at = moment(story.published[0])
            programme.content_updated_at = moment(story.published[-1])
            last_published[programme.title] = programme.content_updated_at
        if story.archived is not None:
            programme.archived_at = moment(story.archived)
        for number, times in story.versions.items():
            row: dict[str, Any] = {"version_id": version_ids[(programme.id, number)]}
            for name in ("created_at", "updated_at", "submitted_at", "decided_at", "published_at"):
                day = times.get(name)
                row[f"new_{name}"] = None if day is None else moment(day)
            row["new_created_at"] = row["new_created_at"] or moment(0)
            row["new_updated_at"] = max(
                value for key, value in row.items() if key.startswith("new_") and value
            )
            version_rows.append(row)
        for entry_id, day in zip(by_programme.get(programme.id, []), story.thread, strict=False):
            entry_rows.append({"entry_id": entry_id, "new_created_at": moment(day)})
    for report, title in reports:
        # Written some time after the programme was (last) published.
        published = last_published.get(title, now)
        report.created_at = report.updated_at = published + (now - published) * (
            stories[title][2].uniform(0.2, 0.9)
        )
    session.flush()
    connection = session.connection()
    if version_rows:
        connection.execute(
            update(versions)
            .where(versions.c.id == bindparam("version_id"))
            .values(
                created_at=bindparam("new_created_at"),
                updated_at=bindparam("new_updated_at"),
                submitted_at=bindparam("new_submitted_at"),
                decided_at=bindparam("new_decided_at"),
                published_at=bindparam("new_published_at"),
            ),
            version_rows,
        )
    if entry_rows:
        connection.execute(
            update(entries)
            .where(entries.c.id == bindparam("entry_id"))
            .values(created_at=bindparam("new_created_at")),
            entry_rows,
        )
    session.expire_all()


def _drop_demo_mail(session: Session, queued: Sequence[int]) -> None:
    """Delete the e-mails the demo workflow queued in this session.

    The workflow tells coordinators about each submission and submitters about each
    decision. None of it is news to anyone: the people are fictional, and a real coordinator
    would otherwise receive dozens of messages about invented programmes. Deleted rather than
    marked sent: they never were sent, and an outbox that says otherwise would mislead
    whoever reads it. Only the messages this session queued are touched.
    """
    if queued:
        session.execute(
            delete(OutboxMessage)
            .where(OutboxMessage.id.in_(queued))
            .execution_options(synchronize_session=False)
        )
