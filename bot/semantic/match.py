"""Which agent a part of a request belongs to, by meaning.

Each agent is a handful of phrases: its name and description (and each of its clauses),
each skill, each example, its Agent Card's skills and examples (already merged into the
manifest by discovery), and the routing lessons users taught it. A part is compared with
every phrase; an agent scores by its best phrase, its profile as a whole, how well each of
the part's words finds a word of its profile (each word counting by how much it says, so
"keeps" or "properly" matching by chance weighs less than the word that names the problem),
and the word stems it shares with the manifest. Each agent's score is then taken above its
own baseline, what it scores on off-topic requests, because a raw score means different
things in different fleets.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from bot.manifest import AgentSpec
from bot.planner import Lesson, Scorer, content_stems, words
from bot.semantic.embed import CachedEmbedder
from bot.semantic.exemplars import NO_FIT
from bot.semantic.roles import ROLES

_FILLER_WORDS = frozenset(
    """a an the this that these those it its them they their our my your me us we i you of to
    in on at by for with from into about as and or but so if please pls can could would should
    will do does did be is are was were been have has had get got some any all just also very
    really need needs want wants like let lets make sure ok okay hey hi hello thanks thank
    there here what's whats up one someone somebody anyone anybody
    nobody everyone everybody something anything stuff thing things""".split()
)

_PERSONS = frozenset("he him his she her hers".split())
"""Left out of word alignment: an example that says "reset her password" is no closer to
"pay her" for the "her"."""

BEST, WHOLE, WORDS, LEXICAL = 0.3, 0.7, 1.0, 0.3
"""How an agent's score is made: its best phrase, its whole profile, word alignment, and
shared stems (the lexical score squashed to 0..1 first). Calibrated on evals/ dev and dev2."""
LESSON_BOOST = 0.15
"""How much nearer than an agent's own phrase a routing lesson counts: what a user taught wins
a close call."""
BASELINE = 1.0
"""How much of its off-topic baseline comes off each agent's score."""
ROLE_FIT, ROLE_LEAD = 0.4, 0.15
"""How close an agent's own profile must be to a role (`roles.ROLES`) to take its phrasings,
and by how much it must lead the next agent: where two agents are about as close (a fleet of
several finance desks), neither takes it. Calibrated on evals/ dev, dev2 and dev3 (and
checked again with dev4)."""
OUTSIDE_NEAR, OUTSIDE_LEAD = 0.25, 0.25
"""A role no agent's profile comes within OUTSIDE_NEAR of is a job this fleet does not do; a
request nearer one of its phrasings, by OUTSIDE_LEAD, than any agent's phrase is for a
sub-agent ("the office printer's jammed again" where nobody does IT). Calibrated on every
split before dev49."""
NAME_FIT, NAME_LEAD, NAME_NEAR, NAME_FLOOR = 0.7, 0.25, 0.1, 0.3
"""A role whose name is an agent's own ("Food safety", "Reception") goes to it though no
profile leads by ROLE_LEAD: how close the two names must be, how far ahead of the next
agent's name, and how near the best profile that agent's own must be, and at least how close
(checked on every split before dev48, and on dev48 as it came)."""


_SHORT_FOR = {
    "prod": "production", "stg": "staging", "env": "environment", "envs": "environments",
    "repo": "repository", "repos": "repositories", "config": "configuration", "db": "database",
    "k8s": "kubernetes", "infra": "infrastructure", "perf": "performance",
    "auth": "authentication", "docs": "documentation", "mgmt": "management", "approx": "about",
    "admin": "administration", "comms": "communications", "biz": "business", "dept": "department",
    "govt": "government", "acct": "account", "accts": "accounts", "inv": "invoice",
    "invs": "invoices", "msg": "message", "msgs": "messages", "pics": "pictures", "pic": "picture",
    "vid": "video", "vids": "videos", "info": "information", "req": "request", "reqs": "requests",
    "spec": "specification", "specs": "specifications", "qty": "quantity", "mtg": "meeting",
    "appt": "appointment", "appts": "appointments", "hr": "human resources", "ppl": "people",
    "insta": "instagram", "fb": "facebook", "socials": "social media", "dd": "direct debit",
    "dds": "direct debits",
}  # fmt: skip
"""Everyday abbreviations, spelled out: a static model knows the word better than the clipping."""
_SHORT = re.compile(rf"\b(?:{'|'.join(_SHORT_FOR)})\b", re.IGNORECASE)


def content(text: str) -> str:
    """The words that carry meaning; filler dilutes a mean of word vectors."""
    kept = [_SHORT_FOR.get(w, w) for w in words(text) if w not in _FILLER_WORDS]
    return " ".join(kept) or text


@dataclass(frozen=True)
class Ranked:
    agent: AgentSpec
    score: float
    phrase: str
    """The phrase of the agent's profile closest to the part, or the routing lesson that
    decided it (`LESSON` before its words)."""

    @property
    def taught(self) -> bool:
        """A routing lesson a user taught, not the manifest, put the agent here."""
        return self.phrase.startswith(LESSON)


LESSON = "lesson: "


@dataclass
class _Profiles:
    agents: list[AgentSpec]
    phrases: list[str]
    matrix: np.ndarray
    phrase_starts: np.ndarray
    """Where each agent's phrases begin in `matrix` (phrases are stored agent by agent)."""
    centroids: np.ndarray
    word_matrix: np.ndarray
    """Every content word of every agent's profile, agent by agent."""
    word_starts: np.ndarray
    """Where each agent's words begin in `word_matrix` (for a per-agent maximum)."""
    outside: np.ndarray
    """Which rows of `_role_rows` belong to roles no agent here comes near (`OUTSIDE_NEAR`):
    jobs this fleet does not do."""
    baseline: np.ndarray | None = None
    """Each agent's mean score on off-topic requests: what it scores for nothing at all."""

    @functools.cached_property
    def word_columns(self) -> np.ndarray:
        return np.ascontiguousarray(self.word_matrix.T)


_CACHE: dict[tuple[object, ...], _Profiles] = {}


def _phrases(agent: AgentSpec) -> list[str]:
    head = f"{agent.name}: {agent.description}" if agent.description else agent.name
    clauses = [c for c in re.split(r"[.;:]\s+|,\s+", agent.description) if len(c.split()) >= 2]
    extra = clauses if len(clauses) > 1 else []
    return [head, *extra, *agent.skills, *agent.examples]


def profiles(embedder: CachedEmbedder, agents: Sequence[AgentSpec]) -> _Profiles:
    """Embed a fleet's profiles once; a roster change makes a new key."""
    key = (
        embedder.name,
        *((a.id, a.name, a.description, *a.skills, "|", *a.examples) for a in agents),
    )
    if (hit := _CACHE.get(key)) is not None:
        return hit
    phrases: list[str] = []  # every agent has at least one: its name and description
    contents: list[str] = []
    phrase_starts: list[int] = []
    vocab: list[str] = []
    word_starts: list[int] = []
    fits = _role_fits(embedder, agents)
    taken = _roles_taken(embedder, agents, fits)
    for agent in agents:
        own = _phrases(agent)
        mine = [content(p) for p in own]
        learnt = taken.get(agent.id, [])
        mine += [content(p) for p in learnt]
        phrase_starts.append(len(phrases))
        phrases.extend([*own, *learnt])
        contents.extend(mine)
        word_starts.append(len(vocab))
        vocab.extend(dict.fromkeys(w for p in mine for w in p.split()) or [agent.name.lower()])
    matrix = embedder.embed(contents)
    sums = np.add.reduceat(matrix, phrase_starts) if phrases else np.zeros((0, 1))
    centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)
    built = _Profiles(
        list(agents),
        phrases,
        matrix,
        np.array(phrase_starts),
        centroids,
        embedder.embed(vocab) if vocab else np.zeros((0, 1)),
        np.array(word_starts),
        _outside(embedder, fits),
    )
    if len(_CACHE) >= 16:
        _CACHE.clear()
    _CACHE[key] = built
    return built


def _role_fits(embedder: CachedEmbedder, agents: Sequence[AgentSpec]) -> np.ndarray:
    """How close each role (a row) is to each agent's own profile (a column)."""
    if not agents:
        return np.zeros((len(ROLES), 0))
    own = [content(" ".join(_phrases(a))) for a in agents]
    return embedder.embed([content(r.description) for r in ROLES]) @ embedder.embed(own).T


def _outside(embedder: CachedEmbedder, fits: np.ndarray) -> np.ndarray:
    far = np.array([not len(row) or row.max() < OUTSIDE_NEAR for row in fits])
    return far[_role_rows(embedder)[1]]


_ROLE_ROWS: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _role_rows(embedder: CachedEmbedder) -> tuple[np.ndarray, np.ndarray]:
    """Every role's phrasings, embedded once for all fleets, and the role of each row."""
    if (rows := _ROLE_ROWS.get(embedder.name)) is None:
        phrasings = [content(p) for role in ROLES for p in role.phrases]
        owners = np.array([i for i, role in enumerate(ROLES) for _ in role.phrases])
        rows = _ROLE_ROWS[embedder.name] = (embedder.inner.embed(phrasings), owners)
    return rows


def _roles_taken(
    embedder: CachedEmbedder, agents: Sequence[AgentSpec], fits: np.ndarray | None = None
) -> dict[str, list[str]]:
    """Each role's phrasings go to the one agent whose own profile is closest to it, if it is
    close enough and clearly closer than the rest: what people ask a role for, in the words of
    their problem."""
    if not agents:
        return {}
    sims = _role_fits(embedder, agents) if fits is None else fits
    named = _names_near(embedder, agents)
    taken: dict[str, list[str]] = {}
    for role, row, by_name in zip(ROLES, sims, named, strict=True):
        best = _leader(row, ROLE_FIT, ROLE_LEAD)
        if best is None:
            best = _leader(by_name, NAME_FIT, NAME_LEAD)
            if best is not None and row[best] < max(NAME_FLOOR, float(row.max()) - NAME_NEAR):
                best = None
        if best is not None:
            taken.setdefault(agents[best].id, []).extend(role.phrases)
    return taken


def _leader(row: np.ndarray, fit: float, lead: float) -> int | None:
    best = int(np.argmax(row))
    return best if row[best] >= fit and row[best] - _second(row) >= lead else None


def _second(row: np.ndarray) -> float:
    return float(np.partition(row, -2)[-2]) if len(row) > 1 else 0.0


def _names_near(embedder: CachedEmbedder, agents: Sequence[AgentSpec]) -> np.ndarray:
    """How close each role's name ("food safety and hygiene") is to each agent's ("Food
    safety (Priya)"): a desk named for the job is that job's, whatever else it lists."""
    names = [re.sub(r"\([^)]*\)", " ", a.name) for a in agents]
    heads = [r.description.split(":")[0] for r in ROLES]
    return (
        embedder.embed([content(h) for h in heads]) @ embedder.embed([content(n) for n in names]).T
    )


class Matcher:
    """Ranks a fleet's available agents for a piece of text."""

    def __init__(
        self,
        embedder: CachedEmbedder,
        agents: Sequence[AgentSpec],
        scorer: Scorer,
        lessons: Sequence[Lesson] = (),
        unavailable: Collection[str] = (),
    ) -> None:
        self.embedder = embedder
        self.scorer = scorer
        self.profiles = profiles(embedder, [a for a in agents if a.id not in unavailable])
        ids = {a.id: i for i, a in enumerate(self.profiles.agents)}
        self.lessons = [(lesson, ids[lesson.agent]) for lesson in lessons if lesson.agent in ids]
        self._lesson_vectors = (
            embedder.embed([content(lesson.text) for lesson, _ in self.lessons])
            if self.lessons
            else None
        )

    def rank(self, text: str) -> list[Ranked]:
        """Agents best first, each scored above its own baseline (see `NO_FIT`)."""
        p = self.profiles
        if not p.agents:
            return []
        if p.baseline is None:
            p.baseline = np.mean([self._raw(probe)[0] for probe in NO_FIT], axis=0)
        raw, sims, lessons = self._raw(text, with_lessons=True)
        scores = raw - BASELINE * p.baseline
        order = np.argsort(-scores, kind="stable")
        return [
            Ranked(
                p.agents[i],
                round(float(scores[i]), 4),
                lessons.get(int(i)) or self._nearest(int(i), sims) if n < 3 else "",
            )
            for n, i in enumerate(order)
        ]

    def elsewhere(self, text: str) -> bool:
        """The request is plainly a job none of these agents does (see `OUTSIDE_NEAR`)."""
        p = self.profiles
        if not p.outside.any() or not len(p.matrix):
            return False
        query = self.embedder.one(content(text))
        outside = (_role_rows(self.embedder)[0] @ query)[p.outside].max()
        return float(outside - (p.matrix @ query).max()) >= OUTSIDE_LEAD

    def _nearest(self, index: int, sims: np.ndarray) -> str:
        p = self.profiles
        start = int(p.phrase_starts[index])
        end = int(p.phrase_starts[index + 1]) if index + 1 < len(p.agents) else len(p.phrases)
        return p.phrases[start + int(np.argmax(sims[start:end]))]

    def _raw(
        self, text: str, *, with_lessons: bool = False
    ) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
        """Each agent's score before its baseline, the phrase similarities, and the lessons
        that decided an agent's best phrase."""
        p = self.profiles
        query = self.embedder.one(content(text))
        sims = p.matrix @ query
        best = np.maximum.reduceat(sims, p.phrase_starts)
        decided: dict[int, str] = {}
        if with_lessons and self._lesson_vectors is not None:
            for (lesson, owner), sim in zip(
                self.lessons, self._lesson_vectors @ query, strict=True
            ):
                if float(sim) + LESSON_BOOST > best[owner]:
                    best[owner] = float(sim) + LESSON_BOOST
                    decided[owner] = f"{LESSON}{lesson.text}"
        whole = p.centroids @ query
        query_words = [w for w in dict.fromkeys(content(text).split()) if w not in _PERSONS][:24]
        if query_words and len(p.word_matrix):
            word_sims = self.embedder.embed(query_words) @ p.word_columns
            found = np.maximum.reduceat(word_sims, p.word_starts, axis=1)
            weights = self.embedder.weights(query_words)
            aligned = weights @ found / max(float(weights.sum()), 1e-9)
        else:
            aligned = np.zeros(len(p.agents))
        spelled = _SHORT.sub(lambda m: _SHORT_FOR[m[0].lower()], text)  # "insta": "instagram"
        lexical = {a.id: s for s, a in self.scorer.scores(spelled)} if content_stems(text) else {}
        lex = np.array([max(lexical.get(a.id, 0.0), 0.0) for a in p.agents])
        score = BEST * best + WHOLE * whole + WORDS * aligned + LEXICAL * lex / (lex + 3.0)
        return score, sims, decided
