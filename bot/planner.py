"""The rule-based planner: offline, deterministic, and the safety net under any smarter one.

It turns one message (plus what is already going on in its thread) into exactly one
`Decision`. It never produces an answer to the request itself: the only free text it
emits is a task summary lifted from the user's own words, or one clarifying question
picked from a fixed set.

Over the core's 450-line mark: the word lists, patterns and fixed questions that make the
rules are data, and splitting them from the few functions that read them would scatter one
decision over files. The semantic planner (`bot.semantic`) builds on these pieces.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import snowballstemmer

from bot.manifest import CATCH_ALL_ID, AgentSpec, Fleet
from bot.models import Decision, TaskSpec


@dataclass(frozen=True)
class ThreadTask:
    id: str
    agent: str
    summary: str
    state: str
    question: str | None = None


@dataclass(frozen=True)
class ThreadContext:
    """What the thread already holds; empty for a fresh top-level message."""

    tasks: Sequence[ThreadTask] = ()
    pending_question: str | None = None
    """The clarifying question Dispatch asked in this thread and is waiting on."""
    pending_text: str | None = None
    """The original words of the request that question is about."""
    pending_id: str | None = None
    """That request's id."""

    @property
    def waiting(self) -> list[ThreadTask]:
        return [t for t in self.tasks if t.state == "input_required"]


@dataclass(frozen=True)
class Lesson:
    """A routing correction a user made earlier: words like these belong to that agent."""

    text: str
    agent: str


EMPTY = ThreadContext()

# -- words ------------------------------------------------------------------------------------

_STOP = frozenset(
    """a an the this that these those it its it's them they their our my your his her me us we
    i you he she of to in on at by for with from into onto about as and or but so if then than
    please pls can could would should will shall may might must do does did done be is are was
    were been being have has had get got some any all each every just also too very really new
    now today asap quickly quick up out over under again more most less need needs needed want
    wants wanted like let lets let's make sure ok okay hey hi hello thanks thank you'd i'd we'd
    there here what's whats go going""".split()
)

_STEMMER = snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Porter2 (Snowball): "scheduling" and "schedule", "translate" and "translation" meet."""
    return str(_STEMMER.stemWord(word.lower().strip("'’")))


def fold(text: str) -> str:
    """Accents off: "cafe" is the "café" of a manifest, "creme brulee" its "crème brûlée"."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9][a-z0-9+#./'’-]*[a-z0-9]|[a-z0-9]", fold(text).lower())


def content_stems(text: str) -> list[str]:
    return [stem(w) for w in words(text) if w not in _STOP and len(w) > 1]


# -- scoring an agent against a phrase --------------------------------------------------------


@dataclass
class _Profile:
    agent: AgentSpec
    skill_phrases: list[tuple[str, ...]]
    skill_words: set[str]
    example_words: set[str]
    description_words: set[str]


_Words = tuple[list[tuple[str, ...]], set[str], set[str], set[str]]


@dataclass
class _Index:
    """Agents' stemmed words and their weights, and who holds each word: scoring a message
    touches only the agents that share a word with it."""

    profiles: list[_Words]
    idf: dict[str, float]
    postings: dict[str, list[tuple[int, float]]]
    """word → (agent's position, the word's weight for that agent: as a skill, else as an
    example, else in the description)."""
    phrases: dict[str, list[tuple[int, str, int]]]
    """a skill phrase's first word → (agent's position, " the phrase ", its length)."""


_INDEXES: dict[tuple[Any, ...], _Index] = {}
"""Per fleet as routing sees it (read-only)."""


def _index(agents: Sequence[AgentSpec]) -> _Index:
    """Stem the agents' skills, examples and descriptions once per fleet, not per message:
    for a fleet of a dozen agents that is most of the cost of planning."""
    key = tuple((a.id, a.description, tuple(a.skills), tuple(a.examples)) for a in agents)
    if (hit := _INDEXES.get(key)) is not None:
        return hit
    profiles: list[_Words] = []
    for agent in agents:
        phrases: list[tuple[str, ...]] = []
        skill_words: set[str] = set()
        for skill in agent.skills:
            phrase = tuple(content_stems(skill))
            if phrase:
                phrases.append(phrase)
                skill_words.update(phrase)
        example_words = {w for example in agent.examples for w in content_stems(example)}
        profiles.append(
            (phrases, skill_words, example_words, set(content_stems(agent.description)))
        )
    counts: dict[str, int] = {}
    for _, skill_words, example_words, description_words in profiles:
        for word in skill_words | example_words | description_words:
            counts[word] = counts.get(word, 0) + 1
    n = max(len(profiles), 1)
    idf = {word: 1.0 + math.log(n / count) for word, count in counts.items()}
    index = _Index(profiles, idf, {}, {})
    for position, (phrases, skill_words, example_words, description_words) in enumerate(profiles):
        for word in skill_words | example_words | description_words:
            weight = 3.0 if word in skill_words else 1.5 if word in example_words else 1.0
            index.postings.setdefault(word, []).append((position, weight * idf[word]))
        for phrase in phrases:
            entry = (position, " " + " ".join(phrase) + " ", len(phrase))
            index.phrases.setdefault(phrase[0], []).append(entry)
    if len(_INDEXES) >= 16:  # fleets change rarely; keep the cache small
        _INDEXES.clear()
    _INDEXES[key] = index
    return index


class Scorer:
    """Scores how well each agent fits a phrase, from the manifest's skills and examples.

    Words that many agents claim count for less (an inverse document frequency), and a
    whole skill phrase found in the text counts extra, so "landing page copy" goes to the
    writer while "landing page" goes to the designer.
    """

    CONFIDENT = 2.5

    def __init__(
        self, fleet: Fleet, lessons: Sequence[Lesson] = (), unavailable: Collection[str] = ()
    ) -> None:
        self.fleet = fleet
        # Routing skips an agent that is not answering.
        agents = [agent for agent in fleet.agents if agent.id not in unavailable]
        self._index = _index(agents)
        self.idf = self._index.idf
        self.profiles = [
            _Profile(agent, *words)
            for agent, words in zip(agents, self._index.profiles, strict=True)
        ]
        self.lessons = [(set(content_stems(lesson.text)), lesson.agent) for lesson in lessons]
        self._unmatched = [(-i * 1e-9, profile.agent) for i, profile in enumerate(self.profiles)]
        self._owners: dict[tuple[str, ...], list[AgentSpec]] | None = None

    def skill_owners(self, stems: tuple[str, ...]) -> list[AgentSpec]:
        """The agents that have this exact skill phrase (stemmed), in manifest order."""
        if self._owners is None:
            self._owners = {}
            for profile in self.profiles:
                for phrase in dict.fromkeys(profile.skill_phrases):
                    self._owners.setdefault(phrase, []).append(profile.agent)
        return self._owners.get(stems, [])

    def claimed(self, text: str) -> bool:
        """Whether the agents' manifests use every content word of `text`."""
        stems = content_stems(text)
        return bool(stems) and all(stem in self._index.postings for stem in stems)

    def scores(self, text: str) -> list[tuple[float, AgentSpec]]:
        stems = content_stems(text)
        if not stems:
            return []
        present = set(stems)
        joined = " " + " ".join(stems) + " "
        index = self._index
        totals = [0.0] * len(self.profiles)
        for word in present:
            for position, weight in index.postings.get(word, ()):
                totals[position] += weight
        for word in present:
            for position, phrase, length in index.phrases.get(word, ()):
                if phrase in joined:
                    totals[position] += 2.0 * length
        if self.lessons:
            ids = {profile.agent.id: i for i, profile in enumerate(self.profiles)}
            for lesson_words, agent_id in self.lessons:
                if (at := ids.get(agent_id)) is not None and lesson_words:
                    overlap = len(lesson_words & present) / len(lesson_words)
                    if overlap >= 0.6:
                        totals[at] += 10.0 * overlap
        # Manifest order breaks ties deterministically; the agents that share no word with
        # the text follow in that order.
        ranked = [
            (round(score, 6) - position * 1e-9, self.profiles[position].agent)
            for position, score in enumerate(totals)
            if score
        ]
        ranked.sort(key=lambda pair: -pair[0])
        ranked += [pair for pair, score in zip(self._unmatched, totals, strict=True) if not score]
        return ranked

    def best(self, text: str) -> tuple[float, AgentSpec | None]:
        ranked = self.scores(text)
        if not ranked or ranked[0][0] < self.CONFIDENT:
            return (ranked[0][0] if ranked else 0.0), None
        return ranked[0]


# -- recognising what kind of message this is ------------------------------------------------

_MENTION = re.compile(
    r"<@[!&]?[A-Za-z0-9]+>|^(?:(?:hey|hi|hello|yo|ok|okay)\s+)?@?dispatch\b[,:!]?", re.IGNORECASE
)

_STATUS = re.compile(
    r"^(?:status|status\s+(?:update|report|please)|progress|updates?|any\s+updates?|"
    r"what(?:'s|’s|\s+is|\s+are)?\s+(?:still\s+)?(?:in\s+flight|running|going\s+on|happening|in\s+progress|"
    r"cooking|pending|outstanding|open|left(?:\s+to\s+do)?|remaining|still\s+(?:left|to\s+do|open|"
    r"running|outstanding|pending))|in\s+flight|"
    # "what happened to my logo request?", "show me what everyone's working on", "summarise
    # what the team did this week": asked about the work itself
    r"what(?:'s|’s|\s+has)?\s+happened\s+(?:to|with)\s+(?:my|our|the|that)\s+[\w’'\s-]{1,40}?|"
    r"(?:(?:can|could)\s+you\s+)?(?:show|tell)\s+(?:me|us)\s+what\s+(?:every(?:one|body)|the\s+(?:team|agents)|"
    r"you\s+all|y'all|they)(?:'s|’s|'re|’re|\s+is|\s+are)\s+(?:working\s+on|doing|up\s+to)|"
    r"(?:(?:can|could)\s+you\s+)?(?:summari[sz]e|recap|sum\s+up)\s+what\s+(?:the\s+team|every(?:one|body)|"
    r"you(?:\s+all)?|the\s+agents|they)\s+(?:did|(?:has|have)\s+done|got\s+done)"
    r"(?:\s+(?:this|last)\s+(?:week|month)|\s+today|\s+yesterday)?|"
    # "how long will that take?", "how long is it going to be?": when, about the work here
    r"how\s+(?:much\s+)?long(?:er)?\s+(?:will|is|does|until)\s+(?:it|that|this|they|everything)"
    r"(?:\s+(?:take|be|going\s+to\s+(?:take|be)|gonna\s+(?:take|be)))?|what\s+are\s+(?:you|the\s+agents|agents|they)"
    r"\s+(?:doing|working\s+on)|where\s+are\s+we|how(?:'s|’s|\s+is)\s+it\s+going|"
    r"what(?:'s|’s|\s+is)\s+the\s+status|(?:are\s+we\s+|is\s+it\s+|we(?:'re|’re)\s+)?(?:nearly|almost)\s+"
    r"(?:there|done|finished|ready)|(?:(?:can|could)\s+you\s+)?(?:show|list|give|tell)\s+(?:me|us)\s+(?:everything|"
    r"all|what)(?:'s|’s|\s+that's|\s+that’s|\s+that\s+is|\s+is|\s+that\s+are|\s+are)?\s+(?:still\s+)?(?:open|running|"
    r"pending|in\s+flight|outstanding|in\s+progress|going|on\s+the\s+go|unfinished)|"
    r"(?:status|progress|eta|any\s+updates?|an\s+update)\s+(?:on|of|for)\s+(?:the|my|our|that|this)\s+[\w’'\s-]{1,40}?\??|"
    r"what\s+(?:did|have)\s+i\s+(?:ask(?:ed)?(?:\s+you)?\s+for|request(?:ed)?|sen[dt]\s+you)"
    r"(?:\s+(?:earlier|today|yesterday|this\s+(?:morning|afternoon|week)|recently|before))?\??|"
    # "show me all open tasks", "give me a rundown of my requests", "post the list of every
    # user's tasks here": asked to see the work itself, which is status, never new work
    r"(?:(?:show|list|give)(?:\s+(?:me|us))?|post)"
    r"(?:\s+(?:a|the))?(?:\s+(?:list|rundown|summary|overview|breakdown|(?:status\s+)?(?:update|report))\s+(?:of|on))?"
    r"(?:\s+(?:all|every))?(?:\s+(?:the|my|our|your|(?:everyone|everybody|every\s+user|each\s+user)(?:'s|’s)|all\s+users(?:'|’)))?"
    r"(?:\s+(?:open|active|current|running|pending|queued|outstanding|in[\s-]flight|ongoing|unfinished|live))?"
    r"\s+(?:tasks?|requests?)(?:\s+(?:in\s+flight|in\s+progress|still\s+(?:running|going|open)|running|"
    r"pending|queued|today|(?:from|for|of)\s+(?:all|every|each)\s+(?:users?|people)|(?:from|for|of)\s+everyone))*)"
    r"(?:\s+(?:please|pls|now|so\s+far|here|on\s+(?:this|that|everything)|of\s+(?:my|our)\s+\w+|"
    r"(?:from|since)\s+(?:this|last)\s+(?:week|month|morning)|(?:from|since)\s+(?:yesterday|monday|the\s+weekend)))?$",
    re.IGNORECASE,
)
_NOT_AN_AGENT = r"(?!(?-i:it)\b|(?:this|that|everything|anything|anyone|there)\b)"
"""After "is"/"has", words that are no agent's name ("IT" in capitals may be)."""
_AGENT_STATUS = re.compile(
    r"^(?:what(?:'s|’s|\s+is)|how(?:'s|’s|\s+is))\s+(?:the\s+)?@?(?P<name>[\w-]+)\s+"
    r"(?:doing|working\s+on|up\s+to|busy\s+with|getting\s+on)\b|^status\s+(?:of|for)\s+@?(?P<name2>[\w-]+)|"
    # "what did the writer say?": asked what an agent came back with, not asked to do more
    r"^what\s+(?:did|has|have)\s+(?:the\s+)?@?(?P<name3>[\w-]+)\s+(?:say|said|come\s+back\s+with|"
    r"came\s+back\s+with|find|found|send|sent|get|got|produce|produced|decide|decided|suggest|suggested|"
    r"recommend|recommended)\b(?:\s+(?:so\s+far|yet|then|about\s+it|in\s+the\s+end))?\s*\??$|"
    # "what have Roads done about the potholes on Mill Lane?": what an agent has done
    r"^what\s+(?:did|has|have)\s+(?:the\s+)?@?(?P<name7>[\w-]+)\s+(?:done|do)\b(?:\s+(?:about|with|on|for)\b.*)?$|"
    r"^how\s+(?:much\s+)?long(?:er)?\s+(?:will|is|until)\s+(?:the\s+)?@?(?P<name4>[\w-]+)\b(?:\s+(?:be|take|done|finished))?\s*\??$|"
    # "is the dev still on that login thing?", "has the writer finished?": asked about the work
    rf"^(?:is|are)\s+(?:the\s+)?@?{_NOT_AN_AGENT}"
    r"(?P<name5>[\w-]+)\s+(?:still\s+(?:on|doing|busy|looking\s+at|dealing\s+with|sorting)|(?:still\s+)?working\s+on|busy\s+with|"
    r"on\s+(?:it|that|this)\s*\??$|(?:still\s+)?(?:done|finished|through)\b)|"
    rf"^(?:has|have)\s+(?:the\s+)?@?{_NOT_AN_AGENT}"
    r"(?P<name6>[\w-]+)\s+(?:finished|started|done|got\s+anywhere)\b",
    re.IGNORECASE,
)
_EACH_OF_YOU = re.compile(
    r"\b(?:(?:you\s+)?both(?:\s+of\s+you)?|each\s+of\s+you|all\s+of\s+you|you\s+two|you\s+all)\b",
    re.IGNORECASE,
)
"""A follow-up for every agent in the thread: "can you both make it shorter?"."""
_SHARED_CHANGE = re.compile(
    r"^(?:(?:oh|ok|so|and|also|btw|fyi|update|heads\s+up)\b[\s,:!-]*)*(?:the\s+)?(?:numbers?|headcount|"
    r"guest\s+numbers|group|party|date|day|time|start(?:\s+time)?|venue|location)(?:'s|’s|\s+(?:has|have|is|are))\s+"
    r"(?:now\s+)?(?:gone\s+(?:up|down)|changed|moved|dropped|now|up|down)\b",
    re.IGNORECASE,
)
"""A change to what the whole request rests on ("numbers have gone up to 18 now", "the date's
moved to the 14th"): for every agent working on it."""
_ROSTER = re.compile(
    r"^(?:(?:can|could)\s+(?:you|u)\s+(?:please\s+)?(?=list\b))?(?:agents|roster|the\s+team|team|list\s+(?:the\s+|all\s+(?:the\s+)?)?agents|"
    r"list\s+(?:every(?:one|body)|the\s+team)(?![’'])|(?:which|what)\s+agents|"
    r"who(?:'s|’s|\s+is)\s+(?:available|on\s+(?:the\s+)?(?:team|roster|call))|who\s+do\s+you\s+have)\b",
    re.IGNORECASE,
)
_WHO_CAN = re.compile(
    r"^(?:who|which\s+agent|(?:which|who)\s+(?:one\s+)?of\s+(?:you|y'all|yall|them|the\s+agents))\s+(?:can|could|should|would|is\s+good\s+at|handles?|does)\s+(?!(?:i|we)\s)"
    r"(?:do\s+|help\s+(?:me\s+)?with\s+|handle\s+|take\s+)?(?P<what>.+)$",
    re.IGNORECASE,
)
_CANCEL = re.compile(
    r"^(?:please\s+)?(?:cancel|stop|abort|kill|drop|scrap|never\s*mind|nvm|forget|no\s+need\s+to\s+(?:chase|"
    r"do|send|book|pay|finish|carry\s+on\s+with|keep|continue|order|print|post|ring|call|email|"
    r"follow\s+up(?:\s+on)?|look\s+(?:at|into)|check|fix|worry\s+about|bother\s+with))\b[\s,;:.!—–-]*"
    r"(?P<what>.*)$",
    re.IGNORECASE,
)
_CHAIN = re.compile(
    r"\s*(?:[,;.]\s*|\s+)(?:and\s+)?(?:then|after\s+that|afterwards|once\s+(?:that(?:'s|’s|\s+is)|it(?:'s|’s|\s+is))\s+done"
    r"|when\s+(?:that(?:'s|’s|\s+is)|it(?:'s|’s|\s+is))\s+done|followed\s+by)\b[,:]?\s*|\s*(?:->|→|=>)\s*",
    re.IGNORECASE,
)
_LIST_SPLIT = re.compile(r"\s*(?:,|;|\band\b|&|\bplus\b|\bas\s+well\s+as\b)\s*", re.IGNORECASE)
_PREAMBLE = re.compile(r"^(?P<pre>[^:—–]{1,60}?)\s*(?::|—|–|\s-\s)\s*(?P<rest>.+)$", re.DOTALL)
_LEADING_FILLER = re.compile(
    r"^(?:(?:and|also|first|firstly|next|finally|please|pls|can\s+you|could\s+you|i\s+need|we\s+need"
    r"|i\s+want|we\s+want|let's|lets|go\s+ahead\s+and)\b[,\s]*)+",
    re.IGNORECASE,
)

_VAGUE_VERBS = {
    "fix": "Which project, and what's wrong with {obj}?",
    "repair": "Which project, and what's wrong with {obj}?",
    "debug": "Which project, and what's wrong with {obj}?",
    "update": "Which {bare} do you mean, and what should change?",
    "change": "Which {bare} do you mean, and what should change?",
    "improve": "Which {bare} do you mean, and what would better look like?",
    "tweak": "Which {bare} do you mean, and what should change?",
    "redo": "Which {bare} do you mean, and what should be different?",
    "finish": "Which {bare} do you mean, and what's left to do?",
    "check": "Which {bare} should be checked, and for what?",
    "review": "Which {bare} should be reviewed, and for what?",
    "handle": "What exactly needs doing, and for which project?",
    "do": "What exactly needs doing, and for which project?",
    "sort": "What exactly needs sorting out, and for which project?",
    "clean": "Which {bare} do you mean, and what should be cleaned up?",
}
_DEICTIC = {"the", "this", "that", "it", "my", "our", "these", "those", "them", "its"}
_DEFAULT_QUESTION = "Could you say a bit more: what outcome do you want, and for which project?"


def by_agent(routed: Iterable[tuple[AgentSpec, str]]) -> list[tuple[AgentSpec, str]]:
    """Parts routed to the same agent become one task: its parts joined, in order."""
    grouped: dict[str, tuple[AgentSpec, list[str]]] = {}
    for agent, part in routed:
        grouped.setdefault(agent.id, (agent, []))[1].append(part)
    return [(agent, "; ".join(parts)) for agent, parts in grouped.values()]


def strip_mentions(text: str) -> str:
    return _MENTION.sub("", text).strip()


def _clean_part(text: str) -> str:
    text = _LEADING_FILLER.sub("", text.strip(" \t\n,;.:-—–"))
    return text.strip(" \t\n,;.:-—–")


# -- the planner ------------------------------------------------------------------------------


class RulePlanner:
    """Deterministic planning from the manifest alone."""

    name: str = "rules"

    def __init__(self, fleet: Fleet, unavailable: dict[str, str] | None = None) -> None:
        self.fleet = fleet
        self.unavailable = dict(unavailable or {})
        """agent id → why it is not answering; routing skips these and says so."""
        self._names: dict[str, str] = {}
        for agent in fleet.agents:
            for key in (agent.id, agent.name, *agent.aliases):
                self._names[key.lower()] = agent.id
        names = sorted(self._names, key=len, reverse=True)
        alternatives = "|".join(re.escape(n) for n in names)
        self._named = re.compile(
            rf"^(?:@?(?P<a>{alternatives})\s*(?:[,:—–]|\s-\s|\s+please\b)\s*(?P<rest_a>.*)"
            rf"|(?:ask|tell|have|get|send\s+(?:this|it)\s+to|give\s+(?:this|it)\s+to)\s+@?(?P<b>{alternatives})"
            rf"\b(?:\s+to)?[,:]?\s*(?P<rest_b>.*))$",
            re.IGNORECASE | re.DOTALL,
        )
        self._mentioned = re.compile(rf"(?<![\w-])@?(?:{alternatives})(?![\w-])", re.IGNORECASE)
        self._reroute = re.compile(
            rf"^(?:no|nope|wrong(?:\s+agent)?|actually)?[,.!:\s—–-]*"
            rf"(?:(?:please\s+)?(?:send|give|route|pass|move|hand)\s+(?:that|this|it)(?:\s+over)?\s+to"
            rf"|(?:that|this|it)(?:'s|’s|\s+is|\s+was)\s+(?:for|a\s+job\s+for|meant\s+for)"
            rf"|(?:it\s+)?should\s+(?:go\s+to|be|have\s+been)(?:\s+for)?"
            rf"|(?:use|ask|try))\s+@?(?P<name>{alternatives})\b(?:\s+instead)?[.!]?\s*$",
            re.IGNORECASE,
        )

    async def warm(self, text: str) -> None:
        """Work worth doing before planning, off the database thread (none for the rules)."""

    def with_unavailable(self, unavailable: dict[str, str]) -> RulePlanner:
        return RulePlanner(self.fleet, unavailable)

    def shortlist(self, text: str, k: int) -> list[AgentSpec]:
        """The k agents likeliest to fit `text`, best first."""
        return [a for _, a in Scorer(self.fleet, (), self.unavailable).scores(text)[:k]]

    def capable(self, query: str) -> list[AgentSpec]:
        """Agents that can do what `query` names, best first (empty: none can)."""
        scores = Scorer(self.fleet).scores(query)
        top = scores[0][0] if scores else 0.0
        return [a for s, a in scores if s >= max(Scorer.CONFIDENT, top / 2)]

    def resolve_name(self, name: str) -> str | None:
        return self._names.get(name.lower().lstrip("@"))

    def plan(
        self,
        text: str,
        context: ThreadContext = EMPTY,
        lessons: Sequence[Lesson] = (),
    ) -> Decision:
        scorer = Scorer(self.fleet, lessons, self.unavailable)
        clean = strip_mentions(text)
        if not clean:
            return Decision(
                kind="clarify", question="What do you need done?", reason="empty message"
            )
        bare = clean.rstrip("?!. ")

        if agent_id := self._status_of(bare):
            return Decision(
                kind="status", target=agent_id, reason=f"asked what {agent_id} is doing"
            )
        if _STATUS.match(bare) and len(words(bare)) <= 8:
            return Decision(kind="status", reason="asked for status")
        if _ROSTER.match(bare) and len(words(bare)) <= 8:
            return Decision(kind="roster", reason="asked for the roster")
        if match := _WHO_CAN.match(bare):
            return Decision(
                kind="roster", target=match.group("what"), reason="asked who can do something"
            )
        if match := _CANCEL.match(bare):
            what = match.group("what").strip()
            what = re.sub(r"^(?:the|that|this|my)\s+", "", what, flags=re.IGNORECASE).strip()
            everything = what.lower() in (
                "",
                "all",
                "everything",
                "it",
                "that",
                "this",
                "all of it",
                "them",
            )
            return Decision(
                kind="cancel",
                target="all" if everything else what,
                reason="asked to cancel " + ("everything here" if everything else repr(what)),
            )

        if context.tasks and (match := self._reroute.match(bare)):
            agent_id = self.resolve_name(match.group("name"))
            if agent_id is not None:
                return Decision(
                    kind="reroute",
                    target=agent_id,
                    reason=f"the user corrected the routing: this thread's work is for {agent_id}",
                )

        if context.waiting:
            task = self._pick_waiting(clean, context.waiting)
            return Decision(
                kind="answer",
                target=task.id,
                reason=f"reply to {task.agent}'s question in this thread",
            )

        if context.pending_question and context.pending_text:
            combined = f"{context.pending_text.strip()} — {clean}"
            decision = self._work(combined, scorer, allow_clarify=False)
            decision.reason = "answer to the clarifying question; " + decision.reason
            return decision

        named = self._named_agent(clean)
        if named is not None:
            agent, rest = named
            if agent.id in self.unavailable:
                decision = self._work(rest or clean, scorer, allow_clarify=False)
                decision.notes.insert(
                    0, f"{agent.label} is unavailable right now ({self.unavailable[agent.id]})."
                )
                decision.reason = (
                    f"addressed to {agent.name}, who is unavailable; " + decision.reason
                )
                return decision
            return Decision(
                kind="work",
                tasks=[self._task("t1", agent, rest or clean)],
                reason=f"addressed to {agent.name} by name",
            )

        if context.tasks:
            return self._followup(clean, context, scorer)

        return self._work(clean, scorer, allow_clarify=True)

    # -- the pieces -------------------------------------------------------------------------

    def _task(
        self, task_id: str, agent: AgentSpec, summary: str, deps: Sequence[str] = ()
    ) -> TaskSpec:
        summary = _clean_part(summary) or summary.strip()
        if len(summary) > 200:
            summary = summary[:197].rstrip() + "…"
        return TaskSpec(
            id=task_id,
            agent=agent.id,
            session=agent.session,
            summary=summary,
            depends_on=list(deps),
        )

    def _named_agent(self, text: str) -> tuple[AgentSpec, str] | None:
        match = self._named.match(text)
        if not match:
            return None
        name = match.group("a") or match.group("b")
        rest = match.group("rest_a") if match.group("a") else match.group("rest_b")
        agent_id = self.resolve_name(name)
        if agent_id is None:
            return None
        return self.fleet.agent(agent_id), (rest or "").strip()

    def _status_of(self, bare: str) -> str | None:
        """The agent a status question is about ("what is Dev doing?", "what did the writer
        say?"), if it names one of the roster."""
        match = _AGENT_STATUS.match(bare)
        return self.resolve_name(next(n for n in match.groups() if n)) if match else None

    def _pick_waiting(self, text: str, waiting: Sequence[ThreadTask]) -> ThreadTask:
        for mention in self._mentioned.findall(text):
            agent_id = self.resolve_name(mention)
            for task in waiting:
                if task.agent == agent_id:
                    return task
        return waiting[-1]

    def _followup(
        self,
        text: str,
        context: ThreadContext,
        scorer: Scorer,
        by_meaning: Callable[[list[ThreadTask]], ThreadTask | None] | None = None,
    ) -> Decision:
        """A message in a thread that already has agents goes back to one of them.
        `by_meaning` picks one when the text names no agent and shares no word with any
        task ("make it shorter"); without it, or when it cannot tell, the words decide."""
        candidates: list[ThreadTask] = list(context.tasks)
        here = list(dict.fromkeys(t.agent for t in candidates))
        if (
            len(here) > 1
            and (_EACH_OF_YOU.search(text) or _SHARED_CHANGE.match(text))
            and not self._mentioned.search(text)
        ):
            # "can you both make it shorter?", "numbers have gone up to 18 now": each agent
            # here, each with its own work
            said = _EACH_OF_YOU.sub(" ", text)
            agents = [
                a for a in (self.fleet.get(i) for i in here) if a and a.id not in self.unavailable
            ]
            if len(agents) > 1:
                said = re.sub(r"^\s*(?:can|could|would|will)\s+|\s{2,}", " ", said).strip(" ,")
                return Decision(
                    kind="followup",
                    tasks=[self._task(f"t{n}", a, said) for n, a in enumerate(agents, 1)],
                    reason="follow-up for every agent in the thread",
                )
        chosen: ThreadTask | None = None
        how = ""
        for mention in self._mentioned.findall(text):
            agent_id = self.resolve_name(mention)
            chosen = next((t for t in reversed(candidates) if t.agent == agent_id), None)
            if chosen:
                break
        stems = set(content_stems(text))
        if (
            chosen is None
            and by_meaning is not None
            and len(here) > 1
            and not self._mentioned.search(text)
            and not any(stems & set(content_stems(t.summary)) for t in candidates)
        ):
            chosen = by_meaning(candidates)
            how = ", by meaning" if chosen else ""
        if chosen is None and len(here) > 1:
            best: tuple[float, int] = (0.0, -1)
            for index, task in enumerate(candidates):
                overlap = len(stems & set(content_stems(task.summary)))
                agent_fit = next(
                    (score for score, agent in scorer.scores(text) if agent.id == task.agent), 0.0
                )
                score = overlap * 5 + agent_fit
                if score > best[0]:
                    best = (score, index)
            if best[1] >= 0:
                chosen = candidates[best[1]]
        if chosen is None:
            chosen = candidates[-1]
        agent = self.fleet.get(chosen.agent)
        if agent is None:
            return self._work(text, scorer, allow_clarify=False)
        if agent.id in self.unavailable:
            decision = self._work(text, scorer, allow_clarify=False)
            decision.notes.insert(
                0, f"{agent.label} is unavailable right now ({self.unavailable[agent.id]})."
            )
            return decision
        return Decision(
            kind="followup",
            tasks=[self._task("t1", agent, text)],
            reason=f"follow-up in a thread {agent.name} worked on ({chosen.summary!r}){how}",
        )

    def _work(self, text: str, scorer: Scorer, *, allow_clarify: bool) -> Decision:
        if allow_clarify and (question := self._vague(text, scorer)):
            return Decision(kind="clarify", question=question, reason="too vague to route")
        segments = [s for s in (_clean_part(p) for p in _CHAIN.split(text)) if s]
        if not segments:
            segments = [text.strip()]
        tasks: list[TaskSpec] = []
        previous: list[str] = []
        notes: list[str] = []
        for segment in segments:
            current: list[str] = []
            for agent, summary in self._split_parallel(segment, scorer):
                task = self._task(f"t{len(tasks) + 1}", agent, summary, previous)
                tasks.append(task)
                current.append(task.id)
            previous = current
        kinds = []
        if len(segments) > 1:
            kinds.append(f"a chain of {len(segments)} steps")
        if len(tasks) > len(segments):
            kinds.append("parallel parts")
        if any(t.agent == CATCH_ALL_ID for t in tasks):
            notes.append("no agent fits some work, so a disposable sub-agent takes it")
        reason = "; ".join(
            [", ".join(kinds) or "one task", *notes, *(f"{t.id}→{t.agent}" for t in tasks)]
        )
        return Decision(kind="work", tasks=tasks, reason=reason)

    def _split_parallel(self, segment: str, scorer: Scorer) -> list[tuple[AgentSpec, str]]:
        """Split "images, copy, and tweets" into parts only when each part has its own agent."""
        catch_all = self.fleet.catch_all.as_agent()
        body = segment
        preamble = _PREAMBLE.match(segment)
        if preamble and _LIST_SPLIT.search(preamble.group("rest")):
            body = preamble.group("rest")
        parts = [p for p in (_clean_part(x) for x in _LIST_SPLIT.split(body)) if p]
        merged: list[str] = []
        for part in parts:
            # "fix the bug and deploy it": a short part leaning on the previous one stays with it.
            tokens = words(part)
            leans = len(content_stems(part)) == 0 or (
                len(tokens) <= 3 and bool(_DEICTIC & set(tokens))
            )
            if merged and leans and scorer.best(part)[1] in (None, scorer.best(merged[-1])[1]):
                merged[-1] = f"{merged[-1]} and {part}"
            else:
                merged.append(part)
        if len(merged) >= 2:
            routed = [(scorer.best(part)[1], part) for part in merged]
            if (
                all(agent is not None for agent, _ in routed)
                and len({a.id for a, _ in routed if a}) >= 2
            ):
                return by_agent((agent, part) for agent, part in routed if agent is not None)
        agent = scorer.best(segment)[1]
        return [(agent or catch_all, segment)]

    def _vague(self, text: str, scorer: Scorer) -> str | None:
        """One focused question when a request names an action but not what it is about."""
        tokens = words(text.rstrip("?!. "))
        if not tokens:
            return _DEFAULT_QUESTION
        verb = tokens[0]
        rest = tokens[1:]
        if verb == "look" and rest[:1] == ["at"]:
            verb, rest = "check", rest[1:]
        if verb == "clean" and rest[:1] == ["up"]:
            rest = rest[1:]
        if verb not in _VAGUE_VERBS:
            return None
        if verb in ("fix", "repair", "debug") and re.search(r"[/._#]|\d", text):
            return None  # a path, file or number is concrete enough to route
        content = [w for w in rest if w not in _STOP]
        if len(content) > 2 or (rest and rest[0] not in _DEICTIC and content):
            return None
        if content and scorer.best(" ".join(content))[0] >= 3 * Scorer.CONFIDENT:
            return None
        obj_words = [w for w in rest if w not in ("it", "them")]
        obj = " ".join(obj_words) if obj_words else "it"
        bare = " ".join(w for w in obj_words if w not in _DEICTIC) or "thing"
        return _VAGUE_VERBS[verb].format(obj=obj, bare=bare)
