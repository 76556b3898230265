"""What kind of message this is, by its nearest example phrasings.

Each intent (work, status, roster, cancel, clarify) has example phrasings shipped with
Dispatch (`exemplars.py`). A message scores against an intent by the mean similarity of its
three nearest examples; the winner and its margin over the runner-up are the classifier's
answer. The planner's exact rules sit on top of this and its gates below it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.semantic.embed import CachedEmbedder
from bot.semantic.exemplars import INTENTS

K = 3


@dataclass(frozen=True)
class Intent:
    name: str
    score: float
    margin: float
    """How far ahead of the runner-up intent."""
    nearest: str
    scores: dict[str, float]


class IntentClassifier:
    def __init__(self, embedder: CachedEmbedder, exemplars: dict[str, list[str]] = INTENTS):
        self.embedder = embedder
        self.names = list(exemplars)
        self.texts = [t for name in self.names for t in exemplars[name]]
        self.matrix = embedder.embed(self.texts)
        ends = np.cumsum([len(exemplars[name]) for name in self.names])
        self.groups = [
            np.arange(end - len(exemplars[n]), end) for n, end in zip(self.names, ends, strict=True)
        ]

    def classify(self, text: str) -> Intent:
        sims = self.matrix @ self.embedder.one(text.lower())
        scores: dict[str, float] = {}
        for name, rows in zip(self.names, self.groups, strict=True):
            mine = sims[rows]
            scores[name] = round(float(np.partition(mine, -K)[-K:].mean()), 4)
        ranked = sorted(scores, key=lambda n: -scores[n])
        best = ranked[0]
        rows = self.groups[self.names.index(best)]
        nearest = self.texts[int(rows[np.argmax(sims[rows])])]
        margin = scores[best] - scores[ranked[1]] if len(ranked) > 1 else scores[best]
        return Intent(best, scores[best], round(margin, 4), nearest, scores)
