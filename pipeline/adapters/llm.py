"""Chat models behind one narrow interface: ``ChatModel.complete`` and ``ChatModel.stream``.

One code path (LangChain ``ChatOpenAI`` on the OpenAI client) serves OpenAI, any
OpenAI-compatible server and the embedded llama.cpp server. Structured output differs by
backend: OpenAI takes ``json_schema``; llama.cpp's server rejects it (HTTP 500) and takes
``json_object`` with a ``schema`` (grammar-constrained). Callers only say "this schema".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..compute import heavy
from ..errors import LLMError
from ..local_models import qwen_gguf_path
from ..settings import EMBEDDED, Settings
from .llama_server import MODEL_ALIAS, LocalLLMServer

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # per generated token, the most likely alternatives {token: log-probability}; empty when
    # not asked for or when the backend does not return them
    top_logprobs: list[dict[str, float]] = field(default_factory=list)


class ChatModel(Protocol):
    name: str
    structured: str  # "json_schema" (OpenAI) or "json_object" (llama.cpp)

    def complete(
        self,
        messages: list[Message],
        schema: dict[str, Any] | None = None,
        max_tokens: int = 2048,
        top_logprobs: int = 0,
    ) -> Completion: ...

    def stream(self, messages: list[Message], max_tokens: int = 1024) -> Iterator[str]: ...


def _to_langchain(messages: list[Message]) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m["role"]](content=m["content"]) for m in messages]


class OpenAIChat:
    """Any OpenAI-compatible endpoint through langchain-openai."""

    def __init__(
        self,
        model: str,
        base_url: str | None,
        api_key: str,
        structured: str,
        temperature: float = 0.0,
        timeout: float = 600.0,
        provider: str = "openai",
    ):
        from langchain_openai import ChatOpenAI

        self.name = model
        self.structured = structured
        self.provider = provider
        self._llm = ChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=api_key,  # type: ignore[arg-type]
            temperature=temperature,
            timeout=timeout,
            max_retries=1,
        )

    def _turn(self) -> AbstractContextManager[None]:
        """The embedded model shares the machine's cores with Whisper: take turns."""
        return heavy() if self.provider == EMBEDDED else nullcontext()

    def _response_format(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.structured == "json_schema":
            strict = bool(schema.get("additionalProperties") is False)
            return {
                "type": "json_schema",
                "json_schema": {
                    "name": schema.get("title", "output"),
                    "schema": schema,
                    "strict": strict,
                },
            }
        return {"type": "json_object", "schema": schema}

    def complete(
        self,
        messages: list[Message],
        schema: dict[str, Any] | None = None,
        max_tokens: int = 2048,
        top_logprobs: int = 0,
    ) -> Completion:
        kwargs: dict[str, Any] = {"max_tokens": max_tokens}
        if schema is not None:
            kwargs["response_format"] = self._response_format(schema)
        if top_logprobs:
            kwargs |= {"logprobs": True, "top_logprobs": top_logprobs}
        try:
            with self._turn():
                msg = self._llm.invoke(_to_langchain(messages), **kwargs)
        except Exception as exc:
            raise LLMError(
                f"The LLM call to {self.provider} ({self.name}) failed: "
                f"{type(exc).__name__}: {exc}",
                "Check that the endpoint is reachable and the model name is right "
                "(settings page or SHIKUMI_LLM_*); your data so far is saved and the step "
                "can be retried.",
                provider=self.provider,
                cause=exc,
            ) from exc
        usage = getattr(msg, "usage_metadata", None) or {}
        return Completion(
            text=str(msg.content),
            prompt_tokens=int(usage.get("input_tokens", 0)),
            completion_tokens=int(usage.get("output_tokens", 0)),
            top_logprobs=_top_logprobs(getattr(msg, "response_metadata", None) or {}),
        )

    def stream(self, messages: list[Message], max_tokens: int = 1024) -> Iterator[str]:
        try:
            with self._turn():
                for chunk in self._llm.stream(_to_langchain(messages), max_tokens=max_tokens):
                    if chunk.content:
                        yield str(chunk.content)
        except Exception as exc:
            raise LLMError(
                f"The LLM stream from {self.provider} ({self.name}) failed: {exc}",
                "Check the endpoint in the settings and ask again.",
                provider=self.provider,
                cause=exc,
            ) from exc


def _top_logprobs(metadata: dict[str, Any]) -> list[dict[str, float]]:
    """OpenAI's ``logprobs.content[*].top_logprobs`` as one dict per token (empty if absent)."""
    content = (metadata.get("logprobs") or {}).get("content") or []
    out: list[dict[str, float]] = []
    for tok in content:
        alts = {
            str(a.get("token", "")): float(a.get("logprob", -100.0))
            for a in tok.get("top_logprobs") or []
        }
        alts.setdefault(str(tok.get("token", "")), float(tok.get("logprob", -100.0)))
        out.append(alts)
    return out


_SERVER_LOCK = threading.Lock()
_SERVER: LocalLLMServer | None = None


def embedded_server(settings: Settings) -> LocalLLMServer:
    """The process-wide embedded server: reused while healthy, else started on a free port."""
    global _SERVER
    with _SERVER_LOCK:
        if _SERVER is None or not _SERVER.healthy():
            if _SERVER is not None:
                _SERVER.stop()  # died or stopped answering: a fresh one on a fresh port
            _SERVER = LocalLLMServer(
                qwen_gguf_path(settings.cache_dir),
                threads=settings.llm_threads,
                n_ctx=settings.llm_context,
                log_dir=settings.workspace / "logs",
                port=settings.llm_port,
            )
            _SERVER.start()
        return _SERVER


class EmbeddedChat:
    """The embedded server's chat model. Each call goes to the process-wide server as it is
    now: one that died (a crash, the OOM killer) is replaced on a fresh port at the next call
    instead of failing every later job of this worker."""

    name = MODEL_ALIAS
    structured = "json_object"
    provider = EMBEDDED

    def __init__(self, settings: Settings, temperature: float, timeout: float):
        self._settings = settings
        self._options = {"temperature": temperature, "timeout": timeout}
        self._chat: OpenAIChat | None = None
        self._url = ""
        self._current()  # start (or reuse) the server now: start-up errors show at once

    def _current(self) -> OpenAIChat:
        server = embedded_server(self._settings)
        if self._chat is None or server.base_url != self._url:
            self._url = server.base_url
            self._chat = OpenAIChat(
                MODEL_ALIAS, self._url, "local", "json_object", provider=EMBEDDED, **self._options
            )
        return self._chat

    def complete(
        self,
        messages: list[Message],
        schema: dict[str, Any] | None = None,
        max_tokens: int = 2048,
        top_logprobs: int = 0,
    ) -> Completion:
        return self._current().complete(messages, schema, max_tokens, top_logprobs)

    def stream(self, messages: list[Message], max_tokens: int = 1024) -> Iterator[str]:
        yield from self._current().stream(messages, max_tokens)


def chat_model(settings: Settings) -> ChatModel:
    """The configured chat model: OpenAI, an OpenAI-compatible server, or the embedded one."""
    provider = settings.resolved_llm_provider
    common = {"temperature": settings.llm_temperature, "timeout": settings.llm_timeout_s}
    if provider == EMBEDDED:
        return EmbeddedChat(settings, **common)
    if provider == "openai_compatible":
        return OpenAIChat(
            settings.llm_model or "default",
            settings.llm_base_url,
            settings.llm_api_key or "none",
            "json_object",
            provider="openai_compatible",
            **common,
        )
    import os

    return OpenAIChat(
        settings.llm_model or "gpt-4o-mini",
        None,
        settings.llm_api_key or os.environ.get("OPENAI_API_KEY", ""),
        "json_schema",
        provider="openai",
        **common,
    )
