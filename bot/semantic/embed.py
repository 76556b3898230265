"""Sentence embeddings with no download: a static model whose weights ship in a package.

The default is WordLlama's 256-dimension model (`wordllama` on PyPI carries it). Its loader
looks for the tokenizer under `wordllama/tokenizer/` while the wheel ships it under
`tokenizers/`, so it would reach for the network; this module reads the shipped files
directly and never imports the package (whose import also reconfigures logging).

`DISPATCH_EMBEDDINGS` may name another model instead: a local directory holding a static
model (`model.safetensors` or `*.safetensors` with one 2-D tensor, and `tokenizer.json`, as
model2vec writes them), or an OpenAI-compatible `/v1/embeddings` URL (`http…#model-name`).
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from bot.planner import fold

Vector = np.ndarray


class EmbeddingError(ValueError):
    """The configured model cannot be loaded or reached; the message says which and why."""


class Embedder(Protocol):
    name: str
    remote: bool
    """Calls leave the process: the planner's texts are embedded before it plans."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text."""
        ...


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-9)


class StaticEmbedder:
    """Mean of token vectors from an embedding table: microseconds a sentence, no torch."""

    def __init__(self, name: str, table: np.ndarray, tokenizer_file: Path) -> None:
        from tokenizers import Tokenizer

        self.name = name
        self.remote = False
        self.table = np.ascontiguousarray(table, dtype=np.float32)
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.table.shape[1]), dtype=np.float32)
        if not texts:
            return out
        encoded = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        top = self.table.shape[0] - 1
        for row, enc in enumerate(encoded):
            ids = [i for i in enc.ids if 0 < i <= top]
            if ids:
                out[row] = self.table[ids].mean(axis=0)
        return _unit(out)

    def weight(self, word: str) -> float:
        """How much a word says, 0..1: its strongest token's vector length against the
        table's median. A static model gives everyday words ("keeps", "properly", "still")
        short vectors, so a chance match on one should count for less than a match on the
        word that names the problem."""
        ids = self.tokenizer.encode(word, add_special_tokens=False).ids
        lengths = [self._lengths[i] for i in ids if 0 < i < len(self._lengths)]
        return min(max(lengths) / self._median, 1.0) if lengths else 1.0

    @functools.cached_property
    def _lengths(self) -> list[float]:
        return np.linalg.norm(self.table, axis=1).tolist()  # type: ignore[no-any-return]

    @functools.cached_property
    def _median(self) -> float:
        return max(float(np.median(self._lengths)), 1e-9)


def _table(path: Path, key: str | None = None) -> np.ndarray:
    from safetensors.numpy import load_file

    tensors = load_file(str(path))
    if key is not None and key in tensors:
        return tensors[key]
    matrices = [t for t in tensors.values() if t.ndim == 2]
    if len(matrices) != 1:
        raise EmbeddingError(f"{path}: expected one 2-D embedding table, found {len(matrices)}")
    return matrices[0]


def wordllama() -> StaticEmbedder:
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingError("the 'wordllama' package is not installed (pip install wordllama)")
    root = Path(next(iter(spec.submodule_search_locations)))
    weights = root / "weights" / "l2_supercat_256.safetensors"
    tokenizer = root / "tokenizers" / "l2_supercat_tokenizer_config.json"
    for needed in (weights, tokenizer):
        if not needed.is_file():
            raise EmbeddingError(f"wordllama is installed but {needed.name} is missing from it")
    return StaticEmbedder("wordllama-l2-256", _table(weights, "embedding.weight"), tokenizer)


def local_model(path: Path) -> StaticEmbedder:
    if not path.is_dir():
        raise EmbeddingError(f"{path}: not a directory holding a static embedding model")
    tokenizer = path / "tokenizer.json"
    weights = sorted(path.glob("*.safetensors"))
    if not tokenizer.is_file() or not weights:
        raise EmbeddingError(f"{path}: needs tokenizer.json and a .safetensors embedding table")
    return StaticEmbedder(path.name, _table(weights[0]), tokenizer)


BATCH = 128
"""Texts per call to an embeddings endpoint."""


class EndpointEmbedder:
    """An OpenAI-compatible `/v1/embeddings` endpoint, called synchronously with a short
    timeout; the planner asks for every text of a message in one batch before it plans."""

    def __init__(self, url: str, model: str, api_key: str | None = None) -> None:
        import httpx

        self.name = f"{model}@endpoint"
        self.remote = True
        self.url = url.rstrip("/")
        if not self.url.endswith("/embeddings"):
            self.url += "/embeddings"
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=5.0, headers=headers)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        # in slices: endpoints cap how many texts one call may carry (OpenAI 2,048; many
        # self-hosted servers far fewer), and a fleet's profiles alone run to hundreds
        return np.vstack([self._call(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)])

    def _call(self, texts: Sequence[str]) -> np.ndarray:
        import httpx

        try:
            response = self._client.post(self.url, json={"model": self.model, "input": list(texts)})
            response.raise_for_status()
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            rows = np.array([item["embedding"] for item in data], dtype=np.float32)
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            raise EmbeddingError(f"embeddings endpoint {self.url}: {type(exc).__name__}") from None
        if rows.shape[0] != len(texts):
            raise EmbeddingError(f"embeddings endpoint {self.url}: wrong number of vectors")
        return _unit(rows)


class CachedEmbedder:
    """Remembers recent texts' vectors: agent profiles and exemplars are embedded once, and
    a message's parts are embedded before the transaction that plans it."""

    def __init__(self, inner: Embedder, size: int = 4096) -> None:
        self.inner = inner
        self.name = inner.name
        self.remote = inner.remote
        self._size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._weights: dict[str, float] = {}
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = [fold(text) for text in texts]
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            fresh = self.inner.embed(missing)
            with self._lock:
                for text, row in zip(missing, fresh, strict=True):
                    self._cache[text] = row
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        with self._lock:
            found = [self._cache.get(t) for t in texts]
            for text in texts:  # the least recently used goes first: everyday words stay
                if text in self._cache:
                    self._cache.move_to_end(text)
        kept = [row for row in found if row is not None]
        if len(kept) != len(found):  # evicted meanwhile: ask again, uncached
            return self.inner.embed(texts)
        return np.stack(kept) if kept else np.zeros((0, 1), dtype=np.float32)

    def weights(self, words: Sequence[str]) -> np.ndarray:
        """Each word's `StaticEmbedder.weight`; 1 each for a model that cannot say."""
        weigh = getattr(self.inner, "weight", None)
        if weigh is None:
            return np.ones(len(words))
        out = []
        for word in words:
            if (known := self._weights.get(word)) is None:
                if len(self._weights) >= self._size:
                    self._weights.clear()
                known = self._weights[word] = float(weigh(word))
            out.append(known)
        return np.array(out)

    def one(self, text: str) -> np.ndarray:
        with self._lock:
            row = self._cache.get(text)
            if row is not None:
                self._cache.move_to_end(text)
        return row if row is not None else self.embed([text])[0]


def one_blas_thread() -> None:
    """Planning multiplies small matrices: a BLAS thread pool costs more than it saves on
    them (seven times more with two busy cores), and Dispatch has nothing else for it."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


@functools.lru_cache(maxsize=4)
def load_embedder(spec: str = "", api_key: str | None = None) -> CachedEmbedder:
    """The model named by `spec` (empty: the shipped default), loaded once per process."""
    one_blas_thread()
    spec = spec.strip()
    if not spec or spec == "wordllama":
        return CachedEmbedder(wordllama())
    if spec.startswith(("http://", "https://")):
        url, _, model = spec.partition("#")
        return CachedEmbedder(EndpointEmbedder(url, model or "text-embedding-3-small", api_key))
    return CachedEmbedder(local_model(Path(spec).expanduser()), size=4096)
