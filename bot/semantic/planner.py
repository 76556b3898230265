"""The semantic planner: routing by meaning, offline and deterministic, in milliseconds.

One message becomes one `Decision` in this order:

0. sentences that talk to Dispatch's own instructions ("ignore previous…", "SYSTEM: …") are
   taken out: a user's text steers routing, never Dispatch;
1. exact rules with high precision (`RulePlanner`): an empty message, "what's Ada doing",
   "status", "cancel all", a correction ("no, that's for Dev"), a reply to an agent's
   question or to Dispatch's own;
2. the intent, by the nearest example phrasings (`intent.py`), held back by gates: a status
   or roster question is never work, a cancel needs a cancelling word, a request that carries
   too little to act on gets one question;
3. for work, the parts and what waits on what (`grammar.py`), each part addressed by name or
   matched by meaning (`match.py`); nothing close goes to the catch-all sub-agent;
4. a bound on the plan's size.

`explain()` returns the same decision with the figures behind it, for `dispatch plan`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import render
from bot.manifest import CATCH_ALL_ID, AgentSpec, Fleet
from bot.models import Aside, Decision, TaskSpec
from bot.planner import (
    _CANCEL,
    _ROSTER,
    _STATUS,
    _VAGUE_VERBS,
    _WHO_CAN,
    EMPTY,
    Lesson,
    RulePlanner,
    Scorer,
    ThreadContext,
    ThreadTask,
    by_agent,
    content_stems,
    fold,
    strip_mentions,
    words,
)
from bot.semantic.embed import CachedEmbedder
from bot.semantic.grammar import (
    _DOES,
    _IMPERATIVE,
    _SAYS_HOW,
    ASKS,
    FINITE,
    FOR_WHOM,
    ITEM_MARK,
    LEAD_IN,
    LIST_SPLIT,
    PAST_PARTICIPLES,
    TROUBLE,
    Names,
    Part,
    clean,
    parse,
    says_what_to_do,
    without_help_asked,
    without_injections,
)
from bot.semantic.intent import Intent, IntentClassifier
from bot.semantic.match import Matcher, Ranked

FIT = 0.35
"""Below this, no agent is close enough and the catch-all sub-agent takes the part."""
EXACT = 3 * Scorer.CONFIDENT
"""A lexical score this high (a whole skill phrase, or rare words only one agent claims)
settles a listed piece without comparing meanings."""
PIECE_LEAD, PIECE_MARGIN = 0.2, 0.05
"""A list splits into tasks for different agents only when each piece clears the bar by the
first and leads its runner-up by the second; otherwise the whole part goes to one agent."""
CLEAR_LEAD = 0.45
"""A short message that sounds vague is still asked about unless one agent clears the bar by
PIECE_LEAD and leads the next by this much."""
ELSEWHERE_WORDS, ELSEWHERE_LEAD = 6, 0.3
"""A message in a thread is new work for another agent only with this many words, when that
agent clears PIECE_LEAD and leads the thread's own agents by this much (or they miss FIT)."""
INTENT_MARGIN = 0.02
"""A non-work intent must lead work by this much (calibrated on evals/cases/dev.yaml)."""
DOUBT = 0.5
"""Below this confidence a configured model is asked (`DISPATCH_LLM_MODE=doubt`)."""


def model_wanted(decision: Decision, mode: str) -> bool:
    """Whether a configured model should plan this: always, or in mode "doubt" only where
    the planner in front of it is unsure (or does not say)."""
    if decision.also is not None:
        return False  # a stop or a question beside the work: the rules' own, as alone
    return mode == "always" or decision.confidence is None or decision.confidence < DOUBT


NO_REPLY = "no-reply"
"""`Decision.target` of a clarify that waits for no reply: an oversized plan refused (the
user sends smaller requests), or a hold with nothing here to hold (a reply would be taken
for the work it names)."""
GENERIC_QUESTION = render.WHAT_EXACTLY

_EMOJI = "\U0001f300-\U0001faff\u2600-\u27bf"
"""The emoji blocks, as a character-class range."""
_HELD = r"(?:send|pay|post|publish|ship|book|file|run)"
"""What "don't …" holds back: with no work in the thread, an instruction; with work, a stop."""
_STOP_LAST = re.compile(
    r"(?:[,;.!—–-]\s*(?:so\s+)?|\s+so\s+)(?:there's\s+|there\s+is\s+)?no\s+need(?:\s+to\s+[a-z]+"
    r"(?:\s+(?:it|them|that|those|anything|owt|out|off|over|now|any\s*more|after\s+all)){0,2}|"
    r"\s+(?:now|any\s*more|for\s+it(?:\s+now)?))[\s.!]*$|"
    # "mum's cancelled the 22nd, her lad's got chickenpox": the customer called it off
    r"^(?:[\w'’-]+\s+){0,3}?[\w'’-]+(?:'s|’s|\s+has|\s+have|'ve|’ve)\s+(?:cancell?ed|called\s+(?:it\s+)?off|"
    r"pulled\s+out)\b(?![^?]*\b(?:can|could|please|pls|need|needs)\b)[^?]*$",
    re.IGNORECASE,
)
"""Why first, then the stop: "they've decided to take some home in the suitcase, no need to
post anything", "she's sorted it with the landlord herself so no need now"; or the customer
has called it off, and nothing more is asked."""
_WHY_AFTER = r"(?:the|it'?s|we|we've|we’ve|they|they've|they’ve|they're|she|he)\b"
"""How the reason after "pull the X, …" or "leave the X, …" starts ("…, they've pulled out")."""
_CANCEL_WORDS = re.compile(
    r"\b(?<!-)(?:cancel\w*|"
    # not "stop the checkout from timing out": a fix
    r"stop(?!\s+(?:at|by|over|off\s+at)\b)(?!\s+(?:[\w'’-]+\s+){0,5}?from\s+[\w'’-]+ing\b)|"
    r"abort|kill|scrap|drop(?!\s+(?:(?:it|them|her|him|this|that)\s+)?(?:off|by|in|round|over|me|us)\b)|halt|nvm|never\s*mind|nevermind|"
    r"(?<!\bdon't\s)(?<!\bdont\s)(?<!\bnot\s)(?<!\bdon’t\s)forget(?!\s+to\b)|"
    r"call\s+(?:it\s+)?off|pull\s+the\s+plug|stand\s+(?:them\s+|everyone\s+)?down|no\s+longer\s+needed|don'?t\s+bother|not\s+needed|"
    rf"hold\s+off|after\s+all|don'?t\s+{_HELD}|scratch|"
    r"call\s+(?:it\s+all|everything|them|the\s+(?:whole\s+)?\w+|(?!back\b|up\b)[\w'’-]+)\s+off\b(?!-)|"
    r"we'?re\s+not\s+(?:going|doing)|no\s+need(?!\s+to\b)(?!\s+for\s+(?:[\w'’-]+\s+){1,5}?to\s+(?:be|look|have|say)\b)|don'?t\s+worry\s+about\s+(?:it|that|this|them)|"
    r"no\s+need\s+to\s+(?:chase|do|send|book|pay|finish|carry\s+on|keep|continue|order|print|post|find|"
    r"look|arrange|organi[sz]e|get|sort|"
    r"ring|call|email|follow\s+up)|bin|ditch|shelve|hold\s+fire|"
    # "no need to move the clients now, …": a plan changed, whatever the verb
    r"no\s+need\s+to(?=\s+[a-z]+\s+(?:[\w'’-]+\s+){0,5}?(?:now|any\s*more|after\s+all)\b)|"
    r"pull\s+(?:that|this|it|them|those|these|everything|both(?:\s+of\s+(?:those|them|these))?|"
    r"all\s+of\s+(?:it|that|them))"
    r"(?!\s+(?:together|up|apart|off|out|in|into|through|over|down|round|across|back|forward|from|for)\b)|"
    r"ignore\s+(?:that|this|it)(?![\s,;.—–-]+(?:i\s+meant?|i\s+mean|meant|it\s+should|should\s+be)\b)|"
    r"ignore(?=\s+the\s+(?:[\w'’-]+\s+){0,2}?[\w'’-]+\s*[,;—–]\s*(?:she|he|they|we|it'?s|the|turns|"
    r"[\w'’-]+\s+(?:had|has|says|said|checked|looked|reckons|sorted|fixed)|an?\s+[\w-]+(?:'s|’s))\b)|"
    # "pull the insta post, the weekend's sold out", "take the advert down, we've filled it"
    rf"pull(?=\s+the\s+(?:[\w'’-]+\s+){{0,3}}?[\w'’-]+\s*[,;—–]\s*{_WHY_AFTER})|"
    r"take(?=\s+the\s+(?:[\w'’-]+\s+){0,2}?[\w'’-]+\s+down\s*[,;—–]\s*(?:the|it'?s|we|we've|we’ve|they|she|he)\b)|"
    r"ignore\s+my\s+(?:[\w'’-]+\s+){0,3}?(?:request|ask)"
    r"(?![\s,;.—–-]+(?:i\s+meant?|i\s+mean|meant|it\s+should|should\s+be)\b)|"
    r"leave\s+(?:it|that|this|them|those|these|the\s+(?:[\w'’-]+\s+){0,4}?[\w'’-]+)\s+"
    r"(?:for\s+now|for\s+the\s+moment|for\s+today|alone|be|thing|idea|as\s+(?:they|it)\s+(?:are|is))|"
    r"don'?t\s+do\s+(?:that|it|this|anything))\b(?!-)",
    re.IGNORECASE,
)
_LEAVE_THE = re.compile(
    rf"^leave\s+(?:the\s+)?(?P<what>(?:[\w'’-]+\s+){{0,3}}?[\w'’-]+)\s*[,;—–]\s*{_WHY_AFTER}",
    re.IGNORECASE,
)
""" "leave the yorkshire tea quote, they've pulled out", "leave Allendale, the estate's sold the
spruce": a stop where the thread has that work ("leave the boxes, the van's here" is where to
leave them)."""
_DONT_DO_IT = re.compile(
    r"^(?:don'?t|do\s+not|dont)\s+(?P<verb>[a-z]{3,})\s+(?:it|that|this|them|those|these)\b",
    re.IGNORECASE,
)
""" "don't strip it, he just landed badly": in a thread, a stop when the verb is a task's own."""
_ALL_OF = re.compile(r"^(?:all|every|everything|anything|the\s+lot|whatever)\b", re.IGNORECASE)
_LEFT_AS_IS = re.compile(r"leave\s+(?P<what>the\s+.+?)\s+(?:for\s|alone|be|as\s)", re.IGNORECASE)
""" "leave the chairs for now": what to leave is inside the stop itself."""
_NO_NEED_FOR = re.compile(
    r"^(?:(?:oh|ah|ok|okay)\b[,\s]*)?no\s+need\s+for\s+(?P<what>(?:the|that|those|this|these|his|her|their|our|"
    r"my)\s+(?:(?!\bto\b)[^,;.!?]){1,40}?)(?:\s+(?:now|any\s*more|after\s+all|today))?\s*(?:[,;.!—–-]|$)",
    re.IGNORECASE,
)
""" "no need for the repair now, he's gone for new frames": in a thread, that work stops ("no
need for the banner to be blue" is a change to it, not a stop)."""
_NO_NEED_NOW = re.compile(
    r"[,;.!—–-]\s*(?:so\s+)?(?:(?:there's\s+|there\s+is\s+)?no\s+need\s+(?:now|any\s*more|for\s+it\s+now)|"
    r"(?:just\s+|so\s+)?leave\s+(?:it|that|them)(?:\s+(?:now|then|for\s+now))?)$",
    re.IGNORECASE,
)
""" "…, no need now" at the end, in a thread: the reason first, then the stop."""
_NEVER_MIND_WHY = re.compile(
    r"^(?:oh\s+)?don'?t\s+worry(?:\s+about\s+(?:it|that))?\s*[,;.!—–-]+\s*(?:they|she|he|we|it)(?:'ve|’ve|'s|’s|\s+ha(?:ve|s))\s+",
    re.IGNORECASE,
)
""" "don't worry, they've found someone themselves": in a thread, the work is not needed."""
_OPENING = re.compile(
    r"^(?:(?:oh|ok|okay|no(?!\s+(?:need|longer)\b)|nah|nope|actually|sorry|hang\s+on|wait)\b[,.!\s]*)+",
    re.I,
)
"""Words a message opens with before what it says ("oh, …", "hang on, …")."""
_ASKED_AFTER = re.compile(
    r"[,;.]\s*(?:but\s+|so\s+)?(?:(?:can|could|would|will)\s+(?:you|u|someone|somebody)\b"
    r"|(?:just|please|pls)\s+[a-z])",
    re.IGNORECASE,
)
""" "no need for a meeting, can you just send it over": what is asked instead, after the stop."""
_HOLD_IT = re.compile(
    rf"^(?:(?:no|wait|hang\s+on|hold\s+on|actually)\b[,.!\s]*)*(?:don'?t|do\s+not)\s+(?:{_HELD}|do)\s+"
    r"(?:it|that|this|them|those|these)(?:\s+(?:yet|now|today|after\s+all))?$",
    re.IGNORECASE,
)
""" "don't post that", said where there is no work to hold: what it holds is not said."""
_LIST_THE_TEAM = re.compile(
    r"^(?:(?:can|could)\s+(?:you|u|someone)\s+(?:please\s+)?)?(?:list|tell\s+me|show\s+me|remind\s+me|"
    r"give\s+(?:me|us)\s+(?:a|the)\s+(?:quick\s+)?(?:rundown|run-?down|list|overview|breakdown|run-?through)\s+of|"
    r"run\s+(?:me|us)\s+through)\s+"
    r"(?:who(?:'s|’s|\s+is|\s+are)\s+(?:on\s+the\s+team|here|in\s+the\s+team)|who\s+(?:we'?ve\s+got|we\s+have|does\s+what)|"
    r"(?:every(?:one|body)|the\s+(?:whole\s+)?team|(?:all\s+)?the\s+agents|who's\s+who)(?=\s+and\s+what|$))"
    r"(?:\s+and\s+what\s+(?:they|each\s+(?:one|of\s+them))\s+(?:each\s+)?(?:do|does|looks?\s+after|handles?|covers?))?$",
    re.IGNORECASE,
)
""" "can you list who's on the team and what they each look after": the roster."""
_ONLY_A_PRONOUN = re.compile(
    r"^(?:(?:please|pls|plz|can\s+you|could\s+you|can\s+someone|could\s+someone|can\s+we|could\s+we|"
    r"just|ok|right)\s+)*"
    r"(?:[a-z]+\s+(?:it|them|that|this|those|these|him|her)(?:\s+one)?|"
    r"(?:get|have)\s+(?:it|them|that|this|him|her)(?:\s+one)?\s+[a-z]+ed|"
    r"(?:it|that|this|they|those|these)(?:\s+one)?\s+needs?\s+[a-z]+ing)"
    r"(?:\s+(?:in|out|up|off|over|on|through|back|across|round|along|again|now|please|pls|asap|today|"
    r"before\s+(?:it|they)\s+go(?:es)?\s+(?:out|up|live|off)|"
    r"for\s+(?:me|us)|to\s+the\s+other\s+(?:one|date|day|time|week|room|version)|"
    r"(?:for|by|on|before|till|until)\s+(?:next\s+|this\s+)?(?:week|month|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|weekend|tomorrow|tonight)))*$",
    re.IGNORECASE,
)
""" "book it in", "get it booked in for next month", "change it to the other date", "it needs
redoing": with no work in the thread, what "it" is is not said."""
_KEEP_GOING = re.compile(
    r"\s*[,;]?\s*\b(?:but|and|—|–)\s+(?:keep|leave|let|not|don'?t\s+(?:stop|touch|cancel))\b.*$",
    re.IGNORECASE | re.DOTALL,
)
"""After what to cancel, what to spare: "cancel the writer's one but keep dev going"."""
_HANDED_OVER = re.compile(rf"^{FOR_WHOM}\s+[^:—–?]{{1,40}}[:—–]", re.IGNORECASE)
"""“this one's for Ruth: …”: work handed to someone, whatever it then asks."""
_HOLD_BACK = re.compile(
    rf"hold\s+off|hold\s+fire|don'?t\s+{_HELD}|bin|ditch|shelve",
    re.IGNORECASE,
)
"""Cancelling words that, with no work in the thread, ask for something to be held back."""
_NOTHING_NAMED = re.compile(
    r"\s+(?:(?:it|that|them|those|these)(?:\s+all)?|this|all\s+of\s+(?:it|that|them|those|these)|"
    r"the\s+lot|"
    r"everything|the\s+whole\s+(?:thing|lot))(?:\s+(?:please|pls|then|now))?\s*(?:[.!,;]|$)",
    re.IGNORECASE,
)
""" "ditch all of it", "bin it all": what a hold-back word stops names nothing but what came before, so even
out of a thread it is a stop, not an instruction."""


_SOMEONE_ELSES = re.compile(
    r"\s+(?:their|his|her|(?:mr|mrs|ms|miss|dr)\.?\s+[\w-]+(?:'s|’s)|"
    r"(?:the\s+)?(?-i:[A-Z])[\w-]+(?:'s|’s|s'|s’))\s",
    re.IGNORECASE,
)
""" "stop their walks from the end of the month", "cancel Mrs Hill's booking": out of a thread, a
customer's service to stop is work for the team, not Dispatch's work to cancel."""


def _holds_back(word: re.Match[str], text: str) -> bool:
    """Whether a cancelling word, out of a thread, asks for something to be held back."""
    return bool(_HOLD_BACK.fullmatch(word[0])) and not _NOTHING_NAMED.match(text, word.end())


_REPORTED = re.compile(
    r"\b(?:wants|threaten\w*|trying|tried|how|asked|asking|needs|going|about|able|unable|"
    r"refus\w*|decided|planning|plans)\s+to\s+$|"
    r"\b(?:do|should|shall|could|would|can)\s+(?:we|i|they)\s+(?:just\s+|simply\s+)?$|"
    r"\b(?:whether|when)\s+to\s+(?:just\s+)?$|\b(?:on|won't|wont|doesn't|doesnt|didn't|can't|cant|"
    r"never|not|to|could|'ll|’ll|will|would|might|may|the|a|an|our|their|this|that|those|these)\s+$|"
    r"\b(?:if|unless|when)\s+(?:we|i|you|they|he|she|it)\s+$|\b(?:got|been|was|were|being|is|are)\s+$|"
    r"(?:'re|’re|'m|’m)\s+$|\b(?:the|a|an|our|their|this|that|my|your)\s+[a-z]+\s+$|"
    r"\b(?:time|times|whenever|everytime)\s+(?:we|i|you|they|he|she|it)\s+$|\bor\s+$|"
    r"\b(?:she|he|they|who|which)\s+$|(?:'s|’s)\s+$",
    re.IGNORECASE,
)
"""Before a cancelling word, what makes it someone else's plan, not the user's instruction:
"the skip company are threatening to stop collecting", "a customer wants to cancel"."""
_MINE_OR_BUSY = re.compile(
    r"^(?:what(?:'s|’s|\s+is|\s+have|'ve|’ve)\s+(?:i|we)\s+(?:got\s+)?(?:on|going\s+on)\b(?:\s+(?:at\s+the\s+"
    r"moment|right\s+now|rn|now|today))?|(?:show|list|give)\s+(?:me\s+)?(?:all\s+)?(?:my|our)\s+(?:stuff|tasks|"
    r"work|jobs|requests|things)\b|(?P<busy>is|are)\s+(?:the\s+)?[\w'’-]+(?:\s+[\w'’-]+)?\s+(?:busy|tied\s+up|"
    r"swamped|snowed\s+under|working\s+on\s+anything|doing\s+anything)\b)[\s?!.]*$",
    re.IGNORECASE,
)
""" "what have I got on at the moment", "show me my stuff", "is the writer busy?": the asker's
work, or one agent's load."""
_HELP_WANTED = re.compile(
    r"\b(?:need|needs|needed|want|asap|urgent(?:ly)?|someone|somebody|anyone|quick)\b.*\bhelp\b|"
    r"\bhelp\b.*\b(?:asap|urgent(?:ly)?|now|here|with)\b",
    re.IGNORECASE,
)
""" "need help asap", "can someone help": help wanted with something, not "help" (what is this?)."""
_NEVER_MIND = re.compile(
    r"^(?:never\s*mind|nvm|forget\s+(?:it|that|this|about\s+(?:it|that)))\b", re.I
)
_A_REASON = re.compile(
    r"^(?:(?:it|that|this|about\s+(?:it|that))\s*[,;:.—–-]\s*)?"
    r"(?:(?:we|they|he|she|i|you|it)(?:'ve|’ve|'re|’re|'s|’s|'ll|’ll|'d|’d)?\s+\S|not\b|no\s+(?:longer|need)\b|"
    r"(?:the|our|my|their)\s+[\w'’-]+\s+(?:has|have|had|is|are|was|were|\w+ed)\b)",
    re.IGNORECASE,
)
""" "never mind, the client sorted it themselves": why, not which work."""
_WHY_NOT = re.compile(
    r"\s*[,;:]\s*(?:(?:it's|it’s|its|it\s+is|that's|that’s|we're|we’re|i'm|i’m)\s+)?(?:not\s+needed|no\s+longer|"
    r"don't|dont|don’t|we\s+don't|we\s+dont|changed|sorted|already|(?:we|i|they)(?:'ve|’ve|\s+have)\s+"
    r"(?:sorted|done|got|changed|decided)|wrong|my\s+(?:bad|mistake)|(?:not|no)\s+(?:needed|necessary|required)\b)",
    re.IGNORECASE,
)
"""After a thing to cancel, why: "…, not needed anymore", "…, we've sorted it"."""
_WHEN_THEN = re.compile(
    r"^(?:and\s+)?(?:when|once|as\s+soon\s+as)\s+(?!(?:will|would|is|are|was|were|does|do|did|can|could|"
    r"should|shall|might|may|has|have)\b)(?:[^,?]{3,120},\s*\S|"
    # no comma: "when Ollie's finished the new circuit get a post up about it"
    r"[^,?]{3,120}?\s+(?:get|put|post|send|let|tell|have|ask|book|stick|pop|share|email|order|make)\s+"
    r"(?:a|an|the|it|them|this|that|those|these|some|our|him|her|everyone|people)\b)",
    re.IGNORECASE,
)
"""A leading condition, then what to do: "when the copy's done, have Sam post it" asks
nothing, though it starts with "when"."""
_AND_THEN = re.compile(
    r"(?P<mark>[.?!;,]+)\s+(?:(?:and|but|so)\s+)?(?:(?:then|instead|also|just)\s+)?"
    r"|\s+(?:and|but)\s+(?:(?:then|instead|also|just)\s+)?|\s+then\s+",
    re.IGNORECASE,
)
"""Where a stop or a question may end and work begin: "scrap the banner and get the writer
to…", "is it done? can the writer also…"."""
_ASKS_FOR = re.compile(
    r"^(?:(?:and|also|then|plus|so|but|please|pls|plz|just|instead)\b[,\s]*|"
    r"(?:can|could|would|will)\s+(?:you|u|someone|somebody|anyone|we)\s+|"
    r"(?:someone|somebody|anyone)(?:\s+else)?\s+(?:needs?\s+)?to\s+)+",
    re.IGNORECASE,
)
"""How an ask of someone starts, before what is asked: "and can someone…", "please…"."""
_ASKED_OF = re.compile(
    r"^(?:(?:get|have|ask|tell|let|can|could|would|will)\b|[^,:—–]{1,30}[,:—–]\s)", re.IGNORECASE
)
"""An ask of someone, by its form: "get social to…", "can the writer…", "Writer: …" (not "the
press has a slot at 2", which names an agent and asks nothing of it)."""
_NOT_AN_ORDER = re.compile(
    r"^(?:(?:do|does|did)\s+(?:we|i|you|they|he|she|it)\b|\w+ing\b|(?:let|tell|update|ping|message|text|"
    r"email|keep|give)\s+(?:me|us)\b|(?:found|heard|saw|seen|sold|"
    r"bought|told|said|left|lost|paid|sent|made|took|gave|brought|rang|thought|knew|forgot)\b)",
    re.IGNORECASE,
)
"""What reads as an order but is not: a question ("do we need…"), what one is doing
("doing the handover"), what happened ("found a spare key"), or asking to be told ("let
me know")."""
_DO_IT_AGAIN = re.compile(
    r"^(?:(?:can|could|would)\s+(?:you|u|someone|we)\s+)?(?:please\s+|pls\s+|just\s+)?(?:do|redo|repeat)\s+"
    r"(?:that|it|this|the\s+same(?:\s+thing)?)(?:\s+(?:again|too|as\s+well|once\s+more))?"
    r"(?:\s+for\s+(?:[\w'’-]+\s*){1,4})?[?!.\s]*$",
    re.IGNORECASE,
)
""" "can you do the same again for the other site": which of the thread's work, it does not say."""
_WANTS_IT_DONE = re.compile(
    r"\?\s*(?:(?:i|we)\s+)?(?:really\s+)?(?:need|needs|want)\s+(?:it|one|them|this|that|some)\b|"
    r"\?\s*(?:it's|its|it’s|it\s+is)\s+(?:urgent|blocking|holding)\b|"
    r"^any\s+chance\s+(?:someone|somebody|anyone|anybody|you|u|we)\s+(?:could|can|might)\s+[a-z]+|"
    r"^(?:has|have)\s+(?:anyone|anybody|someone|somebody|you)\s+(?:got|had)\s+(?:time|a\s+(?:minute|sec|"
    r"second|moment)|capacity|space)\s+to\s+[a-z]+",
    re.IGNORECASE,
)
""" "who can knock up a banner? need it by 3", "any chance someone could proofread the page",
"has anyone got time to fix the signup bug?": work asked for as a question."""
_HOLDUP = re.compile(
    r"^(?:so\s+|and\s+|ok\s+)?(?:what(?:'s|’s|s|\s+is)\s+(?:the\s+)?(?:hold[\s-]?up|delay)|"
    r"what(?:'s|’s|s|\s+is)\s+taking\s+(?:so|this)\s+long|why\s+(?:is\s+)?(?:it|this)\s+taking\s+so\s+long)"
    r"(?:\s+(?:with\s+(?:it|this|that)|here|now))?[?!.\s]*$",
    re.IGNORECASE,
)
""" "what's the holdup?": how this thread's work stands, asked even while an agent waits on a
question (the status shows it), never the answer to it."""
_ANY_JOY = re.compile(
    r"^(?:so\s+|and\s+)?any\s+(?:joy|luck|progress|news|updates?|word|movement)\s*[?!.]*$",
    re.IGNORECASE,
)
""" "any joy?", in a thread of one agent's work: how that work is going (not "what's in
flight?", which asks about everything in the thread)."""
_NEW_SUBJECT = re.compile(
    # "great thanks. separate thing, …", "cheers zoe. unrelated but …": thanks for this thread first
    r"^(?:(?:(?:great|lovely|brilliant|perfect|ok|okay)[,!.\s]+)?(?:thanks|thank\s+you|thx|cheers|ta)"
    r"(?:\s+[\w'’-]+)?\s*[.!,]+\s*)?"
    r"(?:(?:ok|okay|oh|right|also|and|sorry)\b[,\s]*)*(?:"
    r"(?:a\s+|on\s+a\s+)?(?:(?:completely|totally|slightly)\s+)?(?:different|separate|unrelated)\s+"
    r"(?:thing|one|q|question|note|matter|topic|subject|issue|request|job)|"
    r"(?:completely\s+|totally\s+)?unrelated(?:ly)?(?:\s+(?:to\s+(?:this|that)|but|though))*|"
    r"on\s+(?:another|a\s+different|a\s+separate)\s+note|changing\s+the\s+subject|"
    r"(?:not\s+related\s+to|nothing\s+to\s+do\s+with)\s+(?:this|that|the\s+above)[\s,]+but"
    r")(?:[\s,:;.!—–-]+|$)",
    re.IGNORECASE,
)
"""A message in a thread that says it is about something else: new work, not more of this."""
_OK_TO = re.compile(r"\b(?:ok|okay|alright|fine|safe)\s+to\s+\w+", re.IGNORECASE)
""" "is that ok to do?": asks about doing something, no small talk."""
_CARRIES_ON = re.compile(r"\b(?:still|though|anyway)\b", re.IGNORECASE)
_REPLACES = re.compile(
    r"^[.?!;,\s]*(?:(?:and|but|so)\s+)?(?:then|instead|just|rather)\b|^[.?!;,\s]*(?:(?:and|but|so|then|just)\s+)*"
    r"(?:start\s+(?:over|again|afresh)|redo|replace)\b|\b(?:instead|rather)\b",
    re.IGNORECASE,
)
"""After a stop, work said to take its place: "…, then…", "…, just do…", "… and start over"."""
_KEEP_ON = re.compile(
    r"^(?:and\s+|but\s+|so\s+)?just\s+(?:do|finish|focus\s+on|stick\s+(?:to|with)|carry\s+on\s+with|"
    r"crack\s+on\s+with|get\s+on\s+with|keep\s+(?:on\s+)?(?:with|doing))\s+(?:the|your|their|his|her)\b",
    re.IGNORECASE,
)
"""After a stop, the thread's other work named to go on with: no new work."""
_INSTEAD = re.compile(r"[\s,]*\b(?:instead|as\s+well|too)\b[\s.!]*$", re.IGNORECASE)
_THEN_WORK = re.compile(r"\b(?:then|and\s+then|after\s+that)\b", re.IGNORECASE)
_QUESTION = re.compile(
    r"\?\s*$|^(?:who|what|what's|whats|which|how|how's|hows|is|are|has|have|did|does|do|any|anything|"
    r"anyone|anybody|where|when|eta|still)\b",
    re.IGNORECASE,
)
_STATUS_WORDS = re.compile(
    r"\b(?:status|progress|in\s+flight|running|pending|outstanding|done|finished|ready|booked|sent|"
    r"shipped|merged|live|updates?\s+on|any\s+updates?|news|eta|far\s+along|stuck|working\s+on|up\s+to|"
    r"busy|back\s+yet|back\s*$|yet|so\s+far|holdup|taking\s+so\s+long|catch\s+me\s+up|coming\s+along|"
    r"where\s+are\s+we|where's|wheres|where\s+is|how's|hows|any\s+word|heard\s+back|"
    r"still(?!\s+(?:ok|okay|fine|good|valid|right|correct|true|the\s+case|allowed|possible)\b)|"
    r"come\s+back|came\s+back|anything\s+back|doing\s+rn|doing\s+right\s+now|fail|failed|"
    r"waiting\s+on|blocked|getting\s+on|any\s+joy|any\s+luck|any\s+word|what(?:'s|’s|\s+is)\s+happening|"
    r"heard\s+nothing|not\s+heard|haven't\s+heard|how\s+far)\b",
    re.IGNORECASE,
)
_DONE_QUESTION = re.compile(
    r"^(?:is|are|has|have|did|was|were)\b(?!\s+(?:it|there)\s+(?:possible|a\s+way|ok|okay|worth|safe))"
    r".*\b(?:done|finished|ready|booked|sent|shipped|merged|live|back|complete|completed|out|over|"
    r"started|yet|fail|failed|through|in|turned\s+up|gone\s+anywhere|arrived|landed|renewed|approved|"
    r"sorted|fixed|ordered|paid|resolved|delivered|collected|signed|returned)"
    r"\s*[?!.]*$|"
    r"^(?:is|are|has|have|did)\b.{3,80}\bor\s+(?:is|are|was)\s+(?:it|they|he|she)\s+still\b|"
    r"^(?:so\s+)?did\s+(?:the|that|those|these|my|our|his|her|their)\s+[^?]{1,40}?\s+get\s+(?:[a-z]+ed|done|sent|"
    r"sorted|paid|made|fixed|sold|seen|taken)(?:\s+(?:up|off|out|back|in))?\s*[?!.]*$|"
    r"^(?:is|are)\b.*\b(?:fixed|sorted|repaired|done|ready|back|open)\s+or\s+(?:not|still|(?:are|is|do|have)\s+"
    r"(?:we|they|you)\s+still)\b|"
    r"^(?:is|are|has|have)\b[^?]{1,60}\bstill\s+(?:owing|outstanding|unpaid|overdue|in\s+arrears)\b|"
    # "did Mr Hussain get his voucher ok?", "is someone coming in for Jade or am I doing it"
    r"^(?:so\s+)?did\s+[^?]{1,40}?\s+(?:get|receive)\s+(?:his|her|their|the|my|our|its)\s+[^?]{1,40}?\s+"
    r"(?:ok|okay|alright|all\s+right|in\s+the\s+end)\s*[?!.]*$|"
    r"^(?:is|are)\s+(?:someone|somebody|anyone|anybody)\s+[^?]{3,60}?\bor\s+(?:am|are|do|should)\s+(?:i|we)\b"
    r"[^?]{0,30}$|"
    # "is the bandsaw cutting straight again?", "is the autoclave ok now"
    r"^(?:is|are)\s+(?:the|our|that|those|these|his|her|their)\s+[^?,]{1,40}?\s+(?:ok|okay|alright|fine|working|"
    r"running|cutting\s+straight|behaving)\s+(?:again|now)\s*[?!.]*$",
    re.IGNORECASE,
)
_ALL_OK = re.compile(
    r"^(?:is\s+|are\s+)?(?:everything|everyone|all|it\s+all)\s+(?:ok|okay|alright|all\s+right|good|fine|"
    r"going\s+(?:ok|okay|well|alright))(?:\s+(?:with|on)\s+(?:this|that|these|those|them|it)(?:\s+lot)?)?"
    r"(?:\s+(?:so\s+far|then))?$",
    re.IGNORECASE,
)
""" "everything ok with this lot?", asked: how the work is going ("all good", said, is thanks)."""
_DID_WE = re.compile(
    r"^(?:so\s+|and\s+)?(?:did|have|has)\s+(?:we|you|they|anyone|anybody|someone|somebody)\s+"
    r"(?:ever\s+|actually\s+|already\s+)?"
    # not "have we got any 205/55/16s in": what is in stock, asked
    r"(?:find|found|get|got(?!\s+(?:any|some|enough|more|plenty|spare|\d))|hear|heard|sort|sorted|"
    r"manage|managed|end\s+up|hire|hired|book|booked|"
    r"look(?:ed)?\s+(?:at|into)|deal(?:t)?\s+with|pick(?:ed)?\s+up|repl(?:y|ied)|call(?:ed)?|rung|chase(?:d)?)\b|"
    r"^(?:so\s+|and\s+)?did\s+(?:the|my|our|that|those|his|her|their)\s+[^?]{1,40}?\s+(?:ever\s+|finally\s+)?"
    r"(?:turn\s+up|arrive|come(?:\s+back)?|get\s+(?:fixed|sorted|sent|done|delivered|paid)|go\s+(?:out|live))\b|"
    r"^(?:so\s+|and\s+)?did\s+(?!(?:we|i|you)\b)(?:[\w'’-]+\s+){1,8}?(?:ever|finally|eventually|actually)\s+[a-z]|"
    r"^(?:so\s+|and\s+)?did\s+[^?]{3,80}\bin\s+the\s+end(?:\s+or\s+not)?$|"
    r"^(?:so\s+|and\s+)?did\s+(?!(?:we|i|you)\b)(?:[\w'’-]+\s+){1,3}?(?:ever\s+|finally\s+|actually\s+)?"
    r"(?:pay(?:\s+up)?|settle\s+up|reply|respond|ring\s+back|call\s+back|confirm|sign)(?:\s+(?:yet|in\s+the\s+end))?"
    r"\s*(?:[?!.]|$)|"
    r"^(?:so\s+|and\s+)?did\s+(?:the|that|those|this|these|my|our|his|her|their)\s+[^?]{1,40}?\s+go(?:\s+(?:out|off|through|in))?$|"
    r"^(?:so\s+|and\s+)?(?:has|have)\s+(?:anyone|anybody|someone|somebody|we|you|they)\s+(?:actually\s+|already\s+)?"
    r"(?:been\s+(?:to|round|out|over)|gone\s+(?:to|round|out)|got\s+back\s+to|spoken\s+to|rung|emailed|contacted)\b|"
    r"^(?:so\s+|and\s+)?(?:has|have)\s+(?!(?:i|we|you)\b)(?:[\w'’-]+\s+){1,3}?(?:actually\s+|already\s+|ever\s+)?"
    r"(?:got\s+back\s+to|heard\s+back|replied|spoken\s+to|rung|emailed|called|contacted)\b",
    re.IGNORECASE,
)
""" "did we ever find a new dame?", "did we find anyone to cover Mel?": what came of work."""
_NOT_HEARD = re.compile(
    r"^(?:still\s+)?(?:heard\s+nothing|not\s+heard(?:\s+anything|\s+a\s+thing)?|haven't\s+heard"
    r"(?:\s+anything|\s+a\s+thing)?|no\s+word)\s+(?:back\s+)?(?:yet\s+)?(?:from|about|on|re)\b",
    re.IGNORECASE,
)
""" "heard nothing back about the extra sailing, what's happening?": asks after work."""
_ASKS_AFTER = re.compile(
    r"^(?:so\s+|and\s+|ok\s+)?(?:what(?:'s|’s|\s+is)\s+the\s+(?:hold\s*-?\s*up|eta|latest)|any\s+eta|"
    r"when\s+(?:will|is|are|should|can\s+we\s+expect)\s+(?:[\w'’-]+\s+){1,6}?(?:be\s+)?(?:ready|done|"
    r"finished|back|live|out|in|fixed|sorted)|where\s+did\s+we\s+(?:land|get\s+to|end\s+up)|"
    r"are\s+we\s+(?:nearly|almost|close\s+to\s+being)\s+(?:there|done|finished|ready)|"
    r"are\s+we\s+(?:all\s+)?(?:set|ready|sorted|good\s+to\s+go)(?:\s+for\s+[^?,;]{1,40})?\s*(?:\?|$)|"
    r"how\s+long\s+(?:till|until|before)|where\s+are\s+we\s+(?:up\s+to\s+|at\s+)?with|"
    r"what\s+(?:happened|came\s+of|'s\s+happening|’s\s+happening|is\s+happening)\s+(?:with|about|re)\b|"
    r"(?:is|are|has|have)\b[^?]{0,60}\b(?:sorted|done|fixed|finished|ready|back|sent|booked|in|out)\s+yet|"
    r"(?:is|are)\s+(?!(?:it|there|this|that)\s+(?:possible|a\s+way|ok|okay|worth|safe)\b)(?:(?!\bto\b)[^?]){1,60}?"
    rf"\b(?:sorted|done|fixed|finished|ready|complete)(?:\s+now|\s+already)?"
    r"(?:\s+(?:for|on|in|at|with)\s+(?:[\w'’-]+\s+){0,4}?[\w'’-]+)?(?:\s+or\s+not)?"
    rf"[\s{_EMOJI}]*(?:\?|$)|"
    r"(?:is|are)\s+[^?]{1,60}?\s+(?:coming|arriving|turning\s+up|going\s+out|happening)\s+(?:today|tomorrow|tonight|"
    r"this\s+\w+|on\s+\w+|or\s+not)\b|"
    r"what(?:'s|’s|\s+has|\s+have)\s+(?:everyone|everybody|the\s+team|you\s+all|y'all|you\s+lot)\s+(?:got\s+on|"
    r"been\s+doing|doing|working\s+on|up\s+to)\b|"
    r"what(?:'s|’s|s|\s+is|\s+are)\s+(?:everyone|everybody|the\s+team|you\s+all|y'all|you\s+lot)\s+on"
    r"(?:\s+(?:this\s+(?:morning|afternoon|week)|today|now|right\s+now|rn|atm|at\s+the\s+moment))?\s*(?:\?|$)|"
    r"(?:have\s+(?:you|we)\s+)?heard\s+(?:anything|owt|much)\s+(?:back\s+)?(?:yet\s+)?(?:from|on|about|re)\b|"
    r"(?:(?:is|are)\s+)?(?:it|that|this|they|we|everything|you)?\s*all\s+(?:done|sorted|finished|complete|"
    r"wrapped\s+up)\s*(?:\?|$)|how(?:'re|’re|\s+are)\s+(?:we|you(?:\s+all|\s+guys)?|things)\s+doing\s+(?:on|with)\s+"
    r"(?:everything|it\s+all|the\s+lot|all\s+(?:of\s+)?(?:it|that|this|those|them|the\s+\w+)|that|this|those|"
    r"them|(?:my|our)\s+\w+)|"
    r"how(?:'s|’s|\s+is|\s+are)\s+(?:every(?:one|body)|the\s+team|we|you\s+all|things)\s+(?:doing|getting\s+on|"
    r"coming\s+along)\s+(?:on|with)\s+(?:the|my|our|that|this|those|these)\s+[^?,;]{1,40}\s*(?:\?|$)|"
    r"what\s+(?:did|has|have)\s+(?!(?:i|we|you)\b)[^?]{1,30}?\s+(?:come\s+up\s+with|produced?|delivered?|"
    r"turned\s+in|got\s+done|managed\s+to\s+do)\b|"
    r"(?:is|are)\s+(?:anyone|anybody|someone|somebody)\s+(?:actually\s+|already\s+)?(?:on|looking\s+at|dealing\s+with)\s+"
    r"[^?]{1,40}?(?:\s+or(?:\s+not)?)?\s*(?:\?|$)|what(?:'s|’s|\s+is)\s+happening\s+with\s+(?:the|my|our)\s+|"
    r"what\s+did\s+[^?]{1,30}?\s+say\b[^?]*\bin\s+the\s+end\b|"
    r"(?:is\s+)?everything\s+(?:on\s+track|going\s+to\s+plan|still\s+on|ok|okay|good)\s+for\s+[^?]{1,30}?\s*(?:\?|$))",
    re.IGNORECASE,
)
""" "what's the hold up with the copy?", "when will the fix be ready?", "what did the writer
come up with?": how work is going."""
_WHY_SO_LONG = re.compile(
    r"^(?:so\s+|and\s+|ok\s+)?(?:why|how\s+come)\s+(?:is|are|has|have)\s+[^?]{1,40}?\s+(?:taking\s+(?:so|this|"
    r"that)\s+long|still\s+not\s+(?:done|finished|ready|back)|not\s+(?:done|finished|ready|back)\s+yet)\b",
    re.IGNORECASE,
)
""" "why is the logo taking so long": a question about work in flight, with or without "?"."""
_STILL_OPEN = re.compile(
    r"^(?:so\s+|and\s+|ok\s+)?(?:is\s+there\s+|are\s+there\s+)?(?:anything|any\s+(?:jobs?|tasks?|work|"
    r"requests?)|much)\s+(?:else\s+)?(?:(?:from|since)\s+(?:this\s+\w+|today|yesterday|earlier|last\s+\w+)\s+)?"
    r"(?:still\s+)?(?:outstanding|pending|open|on\s+the\s+go|in\s+progress|hanging|stuck|"
    r"in\s+flight|waiting|running|left\s+(?:open|running|over\s+from|to\s+do)|unfinished|not\s+(?:yet\s+)?done)\b|"
    # "wots left to do today", "what's happening with everything?"
    r"^(?:so\s+|and\s+|ok\s+)?(?:what(?:'s|’s|s|\s+is)|wots?|wats?)\s+(?:still\s+)?left\s+to\s+(?:do|sort|chase)\b|"
    # "what's on everyone's plate at the moment", "what is everyone working on"
    r"^(?:so\s+|and\s+|ok\s+)?what(?:'s|’s|s|\s+is)\s+on\s+(?:every(?:one|body)(?:'s|’s)|people(?:'s|’s)|"
    r"the\s+team(?:'s|’s))\s+plates?\b|"
    r"^(?:so\s+|and\s+|ok\s+)?what(?:'s|’s|s|\s+is|\s+are)\s+(?:every(?:one|body)|people|the\s+team|you\s+all)\s+"
    r"(?:working\s+on|busy\s+with|doing)(?:\s+(?:right\s+now|now|at\s+the\s+moment|today))?\s*$|"
    r"^(?:so\s+|and\s+|ok\s+)?(?:what(?:'s|’s|s|\s+is)|wots?|wats?)\s+(?:on\s+the\s+go|in\s+progress|in\s+flight|"
    r"(?:going\s+on|happening)(?=\s+(?:right\s+now|now|at\s+the\s+moment|today|currently)))"
    r"(?:\s+(?:right\s+now|now|at\s+the\s+moment|today|currently))?\s*$|"
    r"^(?:so\s+|and\s+|ok\s+)?(?:what(?:'s|’s|s|\s+is)|wots?|wats?)\s+(?:happening|going\s+on)\s+with\s+"
    r"(?:everything|it\s+all|all\s+(?:of\s+)?(?:it|that|this|my\s+stuff|our\s+stuff)|my\s+(?:stuff|requests|jobs))\s*[?!.]*$",
    re.IGNORECASE,
)
""" "anything still outstanding from this morning's lot?", "anything from this morning still
hanging?", "anything left over from last week I need to chase?", "what's on everyone's
plate": the work in flight ("anything left over for the bake sale" is about things, not
work)."""
_ANYTHING_DONE = re.compile(
    r"^(?:so\s+|and\s+)?(?:has\s+|did\s+)?anything\s+(?:finish(?:ed)?|come\s+back|complete[d]?|land(?:ed)?|"
    r"(?:get|got|been)\s+done)\s+(?:overnight|today|yet|this\s+(?:morning|afternoon|week)|since\s+\w+|while\s+i\s+was\s+\w+)\b",
    re.IGNORECASE,
)
""" "anything finish overnight?": what came of the user's work."""
_UPDATE_ON = re.compile(
    r"^(?:(?:can\s+i|could\s+i|can\s+we)\s+(?:get|have)\s+)?(?:a\s+)?(?:quick\s+)?(?:update|status|progress|news)\s+"
    r"(?:on|re|about|with)\s+(?:all\s+(?:of\s+)?)?(?:this|that|these|those|it|everything|the\s+lot)\b",
    re.IGNORECASE,
)
""" "quick update on all this pls 🙏": how the work here is going."""
_PROGRESS = re.compile(
    r"^(?:so\s+|and\s+|ok\s+|sorry\s+)?(?:"
    r"(?:has|have)\s+[\w'’]+\s+(?:got|gotten|heard|come)\s+back\b|"
    r"did\s+[\w'’]+\s+(?:ever\s+)?(?:get|hear|come)\s+back\b|"
    r"where\s+(?:are|r)\s+we\s+(?:up\s+to|at)\s+(?:with|on)\b|"
    r"what(?:'s|’s|s|\s+has|\s+is)\s+(?:happened|happening|going\s+on)\s+(?:with|to|about|on)\b|"
    r"what(?:'s|’s|s|\s+is)\s+the\s+(?:latest|story|situation)\s+(?:on|with|re)\b|"
    r"how(?:'s|’s|s|\s+is|\s+are)\s+[^?]{1,60}?\blooking\b|"
    r"did\s+(?:all\s+)?(?:of\s+)?(?:the|that|those|this|these|my|our)\s+[^?]{1,50}?\s+get\s+"
    r"(?:done|sorted|finished|fixed|sent|booked|paid)\b|"
    r"(?:is|are|has|have)\s+(?:the|that|those|this|these|my|our|(?:(?:mr|mrs|ms|miss|dr)\.?\s+)?"
    r"[\w-]+(?:'s|’s))\s+[^?]{1,50}?\s+"
    r"(?:been\s+)?(?:fixed|done|sorted|finished|sent|booked|ready|paid|resolved)\b|"
    r"what\s+did\s+[^?]{1,40}?\s+say\b[^?]*\bin\s+the\s+end\b|"
    r"(?:any\s+)?updates?\s+on\s+(?:all\s+)?(?:the\s+)?[^?]{0,40}?\b(?:stuff|things?|jobs?|bits?)\b|"
    r"(?:did\s+|has\s+)?anything\s+(?:fall(?:en)?|go(?:ne)?|went|fell)\s+(?:over|wrong)\b|"
    r"(?:are\s+we\s+)?still\s+waiting\s+(?:on|for)\b|"
    r"where(?:'s|’s|s|\s+has|\s+is)\s+[\w'’]+\s+got\s+to\b"
    r")",
    re.IGNORECASE,
)
""" "has gary got back to the deli woman yet?", "what's the latest on the mixer?", "did all
the Marcus stuff get done?": in a thread with work, how that work is going."""
_WAITING_ON_ME = re.compile(
    r"\b(?:(?:anything|something|anyone|anybody|who|what)(?:'s|’s|\s+is)?\s+(?:\w+\s+)?"
    r"(?:stuck|waiting|held\s+up|blocked|hanging\s+on)|(?:are|is)\s+(?:you|they|\w+)\s+"
    r"(?:still\s+)?(?:waiting|stuck))\s+(?:on|for)\s+(?:(?:anything|something)\s+from\s+)?(?:me|us)\b|"
    r"\b(?:need|want)s?\s+anything\s+(?:else\s+)?from\s+(?:me|us)\b",
    re.IGNORECASE,
)
""" "is anything stuck waiting on me?": whether this thread waits on the user, asked even while
an agent's question is open (the status shows that question), never the answer to it."""
_FIRST_QUESTION = re.compile(r"[?!.]\s|,\s+(?=(?:do|should|shall)\s+(?:i|we)\b)", re.IGNORECASE)
"""Where the first of several questions ends: "where are we up to with the brushes, do I
leave them in the sale or pull them" asks how it stands, then what to do meanwhile."""
_HOW_IT_STANDS = re.compile(
    r"^(?:so\s+|and\s+|ok\s+|also\s+)?(?:"
    r"how(?:'s|’s|s|\s+is|\s+are)\s+[^?]{1,50}?\s+(?:coming(?:\s+(?:along|on))?|going|getting\s+on|"
    r"progressing|shaping\s+up)$|"
    r"how\s+far\s+(?:along|on)\s+(?:is|are)\b|"
    r"did\s+(?:the|that|this|our|my|his|her|their|[\w-]+(?:'s|’s))\s+[^?]{1,40}?\s+(?:ever\s+|actually\s+)?"
    r"(?:happen|go\s+ahead|take\s+place|come\s+off|get\s+(?:done|started|going|set\s+up|sorted))\b|"
    # "how did Gemma's fitting go", "how did the tasting go in the end"
    r"how\s+did\s+(?:the|that|this|our|my|his|her|their|[\w-]+(?:'s|’s))\s+[^?]{1,40}?\s+go\b|"
    r"(?:is|has)\s+(?:someone|somebody|anyone|anybody)\s+(?:actually\s+|still\s+|already\s+)?"
    r"(?:on|doing|started\s+on|looking\s+(?:at|into)|dealing\s+with|sorting)\b|"
    r"(?:is|are)\s+[^?]{1,50}?\s+(?:good\s+to\s+go|all\s+set|on\s+track|still\s+on|going\s+ahead|"
    r"under\s*way|in\s+hand)\b|"
    r"(?:is\s+|are\s+)?(?:everything|things|it\s+all|all)\s+(?:going\s+)?(?:ok|okay|alright|all\s+right|"
    r"well|fine|to\s+plan|on\s+track|good)$|"
    r"(?:has|have|did)\s+[\w'’-]+(?:\s+[\w'’-]+)?\s+(?:paid|settled)(?:\s+up)?\b"
    r")",
    re.IGNORECASE,
)
""" "hows the resurfacer repair coming", "did the Greenwood camera job happen?", "is someone
actually on the cowl or has it been forgotten about", "is the cafe good to go for the comp?",
"everything going ok?": in a thread with work, a question about how it stands."""
_ASKS_IF_NOT = re.compile(
    r"\bif\s+(?:not|so)\b|\botherwise\b|\b(?:can|could|would)\s+(?:you|u|someone|somebody)\b",
    re.IGNORECASE,
)
"""After a question about progress, work asked for all the same: not only a question."""
_WHY_FAILED = re.compile(
    r"^(?:so\s+|and\s+)?why(?:'s|’s|\s+is|\s+has|\s+did|\s+was|\s+have|\s+are|\s+were)\s+[^?]{1,60}?"
    r"\b(?:fail|failed|failing|stuck|blocked)\b|"
    r"^(?:so\s+|and\s+)?what(?:'s|’s|\s+has)?\s+(?:went|gone|going)\s+wrong(?:\s+(?:here|there|with\s+(?:it|this|that)))?$",
    re.IGNORECASE,
)
""" "why's the red tractor one showing as failed?": in a thread with failed work, about it."""
_AND_WHY = r"(?:\s*[,;.—–-].*)?$"
"""After what is stopped, why, to the end: "…, they paid the lot this morning"."""
_NO_LONGER = re.compile(
    r"^(?:actually\s+|so\s+)?(?:[\w'’-]+\s+){0,4}?(?:don'?t|doesn'?t|do\s+not|does\s+not)\s+need\s+"
    rf"(?P<what>(?!to\s)[^,;.]{{2,40}}?)\s+(?:any\s*more|any\s+longer|now){_AND_WHY}|"
    r"^(?:actually\s+|so\s+)?(?P<thing>[^,;.]{3,60}?)(?:'s|’s|\s+is|\s+are)\s+(?:no\s+longer|not)\s+"
    rf"(?:needed|required|happening|going\s+ahead)(?:\s+any\s*more)?{_AND_WHY}|"
    rf"^(?:just\s+)?sack\s+(?:off\s+(?P<off>[^,;.]{{2,60}})|(?P<sack>[^,;.]{{2,60}}?)\s+off){_AND_WHY}|"
    rf"^(?:actually\s+|so\s+|oh\s+)?(?:don'?t|do\s+not)\s+(?:bother|worry)\s+(?:with|about)\s+(?P<bother>[^,;.]{{2,60}}?){_AND_WHY}|"
    rf"^(?:actually\s+|so\s+|ok\s+|oh\s+)?(?:don'?t|do\s+not)\s+(?P<after>[a-z]+(?:\s+[^,;.]{{1,40}}?)?)\s+after\s+all{_AND_WHY}|"
    r"^(?:actually\s+|so\s+|ok\s+)?(?:can|could)\s+we\s+(?:just\s+)?(?:forget(?:\s+about)?|scrap|shelve|pause|"
    rf"put\s+on\s+hold)\s+(?P<forget>[^,;.]{{2,60}}?)(?:\s+(?:please|pls|for\s+now))*{_AND_WHY}|"
    rf"^(?:just\s+|actually\s+|ok\s+)?scratch\s+(?P<scratch>[^,;.]{{2,60}}?){_AND_WHY}",
    re.IGNORECASE | re.DOTALL,
)
""" "we don't need the copy anymore": in a thread, stop that work."""
_LEAVE_ALONE = re.compile(
    rf"^(?:you\s+can\s+|ok\s+|so\s+)?leave\s+(?P<what>[^,;.]{{2,40}}?)\s+(?:alone|be)(?:\s+now)?{_AND_WHY}",
    re.IGNORECASE | re.DOTALL,
)
""" "you can leave Marsh alone now, they paid": in a thread, stop chasing them."""
_PUT_OFF = re.compile(
    rf"^(?:actually\s+|ok\s+|so\s+|just\s+)?hold\s+(?:off|fire)\s+(?:on|with)\s+(?P<hold>[^,;.]{{2,60}}?){_AND_WHY}|"
    r"^(?:actually\s+|ok\s+|so\s+)?leave\s+(?P<leave>(?:the|that|those|this)\s+[\w'’-]+(?:\s+[\w'’-]+)?)\s*[,;.—–]\s*\w|"
    r"[,;.—–]\s*(?:so\s+)?(?:don'?t|no\s+need\s+to)\s+bother(?:\s+(?:then|now|after\s+all))?\s*[.!]*$|"
    r"^(?:(?:nah|no|actually|ok|okay|so)[,!.]?\s+)?leave\s+(?P<leaveit>it)(?:\s+(?:for\s+now|then))?"
    r"\s*(?:[,;.—–!]|$)|"
    r"^(?:actually\s+|ok\s+|so\s+)?leave\s+(?P<all>all\s+(?:of\s+)?(?:that|this|it|them)|everything|it\s+all)"
    r"(?:\s+for\s+now)?\s*(?:[,.;—–!]|$)|"
    rf"^(?:actually\s+|ok\s+|so\s+|can\s+we\s+|could\s+we\s+)?(?:park|pause|put\s+on\s+hold)\s+"
    rf"(?P<park>(?:the|that|this|those|these|it|them|all|everything|my|our)\b[^,;.]{{0,58}}?)"
    rf"(?:\s+(?:please|pls|for\s+now))*{_AND_WHY}|"
    r"^(?:actually\s+|ok\s+|so\s+)?hold\s+(?P<held>(?:the|that|this|those|these|all|everything)\b[^,;.]{0,50}?)"
    r"(?:\s+(?:please|pls|for\s+now))*\s*(?:[,;.—–]|\s+(?:until|till|til)\b|$)|"
    rf"^(?:actually\s+|ok\s+|so\s+)?(?:can|could)\s+we\s+(?:just\s+)?pull\s+(?P<pull>(?:the|that|this)\s+"
    rf"[^,;.]{{1,40}}?\s+(?:job|order|booking|run|ad|advert|post|listing|campaign)){_AND_WHY}|"
    r"^stop\b[\s!.,:—–-]+(?:(?:please|pls)\s+)?(?:don'?t|do\s+not)\s+(?P<halt>[a-z]+\b[^,;.!?]{0,50}?)"
    r"(?:\s+(?:yet|now))?\s*[!.]*$|"
    r"^(?:actually\s+|so\s+|ok\s+|oh\s+)?(?:don'?t|do\s+not)\s+(?:bother\s+)?(?:chase|chasing|ring|call|email|"
    r"send|book|order|post|pay)\s+(?P<dont>[^,;.]{2,40}?)(?:\s+(?:now|then|after\s+all|any\s*more))?\s*[,;.—–]\s*\S",
    re.IGNORECASE | re.DOTALL,
)
""" "hold off on the contractor, forecast's turned", "leave the heating, the engineer came",
"…, don't bother": in a thread, stop that work (the last, all of it)."""
_ASKS_AFTER_IT = re.compile(
    r"[,;.—–-]\s*(?:and\s+|so\s+|but\s+)?(?:(?:can|could|would|will)\s+(?:you|someone|somebody|we)\s+|"
    r"(?:please|pls)\s+)?(?:update|change|add|remove|write|draft|send|post|tell|let|make|fix|get|book|"
    r"put|set\s+up|take|move)\b",
    re.IGNORECASE,
)
""" "users don't need to verify any more, update the docs": work after the stop is asked for."""
_CAN_LEAVE_IT = re.compile(
    r"(?:^|[,;.—–-]\s*)(?P<who>[\w'’-]+(?:\s+[\w'’-]+)?\s+)?(?:can|could)\s+(?:just\s+)?leave\s+(?:it|that|this)"
    r"(?:\s+now|\s+there)?\s*$",
    re.IGNORECASE,
)
""" "…put it back up himself — Dave can leave it": Dave's work stops."""
_AS_BEFORE = re.compile(
    r"^(?:(?:pls|please|can\s+you|could\s+you)\s+)?(?:(?:do|did)\s+)?(?:the\s+)?same\s+(?:as|thing\s+as|again)\b|"
    r"^(?:it's|it’s|it\s+has|it|that's|that’s|this\s+has)\s+(?:happened|gone\s+wrong|broken|done\s+it|"
    r"started)\s+again\b|"
    r"^(?:(?:pls|please|can\s+you|could\s+you|can\s+we|could\s+we|can\s+someone)\s+)?"
    r"(?:do|sort|send|book|get|order)\s+(?:the|our|my)\s+usual"
    r"(?:\s+(?:for|with|on|please|pls|thanks)\b|\s*[,.!]|$)|"
    r"^(?:and\s+|so\s+|ok\s+)?what\s+about\s+(?:the\s+other\s+[\w-]+|it|that|this|them|those)$|"
    # "can you deal with the email I've just forwarded", "can we get the numbers": what is meant
    # is not in the message
    r"^(?:(?:pls|please|can\s+you|could\s+you|can\s+someone|could\s+someone)\s+)?(?:deal\s+with|look\s+at|"
    r"sort|handle|action|reply\s+to|answer)\s+(?:the|that|this)\s+(?:email|e-mail|message|letter|attachment|file|"
    r"doc|document)\s+(?:i'?ve|i\s+have|i)\s+(?:just\s+)?(?:forwarded|sent|attached|shared|passed\s+on)"
    r"(?:\s+(?:you|on|over|across))?$|"
    r"^(?:can|could)\s+(?:we|you|i|someone)\s+(?:get|have|see)\s+(?:the|those)\s+(?:numbers|figures|details|info|"
    r"stuff)(?:\s+(?:please|pls|asap|today|now))?$|"
    # "the thing we talked about yesterday, can you crack on with it": which thing is not said
    r"^(?:(?:pls|please|can\s+you|could\s+you|can\s+someone)\s+)?(?:\w+\s+(?:on|with)\s+)?"
    r"(?:the|that)\s+(?:thing|stuff|job|matter|idea|one)\s+(?:we|i|you)\s+"
    r"(?:talked|spoke|chatted|discussed|mentioned|said)(?:\s+about)?"
    r"(?:\s+(?:yesterday|earlier|before|last\s+\w+|this\s+morning|the\s+other\s+day|on\s+\w+day))?"
    r"(?:[\s,.;—–-]+(?:(?:can|could|would)\s+(?:you|u|someone)\s+)?(?:please\s+)?"
    r"(?:crack\s+on\s+with|get\s+on\s+with|get\s+going\s+on|start\s+on|make\s+a\s+start\s+on|do|sort|"
    r"deal\s+with|handle|look\s+at)\s+(?:it|that)(?:\s+(?:now|today|please|pls))?)?$",
    re.IGNORECASE,
)
""" "same as we did for Elm Row last month pls", "it's happened again on the same route":
with nothing before it in the thread, what to do is not said."""
_FRAGMENT = re.compile(r"^(?:the|that|this|my|our)?\s*[\w'’-]+(?:\s+one)?$", re.IGNORECASE)
""" "the drawings", "Riverside", "the boiler one": a thing, and nothing asked of it."""
_HOW_FAR = re.compile(
    r"^(?:so\s+|and\s+)?how\s+far\s+(?:along\s+)?(?:has|have|is|are|did)\b", re.IGNORECASE
)
""" "how far has the box office got with ringing round?": how work is going."""
_WHAT_CAME_OF = (_DID_WE, _HOW_FAR, _NOT_HEARD, _ASKS_AFTER)
"""The ways of asking what came of work, tried together."""
_ANY_OF_YOU_DO = re.compile(
    r"^(?:so\s+)?(?:can|could|do|does)\s+(?:any\s+(?:one\s+)?of\s+you(?:\s+(?:lot|guys|all))?|"
    r"(?:anyone|anybody)\s+(?:on\s+)?here)\s+(?:do|handle|help\s+with|deal\s+with|cover|sort(?:\s+out)?|"
    r"look\s+after)\s+(?P<what>[^?]+?)(?:\s+or\s+(?:do|shall|should|will)\s+(?:i|we)\b[^?]*)?(?:\?.*)?$|"
    r"^(?:so\s+)?(?:can|could|do)\s+you(?:\s+(?:lot|guys|all))?\s+(?:do|handle|deal\s+with|cover|sort(?:\s+out)?|"
    r"look\s+after)\s+(?P<mine>[^?]+?)\s+or\s+(?:do|shall|should|must)\s+(?:i|we)\b[^?]*(?:my|our)sel(?:f|ves)\b",
    re.IGNORECASE | re.DOTALL,
)
""" "can any of you do travel jabs or do I just send them to the GP": who can, not a job."""
_WHOSE_IS_IT = re.compile(
    r"^(?:so\s+)?(?:who(?:'s|’s|\s+is)\s+(?:the\s+|our\s+)?(?:person|one|team|people|bot|agent|go-to|expert)\s+"
    r"(?:for|to\s+ask\s+about|on)\s+(?P<what>[^?]+?)(?:\s+(?:a?round|in)\s+here|\s+here)?|"
    r"(?:is\s+there|have\s+we\s+got)\s+(?:anyone|someone|somebody|anybody|an\s+agent)\s+(?:here\s+)?(?:who|that)\s+"
    r"(?:picks\s+up|does|handles|deals\s+with|looks\s+after|covers|sorts(?:\s+out)?|takes\s+care\s+of)\s+(?P<job>[^?]+?)|"
    r"(?:can|could|do|does)\s+(?:the\s+)?(?:bots?|agents?|this\s+(?:thing|bot)|dispatch)\s+(?:do|handle|help\s+with|"
    r"deal\s+with|cover|sort(?:\s+out)?|look\s+after)\s+(?P<can>[^?]+?)(?:\s+or\s+[^?]*)?|"
    r"(?:can|could|do)\s+you(?:\s+lot|\s+guys)?\s+(?:help\s+with|do|handle|deal\s+with|cover)\s+(?P<other>[^?]+?)\s+or\s+"
    r"is\s+(?:that|it)\s+(?:someone|somebody)\s+else(?:'s|’s)?(?:\s+(?:job|thing))?)\s*\??$",
    re.IGNORECASE,
)
""" "who's the person for off-piste stuff round here?", "is there anyone who picks up
complaints …?", "can the bots do the rota or is that still a human job": whose it is."""
_WHAT_CAN_YOU_DO = re.compile(
    r"^(?:(?:so|ok|okay|hi|hey|sorry|quick\s+q(?:uestion)?)\b[\s,!.:—–-]*)?what\s+(?:else\s+|sort\s+of\s+"
    r"(?:things|stuff)\s+|kind\s+of\s+(?:things|stuff)\s+)?(?:can|could|do|does)\s+(?:you|u|y'?all|"
    r"you\s+(?:lot|guys|all|two|bots|agents)|the\s+(?:bots?|agents?|team)|your\s+(?:bots?|agents?|team)|"
    r"this\s+(?:bot|thing)|dispatch)\s+(?:actually\s+|even\s+|really\s+|all\s+)?(?:do|help\s+(?:me\s+|us\s+)?"
    r"with|handle|cover)(?:\s+(?:here|exactly|then|for\s+(?:me|us)))?\s*(?:[?!.,;—–-]+\s*(?P<rest>.*))?$",
    re.IGNORECASE | re.DOTALL,
)
""" "what can you lot actually do? first week here": what the team does, asked by someone
new, with at most a few words about themselves after it (`_NEW_HERE`)."""
_NEW_HERE = re.compile(
    r"^(?:(?:i'?m|i\s+am|im)\s+(?:new|a\s+new\s+\w+|the\s+new\s+\w+)|new\s+here|new\s+(?:starter|joiner)|"
    r"(?:it'?s\s+)?(?:my\s+)?first\s+(?:day|week|shift)(?:\s+here)?|just\s+(?:started|joined))\b",
    re.IGNORECASE,
)
_WHO_TO_TALK_TO = re.compile(
    r"^(?:(?:so|quick\s+(?:q|question))\b\s*[—–,:-]*\s*)?(?:who|which\s+(?:team|one|agent|department|"
    r"desk|person))(?:'d|’d|\s+would|\s+do|\s+should|\s+can)\s+"
    r"(?:i|we)\s+(?:talk|speak|go|ask|write|tell|contact|ring|call|email|message|ping|nudge|see)\s+"
    r"(?:to\s+)?(?:about|re|regarding|if|when|for)\s+(?P<what>.+)$|"
    # "who would I ask to put some fish aside for a customer?", "who keeps an eye on the autoclave"
    r"^(?:so\s+)?who(?:'d|’d|\s+would|\s+do|\s+should|\s+can)\s+(?:i|we)\s+(?:ask|get)\s+to\s+(?P<todo>.+)$|"
    r"^(?:so\s+)?who\s+(?:keeps\s+an\s+eye\s+on|keeps\s+on\s+top\s+of|is\s+on\s+top\s+of)\s+(?P<kept>.+)$|"
    r"^(?:so\s+)?who(?:'s|’s|\s+is|\s+would\s+be)\s+(?:best|the\s+(?:best|right)\s+(?:person|one|team))\s+to\s+"
    r"(?:pass|send|give|forward|take|hand)\s+(?P<passed>.+?)\s+to(?:[,\s]+(?:generally|usually|normally|in\s+general))?$|"
    # "who's the best person for wedding stuff?", "who's the right one to ask about lashes"
    r"^(?:so\s+)?who(?:'s|’s|\s+is|\s+would\s+be)\s+(?:the\s+)?(?:best|right)\s+(?:person|one|team)\s+"
    r"(?:for|to\s+(?:ask|talk\s+to|speak\s+to|go\s+to)\s+(?:about|for|re))\s+(?P<about>[^,;.!?]{2,60}?)"
    r"(?:\s+(?:here|then|please|pls))?\s*[?!.]*$",
    re.IGNORECASE,
)
""" "who'd I talk to about getting a bus stop moved?": the roster, about that."""
_WHO_IS = re.compile(
    r"^(?:(?:remind\s+me|tell\s+me|sorry|so|um|erm)\b[\s,:—–-]*)*who(?:'s|’s|\s+is|\s+are)?\s+"
    r"(?P<who>[\w'’&-]+(?:\s+[\w'’&-]+)?)(?:\s+is|\s+are)?(?:\s+(?:again|exactly|then|on\s+here))*"
    r"(?:\s+when\s+(?:he|she|they)(?:'s|’s|'re|’re|\s+is|\s+are)\s+at\s+home|\s*,?\s+and\s+what\s+(?:does|do)\s+"
    r"(?:he|she|they|it)\s+do)?\s*[?!.]*$",
    re.IGNORECASE,
)
""" "remind me who jess is again", "who's Megan and what does she do?": who an agent is,
when it names one."""
_GONE_DOWN = re.compile(
    r"\b(?:is|are|was|were|went|gone|'s|’s)\s+(?:down|offline|not\s+loading|erroring|failing)\b|"
    r"\berrors?\b|\bcrash\w*",
    re.IGNORECASE,
)
""" "the login page is down again": something wrong, said in everyday words."""
_GREETING_CHAT = re.compile(
    r"^(?:(?:good\s+)?(?:morning|afternoon|evening)|hi|hello|hey|hiya|bonjour|hola|ciao|salut|buongiorno|"
    r"happy\s+(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|weekend))"
    rf"(?:\s+(?:all|team|everyone|everybody|folks|guys|dispatch|tout\s+le\s+monde)\b|[\s,!.]*[{_EMOJI}])"
    rf"[\s,!.{_EMOJI}\u200d\ufe0f]*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
""" "morning all, grim out there today 🌧️": a greeting and small talk, nothing asked."""
_HOWS_EVERYONE = re.compile(
    rf"(?:^|[.!?,{_EMOJI}\u200d\ufe0f]\s*)how(?:'s|’s|\s+is|\s+are)\s+(?:every(?:one|body)(?:'s|’s)?|you\s+all|y'all|we\s+all)"
    r"(?:\s+(?:morning|day|week|weekend|afternoon|evening|shift)|\s+doing)?(?:\s+going)?"
    rf"[\s?!.{_EMOJI}\u200d\ufe0f]*$",
    re.IGNORECASE,
)
""" "pow day!! ❄️ how's everyone's morning": small talk, nothing asked of anyone."""
_WHO_HANDLES_THAT = re.compile(
    r"^(?:if\s+(?:i|we)\s+(?:want|need|have)\s+to\s+)?(?P<what>[^?]{6,}?)\s*[,;:—–-]+\s*(?:so\s+)?who\s+"
    r"(?:handles|deals\s+with|looks\s+after|covers|takes\s+care\s+of|(?:do|should)\s+(?:i|we)\s+(?:ask|talk\s+to|"
    r"speak\s+to|tell|go\s+to))(?:\s+(?:that|this|it|those|about\s+(?:that|this|it)))?\s*$",
    re.IGNORECASE,
)
""" "if I want to report a near miss on the car deck, who handles that?": who does it."""
_WHOS_WHO = re.compile(
    r"^(?:(?:hi|hello|hey|hiya)\b[\s,!.]*)?what\s+(?:can|does)\s+(?:this(?:\s+(?:thing|bot))?|it|you)\s+"
    r"(?:actually\s+|really\s+|even\s+|exactly\s+)?do\b|"
    r"^(?:so\s+)?what(?:'s|’s|\s+is)\s+(?:this|the)\s+(?:bot|thing|channel|app)\s+(?:actually\s+|even\s+|really\s+)?"
    r"(?:for|about)\b|^(?:so\s+|um\s+|erm\s+|sorry\s+)?how\s+does\s+this\s+(?:thing\s+)?work\s*(?:[?!.]|$|,\s*(?:do|can|"
    r"should)\s+i\b)|^what\s+(?:happens\s+)?if\s+(?:i|we)\s+(?:ask|need|want)\s+(?:for\s+)?(?:something|anything)\s+"
    r"(?:none\s+of\s+you|nobody\s+here|no\s*-?one\s+here|you\s+(?:can'?t|don'?t|cannot))\b|"
    r"\b(?:rundown|run-down|overview|breakdown|list)\s+of\s+(?:who(?:'s|’s|\s+is)\s+(?:on\s+)?(?:the\s+team|here|"
    r"on\s+here)|the\s+team\b(?!\s*(?:'s|’s)))|"
    r"[,.?!]\s*what\s+(?:can|does)\s+(?:this(?:\s+(?:thing|bot))?|it|you)\s+(?:actually\s+|really\s+|even\s+)?do$|"
    r"\bwho\s+am\s+i\s+(?:talking|speaking|chatting)\s+(?:to|with)\b|"
    r"^(?:(?:hi|hello|hey|hiya|sorry|so|ok|um|erm)\b[\s,!.]*)*what\s+(?:(?:exactly\s+)?are\s+you|is\s+this\s+(?:bot|thing))"
    r"(?:\s+exactly)?\s*(?:[,?]|$)|"
    r"^(?:(?:hi|hello|hey|hiya)\b[\s,!.]*)*(?:is\s+this|are\s+you)\s+(?:the\s+|a\s+)?(?:new\s+)?(?:[\w-]+\s+){0,2}?"
    r"(?:bot|helper|assistant|thing|dispatcher|ai)$|"
    r"\bwho(?:'s|’s|\s+is)\s+who\b|\bwho\s+does\s+what\b|\bhow\s+does\s+(?:this|the)\s+(?:bot|thing|channel)\s+work\b|"
    r"\bwho(?:'s|’s|\s+is)\s+on\s+(?:here|this\s+(?:channel|bot|thing)|the\s+(?:channel|bot))\b|"
    r"^(?:so\s+)?what(?:'s|’s|\s+is|\s+are)\s+(?:this(?:\s+(?:thing|bot|app))?|you)\s*(?:\?\s*)?(?:and|,)\s*"
    r"what\s+(?:can|does|do)\s+(?:it|this|you)\s+do\b|"
    # "remind me who's on the team again", "what sort of things can I send in here?",
    # "good morning! first day here, how does this work?", "what is this bot thing anyway?"
    r"\bwho(?:'s|’s|\s+is|\s+are)\s+(?:all\s+)?(?:on|in)\s+the\s+team(?:\s+(?:again|here|now))?\s*[?!.]*$|"
    r"^(?:so\s+)?what\s+(?:sorts?|kinds?|types?)\s+of\s+(?:things?|stuff|requests?|jobs?|questions?)\s+"
    r"(?:can|do|should|could)\s+(?:i|we)\s+(?:send|ask|put|post|bring|drop|throw)\b|"
    r"[,.!?]\s*how\s+does\s+this\s+(?:thing\s+|bot\s+)?work\s*[?!.]*$|"
    r"^(?:so\s+)?what(?:'s|’s|\s+is)\s+this(?:\s+(?:thing|bot))?\s*[?,]?\s*(?:and\s+)?how\s+do\s+(?:i|we|you)\s+use\s+"
    r"(?:it|this|you)\s*[?!.]*$|"
    r"^what(?:'s|’s|\s+is)\s+this\s+(?:bot|thing|ai)(?:\s+(?:thing|exactly|anyway|then|about))*\s*[?!.]*$|"
    # "does the cafe have someone on here or do I just ring debbie"
    r"^(?:so\s+)?(?:does|do|is)\s+(?:the\s+)?[\w'’-]+(?:\s+[\w'’-]+)?\s+(?:have|got|get)\s+(?:someone|anyone|an?\s+"
    r"(?:agent|bot))\s+(?:on\s+here|in\s+here|here)\b",
    re.IGNORECASE,
)
""" "first day here, who's who?", "what is this thing and what can it do?": the roster."""
_HOW_GOING = re.compile(
    r"^(?:so\s+|and\s+|ok\s+)?(?:how's|hows|how\s+is|how\s+are|how're)\s+(?:[\w'’]+\s+){0,9}?"
    r"(?:going|getting\s+on|coming\s+along|progressing|looking|doing)(?:\s+(?:with|for)\s+[^?]{1,40})?"
    r"\s*[?!.]*$|"
    r"^(?:so\s+)?how\s+long(?:'s|’s|\s+is|\s+will)\s+(?:this|it|that)\s+(?:gonna|going\s+to)?\s*"
    r"(?:be|take)\b",
    re.IGNORECASE,
)
""" "how's everything I sent over this morning getting on?": how work is going."""
_OR_NOT = re.compile(
    r"^(?:so\s+|and\s+)?(?:is|are|has|have)\s+(?P<who>(?:[\w'’]+\s+){1,3}?)(?:still\s+)?"
    r"(?:[a-z]+ing|done|sorted|finished|on)\b[^?]{0,60}?\bor\s+(?:not|what)\s*[?!.]*$",
    re.IGNORECASE,
)
""" "is dee sorting saturday or not": whether someone's work is under way, asked of its
agent by name (the name decides: "is the dryer working or not" is no one's work)."""
_CAN_BE_DONE = re.compile(
    r"\b(?:anything|something|nothing|what)\b[^?]{0,30}\bbe\s+done\b", re.IGNORECASE
)
""" "can anything be done about his grade?": asks for work, not how work is going."""
_WHAT_DOES = re.compile(
    r"^what\s+(?:does|do|can)\s+(?:the\s+)?(?P<name>@?[\w-]+(?:\s+[\w-]+)??)"
    r"(?P<kind>\s+(?:team|one|lot|people|desk|agent))?\s+(?:actually\s+|exactly\s+|really\s+)?"
    r"(?:cover|do|handle|look\s+after|deal\s+with|know\s+about|take\s+care\s+of|"
    r"help(?:\s+(?:me|us|you|people))?\s+with\s*\??$)\b",
    re.IGNORECASE,
)
""" "what does Hazel actually cover?", "what does the party team do?": a question about the
team."""
_HERE_DONE = re.compile(
    r"^(?:so\s+|and\s+)?(?:did\s+(?:that|it|this|they|she|he|those|these)\s+(?:\w+\s+){0,2}?(?:go|get|arrive|land|"
    r"take|work|happen|come|turn|reach|pay|sign|reply|answer|accept|like|love|agree)\b[^?]{0,20}|"
    r"(?:is|are|has)?\s*[\w'’-]+\s+(?:nearly\s+|almost\s+)?(?:done|finished|ready)(?:\s+yet)?(?=\s*(?:[?,.!]|$))|"
    r"(?:are|is)\s+we\s+[^?]{1,40}?\s+(?:today|tonight|tomorrow|this\s+\w+)\s+or\s+not|"
    # "is the Corbridge larch priced up yet?", "payroll sorted Tom's mileage yet?"
    # (not "they haven't paid yet": news for the agent)
    r"(?!.*\b(?:can|could|please|pls|not|no)\b|.*n['’]?t\b)(?!(?:they|we|he|she|i|you)\b)"
    r"[^?,.!]{2,60}?\b(?:\w+ed|done|sent|paid|gone|sorted|back|in|out|up)"
    r"(?:\s+[^?,.!]{1,30}?)?\s+yet(?=\s*(?:[?]|$))|"
    r"did\s+(?:the|that|this|our|my|his|her|their)\s+[^?]{1,40}?\s+go\s+(?:in|out|through|off)\b[^?]{0,20}|"
    r"did\s+we\s+(?:get|win|make)\b[^?]{0,30}|who\s+did\s+we\s+(?:get|book|find|end\s+up\s+with)\b[^?]{0,20}|"
    r"(?:what\s+(?:happened|went\s+wrong)\s+(?:there|here|with\s+[^?]{1,30})|what\s+happened)\s*$)",
    re.IGNORECASE,
)
""" "did that go up?", "did she take it?", "priya done yet?", "are we opening 1888 today or
not": in a thread, what came of its work."""
_ANY_NEWS = re.compile(
    r"^(?:so\s+)?(?:any|anything)\s+(?:word|joy|news|luck|update|updates|progress|movement|"
    r"feedback|reply|response|back)\s+(?:yet\s+)?(?:from|on|back|about|with|re)\b|"
    # "update on mrs reid pls", "can I get an update on the boiler": not "update on insta
    # that we're shut monday", which is a post
    r"^(?:(?:a\s+|quick\s+|a\s+quick\s+)?update|(?:can|could)\s+(?:i|we)\s+(?:get|have)\s+"
    r"(?:an?\s+)?(?:quick\s+)?update)\s+on\s+(?![^,;:.!?]*\b(?:that|saying|about|to\s+say)\b)"
    r"[^,;:.!?]{2,40}?(?:\s+(?:pls|please|plz|thx|thanks|when\s+you\s+can))?\s*[?!.]*$|"
    r"^(?:so\s+)?any\s+(?:luck|joy)\s+(?:yet\s+)?(?:finding|getting|sorting|tracking\s+down|booking|reaching|"
    r"hearing|chasing|fixing)\b|"
    # "anything from raj on the pixel move?", "any blockers I should know about?", "anything I
    # need to know about from today?"
    r"^(?:so\s+)?anything\s+(?:yet\s+|back\s+)?from\s+[\w'’]+(?:\s+[\w'’]+)?\s+(?:on|about|re)\b|"
    r"^(?:so\s+)?(?:anything|any\s+(?:blockers|problems|issues|dramas|fires))\s+(?:i|we)\s+"
    r"(?:need|should|ought|have)\s+to\s+know\b|"
    r"^(?:so\s+)?any\s+(?:blockers|problems|issues|dramas|fires)\s+(?:i|we)\s+should\s+know\b|"
    # "anything still hanging from last week I should know about?", "where've we got to with
    # this morning's stuff"
    r"^(?:so\s+)?anything\s+(?:[\w'’]+\s+){1,6}?(?:i|we)\s+(?:need\s+to|should|ought\s+to|have\s+to)\s+"
    r"know\b|^(?:so\s+)?where(?:'ve|’ve|\s+have)\s+we\s+got\s+to\b",
    re.IGNORECASE,
)
"""“any joy from the plant yard on the excavator?”: always a question about work in flight."""
_WHERE_IS = re.compile(
    r"^(?:so\s+)?where(?:'s|’s|s|\s+is|\s+are|\s+we\s+at)\s+(?:my|our|the|that|this|we|with)\b|"
    r"^(?:so\s+)?what(?:'s|’s|s|\s+is)\s+the\s+(?:state\s+of\s+play|latest|score)\b|"
    # "newsletter sent yet?", "cliffe and sons paid up yet or what": done yet, asked
    r"^(?!.*\b(?:can|could|please|pls|need|needs|want|wants|still\s+need)\b)[^,;:?]{2,60}?\s"
    r"(?:\w+ed|done|sent|paid|gone|back|ready|sorted|in|out|through|live|up)\s+(?:up\s+)?yet"
    r"(?:\s+or\s+(?:what|not))?\s*[?!.]*$",
    re.IGNORECASE,
)
_ROSTER_CUE = re.compile(
    r"\b(?:agents?|your\s+team|the\s+team\s+(?:can|do)|on\s+the\s+team|roster|anyone|anybody|"
    r"someone|somebody|any\s+of\s+you|who(?:'s|’s)\s+(?:in\s+charge|responsible|best)|"
    r"who\s+(?:sorts|fixes|books|arranges|organises|organizes)|"
    r"who\s+(?:here\s+)?(?:can|could|does|do|handles?|"
    r"knows?|covers?|should|is\s+good|'s\s+good|is\s+best|is\s+available|is\s+free|is\s+on|"
    r"deals?\s+with|looks?\s+after|takes?\s+care|is\s+in\s+charge|is\s+responsible)|"
    r"(?:is\s+there|do\s+you\s+have|have\s+you\s+got)\s+(?:a|an|any)\s+(?:team|agent|person|bot|"
    r"specialist|expert)|which\s+(?:agent|one|bot|team|department)|you|your|yourself|y'?all|available|skills?|"
    r"capabilit\w*|good\s+(?:at|with)|"
    r"options|introduce|help|what\s+(?:can|does|do)\s+every(?:one|body))\b",
    re.IGNORECASE,
)
_NEEDS_WHO = re.compile(
    r"^(?:(?:no|nope|actually|sorry)\b[,.!\s]*)*(?:(?:this|that)(?:\s+one)?|it|she|he|they)\s+"
    r"needs?\s+(?:an?\s+|the\s+)?(?P<who>[\w'’-]+(?:\s+[\w'’-]+)?)",
    re.IGNORECASE,
)
""" "actually that one needs ruth, …", "no she needs an optom looking at her": who should have
it, when what follows "needs" names an agent."""
_SEE_FIRST = re.compile(
    r"(?P<a>\S+)\s+should\s+(?:see|look\s+at|check)\s+(?:this|it|that|her|him|them)\b|"
    r"(?:can|could)\s+(?P<b>\S+)\s+(?:see|look\s+at|check)\s+(?:this|it|that|her|him|them)\s+first\b|"
    r"\b(?:i|we)\s+want\s+(?P<c>\S+)\s+to\s+(?:look|see|check|handle|take)\b[^.?!]*\bfirst\b|"
    r"^(?:no[,.!]?\s+)?(?:this|that)(?:\s+one)?(?:'s|’s)\s+(?P<d>[\w-]+)(?=\s*[,;—–])",
    re.IGNORECASE,
)
""" "Anna should see this", "can Kath see her first", "I want Lisa to look into it first", "no
this one's adoptions, …": the work moves, when the word there names another agent."""
_REROUTE_CUE = re.compile(
    r"\b(?:wrong\s+(?:one|agent|person|bot|team|place|desk|lot|people|department)|"
    r"should\s+(?:really\s+|probably\s+|actually\s+)?(?:go\s+to|be\s+for|have\s+gone\s+to)|"
    # "no that's Dave's, stage look after the pianos": whose it is, then who should have it
    r"^(?:no[,.!]?\s+)?(?:that's|that’s|thats|that\s+is|(?:that|this)\s+one(?:'s|’s|\s+is))\s+"
    r"[\w-]+(?:'s|’s)(?=\s*[,;—–])|"
    # "nah marco only buys the stuff, the fridge itself is tilly's": whose it is, said last
    r"(?<=[,;—–]\s)(?:[\w'’-]+\s+){1,4}?(?:is|are)\s+[\w-]+(?:'s|’s)\s*[.!]*$|"
    r"(?:can|could|should)\s+(?:that|this|it)(?:\s+one)?\s+go\s+(?:to|over\s+to)\b|"
    r"^(?:no[,.!]?\s+)?(?:that's|that’s|that\s+is|this\s+is)\s+(?:the\s+|a\s+)?[\w\s'’-]{2,30}?\s+"
    r"(?:lot|team|people|desk|guys|department)\b(?=\s*[,;.—–-])|"
    r"should\s+be\s+(?:(?:the|a|an)\s+)?\S+(?:'s|’s|\s+(?:job|one|thing|task|question))\b|"
    r"should(?:'ve|’ve)\s+gone\s+to|reassign(?:\s+(?:it|this|that))?(?:\s+over)?\s+to|not\s+you\b|"
    r"(?:needs|has|ought|wants)\s+to\s+go\s+(?:to|over\s+to)|"
    r"(?:'s|is|was)\s+(?:more\s+of\s+|really\s+|actually\s+)?(?:a|an|for)\s+(?:the\s+)?\S+(?:\s+(?:&|and)\s+\S+|\s+\S+)?\s+(?:job|thing|task|one|question)|"
    r"(?:'s|’s|is)\s+(?:better|best)\s+(?:for|suited\s+to)\b(?!\s+(?:her|him|them|me|us|you|everyone)\b)|"
    r"(?:'s|’s|is)\s+(?:more\s+|really\s+|probably\s+)?one\s+for|"
    # not "send it to the head chef when it's done": where the finished work goes
    r"(?:give|send|pass|hand|move|route|reassign|assign)\s+(?:it|this|that)(?:\s+one)?(?:\s+over)?\s+to"
    r"(?![^,.;]*\b(?:when|once|after)\s+(?:it'?s|it’s|it\s+is|that'?s|you'?ve|you\s+have|you'?re)\b)|"
    # not "100 should do it", "that should do it": enough, said of an answer
    r"(?<!\d\s)(?<!\bthat\s)(?<!\bthis\s)(?<!\bwhich\s)(?<!^)"
    r"should\s+(?:do|take|handle|own|have|get)\s+(?:this|it|that)|does\s+(?:those|these|that|them)|not\s+me|"
    # not "it's for her sister's birthday": what it is for, not whose it is
    r"\bmeant\s+(?:that|this|it)(?:\s+one)?\s+(?:for|to\s+go\s+to)\b|"
    r"(?:this|that|it)(?:\s+one)?(?:'s|’s|\s+is|\s+was)\s+(?:for|meant\s+for)"
    r"(?!\s+(?:her|his|my|their|your|an?|some)\b)|"
    r"(?:can|could)\s+\S+(?:'s|’s)?(?:\s+(?:lot|team|people|desk|guys))?\s+(?:do|take|handle|write|have|"
    r"own|reply\s+to|answer|deal\s+with)\s+(?:this|that|it)(?:\s+one)?\b(?!\s+(?:too|as\s+well|also))|"
    r"not\s+(?:an?\s+)?\S+\s+(?:job|thing|task|question)|get\s+(?:the\s+)?\S+\s+on\s+(?:it|this)|"
    r"not\s+(?:one|a\s+job)\s+for|(?:'s|’s|is|was|are|were|\bthats)\s+(?:the\s+)?\S+(?:'s|’s)\s+(?:job|thing|area|call|remit|lot|team|patch|department|desk)|"
    r"(?<!\bwe\s)(?<!\bi\s)(?<!\byou\s)(?<!\bthey\s)(?<!['’])\b(?!(?:we|i|you|they|no|he|she|it|just|also|still|really|this|that|which)\b)\w+\s+(?:need|needs)\s+to\s+(?:actually\s+)?"
    r"(?!know\b|hear\b|see\b|be\s+(?:told|aware|informed|after|before|by|on|at|in)\b)\w+|"
    r"(?:this|it|that)\s+needs\s+(?:the|a|an)\s+(?:[\w'’-]+\s+)?(?:team|lot|gang|crew|people|desk|department|"
    r"guys|folks|person|bod|expert|specialist|pro|\w+(?:ician|ist))\b|"
    # (a plural's "s", not the one of "his": "the district nurse does his insulin" is news)
    r"\S+\s+(?:handles|does|deals\s+with|looks\s+after|covers)\s+(?:those|these|that|them|all\s+the|"
    r"(?!(?:his|hers|its|ours|yours|theirs|this|us|as|is|was|has)\b)\w+s)\b|"
    r"whoever\s+(?:does|handles|deals\s+with|looks\s+after|covers|sorts|is\s+on)|"
    r"^(?:no|nah|nope)\b[,.!\s]+(?:the\s+)?\S+(?:\s+\S+)?\s+(?:does|do|handles?|deals?\s+with|looks?\s+after|"
    r"covers?|sorts?)\s+(?:the|our|all)\b|"
    r"(?:it's|it’s|it\s+is|that's|that’s)\s+(?:the\s+)?\S+(?:\s+\S+)?\s+(?:people|team|lot|desk|department|guys)\s+(?:who|that)\b|"
    # "no it's a checkout problem, …": whose kind of problem it is, said against the guess
    r"^(?:no|nah|nope)\b[,.!\s]*(?:it's|it’s|its|it\s+is|that's|that’s|thats)\s+(?:an?\s+)?[\w-]+(?:\s+[\w-]+)?\s+(?:problem|issue)\b)\b",
    re.IGNORECASE,
)
_ASK_TO_TAKE = re.compile(
    r"\b(?:get|have|let|ask)\s+(?P<who>(?!(?:me|us|them|him|her|it|you|u|everyone|someone|somebody)\b)"
    r"[\w'’-]+)\s+(?:to\s+)?(?:answer|take|do|handle|field|deal\s+with)\s+(?:that|this|it)"
    r"(?!\s+(?:one\s+)?(?:too|as\s+well|also)\b)",
    re.IGNORECASE,
)
""" "nah get Chidi to answer that one": someone not on the thread to take what is here (a move;
"have Writer take this one", said where the writer works, is not)."""
_CUE_WORDS = frozenset(
    "wrong one agent person bot team place desk should go to be for have gone should've reassign "
    "it this that over not you needs need has ought is was are were a an the 's job thing task "
    "question one give send pass hand move route assign do take handle own get does those these "
    "them me meant can could lot people guys on area call remit handles deals with looks after "
    "covers actually it's that's this's let ask answer field problem issue nah nope no its thats".split()
)
"""The words of a correction's cue; what is left of it says what the work is."""
_NEGATED = re.compile(
    r"\b(?:not|isn't|isn’t|wasn't|wasn’t|instead\s+of|rather\s+than|nothing\s+to\s+do\s+with)\s+(?:for\s+)?(?:an?\s+|the\s+)?[\w-]+"
    r"(?:\s+(?!(?:and|but|or|so|it|it's|because|as)\b)[\w-]+)?(?:\s+(?:job|thing|task|one|question))?",
    re.IGNORECASE,
)
_NOT_THEIRS = re.compile(
    r"\b[\w-]+(?:\s+[\w-]+)?(?=\s+(?:doesn't|doesn’t|don't|don’t|does\s+not|do\s+not)\s+(?:do|handle|deal\s+with|"
    r"cover|set|sort|look\s+after|take)\b|"
    # "the web shop's got nothing to do with that"
    r"(?:'s|’s|\s+has|\s+have|\s+is|\s+are)?(?:\s+got)?\s+nothing\s+to\s+do\s+with\b)",
    re.IGNORECASE,
)
""" "HR don't do swaps, Bev does", "the web shop's got nothing to do with that": who it is
not for."""
_HANDED_ON = re.compile(
    rf"(?:[—–,;.!{_EMOJI}]\s*|\s-\s)(?:(?:this\s+is\s+|that's\s+|that’s\s+|it's\s+|it’s\s+)?one\s+for\s+[^,;.]{{2,30}}|"
    r"whoever\s+(?:does|handles|deals\s+with|looks\s+after|covers|sorts)\s+[^,;.]{2,30}|"
    r"[^,;.—–]{2,30}?\s+(?:need|needs)\s+(?:it|this|that)|(?:that's|that’s|that\s+is)\s+[\w-]+(?:'s|’s)?)"
    r"(?:\s+please|\s+pls)?\s*[.!]*$",
    re.IGNORECASE,
)
""" "…, one for Dan", "…. whoever does welfare help", "… — the control room need it": the
work handed on at the end of a correction, however long what comes before it."""
_PASS_IT = re.compile(
    r"\b(?:send|pass|give|hand|move|forward|put)\s+(?:it|this|that|them|this\s+one|that\s+one)"
    r"(?:\s+(?:over|back|on|across))?\s+to\b",
    re.IGNORECASE,
)
"""The verb that hands work on: an agent whose name is "send" is not meant by it."""
_NO_LEAD = r"(?:(?:no+|nope|actually|wait|sorry|hang\s+on|hold\s+on)\b[,.!\s]*)"
_MOVED_TO = re.compile(
    rf"^{_NO_LEAD}+(?:(?:get|ask)\s+(?P<asked>[^,;.]{{1,30}}?)\s+to|(?:have|let)\s+(?P<had>[^,;.]{{1,30}}?)\s+"
    r"(?:do|take|sort|handle|look|deal))\s+[a-z]+|"
    rf"(?:^|[,;—–]\s*){_NO_LEAD}*(?:that's|that’s|thats|that\s+is)\s+(?:the\s+)?(?P<theirs>[\w'’-]+(?:\s+[\w'’-]+)?)"
    r"(?:'s|’s)?(?:\s+(?:really|actually|job|one|thing))*\s*(?:[,;—–.!]|$)|"
    rf"^{_NO_LEAD}*(?:the\s+)?(?P<doing>[\w'’-]+)(?:'s|’s|\s+is)\s+(?:doing|taking|handling|got|on|dealing\s+with)\s+"
    r"(?:this|that|it)\b|"
    rf"^{_NO_LEAD}*(?:the\s+)?(?P<did>[\w'’-]+)\s+(?:did|does|handles|handled|has\s+done)\s+(?:that|this|it|those)\b|"
    rf"^{_NO_LEAD}*(?:the\s+)?(?P<wants>[\w'’-]+)\s+wants\s+to\s+(?:handle|do|take|deal\s+with|sort)\b|"
    r"(?:'s|’s|\s+is)\s+(?:the\s+)?(?P<job>[\w'’-]+\s+(?:lot|team|people|crew|desk))(?:'s|’s)\s+(?:job|thing|area|call)\b",
    re.IGNORECASE,
)
"""A correction by who should have it, named: "no, get Hannah to book it in first", "that's
accounts, the card readers are theirs", "ivy's doing this one", "rosa did that one",
"graham wants to handle it himself", "the van's the deliveries lot's job"."""
_THING_NEEDS_TO = re.compile(
    r"(?P<who>[\w'’-]+)\s+(?:need|needs)\s+to\s+(?:actually\s+)?(?!(?:go|be|move|pass|head)\b)\w+",
    re.I,
)
_PEOPLE_WORD = re.compile(
    r"(?:someone|somebody|he|she|they|team|lot|people|office|desk|department|crew|gang|guys|folks|"
    r"staff|person|manager|lead|boss|\w+(?:er|or|ist|ian)s?)",
    re.IGNORECASE,
)
"""Who "… needs to …" may be said of, when no agent is named: a person or a team."""
_REROUTE_WEAK = re.compile(
    r"\b(?:instead|should\s+be\b|not\s+(?:for\s+)?(?:the\s+)?\S+\s*[.!]*$)|"
    r"\b(?:that|this|it)(?:'s|’s|\s+is)\s+not\s+(?:a|an|for)\b|"
    r"\b(?:this|that|it)\s+(?:isn't|isn’t|wasn't|wasn’t)\s+(?:for|a|an)\b|^(?:no[,.!]?\s+)?not\s+\S|"
    r"[,;]\s*not\s+(?:the|a|an|for)\s+[\w-]+\s*(?:[—–,;]|\s-\s)|"
    r"(?:^|[—–,;]\s*|\s-\s)(?:this\s+is\s+|that's\s+|that’s\s+)?one\s+for\b|"
    r"(?:that's|that’s|it's|it’s|that\s+is)\s+[\w-]+(?:'s|’s)\s*[.!]*$|"
    rf"(?:[—–,;.!{_EMOJI}]\s*|\s-\s)(?:that's|that’s|that\s+is)\s+[\w-]+\s*[.!]*$|"
    r"(?:that's|that’s|thats)\s+(?:the\s+)?[\w-]+(?:\s+(?:lot|team|people|desk))?\s*[.!]*$|"
    r"\b(?:need|needs|should\s+have|should\s+get)\s+(?:it|this|that)\s*[.!]*$|^nothing\s+to\s+do\s+with\b",
    re.IGNORECASE,
)
"""A correction only when it names someone: "this should be Tax", not "the tone should be
playful"."""
_ROSTER_TARGET = re.compile(
    r"(?:someone|somebody|anyone|anybody|who(?:'s|’s|\s+is)?|one\s+of\s+you|which\s+(?:agent|one|bot)(?:'s|’s|\s+is)?)"
    r"\s+(?:here\s+)?(?:that's\s+|who's\s+|who\s+is\s+|that\s+is\s+)?(?:really\s+|any\s+)?"
    r"(?:good|great|best|handy|experienced)\s+(?:with|at|for)\s+(?P<a>.+)|"
    r"(?:who|which\s+(?:agent|one|bot|team|department|person)|which\s+(?:one\s+)?of\s+you(?:\s+lot|\s+guys)?|anyone|anybody|someone|somebody|"
    r"any\s+of\s+you)(?:\s+here)?(?:\s+|(?=['’]s\b))"
    r"(?:can|could|handles?|does|do|knows?(?:\s+about)?(?!\s+(?:an?|how|what|where|when|why|if|whether|of)\b)|covers?|is\s+(?:good|best)\s+(?:at|with|for)|"
    r"(?:sorts|fixes|books|arranges|organi[sz]es)(?:\s+(?:it|this|that|them))?(?:\s+out)?(?:\s+(?:when|if))?|"
    r"deals?\s+with|looks?\s+after|takes?\s+care\s+of|(?:is|['’]s)\s+(?:in\s+charge\s+of|responsible\s+for)|"
    r"should\s+i\s+ask\s+(?:about|for)|for)\s+(?:do\s+|help\s+(?:me\s+)?with\s+|handle\s+|take\s+)?(?P<b>.+)|"
    r"(?:an?\s+agent|someone|somebody|anyone|anybody)\s+(?:here\s+)?(?:for|(?:that|who)\s+(?:can\s+|could\s+)?"
    r"(?:do|does|deals?\s+with|handles?|knows?(?:\s+about)?|covers?|looks?\s+after|takes?\s+care\s+of|owns?))\s+(?P<c>.+)|"
    r"right\s+(?:agent|person|one)\s+for\s+(?P<d>.+)|"
    r"(?:is\s+there|do\s+you\s+have|have\s+you\s+got|have\s+we\s+got|do\s+we\s+have)\s+(?:a|an|any)\s+"
    r"(?:team|agent|person|one|bot|specialist|expert)\s+(?:here\s+)?(?:for|that\s+(?:does|handles|covers)|"
    r"who\s+(?:does|handles|covers|knows)|"
    r"(?:(?:that|who)\s+)?(?:i|we)\s+(?:should\s+)?(?:talk|speak|go|turn)\s+to\s+(?:about|for|re|regarding))"
    r"\s+(?P<e>.+)|"
    r"(?:is\s+there|have\s+we\s+got|do\s+we\s+have)\s+(?:someone|somebody|anyone|anybody)\s+(?:on\s+here\s+|"
    r"here\s+|in\s+here\s+)?(?:who|that)\s+(?:can|could|does|knows?(?:\s+about)?|handles?|deals\s+with|"
    r"helps?\s+(?:people|customers|folk|me|us)?\s*with)\s+"
    r"(?:help\s+(?:me\s+|us\s+)?with\s+|do\s+)?(?P<f>.+)",
    re.IGNORECASE,
)
_NEW_TO_THIS = re.compile(
    r"^(?:(?:hi|hello|hey|hiya|morning|sorry|um+|so|ok)\b[\s,!.]*)*"
    r"(?:(?:(?:i'?m|i\s+am)\s+)?(?:new(?:\s+here)?|new\s+to\s+(?:this|dispatch)|"
    r"what(?:\s+is|'s|’s)\s+this(?:\s+(?:thing|bot|channel)(?:\s+for)?(?:\s+exactly)?)?|"
    r"(?:my\s+)?first\s+time\s+(?:using|on|trying|with)\s+(?:this|you|it|dispatch|here)|"
    r"just\s+(?:testing|trying\s+(?:this|it|you)\s+out)|not\s+sure\s+how\s+(?:this|it|you)\s+works?|"
    r"how\s+(?:does|do)\s+(?:this|it|you)\s+work|how\s+do\s+i\s+use\s+(?:this|you|it)|"
    r"what\s+(?:do|can)\s+i\s+(?:do|ask)\s+(?:here|you))(?:[\s,!.?;:—–-]|\s+and\s+)*){1,4}$",
    re.IGNORECASE,
)
""" "hello! first time using this, not sure how it works": a newcomer; the roster is the pointer."""
_GREETING = re.compile(
    r"^(?:hi|hello|hey|yo|hiya|howdy|good\s+(?:morning|afternoon|evening)|thanks|thank\s+you|thx|ty|"
    r"cheers|cool|ok|okay|alright|(?:you\s+)?alright\s+(?:mate|all|lads)|nice|great|awesome|perfect|got\s+it|sounds\s+good|lol|help|\?|"
    r"(?:good\s+)?(?:morning|afternoon|evening)(?=\s+(?:all|team|everyone|folks|guys)|[\s!.]*$|\s*\W))"
    r"(?:[\s,]+(?:there|all|team|everyone|folks|guys|so\s+much|a\s+lot|again|dispatch|thanks|thank\s+you|"
    r"great|cool|nice|perfect|lovely|brilliant|awesome|cheers|ta|thx|!+))*"
    rf"[\s!.{_EMOJI}]*$",
    re.IGNORECASE,
)
_HOPE_WELL = (
    r"hope\s+(?:you|everyone|everybody|y'all|you\s+all)(?:\s+all)?(?:'re|\s+are|\s+had|\s+have|"
    r"\s+(?:are\s+)?doing)\s+(?:a\s+)?(?:well|good|great|nice|lovely|ok)(?:\s+\w+)?"
)
_SMALL_TALK = re.compile(
    r"^(?:(?:just\s+)?(?:a\s+)?test(?:ing)?(?:\s+\d+)*|brb|afk|gtg|ttyl|ping|"
    r"how(?:'s|’s|\s+is)\s+your\s+(?:day|morning|week|weekend)(?:\s+going)?(?:,?\s+bot)?|"
    r"how\s+are\s+(?:you|things)(?:\s+doing)?(?:\s+today)?(?:,?\s+bot)?|"
    r"(?:(?:good\s+)?morning|afternoon|evening|hi|hello|hey)(?:\s+(?:all|everyone|everybody|team|folks))?"
    rf"(?:[,!.]*\s+{_HOPE_WELL})?|{_HOPE_WELL})[\s!.]*$",
    re.IGNORECASE,
)
"""Trying the bot out, or a pleasantry: "testing", "brb", "morning all, hope you had a good
weekend". The pointer, not work."""
_LEAVING = (
    r"(?:(?:good\s*)?night(?:\s+night)?|nite|bye(?:\s+bye)?|cya|ta[\s-]?ra|cheerio|"
    r"see\s+(?:you|ya|u)(?:\s+(?:all|tomorrow|tmrw|later|soon|next\s+week|on\s+\w+|\w+day))?|"
    r"(?:i'?m\s+|we'?re\s+)?(?:locking\s+up|off\s+home|heading\s+(?:off|home)|"
    r"(?:logging|signing|clocking)\s+off|off\s+(?:now|for\s+the\s+(?:day|night|weekend))|"
    r"off\s+(?:til|till|until)\s+\w+)|"
    r"that'?s\s+me(?:\s+done)?(?:\s+for\s+(?:the\s+day|today|tonight|the\s+week))?|"
    r"have\s+a\s+(?:good|great|nice|lovely)\s+(?:one|night|evening|weekend))"
    r"(?:\s+(?:all|everyone|everybody|team|folks|guys|then|now|x+))*"
)
_SIGN_OFF = re.compile(
    rf"^{_LEAVING}(?:[\s,.!;—–-]+{_LEAVING})*[\s!.{_EMOJI}\u200d\ufe0f]*$", re.IGNORECASE
)
"""Leaving for the day: "night all, locking up 🔑", "that's me done, see you monday". Said to
the room, not asked of anyone: the pointer, not work."""
_PRAISE_THEN = re.compile(
    r"^(?:perfect|great|nice|cool|ok|okay|awesome|lovely|brilliant|good|thanks|cheers|sweet)[,!.]*\s+"
    r"(?:now\s+)?(?!(?:thanks|thank|cheers|again|so|a\s+lot|mate|team|all|everyone|guys|work|job|stuff|one|"
    r"news|thing|you|ty|thx)\b)[a-z]+\s+\S",
    re.IGNORECASE,
)
"""Praise, then an instruction: in a thread with work, "perfect, ship it" is not chit-chat."""
_INSTRUCTS = re.compile(
    r"\b(?:should|must|needs?|make|use|keep|add|change|remove|swap|switch|include|mention)\b", re.I
)
"""In a thread with work, "the tone should be playful" says how to do it: not chit-chat."""
_ACKNOWLEDGED = re.compile(
    r"^(?:(?:ok(?:ay)?|great|cool|nice|perfect|lovely|brilliant|thanks|cheers|right|sure)\b[,!.]*\s*)+"
    r"(?:(?:and|also|so|then|now)\b[,]?\s*)*",
    re.IGNORECASE,
)
_HAVE_SOMEONE = re.compile(
    r"^have\s+(?:someone|somebody|one\s+of\s+(?:you|them|the\s+\w+))\s+", re.I
)
_PARTICIPLE = re.compile(
    rf"^(?:{PAST_PARTICIPLES}|\w+en|begun|drawn|all|both|already|finished|started)\b",
    re.IGNORECASE,
)
"""What follows "have X" in a question about work done: "have design sent …", "… finished"."""
_ASKED = re.compile(rf"\?[\s{_EMOJI}\u200d\ufe0f]*$")
"""A question mark last, emoji aside: "all done? 🙏"."""
_TEAMS_HERE = re.compile(
    r"^(?:(?:can|could)\s+(?:u|you)\s+)?(?:list|show)\s+(?:me\s+)?(?:the\s+|all\s+(?:the\s+)?)?"
    r"(?:teams?|agents?|departments?|desks?)\b|"
    r"\b(?:what|which)\s+(?:teams?|agents?|departments?|desks?|bots?)\s+(?:are\s+(?:there\s+)?(?:on|in)\s+"
    r"(?:here|this)|are\s+there|do\s+(?:you|we)\s+have|have\s+(?:you|we)\s+got|(?:can|could|do|should)\s+"
    r"(?:i|we)\s+(?:ask|use|talk\s+to|go\s+to|message))\b|"
    r"\bwho\s+am\s+i\s+(?:actually|even|really)\s+(?:talking|speaking|chatting)\s+(?:to|with)\b|"
    r"^what\s+(?:sorts?|kinds?|types?)\s+of\s+(?:stuff|things|work|jobs|tasks|requests)\s+(?:can|could|do)\s+"
    r"(?:you|u|you\s+lot|you\s+guys|y'all|your\s+team|the\s+team|this(?:\s+thing|\s+bot)?)\s+(?:do|handle|help\s+with|"
    r"take\s+on|deal\s+with|cover)\b|"
    r"\b(?:is\s+this|are\s+you|r\s+u|are\s+u)\s+(?:a\s+|an\s+)?(?:real\s+person|human|robot|bot|ai|person)\b"
    r"[\s?!.]*$|"
    # "first day volunteering in the office 😊 who do i talk to about what": new, asking who's who
    r"\bfirst\s+(?:time|day|week)\b.{0,60}?\bwho\s+(?:do|should|can)\s+i\s+(?:talk|speak|go)\s+to\b|"
    r"\bfirst\s+(?:time|day|week)\b[^?]{0,50}?[,.!]\s*what(?:\s+is|'s|’s)\s+(?:it|this)"
    r"(?:\s+(?:thing|bot|app))?(?:\s+exactly)?$|"
    rf"^(?:good\s+)?(?:morning|afternoon|evening)\s+from\s+(?:the\s+)?[\w\s'’-]{{1,30}}[\s{_EMOJI}\u200d\ufe0f]*$",
    re.IGNORECASE,
)
""" "can u list the teams on here", "what teams can I ask stuff to?", "first time using this,
what is it?", "good morning from the night shift": the roster, or the pointer to it."""
_ANYONE_FOR = re.compile(
    r"^(?:(?:remind\s+me|tell\s+me|(?:do\s+)?(?:you|u)\s+know|any\s+idea)\s*[,:—–-]?\s*who\s+"
    r"(?:deals\s+with|handles|does|looks\s+after|covers|sorts(?:\s+out)?|takes\s+care\s+of|is\s+in\s+"
    r"charge\s+of)\s+|"
    r"(?:so\s+)?(?:is\s+there|have\s+we\s+got|do\s+we\s+have|have\s+you\s+got|do\s+you\s+have)\s+"
    r"(?:someone|somebody|anyone|anybody|(?:something|anything)(?=\s+(?:on\s+here\s+|here\s+)?that\s))"
    r"\s+(?:on\s+here\s+|here\s+)?(?:for\s+|(?:that|who)\s+(?:does|do|"
    r"handles?|deals?\s+with|covers?|looks?\s+after|sorts?(?:\s+out)?|knows?\s+about|can\s+(?:do|help\s+"
    r"with))\s+))(?:(?:the|a|an|our)\s+)?(?P<what>[^?]+?)(?:\s+or\s+(?:do|shall|should|will|must|can|is|"
    r"are)\s+(?:i|we|it|that|this|they)\b[^?]*)?(?:\?.*)?$",
    re.IGNORECASE | re.DOTALL,
)
""" "remind me who deals with chasing unpaid bills", "have we got anyone that deals with
DVSA stuff?", "is there someone on here for the sailing school bookings or do I still ring
Mike": who does it, not a job."""
_ONLY_EMOJI = re.compile(rf"^[\s!.?,{_EMOJI}\u200d\ufe0f]+$")
"""👍, 🙏🙏: an acknowledgement, nothing to do, even in a thread with work."""
_THANKS = re.compile(
    r"^(?:(?:brilliant|great|amazing|perfect|lovely|fab|ace|legend|nice\s+one|top)[\s,!.]+)?"
    r"(?:thanks|thank\s+you|thx|ty|cheers|ta|much\s+appreciated)\b(?![^?]*\b(?:but|though|however|can|"
    r"could|would|please|pls|need|needs|also|wrong|broken|still|not|isn't|doesn't|didn't|won't|again|"
    r"just)\b)[^?]*$",
    re.IGNORECASE,
)
""" "thanks Saffron, that's brilliant 🙏": thanks and praise, nothing asked."""
_SAYS_HELLO = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|yo|morning|good\s+(?:morning|afternoon|evening))\b[\s,!.]*", re.I
)
"""A greeting before the message: it asks nothing itself."""
_ONLY_ADDRESSES = frozenset("ask tell ping get have send pass hand over loop".split())
"""Words that only say who a message is for: with nothing else, nothing is asked."""
_WHEN = frozenset("start starts starting begin begins immediately straight away".split())
"""With words of time only, "…, start asap": when the piece before is to happen, not what."""
_VAGUE_WORDS = frozenset(
    """do does did doing done handle handling sort sorted fix fixing redo make made making take
    care deal dealing dealt look looking check checking work working finish get got improve better
    clean update change tweak help something anything thing things stuff one same again before
    like last time usual it this that these those them the a an please pls can could would you
    someone somebody anyone just out up into at on with for of to my our your me us thanks it's
    that's what whatever needed need needs attention happen quick quickly asap now today bit
    little more some lot all everything way properly right again soon ok okay going go client
    customer customers clients boss manager sees see seen weekend sorting needs team they them their he she him her we i i'm we're it's
    yesterday earlier previous other recent latest usual regular both either
    monday tuesday wednesday thursday friday saturday sunday tomorrow tonight eod eow week
    month quarter year morning afternoon later next asap urgent urgently discussed talked end
    day cob close noon midday lunch lunchtime any chance possible possibly mind eyes eye
    glance but and or so also too hmm hm um erm another really
    mentioned broken broke hates hate wrong bad works again issue problem job task project
    request version idea deal something sth somethin stuff by as in from until till than not
    isn't doesn't don't won't can't wont cant isnt doesnt dont have has when whenever you're
    thing's stuff's complaining complains complained moaning unhappy upset annoyed angry
    resident residents caller guest guests tenant user users is are was were been being
    o'clock oclock hour hours am pm ahead about ring call dm sos whoever chase chasing chased
    move moved moving arrive arrives sec secs second minute mo moment chance will its fixed
    meeting meetings standup convo here there
    mr mrs ms miss dr bloke guy lady woman man fella chap
    email emails message messages says said give put back rid send ugh how swap changing instead
    she's he's they're happy still be price quote rung rang phoned u ur spoke spoken speak
    chatted talk agreed know knew remember kicking off asking asked they've doable new
    lot""".split()
)
_NO_SKILL = _VAGUE_WORDS - {"price", "quote"}
"""The vague words that name no skill when asked who has it: "price" and "quote" are vague
as work ("get a price on it"), a skill in "who can price a job up?"."""
_SHOW_ME = frozenset(
    """show list give tell me my mine our i we need should know about from today blockers
    problems issues morning's today's yesterday's week's got""".split()
)
"""Words that say who asks and what kind of answer, not what about: "anything I need to
know about from today?" is about everything."""
_QUESTION_WORDS = frozenset("what what's whats who how how's hows where where's wheres why".split())


def _matter(said: str) -> list[str]:
    """The words of a status question, its status words already taken out, that name what it
    is about: none in "what's in flight?" or "anything still waiting on me?"."""
    return [w for w in words(said) if w not in _VAGUE_WORDS and w not in _QUESTION_WORDS]


_POINTS_BACK = re.compile(r"\b(?:this|it|that|they|them|he|she|him|her|his|its|it's|it’s)\b", re.I)
""" "how long's this gonna be?": about the work the thread already has."""
_BY_WHEN = re.compile(
    r"\s+(?:before|by|until|till|ahead\s+of)\s+(?:the\s+|this\s+|our\s+)?[\w'’ ]{1,40}$", re.I
)
""" "sort it before the school run": when it is wanted says nothing of what it is."""
_SENT_HERE = re.compile(
    r"^(?:[\w'’]+\s+){1,3}(?:said|says|told\s+me)\s+(?:i\s+should\s+|to\s+)(?:ask|come|post|"
    r"message|try)\s+(?:on\s+|in\s+)?(?:here|you|this)\b[\s!.]*$",
    re.IGNORECASE,
)
""" "gary said to ask on here": sent here, and nothing asked yet."""


@dataclass
class PartFigures:
    text: str
    top: list[tuple[str, float, str]]
    chose: str
    why: str


@dataclass
class Explanation:
    intent: Intent | None = None
    rule: str | None = None
    parts: list[PartFigures] = field(default_factory=list)
    steered: bool = False
    """The message also spoke to Dispatch's own instructions (taken out before planning)."""

    def confidence(self) -> float:
        """The least sure part decides: 1 for parts addressed by name; for parts matched by
        meaning, how far the winner clears the bar and leads the runner-up."""
        sure = 1.0
        for part in self.parts:
            if not part.top:
                continue
            top = part.top[0][1]
            second = part.top[1][1] if len(part.top) > 1 else 0.0
            clears = min(max((top - FIT) / 0.1 + 0.5, 0.0), 1.0)
            if part.chose == CATCH_ALL_ID:
                clears = min(max((FIT - top) / 0.1 + 0.5, 0.0), 1.0)
            leads = min(max((top - second) / 0.06, 0.0), 1.0)
            sure = min(sure, clears if part.chose == CATCH_ALL_ID else min(clears, leads))
        return round(sure, 3)

    def as_dict(self) -> dict[str, Any]:
        return {
            "intent": (
                {
                    "name": self.intent.name,
                    "score": self.intent.score,
                    "margin": self.intent.margin,
                    "nearest_example": self.intent.nearest,
                    "scores": self.intent.scores,
                }
                if self.intent
                else None
            ),
            "rule": self.rule,
            "parts": [
                {
                    "text": p.text,
                    "top": [{"agent": a, "score": s, "closest": c} for a, s, c in p.top],
                    "chose": p.chose,
                    "why": p.why,
                }
                for p in self.parts
            ],
        }


_PRONOUNS = frozenset({"it", "them", "that", "this", "those", "these", "they", "their"})
_SOMEONE_SAID = frozenset({"him", "her", "his", "he", "she", "he's", "she's"})
"""Who the piece before, a few words with no verb, was about: "kid with a nut allergy at the
party, can we do him a …"."""
_THEY_SAID = frozenset({"he'd", "she'd", "he'll", "she'll", "they", "them", "their", "i", "we"})
"""A piece before that says who itself: then "him" or "her" after it is not its subject."""
_ASKS_ABOUT_IT = re.compile(
    r"^(?:so\s+)?(?:can|could|would|will)\s+(?:we|you|u|someone|somebody|anyone)\b"
    r"(?!.*\b(?:also|too|as\s+well)\b)",
    re.IGNORECASE,
)
""" "interviews for the junior stylist job, can we get some dates in": the ask is about the
few words before it, which say no more than what."""
_CONTEXT_CLAUSE = re.compile(
    # "I need a blog post about the launch" is an ask of its own, not more of the one before
    r"^(?!(?:i|we)\s+(?:also\s+|really\s+|still\s+|urgently\s+)?(?:need|want|'d\s+like|would\s+like)\s+"
    r"(?:a|an|some|someone|somebody|new|more|the)\b)"
    r"(?:i|i'm|im|i've|we|we're|we've|they|they're|she|she's|he|he's|it's|its|that's|thats|"
    r"which|who|because|since|so|but|unrelated|no\s+rush|thanks|urgent|like|e\.?g|i\.?e|for\s+example|"
    r"due|by|before|until|asap|maybe|ideally|preferably|something|nothing|no|not|only|just|"
    r"even|especially|esp|including|incl|mostly|mainly|apart\s+from|except|always|usually|"
    r"often|sometimes|every\s+time|each\s+time|both\s+(?:at|in|on|for)|"
    r"needs?|has\s+to|have\s+to|should|must|last\s+time|previously|apparently|as\s+usual)\b",
    re.IGNORECASE,
)
_GOES_ON_SAYING = re.compile(
    r"^(?:or\s+)?(?:whether|can't|can’t|cannot|won't|won’t|doesn't|doesn’t|didn't|didn’t|isn't|"
    r"isn’t|wasn't|wasn’t|hasn't|hasn’t|keeps|kept|never)\b",
    re.IGNORECASE,
)
""" "he's in a powerchair and can't manage the stairs", "what it will cost and whether she can
spread it": the same sentence going on, with its subject or its question."""
_WITH_LIST = re.compile(r"\b(?:with|plus|including|incl)\s+[^,;.]+$", re.IGNORECASE)
_WITH_GOING_ON = re.compile(r"\b(?:with|plus|including|incl)\s+[^;.]*,[^;.]*$", re.IGNORECASE)
""" "her birthday in screen 2 with 20 kids, party food and a film": what comes with it."""
_WHY = re.compile(r"\bwhy\W*$", re.I)
_ONWARD = re.compile(
    r"^(?P<verb>tweet|post|share|publish|announce|translate|proofread|upload|print)\s+"
    r"(?:it|them|that|those)\b(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
""" "…, and publish it": where the thing the step before makes goes, which says nothing of
whose it is until "it" is that thing ("publish the blog post" is the writer's)."""
_PUBLISH_IT = re.compile(
    r"\b(?:post|share|publish|announce|tweet|put|get|stick|pop)\s+(?:it|them|this|that|these|those)\s+"
    r"(?:up\s+)?(?:on|onto|out\s+on|in|into)\s+(?:the\s+|our\s+)?(?:website|web\s*site|site|insta\w*|"
    r"facebook|fb|twitter|socials?|social\s+media|linkedin|tiktok|newsletter|blog)\b(?:\s+and\s+"
    r"(?:on\s+)?(?:the\s+|our\s+)?\w+)?",
    re.IGNORECASE,
)
"""An ask to put a thread's finished work out where people see it."""
_THING_BACK = re.compile(
    r"\b(?:it|its|it's|it’s|this|that|these|those|them|they|they're|they’re|the\s+same|same|again|"
    r"instead|also|too|as\s+well|more|another|other|else|one|ones|redo|change|tweak|update|add|remove|"
    r"fix|gone\s+(?:up|down)|(?:has|have|'s|’s)\s+(?:changed|moved)|now\s*[.!]*$)\b",
    re.IGNORECASE,
)
"""Words that tie a message in a thread to what is there already ("make it blue", "add a
line about parking", "another one for Friday", "numbers have gone up to 18 now"): more of
the thread's work."""
_ANSWERS_THREAD = re.compile(
    r"^(?:<@\w+>|@\w+|\W)*(?:and|plus|oh\s+and|one\s+more|so|but|or|what\s+about|no|nope|actually|wait|"
    r"hang\s+on|hold\s+on|sorry|yes|yeah|ok|okay)\b",
    re.I,
)
""" "and the liability cap — is 1x fees normal?": the thread's matter, carried on."""
_BACK_REFERENCE = re.compile(
    r"\b(?:him|her|them|it|those|its|their)\b|\b(?:that|these|this)\b(?!\s+(?:morning|"
    r"afternoon|evening|night|week|weekend|month|year|term|season|quarter|days?|time|"
    rf"(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b)|{_WHY.pattern}",
    re.I,
)
"""A word that points back at something said before ("find out why" ends on one); "this
morning" points at no thing."""
_HAPPENED = re.compile(r"\b(?:[a-z]{3,}ed|came|went|got|is|are|was|were|has|had)\b", re.I)
"""A few words that say something happened ("letter just arrived") head what follows."""
_SUM = re.compile(r"[£$€]\d")
"""A piece that starts with a sum of money ("£1 for Children in Need") details the one before."""
_PIECES = re.compile(rf"(?:{LIST_SPLIT.pattern})|(?<=[.!?])\s+", re.IGNORECASE)
_CUT = re.compile(f"({_PIECES.pattern})", re.IGNORECASE)
"""`_PIECES`, keeping what it cut at: pieces put back together keep the user's own joints."""
_SHARED_PREDICATE = re.compile(
    r"^(?!(?:the|a|an|some(?:one|body)|it|there|this|that)\b)(?:[\w'’-]+\s+){1,3}"
    r"(?:needs?|is|are|was|were|has|have)\s+(?!to\b)\w",
    re.IGNORECASE,
)
""" "…and bulbs needs paying": the rest of a subject the piece before began."""
_NEW_THING = re.compile(
    r"^(?:(?:can\s+(?:you|we|someone)|could\s+(?:you|we|someone)|please|pls)\s+)?"
    r"(?:get|make|draw|design|create|write|draft|do|build|order|book|shoot|film|record)\s+"
    r"(?:a|an|some|a\s+few|two|three|new)\s+[\w'’-]+",
    re.IGNORECASE,
)
""" "get an image made for it", "do a short video about it": a new thing asked for, however
short, and whatever pronoun points back at the piece before."""
_BINOMIAL = re.compile(
    r"\b(?:time\s+and\s+a\s+half|health\s+and\s+safety|terms\s+and\s+conditions|"
    r"profit\s+and\s+loss|wear\s+and\s+tear|trial\s+and\s+error|back\s+and\s+forth|"
    r"pros\s+and\s+cons|ins\s+and\s+outs|odds\s+and\s+ends|bits\s+and\s+pieces|"
    r"nuts\s+and\s+bolts|research\s+and\s+development|mergers\s+and\s+acquisitions|"
    r"supply\s+and\s+demand|bed\s+and\s+breakfast|fish\s+and\s+chips|food\s+and\s+"
    r"(?:drink|beverage)|hair\s+and\s+make-?up|rules\s+and\s+regulations|questions\s+and\s+"
    r"answers|up\s+and\s+running|again\s+and\s+again|more\s+and\s+more|black\s+and\s+white|"
    r"hit\s+and\s+run|lost\s+and\s+found|before\s+and\s+after|[a-z]&[a-z]{1,2}|\d+\s+and\s+\d+|"
    # a firm's name: "Wool & Co", "Harbour & Vine"
    r"(?-i:[A-Z][\w'’]*\s*&\s*[A-Z][\w'’]*))\b",
    re.IGNORECASE,
)
"""Phrases with "and" in them that name one thing ("time and a half", "R&D")."""
_STATEMENT = re.compile(
    r"^(?!(?:please|pls|can|could|would|will|need|get|have|make|let's|what|which|who|why|how|"
    rf"when|where|whose|do|does|did)\b)[^?]*?(?:\b(?:{FINITE})|\b(?:it|there|here|that|"
    r"he|she|we|they|you|everything|nothing|something)(?:'s|'re|’s|’re)|\b(?:we|they)(?:'ve|’ve))\b",
    re.IGNORECASE,
)
"""A piece that says how things are ("the leeds job has no truck", "we're 40% full")."""
_THE_WORLD = (
    # the world outside: "what's the weather doing in Ledbury", "settling a bet"
    r"what(?:'s|’s|\s+is)\s+the\s+weather|weather\s+(?:like|forecast|doing|looking)|"
    r"what\s+year\s+did|settl(?:e|ing)\s+(?:a\s+bet|an?\s+(?:argument|debate|row))|parking\s+like|kicks?\s+off\s+(?:on\s+)?"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)(?:day)?"
)
"""Questions about the world outside, which no one here looks up, whatever the work it is for."""
_WORLD = re.compile(_THE_WORLD, re.IGNORECASE)
_OFF_DUTY = re.compile(
    r"\b(?:limericks?|poems?|haikus?|rhymes?|best\s+man|eulogy|thrillers?|novels?|box\s*sets?|"
    r"recipes?|cocktails?|horoscopes?|crosswords?|tattoos?|jokes?|pick-?up\s+lines?|"
    # "a cake and a card for Janet's retirement", "book the Christmas do … for 15 of us"
    r"(?:cake|card|present|gift|flowers|collection)\s+for\s+[\w'’]+(?:'s|’s)\s+(?:retirement|birthday|"
    r"leaving|wedding|baby|50th|40th|30th|60th)|"
    r"(?:our|the)\s+(?:christmas|xmas|staff|team|work|office)\s+(?:do|party|night\s+out|meal|lunch|drinks)\b|"
    r"(?:birthday|anniversary|wedding|retirement|leaving)\s+(?:message|card|speech|toast|"
    r"present|gift)s?|(?:gift|present)s?\s+for\s+my|(?:hen|stag)\s+(?:do|party|weekend)|"
    r"my\s+(?:sister|brother|mum|mom|dad|mother|father|daughter|son|kids?|children|wife|husband|"
    r"partner|boyfriend|girlfriend|nan|gran|grandma|grandad|neighbour)(?:'s|’s)\s+(?:school|"
    r"wedding|birthday|party|homework|nursery|uni|university|christening)|my\s+(?:local\s+)?"
    r"(?:council(?!\s+tax)|energy\s+(?:company|supplier|bill)|bank|mortgage|tax\s+return|"
    r"self[-\s]assessment|car\s+insurance|home\s+insurance|dentist|landlord)|"
    # "… asking for my own house sale", "an excel formula to count …"
    r"(?:asking|it's|it’s|this\s+is)\s+for\s+(?:my\s+own|myself|a\s+friend)|(?:excel|spreadsheet|sheets)\s+formula|"
    # "my car's MOT", "my sister's after a car", "a reference for my old flatmate", "book me in
    # at the dentist": the user's own life
    r"my\s+car(?:'s|’s)?(?:\s+(?:mot|service|insurance|tax))?|"
    r"my\s+(?:sister|brother|mum|mom|dad|mother|father|daughter|son|wife|husband|partner|boyfriend|"
    r"girlfriend|nan|gran|grandma|grandad|auntie|aunt|uncle|cousin)(?:'s|’s)\s+(?:after|looking|"
    r"trying|getting)|"
    r"my\s+(?:old\s+)?(?:flatmate|housemate)|"
    r"book\s+me\s+(?:in\s+)?(?:at|with)\s+the\s+(?:dentist|doctors?|gp|hairdressers?|barbers?)|"
    # "find me a cheap hotel in Lyon", "book me a train to London", "need a lift to the
    # station", "get rid of my old sofa"
    r"(?:find|book|get)\s+me\s+a\s+(?:\w+\s+){0,2}?(?:hotel|b&b|airbnb|train|flight|taxi|cab|table|"
    r"(?:thai|indian|italian|chinese|curry|pizza|steak)\s+(?:place|restaurant|house))|"
    r"(?:need|want|get)\s+a\s+lift\s+(?:to|from|into|home)|"
    r"my\s+old\s+(?:sofa|settee|bed|mattress|fridge|freezer|telly|tv|washing\s+machine|wardrobe)|"
    rf"{_THE_WORLD})\b",
    re.IGNORECASE,
)
"""Things people ask for off duty, and their own affairs ("my sister's hen do", "my energy
company"): unless an agent's manifest names one, or the message says it is for the business
(`_AT_WORK`, in words other than these), a sub-agent's."""
_TRANSLATE = re.compile(
    r"(?:\btranslat(?:e|ed|ing|ion)\b[^.?!]{0,100}?\b(?:in)?to|"
    # "can someone get the party info sheet done in Polish?"
    r"\b(?:done|do|doing|written|write|redone|printed|version|copy|copies)\s+(?:of\s+it\s+|it\s+)?in)"
    r"\s+(?:\w+\s*(?:,|and|&|or)\s*)*"
    r"(?:spanish|french|german|italian|portuguese|polish|punjabi|urdu|hindi|bengali|arabic|chinese|"
    r"mandarin|cantonese|japanese|korean|russian|ukrainian|romanian|turkish|dutch|welsh|gaelic|irish|"
    r"greek|swedish|norwegian|danish|finnish|czech|slovak|hungarian|bulgarian|croatian|serbian|"
    r"lithuanian|latvian|albanian|somali|tigrinya|amharic|farsi|persian|pashto|dari|kurdish|tamil|"
    r"gujarati|vietnamese|thai|indonesian|malay|tagalog|hebrew|swahili|yoruba|english|"
    r"(?:other|several|a\s+few|different)\s+languages)\b",
    re.IGNORECASE,
)
"""A translation asked for ("translate it into Polish", "done in Polish"): one job, for the one
agent whose manifest says it translates (or localises), or for nobody here."""
_TRANSLATES = re.compile(
    r"\b(?:translat|locali[sz]|l10n\b|interpret(?:ing|er|ation))", re.IGNORECASE
)
"""A manifest that says its agent translates, in any form of the word."""
_ERRAND = re.compile(
    r"\b(?:book|find|get|order|call|sort|recommend|know)\b(?:\s+[\w'’-]+){0,4}?\s+"
    r"(?P<what>flights?|train\s+tickets?|trains?|taxis?|cabs?|plumbers?|electricians?|"
    r"restaurants?|babysitters?|childminders?)\b|\bbook\s+(?:us\s+|me\s+)?(?:a\s+)?(?P<table>table)\s+"
    r"(?:for|somewhere|at|near)\b|\b(?:know|recommend)\s+(?:of\s+)?(?:a|an|any)\s+(?:good|decent|reliable|"
    r"cheap|local|nice)\s+(?P<local>[\w-]+(?:\s+[\w-]+){0,2}?)(?:\s+(?:near|in|around|round|close\s+to|for)\b|"
    r"\s*[?,])|"
    r"\b(?:what(?:'s|’s|\s+is)|where(?:'s|’s|\s+is)|any|anywhere|somewhere)\s+(?:a\s+|an\s+)?(?:good|decent|"
    r"nice|cheap|reliable|local)\s+(?P<near>[\w-]+(?:\s+[\w-]+)?)\s+(?:near|in|around|round|close\s+to)\b|"
    r"\b(?:last|first|next|earliest|latest)\s+(?P<leaves>trains?|buses|bus|ferry|ferries|flights?)\s+(?:from|to|out)\b|"
    r"\b(?P<tickets>train\s+tickets?|flights?|taxis?|cabs?)\s+(?:booking|booked)\b",
    re.IGNORECASE,
)
"""Errands a fleet either names in some manifest or does not do at all: travel, a tradesman,
a table. Where no manifest uses the word, a sub-agent takes it, for work or not."""
_AT_WORK = re.compile(
    r"\b(?:our|(?<!\bnot\sone\sof\s)(?<!\bnot\s)ours|(?<!\bof\s)(?<!\bwith\s)us|we|clients?|customers?|brand|campaign|launch|products?|company|"
    r"newsletter|conference|website|blog|event)\b",
    re.IGNORECASE,
)
_THEIR_THING = re.compile(
    r"\b(?:every|any|some|no)(?:one|body)(?:'s|’s)\s+\w|\b(?:people|staff|team)(?:'s|’s)\s+\w",
    re.IGNORECASE,
)
"""Someone's something ("everyone's salary"): a thing of theirs, not a question about who."""
_GOES_ON = re.compile(
    r"(?:wants|needs|says|said|thinks|asks|asked|reckons|feels|expects|hopes|keeps|seems|looks|"
    r"is|was|has|had)\b",
    re.IGNORECASE,
)
"""A piece that goes on with the subject before it."""


_ABOUT = re.compile(
    r"^(?P<what>(?:(?:can|could|would|will)\s+(?:you|u|we|someone|somebody)\s+|please\s+|pls\s+)?"
    r"(?:(?:i|we)\s+(?:need|want)|write|draft|get|do|make|create|put\s+together|prepare|produce|"
    r"design|need)\s+(?:me\s+|us\s+)?(?:a|an|the|some|our|new)\s+[^,.;:?!]{2,40}?)"
    r"\s+(?:about|regarding|announcing|explaining|covering)\s+\S",
    re.IGNORECASE | re.DOTALL,
)
"""Something to make, then what it is about: "a blog post about the outage"."""
_TO_GO_WITH = re.compile(
    r"^(?:and\s+|plus\s+)?(?:the|a|an|some)\s+[\w-]+(?:\s+[\w-]+)?\s+(?:to\s+(?:go\s+with|match)|"
    r"for|about)\s+(?:it|them|that|this|those)$",
    re.IGNORECASE,
)
"""Something more to make, for what came before ("… and the copy to go with it"): its own part."""
_TOLD_ON = re.compile(
    r"^(?:[a-z]+ed|been|left|went|came|got|took|made|sent|said|told|paid|lost|broke|fell|ran|gave|"
    r"wants|says|thinks|reckons|keeps|seems)\b(?!\s+(?:by|to)\b)",
    re.IGNORECASE,
)
"""A piece that tells on about the subject before it ("the customer moved to another
supplier and left £212 in credit"): the same piece, not another to route."""
_THEIR_SIDE = re.compile(
    r"^(?:the\s+|a\s+|his\s+|her\s+|their\s+|our\s+)?[\w'’-]+\s+(?:says|said|reckons|claims|claimed|"
    r"insists|swears|sent\s+(?:over|across|through|in)\b)\b|"
    r"^(?:the\s+|a\s+|his\s+|her\s+|their\s+|our\s+)?[\w'’-]+(?:\s+(?:at|from|in|on)\s+the\s+[\w-]+)?\s+"
    r"(?:(?:is|are|was|were)\s+)?(?:asking|"
    r"chasing|complaining|fuming|furious|livid|raging|upset|not\s+happy|kicking\s+off)"
    r"(?:\s+(?:again|too|as\s+well|about\s+it|after\s+it))?[\s.!]*$|"
    r"^(?:[a-z]+\s+){1,3}(?:ref\s+|no\.?\s+|number\s+|#)?[a-z]*[-/]?\d{3,}[\w/-]*$",
    re.IGNORECASE,
)
""" "…, hirer says it was a stone on the M42", "…, a family's asking", "…, their coach sent
over the list", "…, hire agreement KH-20931": the account of the other side, who asks, or
the reference of what was told before; not a piece of its own."""
_DETAIL = re.compile(
    r"^(?:(?:for|about|around|roughly|at|by|from|before|after|until)\s+|~)?\d[\d,.:]*\s*(?:am|pm|ish)?"
    r"(?:\s+(?:kids|children|people|guests|adults|pax|of\s+us|of\s+them|staff|players|students|pupils|"
    r"visitors|covers|mins?|minutes|hours?|hrs|days?|nights?|weeks?|sharp|latest))?"
    r"(?:\s+if\s+(?:we|you|they|poss|possible)(?:\s+can)?)?$|"
    # "…, same mix of colours as last time": as before, of the piece before
    r"^(?:the\s+)?same\s+(?:[\w'’-]+\s+){0,4}?as\s+(?:last\s+(?:time|year|order|month|week)|before|usual)$",
    re.IGNORECASE,
)
""" "party, 12 kids, 2pm if we can", "…, same mix of colours as last time": how many, when
and how, of the piece before."""
_FORWARDED = re.compile(
    r"^(?:fwd?|fw|forwarded|forwarding)\b[^:\n]{0,60}:\s*(?:[^:\n]{0,60}?[:—–-]\s*)?['\"“‘]",
    re.IGNORECASE,
)
"""A forwarded message, quoted after who it is from."""
_ITEMS = re.compile(rf"(?:^|(?<=\s))(?:{ITEM_MARK}|(?<=\n)[-*])\s+")
"""An item marker of a numbered or bulleted list ("1) …", "2. …", "• …", "- …" on a line)."""
_SEVERAL = re.compile(
    r"^(?:(?:two|three|four|five|six|a\s+few|a\s+couple(?:\s+of)?|couple(?:\s+of)?|several|some|"
    r"[2-9])\s+(?:more\s+)?(?:things|bits|jobs|requests|items|tasks|asks|questions)|"
    r"(?:my\s+|the\s+)?(?:list|to-?dos?|jobs)\s+for\s+(?:today|tomorrow|the\s+week|this\s+week|monday|"
    r"tuesday|wednesday|thursday|friday)|(?:my\s+)?to-?do(?:\s+list)?)\b[^:\n]{0,60}:",
    re.IGNORECASE,
)
"""A header that announces several separate things: "two things:", "list for today:"."""
_EMPHATIC_AND = re.compile(
    r"\s(?-i:AND)\s|\band\s+(?:(?:she|he|they|we|i|the\s+\w+)\s+)?also\s+(?:wants?|needs?|"
    r"asked|asks|would\s+like)\b",
    re.IGNORECASE,
)
"""A capitalised "AND" between two matters, or "… and she also wants …": the writer stresses
there is a second."""
_OWN_ASK = re.compile(
    r"(?:,|;|\s)\s*(?:and|also|plus)\s+(?:separately\s*,?\s*)?(?:(?:can|could|would|will)\s+"
    r"(?:someone|somebody|anyone|we|you|u|they)\b|(?:someone|somebody)\s+"
    r"(?!(?:is|was|has|had|said|says|told|thinks|wants|else)\b)[a-z]+\b|(?:we|i)\s+(?:still\s+|also\s+)?"
    r"(?:need|want|have\s+to|must)\b)|\b(?:and\s+)?(?:separately|another\s+thing|on\s+top\s+of\s+that)\b|"
    rf"\band\s+also\b|{_EMPHATIC_AND.pattern}",
    re.IGNORECASE,
)
"""A second piece that makes an ask of its own: "…, and can we put something on facebook"."""


def _names_only(piece: str) -> bool:
    """A few words that name something and say nothing of it: "interviews for the junior
    stylist job", "kid with a nut allergy at the sat party"."""
    return (
        len(words(piece)) <= 8
        and not (_SAYS_HOW.search(piece) or ASKS.search(piece))
        and not _DOES.match(piece)
    )


def _about_whom_before(piece: str, before: str) -> bool:
    """ "…, can we do him a safe plate": the piece is about whoever the few words before it
    named, where those words say nothing of anyone themselves."""
    return bool(
        _SOMEONE_SAID & set(words(piece))
        and not (_SOMEONE_SAID | _THEY_SAID) & set(words(before))
        and not (_SAYS_HOW.search(before) or ASKS.search(before))
    )


def _with_what_before(summary: str, before: Sequence[TaskSpec]) -> str:
    """ "…, and once we know who's coming invoice them all": a step that points back at the
    one it waits for, and names nothing of it, says what that was, so that its summary reads
    alone on a status board."""
    if len(before) != 1 or not _BACK_REFERENCE.search(summary):
        return summary
    if (set(content_stems(summary)) & set(content_stems(before[0].summary))) - _PARTICLES:
        return summary  # "go back" and "put it back" share no thing
    said = re.split(r"(?<=[.!?])\s+", before[0].summary.strip())[-1]  # its last sentence
    if said.endswith(")") and " (" in said:  # "lays it out (the copy)": the copy, still
        return f"{summary.rstrip(' .,;')} ({said[said.rindex(' (') + 2 : -1]})"
    thing = _THING.match(said)
    what = _IS_NOW.split(thing["thing"] if thing else said)[0].rstrip(" .,;?!")
    return f"{summary.rstrip(' .,;')} ({what})"


_PARTICLES = frozenset("back up out over off in on again now today".split())
_THING = re.compile(
    r"^(?:\S+\s+){0,3}?(?P<thing>(?:the|a|an|our|their|his|her|its|this|that|these|those)\s+\w.*)",
    re.I,
)
"""What a step's summary is about, near its start: "mocks up the banner" is about "the
banner"; "book us in for the market on the 2nd" is about all of it."""
_IS_NOW = re.compile(r"\s+(?:is|are|was|were|has\s+been|have\s+been|needs?)\b", re.I)


def several_asks(text: str, pieces: Sequence[str]) -> bool:
    """The message itself says its pieces are separate things to do: numbered or bulleted
    items, a header that announces several, or a second piece that asks anew ("…, and can
    we…", "…, and separately…")."""
    if len(_ITEMS.findall(text)) >= 2 or _SEVERAL.match(text.strip()):
        return True
    return len(pieces) == 2 and _OWN_ASK.search(text) is not None


_BACK_TO_THEM = frozenset(
    "he she him her his hers they them their it its he's she's they're".split()
)


def _tells_on(piece: str) -> bool:
    """The piece says more of how things are with whoever or whatever came before ("…,
    nobody's written back to him in 7 weeks"): neither a thing for a list, an ask, nor a
    trouble of its own ("…, and 3 seats on the back row are broken")."""
    return (
        bool(_SAYS_HOW.search(piece))
        and not says_what_to_do(piece, False)
        and not _PASSED_ON.search(piece)
        and bool(_BACK_TO_THEM & set(words(piece)))
    )


_PASSED_ON = re.compile(
    r"\b(?:also|wants?\s+to|(?:asking|asked|wondering)\s+(?:what|if|whether|how|when|for|about))\b|"
    r"^(?!(?:he|she|they|it|we|i)\b)(?:[\w'’-]+\s+){1,3}(?:says|said|reckons|claims|thinks)\b",
    re.IGNORECASE,
)
"""Something more asked, on someone's behalf or as well ("…, and his mum's asking what it'd
cost"), or another party's account ("her new supplier says …")."""


def _clear(ranked: Sequence[Ranked]) -> bool:
    """The piece's best agent clears the bar by PIECE_LEAD and leads the next by PIECE_MARGIN."""
    return (
        bool(ranked)
        and ranked[0].score >= FIT + PIECE_LEAD
        and (len(ranked) < 2 or ranked[0].score - ranked[1].score >= PIECE_MARGIN)
    )


_SOMETHING = re.compile(r"\bneeds?\s+(?:something|anything|stuff)\b", re.I)


def _span(text: str, first: str, last: str) -> str | None:
    """The user's own words from one piece through a later one, if both are found as written."""
    start = text.find(first)
    end = text.find(last, start + len(first)) if start >= 0 else -1
    return text[start : end + len(last)] if end >= 0 else None


def _stretches(text: str, routed: list[tuple[AgentSpec, str]]) -> list[tuple[AgentSpec, str]]:
    """Pieces next to each other that go to one agent, as one stretch of the user's words."""
    runs: list[tuple[AgentSpec, str]] = []
    for agent, piece in routed:
        if runs and runs[-1][0].id == agent.id and (run := _span(text, runs[-1][1], piece)):
            runs[-1] = (agent, run)
            continue
        runs.append((agent, piece))
    return runs


def _with_news(
    text: str, chosen: Sequence[tuple[str, Sequence[Ranked]]]
) -> list[tuple[str, Sequence[Ranked]]]:
    """The pieces without the ones they open with that only bring news ("the Woodchester
    job's done and dusted"), which go before the first piece after them, in the user's words."""
    start = next((i for i, (piece, _) in enumerate(chosen) if not _only_news(piece)), 0)
    if not start:
        return list(chosen)
    first, ranked = chosen[start]
    joined = _span(text, chosen[0][0], first) or ", ".join(p for p, _ in chosen[: start + 1])
    return [(joined, ranked), *chosen[start + 1 :]]


def _only_news(piece: str) -> bool:
    return (
        bool(_STATEMENT.search(piece))
        and not says_what_to_do(piece, False)
        and not TROUBLE.search(piece)
    )


def by_asks(chosen: Sequence[tuple[str, Sequence[Ranked]]]) -> list[tuple[AgentSpec, str]] | None:
    """Asks that each clearly fit a different agent are theirs, whatever else the message
    says: "customer pulled out. stand the scaffold down and give that crew the Baker job" is
    two jobs. An ask that is close between agents goes to one of them already asked, else to
    its best; pieces that are not asks, or fit no one, go with the ask before them (the first
    ones with the ask after). Each piece with its agent; None when fewer than two agents are
    asked."""
    asks: list[bool] = []
    in_a_list = False
    for piece, _ in chosen:
        asks.append(says_what_to_do(piece, in_a_list))
        in_a_list = asks[-1] and not piece.rstrip().endswith((".", "?", "!"))
    owners: list[AgentSpec | None] = [
        r[0].agent if ask and _clear(r) else None for ask, (_, r) in zip(asks, chosen, strict=True)
    ]
    if not any(owners):
        return None
    clear = {owner.id for owner in owners if owner}
    for i, (ask, (_, ranked)) in enumerate(zip(asks, chosen, strict=True)):
        if owners[i] or not ask or not ranked or ranked[0].score < FIT + PIECE_LEAD:
            continue
        if _SOMETHING.search(chosen[i][0]):  # "we need something going out…": what, follows
            continue
        near = [r.agent for r in ranked if ranked[0].score - r.score < PIECE_MARGIN]
        owners[i] = next((agent for agent in near if agent.id in clear), ranked[0].agent)
    if len({owner.id for owner in owners if owner}) < 2:
        return None
    for i in range(1, len(owners)):
        owners[i] = owners[i] or owners[i - 1]
    first = next(owner for owner in owners if owner)
    return [(owner or first, piece) for owner, (piece, _) in zip(owners, chosen, strict=True)]


def _asks_itself(said: str) -> bool:
    """The piece ends by asking for something to be done, not by asking a question about
    what it says ("… need 15 temps found", not "… can we take it")."""
    last = re.split(r"(?<=[.!?])\s+", said.strip())[-1]
    question = re.match(
        r"(?:can|could|would|will|should|shall|do|does|is|are|what|how|who|where|when|why)\b",
        last,
        re.I,
    )
    return question is None and says_what_to_do(last, False)


def _asks_about(said: str, piece: str) -> bool:
    """A question or an ask that refers back, after a piece that only says how things are,
    is about that: one piece ("the leeds job has no truck — find someone to take it")."""
    question = piece.rstrip().endswith("?")
    asks = question or bool(_BACK_REFERENCE.search(piece))
    # "… and wants it broken down" is the same telling, not an ask
    goes_on = not question and _GOES_ON.match(piece) is not None
    return (
        asks
        and not goes_on
        and not said.rstrip().endswith("?")
        and not _asks_itself(said)  # "…signed!! need 15 temps found": asked already
        and bool(_STATEMENT.search(said) or (_WHY.search(piece) and _HAPPENED.search(said)))
    )


def _renamed(task: TaskSpec, alias: dict[str, str]) -> TaskSpec:
    """The task depending on what its dependencies were merged into."""
    if not any(d in alias for d in task.depends_on):
        return task
    deps = list(dict.fromkeys(alias.get(d, d) for d in task.depends_on))
    return task.model_copy(update={"depends_on": deps})


def _one_task_per_agent_per_step(tasks: list[TaskSpec], named: set[str]) -> list[TaskSpec]:
    """ "the brewery want 20% off their deal. what's our floor, Marcus?": two parts of one
    step for the same agent are one task, as `by_agent` makes of a list's pieces, unless
    the user gave each to it by name (`named`: those tasks' ids)."""
    merged: list[TaskSpec] = []
    alias: dict[str, str] = {}
    for task in tasks:
        task = _renamed(task, alias)
        twin = next(
            (
                i
                for i, t in enumerate(merged)
                if t.agent == task.agent != CATCH_ALL_ID
                and t.depends_on == task.depends_on
                and not {t.id, task.id} <= named
            ),
            None,
        )
        if twin is None:
            merged.append(task)
            continue
        summary = f"{merged[twin].summary}; {task.summary}"
        merged[twin] = merged[twin].model_copy(update={"summary": summary[:200]})
        alias[task.id] = merged[twin].id
    return merged


def _merge_same_agent_steps(tasks: list[TaskSpec]) -> list[TaskSpec]:
    """ "Pull the debtors list, and based on that send reminders" to one agent is one task:
    the agent does both in order, in one brief, instead of twice in its queue."""
    merged: list[TaskSpec] = []
    alias: dict[str, str] = {}
    for task in tasks:
        task = _renamed(task, alias)
        last = merged[-1] if merged else None
        if (
            last is not None
            and task.agent != CATCH_ALL_ID
            and task.agent == last.agent
            and task.depends_on == [last.id]
            and sum(1 for t in tasks if last.id in t.depends_on) == 1
            and sum(1 for t in merged if t.depends_on == last.depends_on) == 1
        ):
            summary = f"{last.summary}, then {task.summary}"
            merged[-1] = last.model_copy(update={"summary": summary[:200]})
            alias[task.id] = last.id
            continue
        merged.append(task)
    return merged


_ASKS_WHO = frozenset("so and but know ask wondering tell me us guys team hey hi ok".split())
"""Words after which "who can…" still asks about the team ("anyone know who can…")."""


def _asked_about(text: str, context: ThreadContext) -> str | None:
    """ "any news on the boiler?" in a thread where one agent has the boiler: that agent's
    work is what the question is about."""
    asked = set(content_stems(_STATUS_WORDS.sub(" ", text)))

    def about(summary: str) -> int:  # "valuation" asks about "value Mr Patel's A4"; "Eid"
        return sum(any((a[:4] == b[:4] and len(a) >= 4 and len(b) >= 4) or (a == b and len(a) == 3)
                       for b in content_stems(summary)) for a in asked)  # fmt: skip

    # "did the launch post happen?" is about "the launch post", not "the launch banner"
    overlap = {t.id: about(t.summary) for t in context.tasks}
    most = max(overlap.values(), default=0)
    tasks = [t for t in context.tasks if most and overlap[t.id] == most]
    shortlists = [tasks, [t for t in tasks if t.state not in ("completed", "failed")]]
    if re.search(r"\bfail", text, re.IGNORECASE):  # "… it's showing as failed": the failed one
        shortlists.insert(0, [t for t in tasks if t.state == "failed"])
    for shortlist in shortlists:
        if len(agents := {t.agent for t in shortlist}) == 1:
            return agents.pop()
    return None


def roster_target(text: str) -> str | None:
    bare = text.rstrip("?!. ")
    match = _ROSTER_TARGET.search(bare)
    if not match:
        return None
    before = words(bare[: match.start()])
    separate = re.search(r"[,.;:!?—–-]\s*$", bare[: match.start()])  # "I'm new here, who…"
    if (
        match.group(0).lower().startswith("who")
        and before
        and before[-1] not in _ASKS_WHO
        and not separate
    ):
        return None  # "we need a girl who can ride a horse": who she is, not who we have
    what = next(g for g in match.groups() if g)
    if re.match(
        r"(?:what|what's|whats|why|where|when|whether|if|how|we|they|he|she|you)\b", what, re.I
    ):
        return None  # "anyone know what's going on?": a question about the world, not the team
    # "who do I talk to about the website?": about the website
    what = re.sub(
        r"^(?:i|we)\s+(?:talk|speak|go|ask|send\s+\w+)\s+(?:to\s+)?(?:about|for|re|regarding|with)?\s*",
        "",
        what.strip(),
        flags=re.IGNORECASE,
    )
    what = re.sub(r"^(?:the|a|an|some|any)\s+", "", what.strip(), flags=re.IGNORECASE)
    what = re.sub(r"\s+(?:here|stuff|things?|on\s+the\s+team|right\s+now)$", "", what)
    if all(w in _NO_SKILL for w in words(what)):
        return None  # "can someone look at the thing from this morning?": no skill named
    return what.strip(" ?!.") or None


def _profile_texts(fleet: Fleet) -> list[str]:
    return [t for a in fleet.agents for t in (a.description, *a.skills, *a.examples)]


def profile_words(fleet: Fleet) -> frozenset[str]:
    """The words the fleet's manifests use: a name that is one of them is not only a name. An
    id that is not also the agent's name is a label ("people", "webshop"), not a person's, and
    so is an alias written in lower case ("chef": "a job ad for a sous chef" is no addressing)."""
    texts = _profile_texts(fleet)
    labels = {a.id.lower() for a in fleet.agents if a.id.lower() != a.name.lower()}
    labels |= {n.lower() for a in fleet.agents for n in a.aliases if n[:1].islower()}
    return frozenset(w for t in texts for w in words(t)) | labels


def profile_people(fleet: Fleet) -> frozenset[str]:
    """Aliases the profiles only ever write with a capital ("Helen (our musical director)
    decides…", "Lisa looks after the team"): people's names, however the alias is written.
    Written with its capital in a message, such a name addresses its agent as a person's
    name does ("… and Helen pick two pieces")."""
    said = [w for t in _profile_texts(fleet) for w in re.findall(r"[^\W\d_][\w'’-]*", t)]
    proper = {w.lower() for w in said if w[:1].isupper()} - {w for w in said if w.islower()}
    return frozenset(n.lower() for a in fleet.agents for n in a.aliases if n.lower() in proper)


_MY_CIRCUMSTANCES = re.compile(r"^(?:i'm|im|i\s+am|i've|i'll|i\s+will|we're|we\s+are)\b", re.I)
"""After the ask, the user's own circumstances ("…, I'm in meetings all day")."""


_CLOCK = re.compile(r"\d{1,2}(?:[:.]\d\d)?(?:am|pm)?", re.IGNORECASE)
"""A time of day ("5", "5pm", "17:30"): when, not what."""


_WHOSE_TROUBLE = re.compile(
    r"\b[A-Z][a-z]+(?:'s|’s)\s+(?=(?:problem|issue|thing|stuff|situation|request|query|job)\b)"
)


_ON_THE_PHONE = re.compile(r"\bon\s+(?:the\s+)?(?:phone|line(?:\s+\d+)?)\b", re.IGNORECASE)


def carries_too_little(text: str, names: Names) -> bool:
    """Nothing but generic verbs, pronouns and filler: nobody could start on it."""
    # "the resident's complaining": who, not what. "hi, I need help with something": a
    # greeting, and nothing asked after it
    first, *after = re.split(r"[,;]\s*", _SAYS_HELLO.sub("", text))
    # "handle it, I'm in meetings all day": what is asked, without the circumstances after it
    asked = ", ".join([first, *(c for c in after if not _MY_CIRCUMSTANCES.match(c.strip()))])
    if not words(asked) or ((found := names.addressed(text)) is not None and words(found[1])):
        return False
    if _SENT_HERE.match(asked.strip()):
        return True
    asked = names.word.sub(" ", asked)  # "@writer", "ask the writer": named, nothing asked
    asked = _WHOSE_TROUBLE.sub(" ", asked)  # "Trevor's problem": whose, not what
    asked = _BY_WHEN.sub("", asked)
    asked = _ON_THE_PHONE.sub(" ", asked)  # "she's been on the phone again": who, not what
    tokens = [w.strip("'’").removesuffix("'s").removesuffix("’s") for w in words(asked)]
    return all(
        w in _VAGUE_WORDS or w in _ONLY_ADDRESSES or len(w) <= 1 or _CLOCK.fullmatch(w)
        for w in tokens
    )


class SemanticPlanner(RulePlanner):
    name: str = "semantic"

    def __init__(
        self,
        fleet: Fleet,
        unavailable: dict[str, str] | None = None,
        *,
        embedder: CachedEmbedder,
        max_tasks: int = 12,
    ) -> None:
        super().__init__(fleet, unavailable)
        self.embedder = embedder
        self.max_tasks = max_tasks
        plain = {fold(name): agent for name, agent in self._names.items()}  # "cafe": "café"
        self.names = Names(plain | self._names, profile_words(fleet), profile_people(fleet))
        self.intents = IntentClassifier(embedder)
        self._plain: Matcher | None = None

    # -- entry points ---------------------------------------------------------------------

    def with_unavailable(self, unavailable: dict[str, str]) -> SemanticPlanner:
        return SemanticPlanner(
            self.fleet, unavailable, embedder=self.embedder, max_tasks=self.max_tasks
        )

    def plan(
        self, text: str, context: ThreadContext = EMPTY, lessons: Sequence[Lesson] = ()
    ) -> Decision:
        return self.explain(text, context, lessons)[0]

    def matcher(self, lessons: Sequence[Lesson] = ()) -> Matcher:
        if not lessons and self._plain is not None:
            return self._plain  # most messages: no lessons, so nothing of theirs to index
        scorer = Scorer(self.fleet, lessons, self.unavailable)
        matcher = Matcher(self.embedder, self.fleet.agents, scorer, lessons, self.unavailable)
        if not lessons:
            self._plain = matcher
        return matcher

    def shortlist(self, text: str, k: int) -> list[AgentSpec]:
        return [r.agent for r in self.matcher().rank(without_injections(text) or text)[:k]]

    def capable(self, query: str) -> list[AgentSpec]:
        """Agents for a capability ("who can do spreadsheets?"), best first; unavailable ones
        too, since the roster says who is down."""
        scorer = Scorer(self.fleet)
        ranked = Matcher(self.embedder, self.fleet.agents, scorer).rank(query)
        if not ranked or ranked[0].score < FIT:
            return []
        return [r.agent for r in ranked if r.score >= max(FIT, ranked[0].score - 0.08)]

    async def warm(self, text: str) -> None:
        """With a remote embedding model, embed a message's texts off the event loop before
        the transaction that plans it, so that the plan finds them cached."""
        if self.embedder.remote:
            await asyncio.to_thread(self.plan, text)

    def explain(
        self, text: str, context: ThreadContext = EMPTY, lessons: Sequence[Lesson] = ()
    ) -> tuple[Decision, Explanation]:
        why = Explanation()
        decision = self._aimed(text, self._decide(text, context, lessons, why), context, lessons)
        decision = self._with_work_after(text, decision, context, lessons)
        decision.planner = "semantic"
        return self._bounded(decision), why

    def _aimed(
        self, text: str, decision: Decision, context: ThreadContext, lessons: Sequence[Lesson]
    ) -> Decision:
        """A status question's agent, where the words leave it to the thread or the lessons."""
        if decision.kind == "status" and decision.target is None:
            if context.tasks:  # "how long's this gonna be?": the thread's one agent, if one
                agents = {t.agent for t in context.tasks}
                matter = _matter(_STATUS_WORDS.sub(" ", text))  # not "what's in flight?"
                pointed = len(agents) == 1 and bool(
                    matter or _POINTS_BACK.search(text) or _ANY_JOY.match(text.strip())
                )
                decision.target = _asked_about(text, context) or (agents.pop() if pointed else None)
            else:
                decision.target = self._whose_matter(text, lessons)
        return decision

    def _with_work_after(
        self, text: str, decision: Decision, context: ThreadContext, lessons: Sequence[Lesson]
    ) -> Decision:
        """ "scrap the banner and have the writer do release notes instead", "is the page
        done? can the writer also draft a post": the stop or the question, and the work after
        it, both; planned as one, either half would be lost (or the stop sent as a task)."""
        # Work whose first words stop something: a stop only where this thread's work is
        # what it names, or where the rest is said to replace it ("…, tweet instead"); else
        # an errand ("stop the server, then deploy the new build").
        stops_first = (
            decision.kind in ("work", "followup")
            and _CANCEL_WORDS.match(text.strip())
            and (context.tasks or re.search(r"\b(?:instead|rather)\b", text, re.I))
        )
        if decision.kind not in ("cancel", "status") and not stops_first:
            return decision
        for cut in _AND_THEN.finditer(text):
            head = text[: cut.start()] + (cut["mark"] or "").strip(",;")
            said = text[cut.end() :]
            rest = _INSTEAD.sub("", said)
            if not content_stems(rest) or len(words(rest)) < 2:
                continue
            replaces = rest != said or _REPLACES.search(cut[0] + rest)
            if decision.kind != "status" and not (replaces or self.names.listed(rest)):
                continue  # after a stop, work said to replace it, or asked of someone named
            if (decision.kind != "status" and _POINTS_BACK.search(rest)) or not self._new_ask(rest):
                continue  # "stop the server and restart it": one errand; "…, trip's off": why
                # (after a question, "can the designer start on it today" is the work asked)
            first = self._decide(head, context, lessons, Explanation())
            first = self._aimed(head, first, context, lessons)
            if first.kind not in ("cancel", "status") or (
                stops_first and context.tasks and not self._stops_thread_work(first, context)
            ):
                continue
            kept_on = _KEEP_ON.match((cut[0] + rest).strip(" ,;.")) and _asked_about(rest, context)
            if first.kind == "cancel" and kept_on:
                return first  # "never mind the post, just do the sessions": those carry on
            # after a stop, what follows is new work, not more of the work just stopped
            after = EMPTY if first.kind == "cancel" else context
            then = self._decide(rest, after, lessons, Explanation())
            if then.kind not in ("work", "followup") or not then.tasks:
                continue
            assert first.kind in ("cancel", "status")  # for the type checker: checked above
            then.also = Aside(kind=first.kind, target=first.target, reason=first.reason)
            then.reason = f"{first.reason}; and {then.reason}"
            return then
        return decision

    def _new_ask(self, rest: str) -> bool:
        """What follows a stop or a question asks for work of its own ("write the notes
        instead", "can the writer also draft a post"), not why ("the trip's off"), who is
        asking ("she's rung twice"), to be told ("let me know") or what carries on ("still
        need the rota though")."""
        if _CARRIES_ON.search(rest):
            return False
        bare = _ASKS_FOR.sub("", rest.strip())
        addressed = self.names.addressed(bare) if _ASKED_OF.match(bare) else None
        if addressed is not None and addressed[0]:  # "get social to tweet about it": asked
            asked = addressed[1].strip()
            return bool(words(asked)) and not (_NOT_AN_ORDER.match(asked) or _SAYS_HOW.match(asked))
        if _NOT_AN_ORDER.match(bare):
            return False
        return bool(_DOES.match(bare) or (_IMPERATIVE.match(bare) and not _SAYS_HOW.match(bare)))

    @staticmethod
    def _stops_thread_work(decision: Decision, context: ThreadContext) -> bool:
        """A stop at the head of work is taken as one only for work this thread holds: "stop
        the server, then deploy" is an errand."""
        if decision.kind != "cancel" or decision.target is None:
            return False
        named = set(content_stems(decision.target))
        return decision.target == "all" or any(
            named & set(content_stems(t.summary + " " + t.agent)) for t in context.tasks
        )

    # -- the decision ---------------------------------------------------------------------

    def _decide(
        self, text: str, context: ThreadContext, lessons: Sequence[Lesson], why: Explanation
    ) -> Decision:
        clean_text = strip_mentions(text)
        if (
            context.tasks
            and (new := _NEW_SUBJECT.match(clean_text))
            and words(clean_text[new.end() :])
        ):
            # "different thing, the staff loo is blocked again": not this thread's work
            clean_text, context = clean_text[new.end() :], EMPTY
        if _NEW_TO_THIS.match(clean_text.strip()):
            why.rule = "new to Dispatch: the roster is the pointer"
            return Decision(kind="roster", reason=why.rule)
        if _GREETING.match(text.strip().rstrip("?!. ") or "?") and not words(clean_text):
            why.rule = "a greeting or thanks: the roster is the pointer"  # "hi dispatch 👋"
            return Decision(kind="roster", reason="a greeting or thanks: the roster is the pointer")
        if not clean_text:
            why.rule = "empty message"
            return Decision(kind="clarify", question="What do you need done?", reason="empty")
        kept = without_injections(clean_text)
        why.steered = kept != clean_text
        clean_text = kept
        if not clean_text:
            why.rule = "nothing but instructions to Dispatch itself"
            return Decision(kind="clarify", question=GENERIC_QUESTION, reason="no work in it")
        clean_text = without_help_asked(clean_text)
        bare = clean_text.rstrip("?!. ")
        if (lead := LEAD_IN.match(bare)) and len(words(bare[lead.end() :])) >= 2:
            bare = bare[lead.end() :]  # "quick one, where are we with the audit prep?"
        asked = bool(_QUESTION.search(bare) or _ASKED.search(clean_text))
        if asked and _WHEN_THEN.match(bare) and not clean_text.rstrip().endswith("?"):
            asked = False  # "when dev is done, have the writer update the notes": a chain
        if asked and not _ASKED.search(clean_text) and self._has_do(bare):
            asked = False  # "have social share the post once the blog is live": an errand
        short = len(words(bare)) <= 8
        wanted = bool(_WANTS_IT_DONE.search(clean_text))
        if wanted:
            asked = False  # "who can knock up a banner? need it by 3": asked as a question
        exact = self._exact(bare, short, context)
        if wanted and exact is not None and exact.kind in ("status", "roster"):
            exact = None
        if exact is not None:
            why.rule = exact.reason
            return exact
        if (
            context.tasks
            and (not context.waiting or "?" in clean_text)  # a reply can say it too
            and (
                _PROGRESS.match(bare)
                or _ANY_NEWS.match(bare)
                or _HERE_DONE.match(bare)
                or _HOW_IT_STANDS.match(bare)
                or (asked and _WAITING_ON_ME.search(bare))
                or _HOLDUP.match(bare)
            )
            and len(words(_FIRST_QUESTION.split(bare, maxsplit=1)[0])) <= 18
            and not _ASKS_IF_NOT.search(bare)  # "has it gone? if not can you send it today"
        ):
            why.rule = "asked how this thread's work is going"
            return Decision(kind="status", target=self._named_here(bare, context), reason=why.rule)
        intent = self._intent(bare, context, asked)
        why.intent = intent
        if (
            context.tasks
            and not _DO_IT_AGAIN.match(bare)
            and (moved := self._reroute_by_cue(bare, context)) is not None
        ):
            why.rule = moved.reason  # "don't send it to Reg, that's for the clinical lead"
            return moved
        if (stop := self._cancel_by_intent(bare, intent, context)) is not None:
            return stop
        # "ok and can Poppy do a post about it too": addressed after the acknowledgement
        addressed = self.names.addressed(_ACKNOWLEDGED.sub("", clean_text))
        if context.waiting and not (
            addressed and not set(addressed[0]) & {t.agent for t in context.waiting}
        ):  # "@designer, a banner too" is work for someone else, not the answer awaited
            task = self._pick_waiting(clean_text, context.waiting)
            why.rule = "a reply to an agent's question in this thread"
            return Decision(
                kind="answer", target=task.id, reason=f"reply to {task.agent}'s question"
            )
        matcher = self.matcher(lessons)
        if context.pending_question and context.pending_text:
            why.rule = "the answer to Dispatch's clarifying question"
            combined = f"{context.pending_text.strip()} — {clean_text}"
            decision = self._work_by_meaning(combined, matcher, why, allow_clarify=False)
            decision.reason = "answer to the clarifying question; " + decision.reason
            # "the shipping one, …": the answer picks whose it is, as it opens
            picked = self.names.listed(
                re.split(r"[,;.!?—–]", clean_text, maxsplit=1)[0], everyday=True
            )
            if len(picked) == 1 and len(decision.tasks) == 1 and picked[0] not in self.unavailable:
                only = decision.tasks[0]
                decision.tasks = [self._task(only.id, self.fleet.agent(picked[0]), only.summary)]
                decision.reason += f"; the answer picks {picked[0]}"
            return decision

        gated = self._by_intent(bare, intent, addressed, asked, bool(context.tasks))
        if gated is not None:
            return gated
        if (
            context.tasks
            and addressed is None
            and (
                _ANSWERS_THREAD.match(text)
                or not self._belongs_elsewhere(clean_text, context, matcher)
            )
        ):
            return self._followup_by_meaning(clean_text, context, matcher, why)
        decision = self._work_by_meaning(clean_text, matcher, why, allow_clarify=True)
        here = {t.agent for t in context.tasks}
        if decision.kind == "work" and decision.tasks and {t.agent for t in decision.tasks} <= here:
            # "can the writer also add a section on pricing": more for who is already on it
            decision.kind = "followup"
        return decision

    def _intent(self, bare: str, context: ThreadContext, asked: bool) -> Intent:
        """The nearest example phrasings decide only behind gates that need a question, a
        cancelling word or a short message; a long statement without them is work, and is
        not compared at all (it is most of the traffic, and each comparison costs)."""
        if context.tasks or len(words(bare)) <= 6 or asked or _CANCEL_WORDS.search(bare):
            return self.intents.classify(bare)
        return Intent("work", 1.0, 1.0, "(a statement: not compared)", {})

    def _named_here(self, bare: str, context: ThreadContext) -> str | None:
        """The agent a question about this thread's work names: one of the thread's own ("any
        news on the boiler? ward's asking" names who asks, not whose work it is)."""
        here = {t.agent for t in context.tasks}
        return next((a for a in self.names.listed(bare, everyday=True) if a in here), None)

    def _reroute_by_cue(self, bare: str, context: ThreadContext) -> Decision | None:
        """ "wrong one, that's a Quill job", "this should go to security, not IT": the work in
        this thread moves to the agent named, or meant, outside the negation."""
        here = {t.agent for t in context.tasks}
        # "not accounts — …", "this isn't for marketing": what it rules out is who has it
        needs = _NEEDS_WHO.match(bare)
        cue = _REROUTE_CUE.search(bare)
        if (
            cue
            and (thing := _THING_NEEDS_TO.fullmatch(cue[0]))
            and not (
                _PEOPLE_WORD.fullmatch(thing["who"])
                or self.names.listed(thing["who"], everyday=True)
            )
        ):
            cue = None  # "the colours need to match our brand guide": a change, not a move
        if cue and re.search(r"\b(?:he|she|they)\s*$", bare[: cue.start()], re.I):
            cue = None  # "go for the 25 dB filters, he's a loud one": a person, not the work
        asked = _ASK_TO_TAKE.search(bare)
        if not cue and asked and set(self.names.listed(asked["who"], everyday=True)) - here:
            cue = asked
        moved = _MOVED_TO.search(bare) or _SEE_FIRST.search(bare)
        strong = (
            bool(cue)
            or bool(
                moved
                and set(self.names.listed(next(g for g in moved.groups() if g), everyday=True))
                - here
            )
            or bool(needs and set(self.names.listed(needs["who"], everyday=True)) - here)
            or any(
                here & set(self.names.listed(m[0], everyday=True))
                for m in (*_NEGATED.finditer(bare), *_NOT_THEIRS.finditer(bare))
            )
        )
        if not (strong or _REROUTE_WEAK.search(bare)):
            return None
        positive = _NOT_THEIRS.sub(" ", _NEGATED.sub(" ", bare))
        positive = _PASS_IT.sub(" to ", positive)  # "send it to Priya": "send" is no agent here
        named = [  # one already here still takes another's work: "should go to Felix not Ines"
            a
            for a in self.names.listed(positive, everyday=True)
            if (a not in here or (strong and here - {a})) and a not in self.unavailable
        ]
        handed = _HANDED_ON.search(bare)  # "…, whoever does welfare help": said at the end
        if handed:  # "… the stock's ok to use — that's Anil": the name it is handed to
            named.sort(key=lambda a: a not in self.names.listed(handed[0], everyday=True))
        if len(words(bare)) > (40 if (strong and named) or handed else 16):
            return None  # a long message may mention moving something; a correction is short,
            # unless it spells out who to move the work to ("…, it needs to go to Anchor")
        if named:
            return Decision(
                kind="reroute", target=named[0], reason=f"the user moved this to {named[0]}"
            )
        if not strong:  # "instead", "not daily": a correction only when it names someone
            return None
        # the cue's own words go, what it says the work is stays: "it's an app thing"
        cue_free = _REROUTE_CUE.sub(
            lambda m: " ".join(w for w in m[0].split() if w.lower() not in _CUE_WORDS), positive
        )
        ranked = [r for r in self.matcher().rank(cue_free) if r.agent.id not in here]
        if ranked:
            agent = ranked[0].agent.id
            return Decision(kind="reroute", target=agent, reason=f"the user meant {agent} instead")
        return None

    def _exact(self, bare: str, short: bool, context: ThreadContext) -> Decision | None:
        if agent_id := self._status_of(bare):
            return Decision(kind="status", target=agent_id, reason=f"asked about {agent_id}")
        if _STATUS.match(bare) and short:
            return Decision(kind="status", reason="asked for status")
        failed = any(t.state == "failed" for t in context.tasks)
        if (
            (_STILL_OPEN.match(bare) and len(words(bare)) <= 20)
            or _ANYTHING_DONE.match(bare)
            or _UPDATE_ON.match(bare)
            or (failed and _WHY_FAILED.match(bare))
        ):
            named = self.names.listed(bare, everyday=True)
            return Decision(kind="status", target=named[0] if named else None, reason="asked what")
        if (_ROSTER.match(bare) and short) or _LIST_THE_TEAM.match(bare):
            return Decision(kind="roster", reason="asked for the roster")
        if (what := _WHAT_CAN_YOU_DO.match(bare)) and (
            not (rest := what["rest"] or "").strip()
            or (_NEW_HERE.match(rest) and len(words(rest)) <= 8 and not ASKS.search(rest))
        ):  # "…? first week here": a few words about the asker, never a second ask
            return Decision(kind="roster", reason="asked what the team does")
        if (what := _WHAT_DOES.match(bare)) and (
            asked := (
                self.resolve_name(what["name"])
                or self.resolve_name(what["name"] + (what["kind"] or ""))
            )
        ):  # that agent's line of the roster, as "who's Research?" gets
            return Decision(
                kind="roster", target=self.fleet.agent(asked).name, reason="asked what it covers"
            )
        if not context.waiting and (  # "ok", "👍" to an agent's question is the answer
            _GREETING.match(bare or "?")
            or _SMALL_TALK.match(bare)
            or _SIGN_OFF.match(bare)
            or _ONLY_EMOJI.match(bare)
            or (_THANKS.match(bare) and len(words(bare)) <= 12)
        ):
            return Decision(kind="roster", reason="a greeting or thanks: the roster is the pointer")
        if match := _ANYONE_FOR.match(bare):
            return Decision(kind="roster", target=match["what"], reason="asked who does that")
        if match := _WHO_CAN.match(bare):
            return Decision(kind="roster", target=match.group("what"), reason="asked who can")
        if match := _ANY_OF_YOU_DO.match(bare):
            return Decision(kind="roster", target=match["what"] or match["mine"], reason="who can")
        if match := _WHOSE_IS_IT.match(bare):
            whose = match["what"] or match["job"] or match["can"] or match["other"]
            return Decision(kind="roster", target=whose, reason="asked whose it is")
        if (who := _WHO_IS.match(bare)) and (named := self.names.listed(who["who"], everyday=True)):
            return Decision(kind="roster", target=self.fleet.agent(named[0]).name, reason="who is…")
        if match := _WHO_TO_TALK_TO.match(bare):
            asked = (
                match["what"] or match["passed"] or match["about"] or match["todo"] or match["kept"]
            )
            about = re.sub(r"^(?:the|a|an)\s+", "", asked, flags=re.I)
            return Decision(kind="roster", target=about, reason="asked who to talk to")
        if _TEAMS_HERE.search(bare):
            return Decision(kind="roster", reason="asked what teams there are")
        if (chat := _GREETING_CHAT.match(bare)) and not self.names.word.search(chat["rest"]):
            said = re.sub(r"\blet'?s\s+hope\b", "", chat["rest"], flags=re.I)
            # not "morning all! the dishwasher at York is leaking": trouble told after hello
            trouble = TROUBLE.search(said) or _GONE_DOWN.search(said)
            if len(words(said)) <= 10 and not ASKS.search(said) and not trouble:
                return Decision(kind="roster", reason="a greeting and small talk")
        if _HOWS_EVERYONE.search(bare) and len(words(bare)) <= 12:
            return Decision(kind="roster", reason="small talk")
        if match := _WHO_HANDLES_THAT.match(bare):
            return Decision(kind="roster", target=match["what"], reason="asked who does that")
        if _WHOS_WHO.search(bare) and len(words(bare)) <= 16:
            return Decision(kind="roster", reason="asked who is who")
        if context.tasks and (no_need := _NO_NEED_FOR.match(bare)):
            return self._cancel(no_need["what"])
        if context.tasks and (_NO_NEED_NOW.search(bare) or _NEVER_MIND_WHY.match(bare)):
            return self._cancel("")  # "council came and took it all this morning, no need now"
        match = _CANCEL.match(bare)
        if match and _NEVER_MIND.match(bare) and _A_REASON.match(match["what"]):
            return self._cancel("")  # "never mind, we don't need it any more": all of it
        if match and (reason := _WHY_NOT.search(match.group("what"))):
            # "forget it, not needed anymore": the reason is not what to cancel
            if len(words(match.group("what")[: reason.start()])) <= 4:
                return self._cancel(match.group("what")[: reason.start()])
        if match and len(words(match.group("what"))) <= 4:
            return self._cancel(match.group("what"))
        if match and (why := re.match(r"([^,;]+)[,;]\s*(.+)$", match.group("what"))):
            # "stop looking for a hotel, the agent's sorted one themselves": the reason after
            if len(words(why.group(1))) <= 5 and not _THEN_WORK.search(why.group(2)):
                return self._cancel(why.group(1))
        if (
            (match := _NO_LONGER.match(bare))
            or (context.tasks and (match := _LEAVE_ALONE.match(bare)))
            # "hold off on the banner, …" stops whatever it names, in a thread or not
            or ((match := self._put_off(bare, context)) and (context.tasks or match["hold"]))
        ) and not _ASKS_AFTER_IT.search(bare):
            stopped: str = next((g for g in match.groups() if g), "")
            everything = re.match(
                r"(?:(?:all|both)(?:\s+of)?\s+(?:it|that|this|these|those|them)|everything|the\s+lot)$",
                stopped,
                re.I,
            )
            return self._cancel("" if everything else stopped)
        if not context.tasks and _HOLD_IT.match(bare):
            # "don't post that" with nothing in the thread: which, nobody here can tell
            return Decision(
                kind="clarify", target=NO_REPLY, question=render.HOLD_WHICH, reason="hold what?"
            )
        if not context.tasks and _ONLY_A_PRONOUN.match(bare):
            return Decision(kind="clarify", question=GENERIC_QUESTION, reason="it: what?")
        if not context.tasks and _AS_BEFORE.match(bare) and len(words(bare)) <= 12:
            return Decision(kind="clarify", question=GENERIC_QUESTION, reason="as before: what?")
        if not context.tasks and _FRAGMENT.match(bare):
            likely = [r.agent.name for r in self.matcher().rank(bare)[:2] if r.score >= FIT]
            question = render.which_of(*likely) if len(likely) == 2 else GENERIC_QUESTION
            return Decision(kind="clarify", question=question, reason="a thing, nothing asked")
        if context.tasks and (left := _CAN_LEAVE_IT.search(bare)):
            said_of = self.names.listed(left["who"] or "", everyday=True)
            return self._cancel(self.fleet.agent(said_of[0]).name if said_of else "")
        if context.tasks and (match := self._reroute.match(bare)):
            agent_id = self.resolve_name(match.group("name"))
            if agent_id is not None:
                return Decision(
                    kind="reroute", target=agent_id, reason=f"the user moved this to {agent_id}"
                )
        return None

    @staticmethod
    def _put_off(bare: str, context: ThreadContext) -> re.Match[str] | None:
        """ "leave the heating, …" stops work only when the thread's work is about it: "leave
        the boxes, the van's here" is an instruction."""
        match = _PUT_OFF.search(bare)
        if (
            match is not None
            and not match["halt"]  # "STOP don't send that to the trade list": stopped
            and (_REROUTE_CUE.search(bare) or _HANDED_ON.search(bare))
        ):
            return None  # "hold off on the designer, it's one for the writer": moved, not stopped
        if match is None or not match["leave"]:
            return match
        left = set(content_stems(match["leave"]))
        return match if any(left & set(content_stems(t.summary)) for t in context.tasks) else None

    @staticmethod
    def _cancel(what: str) -> Decision:
        what = _KEEP_GOING.sub("", what)  # "…'s one but keep dev going": only the first
        what = re.sub(r"^(?:working\s+on|doing|with|on|about|for)\s+", "", what.strip(), flags=re.I)
        what = re.sub(r"^(?:the|that|this|my|our)\s+", "", what.strip(), flags=re.IGNORECASE)
        # "the banner I asked Image for earlier": the banner (who was asked, and when, would
        # match every task of that agent)
        what = re.sub(
            r"(?<=\w)\s+(?:that\s+|which\s+)?(?:i|we)\s+(?:asked|requested|wanted|ordered)"
            r"(?:\s+(?!about\b)[\w'’-]+)?(?:\s+for)?"
            r"(?:\s+(?:earlier|yesterday|today|before|just\s+now|this\s+\w+|last\s+\w+|on\s+\w+day))*$",
            "",
            what,
            flags=re.IGNORECASE,
        )
        what = re.sub(r"(?:'s|’s)\s+(?:one|task|bit|thing|work|stuff|job)$", "", what, flags=re.I)
        what = re.sub(
            r"(?:[\s,]*\b(?:please|pls|now|for\s+me|too|any\s*more|thanks|thank\s+you|cheers|ta))+$",
            "",
            what,
            flags=re.IGNORECASE,
        )
        if _ALL_OF.match(what.strip()) and len(words(what)) <= 6:  # "everything I sent today"
            what = "all"
        everything = what.lower().strip(" ,.!") in (
            "", "all", "everything", "it", "that", "this", "all of it", "them", "the whole thing",
            "whole thing", "everything please", "all of them", "it all", "lot", "whole lot",
            "all of that", "all of this", "all of those", "all of these", "those", "these",
        )  # fmt: skip
        return Decision(
            kind="cancel",
            target="all" if everything else what,
            reason="asked to cancel " + ("everything here" if everything else repr(what)),
        )

    @staticmethod
    def _stop_first(bare: str, context: ThreadContext) -> bool:
        """A short message that opens by stopping something ("don't post that", "no need to
        find cover for Jo any more, she's back"): a stop, whatever it sounds nearest to. Out
        of a thread, "don't send …" is an instruction, not a stop."""
        opened = _OPENING.sub("", bare)
        first = _CANCEL_WORDS.match(opened)
        head, *why = re.split(r"\s*[,;—–]\s*", opened, maxsplit=1)
        # "ignore the refund, she emailed back to say it was her new washing powder": why, after
        explained = bool(why) and len(words(head)) <= 8 and _SAYS_HOW.search(why[0]) is not None
        return (
            first is not None
            and (len(words(bare)) <= 12 or (explained and not ASKS.search(why[0])))
            and (bool(context.tasks) or not _holds_back(first, opened))
            and not _ASKED_AFTER.search(bare)
        )

    def _someone_elses(self, bare: str, at: int) -> bool:
        """A customer's or a colleague's thing after a stopping word ("the Smiths' booking"), not
        an agent's work ("Writer's task")."""
        match = _SOMEONE_ELSES.match(bare, at)
        return match is not None and not self.names.listed(match[0], everyday=True)

    def _cancel_by_intent(
        self, bare: str, intent: Intent, context: ThreadContext
    ) -> Decision | None:
        """A cancel needs a cancelling word, and no work after it ("cancel X, then do Y"). "don't
        pay it yet" stops work only where there is work: in a new thread it is an instruction."""
        opened = _OPENING.sub("", bare)
        dont = _DONT_DO_IT.match(opened)
        doing = [t for t in context.tasks if dont and dont["verb"].lower() in words(t.summary)]
        if len(doing) == 1:  # "don't strip it, he just landed badly": that task, by its verb
            return self._cancel(doing[0].summary)
        left = _LEAVE_THE.match(opened)
        if left and {w for w in words(left["what"]) if len(w) > 3} & {
            w for t in context.tasks for w in words(t.summary)
        }:
            return self._cancel(clean(left["what"]))
        stop_last = bool(context.tasks and _STOP_LAST.search(bare))
        if (
            not stop_last
            and not any(
                not _REPORTED.search(bare, 0, m.start())
                and (
                    context.tasks
                    or not (_holds_back(m, bare) or self._someone_elses(bare, m.end()))
                )
                for m in _CANCEL_WORDS.finditer(bare)
            )
        ) or _THEN_WORK.search(bare):
            return None
        leads = intent.name != "work" and intent.margin >= INTENT_MARGIN
        spoken_to = self.names.leading.match(bare) or self.names.bare.match(bare)
        # "Ken no need for the big copies now, …": the stop opens what is said to Ken
        said = (spoken_to["rest"] or "") if spoken_to else ""
        stop_first = (
            self._stop_first(bare, context)
            or bool(said and context.tasks and self._stop_first(said, context))
            or stop_last
        )
        if not ((leads and intent.name == "cancel") or len(words(bare)) <= 10 or stop_first):
            return None
        if (
            (leads and intent.name in ("cancel", "status", "clarify"))
            or intent.margin < 0.05
            or stop_first
        ):
            first = _CANCEL_WORDS.search(bare)
            said_of = self.names.listed(bare[: first.start()], everyday=True) if first else []
            if len(said_of) == 1:  # "the writer can stop": that agent's work, not all
                return self._cancel(self.fleet.agent(said_of[0]).name)
            what = _KEEP_GOING.sub("", _CANCEL_WORDS.split(bare, maxsplit=1)[-1])
            if first and (left := _LEFT_AS_IS.match(first[0])):
                what = left["what"]  # "leave the chairs as they are": the chairs
            named = re.split(r"[,;.!?—–]|\s-\s", what, maxsplit=1)[0]  # "…, just do the copy"
            named = re.sub(r"\s+down$", "", named.strip())  # "take the advert down": the advert
            if len(words(named)) <= 6:
                return self._cancel(clean(named))
            # "scrap the Larch Ave letter I asked Becky for earlier": that letter, however long
            # its name; a stop of everything is said so ("kill all the jobs …")
            return self._cancel(
                "" if _ALL_OF.match(named.strip()) else " ".join(clean(named).split()[:8])
            )
        return None

    def _by_intent(
        self,
        bare: str,
        intent: Intent,
        addressed: tuple[list[str], str] | None,
        question: bool,
        in_thread: bool,
    ) -> Decision | None:
        """Non-work intents, each behind a gate that keeps real work from being lost.
        `question`: the message asks (a question word first, or a question mark last);
        `in_thread`: there is work in the thread it can be about."""
        leads = intent.name != "work" and intent.margin >= INTENT_MARGIN
        named = self.names.listed(bare, everyday=True)
        if (_ANY_NEWS.match(bare) or _WHY_SO_LONG.match(bare)) and len(words(bare)) <= 14:
            return Decision(kind="status", target=named[0] if named else None, reason="any news…")
        if (or_not := _OR_NOT.match(bare)) and (
            who := self.names.listed(or_not["who"], everyday=True)
        ):
            return Decision(kind="status", target=who[0], reason="is … doing it or not")
        if (_HOW_GOING.match(bare) and len(words(bare)) <= 14) or (
            question and _ALL_OK.match(bare)
        ):
            return Decision(kind="status", target=named[0] if named else None, reason="how's…")
        if question and len(words(bare)) <= 16 and any(p.match(bare) for p in _WHAT_CAME_OF):
            return Decision(
                kind="status", target=named[0] if named else None, reason="what came of…"
            )
        if (mine := _MINE_OR_BUSY.match(bare)) and (named or not mine["busy"]):
            return Decision(kind="status", target=named[0] if named else None, reason="mine / busy")
        if _WHERE_IS.match(bare) and len(words(bare)) <= 10:
            return Decision(kind="status", target=named[0] if named else None, reason="where is…")
        if question and (about := self.names.about.match(bare)):
            asked_about = self.names.listed(about.group("names"), everyday=True)
            return Decision(
                kind="status",
                target=asked_about[0] if asked_about else None,
                reason="asked what it did",
            )
        status_cue = bool(_STATUS_WORDS.search(bare) or _DONE_QUESTION.match(bare))
        status_cue = status_cue and not _CAN_BE_DONE.search(bare)
        if (
            (question or len(words(bare)) <= 3)  # "status pls 🙏"
            and status_cue
            and ((leads and intent.name in ("status", "roster")) or _DONE_QUESTION.match(bare))
            and not roster_target(bare)
            and (len(words(bare)) <= 14 or _DONE_QUESTION.match(bare) or named)
            and not _HANDED_OVER.match(bare)
        ):
            target = named[0] if named else None
            return Decision(
                kind="status", target=target, reason=f"a status question (near “{intent.nearest}”)"
            )
        if (
            question
            and addressed is None
            and not self.names.called(bare)
            and not _ERRAND.search(bare)  # "anyone know a decent plumber?": an errand
            and _ROSTER_CUE.search(bare)
            and (
                (leads and intent.name == "roster" and len(words(bare)) <= 14)
                or roster_target(bare)
            )
        ):
            return Decision(
                kind="roster", target=roster_target(bare), reason="a question about the team"
            )
        if (
            leads
            and intent.name == "roster"
            and addressed is None
            and len(words(bare)) <= 5
            and not _THEIR_THING.search(bare)
            and not (in_thread and (_PRAISE_THEN.match(bare) or _INSTRUCTS.search(bare)))
            and not _HELP_WANTED.search(bare)
            and not (_DOES.match(bare) or _OK_TO.search(bare))  # "send it to them": asked
        ):
            return Decision(kind="roster", reason=f"chit-chat (near “{intent.nearest}”)")
        return None

    # -- work -----------------------------------------------------------------------------

    def _work_by_meaning(
        self, text: str, matcher: Matcher, why: Explanation, *, allow_clarify: bool
    ) -> Decision:
        if allow_clarify:
            question = self._vague_question(text, matcher, why)
            if question is not None:
                return Decision(
                    kind="clarify",
                    question=question,
                    reason="too vague to route",
                    confidence=0.4 if why.rule == "too little to act on" else None,
                )
        tasks: list[TaskSpec] = []
        notes: list[str] = []
        previous: list[str] = []
        named: set[str] = set()
        steps = parse(text, self.names) or [[Part(text)]]
        alone = len(steps) == 1 and len(steps[0]) == 1  # one matter, not a step of several
        for step in steps:
            current: list[str] = []
            addressed = {a for p in step for a in p.agents}
            # "Swift came back with a smashed window. can the yard get her fixed": the trouble
            # is what an addressed part is asked to deal with, not a task of its own
            pointed_at = any(p.agents and _BACK_REFERENCE.search(p.text) for p in step)
            for part in step:
                if part.setting:
                    ranked = (
                        matcher.rank(part.text)
                        if TROUBLE.search(part.text) and not pointed_at
                        else []
                    )
                    if not (
                        ranked
                        and ranked[0].score >= FIT
                        and (len(ranked) < 2 or ranked[0].score - ranked[1].score >= PIECE_MARGIN)
                        and ranked[0].agent.id not in addressed
                    ):
                        continue  # what the addressed parts are about
                for agent, summary in self._route_onward(part, tasks, previous, matcher, why) or (
                    self._route_part(part, matcher, why, notes, alone=alone)
                ):
                    if (
                        agent.id == CATCH_ALL_ID
                        and len(previous) == 1
                        and _BACK_REFERENCE.search(summary)
                        and (before := next(t for t in tasks if t.id == previous[0])).agent
                        != CATCH_ALL_ID
                    ):
                        # "assess her care needs, then sort out a stairlift for her": more
                        # of the same case, for the agent that had the step before
                        agent = self.fleet.agent(before.agent)
                        if why.parts:
                            why.parts[-1].chose = agent.id
                            why.parts[-1].why = "nothing fits; it refers back to the step before"
                    summary = _with_what_before(summary, [t for t in tasks if t.id in previous])
                    task = self._task(f"t{len(tasks) + 1}", agent, summary, previous)
                    tasks.append(task)
                    if agent.id in part.agents:
                        named.add(task.id)
                    current.append(task.id)
            previous = current or previous
        tasks = _merge_same_agent_steps(_one_task_per_agent_per_step(tasks, named))
        if not tasks:
            catch_all = self.fleet.catch_all.as_agent()
            tasks.append(self._task("t1", catch_all, text))
        if any(t.agent == CATCH_ALL_ID for t in tasks):
            notes.append("no agent fits some work, so a disposable sub-agent takes it")
        count = len({tuple(t.depends_on) for t in tasks})
        shape = f"a chain of {count} steps" if count > 1 else "one step"
        routes = ", ".join(f"{t.id}→{t.agent}" for t in tasks)
        decision = Decision(
            kind="work", tasks=tasks, reason=f"{shape}; {routes}", confidence=why.confidence()
        )
        decision.notes.extend(
            n for n in notes if n.startswith(("⚠", "Unavailable")) or "is unavailable" in n
        )
        return decision

    def _route_onward(
        self,
        part: Part,
        tasks: list[TaskSpec],
        previous: list[str],
        matcher: Matcher,
        why: Explanation,
    ) -> list[tuple[AgentSpec, str]]:
        """ "write the blog post and publish it": "publish it", which says nothing more,
        routed as "publish the blog post", and summarised in the user's words."""
        onward = _ONWARD.match(part.text.strip())
        if onward is None or part.agents or len(previous) != 1 or content_stems(onward["rest"]):
            return []  # "post it on our socials" says where itself
        before = next(t for t in tasks if t.id == previous[0]).summary
        thing = re.sub(r"^\s*(?!(?:the|a|an|our|my|this|that)\b)\w+\s+", "", before, count=1)
        meant = f"{onward['verb']} {thing}"
        summary = clean(part.text) or part.text.strip()
        return [(agent, summary) for agent, _ in self._by_meaning(meant, matcher, why)][:1]

    def _route_part(
        self, part: Part, matcher: Matcher, why: Explanation, notes: list[str], *, alone: bool
    ) -> list[tuple[AgentSpec, str]]:
        summary = clean(part.text) or part.text.strip()
        if part.agents:
            routed: list[tuple[AgentSpec, str]] = []
            for agent_id in part.agents:
                agent = self.fleet.agent(agent_id)
                if agent_id in self.unavailable:
                    notes.append(
                        f"{agent.label} is unavailable right now ({self.unavailable[agent_id]})."
                    )
                    routed.extend(self._by_meaning(summary, matcher, why))
                else:
                    why.parts.append(PartFigures(summary, [], agent_id, "addressed by name"))
                    routed.append((agent, summary))
            return routed
        return self._by_meaning(summary, matcher, why, alone=alone)

    def _by_meaning(
        self, text: str, matcher: Matcher, why: Explanation, *, alone: bool = False
    ) -> list[tuple[AgentSpec, str]]:
        """One part, or a list of parts that each clearly belong to a different agent.
        `alone`: the part is the whole request, not one step of several."""
        if (
            (off := _OFF_DUTY.search(text)) is not None
            and (
                _WORLD.fullmatch(off[0]) is not None
                or not _AT_WORK.search(f"{text[: off.start()]} {text[off.end() :]}")
            )
            and not matcher.scorer.claimed(off[0])
        ):  # the user's own affairs, however its pieces would split
            self._note(why, text, matcher.rank(text), CATCH_ALL_ID, f"a personal favour ({off[0]})")
            return [(self.fleet.catch_all.as_agent(), text)]
        translators = (
            [
                a
                for a in matcher.profiles.agents
                if _TRANSLATES.search(" ".join([a.description, *a.skills, *a.aliases]))
            ]
            if _TRANSLATE.search(text)
            else None
        )
        if translators is not None and len(translators) <= 1:
            # "translate the rules card and the welcome sheet into german": one job, for
            # whoever translates here, or for nobody here
            agent = translators[0] if translators else self.fleet.catch_all.as_agent()
            self._note(why, text, matcher.rank(text), agent.id, "a translation")
            return [(agent, text)]
        asks: dict[str, str] = {}
        pieces = self._list_pieces(text, asks)
        if len(pieces) >= 2 and (from_named := self._from_named(pieces, matcher, why)):
            return from_named
        # only says how things are: one matter as it looks from several sides
        told = all(_STATEMENT.search(p) and not p.rstrip().endswith("?") for p in pieces)
        if len(pieces) >= 2:
            exact = [a for a in (self._exact_skill(p, matcher) for p in pieces) if a is not None]
            if len(exact) == len(pieces) and len({a.id for a in exact}) >= 2 and not told:
                for piece, agent in zip(pieces, exact, strict=True):
                    why.parts.append(PartFigures(piece, [], agent.id, "names its skill exactly"))
                return by_agent(zip(exact, pieces, strict=True))
            chosen = [(piece, matcher.rank(piece)) for piece in pieces]
            if several_asks(text, pieces):
                # the writer split it: each piece goes where it fits on its own, and one
                # that fits nobody is a sub-agent's, as a message of its own would be
                routed = [(self._fit_or_catch_all(r), piece) for piece, r in chosen]
                if len({agent.id for agent, _ in routed}) >= 2:
                    for (piece, ranked), (agent, _) in zip(chosen, routed, strict=True):
                        self._note(why, piece, ranked, agent.id, "one of several asks")
                    return by_agent(routed)
            # "the Chalford job starts on the 3rd. needs the RAMS doing, and the scaffold
            # booking": news, for the parts after it, is no part of its own
            listed = _with_news(text, chosen)
            if (
                not told
                and all(_clear(r) for _, r in listed)
                and len({r[0].agent.id for _, r in listed}) >= 2
                # things listed, or asks: not one matter told on in several sentences
                and not any(_tells_on(piece) for piece, _ in listed[1:])
            ):
                for piece, fits in listed:
                    self._note(why, piece, fits, fits[0].agent.id, "a listed part")
                return by_agent((fits[0].agent, piece) for piece, fits in listed)
            # a message that also spoke to Dispatch's instructions gets no split it asks for
            if not told and not why.steered and (split := by_asks(chosen)) is not None:
                for (piece, ranked), (agent, _) in zip(chosen, split, strict=True):
                    self._note(why, piece, ranked, agent.id, "one of the asks, or goes with one")
                return by_agent(_stretches(text, split))
        ranked = matcher.rank(text)
        if len(pieces) == 1 and (ask := asks.get(pieces[0])) is not None:
            # "the release is friday, the design system isn't ready — can someone mock up the
            # screens?": the ask says whose it is, when it alone clearly fits someone
            by_ask = matcher.rank(ask)
            if (
                by_ask
                and by_ask[0].score >= max(FIT + PIECE_LEAD, ranked[0].score if ranked else 0)
                and (len(by_ask) < 2 or by_ask[0].score - by_ask[1].score >= PIECE_MARGIN)
            ):
                ranked = by_ask
        if len(pieces) == 1 and (about := _ABOUT.match(text)) is not None:
            # "a press release about the new recycling rules": what is to be made says whose
            # it is, not what it is about, when that alone clearly fits someone
            by_what = matcher.rank(about["what"])
            if _clear(by_what):
                ranked = by_what
        if (named := self._skill_itself(text, matcher)) is not None:
            self._note(why, text, ranked, named.id, "names its skill word for word")
            return [(named, text)]
        errand = _ERRAND.search(text)
        what = errand and next(g for g in errand.groups() if g)
        if what and len(words(text)) <= 30 and not matcher.scorer.claimed(what):
            self._note(why, text, ranked, CATCH_ALL_ID, f"nobody here books {what}")
            return [(self.fleet.catch_all.as_agent(), text)]
        if (
            alone
            and ranked
            and ranked[0].score >= FIT
            and not ranked[0].taught  # what a user taught stands
            and matcher.elsewhere(text)
        ):
            self._note(why, text, ranked, CATCH_ALL_ID, "a job nobody here does")
            return [(self.fleet.catch_all.as_agent(), text)]
        if ranked and ranked[0].score >= FIT:
            self._note(why, text, ranked, ranked[0].agent.id, "closest by meaning")
            return [(ranked[0].agent, text)]
        self._note(why, text, ranked, CATCH_ALL_ID, f"no agent scores {FIT} or more")
        return [(self.fleet.catch_all.as_agent(), text)]

    def _from_named(
        self, pieces: list[str], matcher: Matcher, why: Explanation
    ) -> list[tuple[AgentSpec, str]] | None:
        """ "pricing from Marco, a service report from Iris and the compliance section": a
        list whose pieces name who is to provide them. The others go where they fit."""
        named = [self.names.provides(p) for p in pieces]
        if not any(named):
            return None
        routed: list[tuple[AgentSpec, str]] = []
        carried = ""
        for i, (piece, agent_id) in enumerate(zip(pieces, named, strict=True)):
            if (
                agent_id is None
                and i + 1 < len(pieces)
                and _STATEMENT.search(piece)
                and not says_what_to_do(piece, False)
                and not (TROUBLE.search(piece) and _clear(matcher.rank(piece)))
            ):
                # "the Robinsons are on Otter next week, can we have a cake from the café…":
                # how things stand, for the ask after it
                carried = f"{carried}{piece}, "
                continue
            if agent_id is not None and agent_id not in self.unavailable:
                why.parts.append(PartFigures(piece, [], agent_id, "names who provides it"))
                agent = self.fleet.agent(agent_id)
            else:
                ranked = matcher.rank(piece)
                agent = self._fit_or_catch_all(ranked)
                self._note(why, piece, ranked, agent.id, "one of a list that names who")
            routed.append((agent, carried + piece))
            carried = ""
        return by_agent(routed)

    def _fit_or_catch_all(self, ranked: Sequence[Ranked]) -> AgentSpec:
        """The best agent if it clears the bar, else the catch-all sub-agent."""
        return (
            ranked[0].agent
            if ranked and ranked[0].score >= FIT
            else self.fleet.catch_all.as_agent()
        )

    def _whose_matter(self, text: str, lessons: Sequence[Lesson]) -> str | None:
        """ "did the RAMS go to northstone in the end?" asks about a matter one agent plainly
        handles: the answer is that agent's work (the asker's other work follows if it has
        none)."""
        topic = _STATUS_WORDS.sub(" ", without_injections(strip_mentions(text)))
        if len(content_stems(topic)) < 2 or not set(_matter(topic)) - _SHOW_ME:
            return None  # "what's running?", "any news?", "show me my stuff": everything
        ranked = self.matcher(lessons).rank(topic)
        return ranked[0].agent.id if _clear(ranked) else None

    def _has_do(self, bare: str) -> bool:
        """ "have social share …", "have someone check …": who is to do it, then what, not
        "have you finished …" or "have design sent …"."""
        if (someone := _HAVE_SOMEONE.match(bare)) is not None:
            rest = bare[someone.end() :]
        elif re.match(r"have\s", bare, re.IGNORECASE) and (ordered := self.names.addressed(bare)):
            rest = ordered[1]
        else:
            return False
        return bool(words(rest)) and _PARTICIPLE.match(rest.strip()) is None

    @staticmethod
    def _exact_skill(text: str, matcher: Matcher) -> AgentSpec | None:
        """A piece that names one agent's skill word for word, and nobody else's, is that
        agent's: the rules' high-precision override, with no embedding at all."""
        if (owner := SemanticPlanner._skill_itself(text, matcher)) is not None:
            return owner
        scores = matcher.scorer.scores(text)
        if len(scores) < 2 or scores[0][0] < EXACT or scores[1][0] * 3 > scores[0][0]:
            return None
        return scores[0][1]

    @staticmethod
    def _skill_itself(text: str, matcher: Matcher) -> AgentSpec | None:
        """A part that is nothing but one agent's skill ("landing page copy") is that
        agent's, even where another's skill is part of it ("landing page")."""
        stems = tuple(content_stems(text))
        owners = matcher.scorer.skill_owners(stems) if stems else []
        return owners[0] if len(owners) == 1 else None

    @staticmethod
    def _note(
        why: Explanation, text: str, ranked: Sequence[Ranked], chose: str, reason: str
    ) -> None:
        top = [(r.agent.id, round(r.score, 3), r.phrase) for r in ranked[:3]]
        why.parts.append(PartFigures(text, top, chose, reason))

    @staticmethod
    def _list_pieces(text: str, asks: dict[str, str] | None = None) -> list[str]:
        """A list ("images, copy and tweets") or several sentences, as separate pieces; a
        piece that only adds context ("they only used it a week") stays with the one before,
        and one that only says how things are stays with the ask about it after it (`asks`
        maps such a merged piece to its ask)."""
        if _FORWARDED.match(text):
            return [clean(text) or text]  # someone else's message: one matter, as it was sent
        body = text
        # "x: …", "x — …" (not the colon of a time, "the 11:15")
        head = r"^[^:—–]{1,60}?\s*(?:(?<!\d):(?!\d)|—|–|\s-\s)\s*(?P<rest>.+)$"
        if (colon := re.match(head, text)) and (LIST_SPLIT.search(colon.group("rest"))):
            body = colon.group("rest")
        kept: list[str] = []  # binomials stand aside while the text is cut

        def aside(match: re.Match[str]) -> str:
            kept.append(match.group(0))
            return f"\ue000{len(kept) - 1}\ue001"

        def back(piece: str) -> str:
            if not kept:  # a user's own private-use marks are left as they are
                return piece
            return re.sub("\ue000(\\d+)\ue001", lambda m: kept[int(m.group(1))], piece)

        marked = "\ue000" in body or "\ue001" in body  # a user's own marks: no stand-ins
        items = _ITEMS.split(body)
        if len(items) >= 3:  # "1) … 2) …": one piece per item, each cut no further
            if items[0].rstrip().endswith(":") or len(words(items[0])) <= 6:
                items = items[1:]  # "three things before the derby:"
            return [p for p in (clean(x.strip(" ,;")) for x in items) if p]
        cut = _CUT.split(body if marked else _BINOMIAL.sub(aside, body))
        pieces: list[tuple[str, str]] = []  # each piece as written, from the cut before it
        written = ""
        for between, x in zip(["", *cut[1::2]], cut[0::2], strict=True):
            written += between + x
            if piece := clean(back(x)):
                pieces.append((written, piece))
                written = ""
        merged: list[str] = []
        raw: list[str] = []  # each merged piece as written: joined pieces keep the user's words

        def join(piece_as_written: str) -> str:
            raw[-1] += piece_as_written
            merged[-1] = clean(back(raw[-1])) or merged[-1]
            return merged[-1]

        # "two things: …", "… AND …": the writer says the pieces are separate
        announced = bool(_SEVERAL.match(text.strip()) or _EMPHATIC_AND.search(body))
        for as_written, piece in pieces:
            if merged and not announced and _asks_about(merged[-1], piece):
                said = merged[-1]
                join(as_written)
                if asks is not None:
                    asked = asks.pop(said, None)
                    asks[merged[-1]] = clean(back(asked + as_written)) if asked else piece
                continue
            tokens = words(piece)
            substance = [
                w for w in tokens if w not in _VAGUE_WORDS and w not in _WHEN and not w.isdigit()
            ]
            leans = (
                not substance
                or (
                    not announced
                    and not _TO_GO_WITH.match(piece)
                    and (
                        (
                            # "get an image made for it": a new ask about the piece before, not context
                            not _NEW_THING.match(piece)
                            # "…, and stick it on the website": an ask of its own
                            and not (
                                re.match(
                                    r"\s*,\s*and\s+(?!(?:can|could|would|will)\b)", as_written, re.I
                                )
                                and _IMPERATIVE.match(piece)
                                and says_what_to_do(piece, False)
                            )
                            and (
                                (len(tokens) <= 6 and bool(_PRONOUNS & set(tokens)))
                                or (len(tokens) <= 9 and bool(_PRONOUNS.intersection(tokens[-1:])))
                            )
                        )
                        or bool(_CONTEXT_CLAUSE.match(piece))
                        or bool(_GOES_ON_SAYING.match(piece))
                        or bool(
                            merged
                            and (
                                (as_written.lstrip().startswith(",") and _WITH_LIST.search(raw[-1]))
                                or _WITH_GOING_ON.search(raw[-1])
                            )
                            and not _STATEMENT.search(piece)
                            and not ASKS.search(piece)
                        )
                        or bool(_TOLD_ON.match(piece) or _THEIR_SIDE.match(piece))
                        or bool(
                            len(merged) == 1
                            and len(pieces) == 2
                            and as_written.lstrip().startswith(",")
                            and _ASKS_ABOUT_IT.match(piece)
                            and _names_only(merged[0])
                        )
                        or bool(merged and _about_whom_before(piece, raw[-1]))
                        or bool(
                            # "the invoice for the blades and bulbs needs paying": one subject
                            merged
                            and re.match(r"\s+and\s", as_written)  # joined by a bare "and"
                            and _SHARED_PREDICATE.match(piece)
                            and not ASKS.search(raw[-1])
                            and not _STATEMENT.search(merged[-1])
                        )
                        or bool(_SUM.match(piece) or _DETAIL.match(piece))
                    )
                )
            )
            if merged and leans:
                join(as_written)
            else:
                merged.append(piece)
                raw.append(as_written)
        if (
            len(merged) >= 2
            and len(words(merged[0])) <= 3
            and _HAPPENED.search(merged[0])
            and not ASKS.search(raw[0])
        ):
            # "letter just arrived, environmental health are coming…": a heading, not a task
            merged[1] = clean(back(raw[0] + raw[1])) or merged[1]
            raw[1] = raw[0] + raw[1]
            del merged[0], raw[0]
        return merged

    def _vague_question(self, text: str, matcher: Matcher, why: Explanation) -> str | None:
        rule_question = self._vague(text, matcher.scorer)
        too_little = carries_too_little(text, self.names)
        intent = why.intent
        by_intent = (
            intent is not None
            and intent.name == "clarify"
            and intent.margin >= INTENT_MARGIN
            and len(words(text)) <= 6
            and self.names.addressed(text) is None
        )
        if by_intent and not (rule_question or too_little):
            # "fix the login bug": short like "fix that", but clearly someone's
            ranked = matcher.rank(text)
            by_intent = not (
                ranked
                and ranked[0].score >= FIT + PIECE_LEAD
                and (len(ranked) < 2 or ranked[0].score - ranked[1].score >= CLEAR_LEAD)
            )
        if not (rule_question or too_little or by_intent):
            return None
        why.rule = "too little to act on"
        if too_little:
            template = _VAGUE_VERBS.get((words(text) or [""])[0], "")
            return template if template and "{" not in template else GENERIC_QUESTION
        if rule_question:
            return rule_question  # it names what the request is about ("the button")
        ranked = matcher.rank(text)
        likely = [r.agent.name for r in ranked[:2] if r.score >= FIT]
        if len(likely) == 2:
            return render.which_of(likely[0], likely[1])
        return GENERIC_QUESTION

    # -- follow-ups -----------------------------------------------------------------------

    def _belongs_elsewhere(self, text: str, context: ThreadContext, matcher: Matcher) -> bool:
        """A message in a thread that points at nothing in it and is plainly another agent's
        ("the big sainsbury's wants to give us their leftover bread" where the drivers were
        asked about a van): new work, not more for the thread's agent."""
        if (
            (publish := _PUBLISH_IT.search(text))
            and context.tasks
            and all(t.state == "completed" for t in context.tasks)
        ):
            # "results are in, can we get them on the website and insta": the finished work,
            # to whoever publishes it
            ranked = matcher.rank(publish[0])
            return _clear(ranked) and ranked[0].agent.id not in {t.agent for t in context.tasks}
        if (
            len(words(text)) < ELSEWHERE_WORDS
            or _THING_BACK.search(text)
            or _ANSWERS_THREAD.match(text)
        ):
            return False
        here = {t.agent for t in context.tasks}
        ranked = matcher.rank(text)
        if not ranked or ranked[0].agent.id in here or ranked[0].score < FIT + PIECE_LEAD:
            return False
        best_here = max((r.score for r in ranked if r.agent.id in here), default=0.0)
        return best_here < FIT or ranked[0].score - best_here >= ELSEWHERE_LEAD

    def _followup_by_meaning(
        self, text: str, context: ThreadContext, matcher: Matcher, why: Explanation
    ) -> Decision:
        here = list(dict.fromkeys(t.agent for t in context.tasks))
        if (
            len(here) > 1
            and not self._mentioned.search(text)
            and (carries_too_little(text, self.names) or _DO_IT_AGAIN.match(text.strip()))
        ):  # "fix it", "do the same again for the other site", after two agents' work
            why.rule = "too little to act on, after several agents' work"
            latest = [agent.name for a in reversed(here[-2:]) if (agent := self.fleet.get(a))]
            return Decision(
                kind="clarify",
                question=render.which_of(*latest) if len(latest) == 2 else GENERIC_QUESTION,
                reason="too vague to route",
            )
        why.rule = "a follow-up in a thread that already has agents"

        def by_meaning(candidates: list[ThreadTask]) -> ThreadTask | None:
            """The latest task of the thread's agent that clearly fits best."""
            here = {t.agent for t in candidates}
            ranked = [r for r in matcher.rank(text) if r.agent.id in here]
            if len(ranked) < 2 or ranked[0].score - ranked[1].score < PIECE_MARGIN:
                return None
            return next(t for t in reversed(candidates) if t.agent == ranked[0].agent.id)

        return self._followup(text, context, matcher.scorer, by_meaning)

    # -- bounds ---------------------------------------------------------------------------

    def _bounded(self, decision: Decision) -> Decision:
        if decision.kind in ("work", "followup") and len(decision.tasks) > self.max_tasks:
            return Decision(
                kind="clarify",
                target=NO_REPLY,
                question=render.too_many_tasks(len(decision.tasks), self.max_tasks),
                reason=f"plan of {len(decision.tasks)} tasks is over the limit of {self.max_tasks}",
                planner=decision.planner,
            )
        return decision
