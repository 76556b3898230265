"""Which agent a part of a request belongs to, by meaning.

Each agent is a handful of phrases: its name and description, each skill, each example,
its Agent Card's skills and examples (already merged into the manifest by discovery), and
the routing lessons users taught it. A part is compared with every phrase; an agent scores
by its best phrase and by its profile as a whole, plus a small bonus for words it shares
with the manifest, which keeps exact skill words decisive.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.manifest import AgentSpec
from bot.planner import Lesson, Scorer, content_stems, words
from bot.semantic.embed import CachedEmbedder
from bot.semantic.exemplars import NO_FIT

_FILLER_WORDS = frozenset(
    """a an the this that these those it its them they their our my your me us we i you of to
    in on at by for with from into about as and or but so if please pls can could would should
    will do does did be is are was were been have has had get got some any all just also very
    really need needs want wants like let lets make sure ok okay hey hi hello thanks thank
    there here what's whats up one""".split()
)

BEST, WHOLE, WORDS, LEXICAL = 0.3, 0.7, 1.0, 0.3
BASELINE = 1.0

"""How an agent's score is made: its best phrase, its whole profile, and shared words
(the lexical score squashed to 0..1 first). Calibrated on evals/cases/dev.yaml."""


def content(text: str) -> str:
    """The words that carry meaning; filler dilutes a mean of word vectors."""
    kept = [w for w in words(text) if w not in _FILLER_WORDS]
    return " ".join(kept) or text


@dataclass(frozen=True)
class Ranked:
    agent: AgentSpec
    score: float
    phrase: str
    """The phrase of the agent's profile closest to the part."""


@dataclass
class _Profiles:
    agents: list[AgentSpec]
    phrases: list[str]
    owner: np.ndarray
    matrix: np.ndarray
    centroids: np.ndarray
    word_matrix: np.ndarray
    """Every content word of every agent's profile, agent by agent."""
    word_starts: np.ndarray
    """Where each agent's words begin in `word_matrix` (for a per-agent maximum)."""
    phrase_starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Where each agent's phrases begin in `matrix` (phrases are stored agent by agent)."""
    baseline: np.ndarray | None = None

    @functools.cached_property
    def word_columns(self) -> np.ndarray:
        return np.ascontiguousarray(self.word_matrix.T)

    """Each agent's mean score on off-topic requests: what it scores for nothing at all."""


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
    phrases: list[str] = []
    owner: list[int] = []
    for index, agent in enumerate(agents):
        for phrase in _phrases(agent):
            phrases.append(phrase)
            owner.append(index)
    matrix = embedder.embed([content(p) for p in phrases]) if phrases else np.zeros((0, 1))
    owners = np.array(owner, dtype=np.int64)
    centroids = np.zeros((len(agents), matrix.shape[1] if len(matrix) else 1), dtype=np.float32)
    for index in range(len(agents)):
        rows = matrix[owners == index]
        if len(rows):
            mean = rows.mean(axis=0)
            centroids[index] = mean / max(float(np.linalg.norm(mean)), 1e-9)
    vocab: list[str] = []
    starts: list[int] = []
    for agent in agents:
        starts.append(len(vocab))
        mine = dict.fromkeys(w for p in _phrases(agent) for w in content(p).split())
        vocab.extend(mine or [agent.name.lower()])
    word_matrix = embedder.embed(vocab) if vocab else np.zeros((0, 1))
    built = _Profiles(
        list(agents),
        phrases,
        owners,
        matrix,
        centroids,
        word_matrix,
        np.array(starts),
        np.searchsorted(owners, np.arange(len(agents))),
    )
    if len(_CACHE) >= 16:
        _CACHE.clear()
    _CACHE[key] = built
    return built


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
                if float(sim) + 0.15 > best[owner]:
                    best[owner] = float(sim) + 0.15
                    decided[owner] = f"lesson: {lesson.text}"
        whole = p.centroids @ query
        query_words = list(dict.fromkeys(content(text).split()))[:24]
        if query_words and len(p.word_matrix):
            word_sims = self.embedder.embed(query_words) @ p.word_columns
            aligned = np.maximum.reduceat(word_sims, p.word_starts, axis=1).mean(axis=0)
        else:
            aligned = np.zeros(len(p.agents))
        lexical = {a.id: s for s, a in self.scorer.scores(text)} if content_stems(text) else {}
        lex = np.array([max(lexical.get(a.id, 0.0), 0.0) for a in p.agents])
        score = BEST * best + WHOLE * whole + WORDS * aligned + LEXICAL * lex / (lex + 3.0)
        return score, sims, decided
