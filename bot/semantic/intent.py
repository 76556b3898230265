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
        # Each intent's rows, padded with a row past the end that reads as -inf, so one
        # partition ranks every intent's examples at once.
        widest = max(len(rows) for rows in self.groups)
        self._padded = np.full((len(self.groups), widest), len(self.texts))
        for i, rows in enumerate(self.groups):
            self._padded[i, : len(rows)] = rows

    def classify(self, text: str) -> Intent:
        sims = self.matrix @ self.embedder.one(text.lower())
        grouped = np.append(sims, -np.inf)[self._padded]
        top = np.partition(grouped, -K, axis=1)[:, -K:].sum(axis=1) / K
        scores = {name: round(float(score), 4) for name, score in zip(self.names, top, strict=True)}
        ranked = sorted(scores, key=lambda n: -scores[n])
        best = ranked[0]
        rows = self.groups[self.names.index(best)]
        nearest = self.texts[int(rows[np.argmax(sims[rows])])]
        margin = scores[best] - scores[ranked[1]] if len(ranked) > 1 else scores[best]
        return Intent(best, scores[best], round(margin, 4), nearest, scores)
