"""Sentence log-probabilities from a language model: how likely a text is after a context.

The correction pass (``pipeline/correction.py``) compares a sentence as Whisper heard it with
the same sentence carrying a candidate business term. Any OpenAI-compatible ``/v1/completions``
endpoint that echoes the prompt's token log-probabilities serves (the embedded llama.cpp server,
vLLM, llama.cpp's own server). OpenAI's chat models do not return prompt log-probabilities:
there the pass runs without a language model (see ``correction``).

Variants of one sentence share the context and the words before the candidate, so the server's
prompt cache makes each further variant cheap. A score is the log-probability of the whole
prompt: only differences between the variants of one context mean anything.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ..compute import heavy
from ..errors import LLMError
from ..settings import EMBEDDED, Settings

QWEN_BOS = "<|endoftext|>"  # Qwen2.5's BOS token (id 151643), parsed as a special token


class CompletionScorer:
    """Log-probabilities through ``/v1/completions`` with ``echo`` and ``logprobs``."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "local",
        local: bool = True,
        prefix: str = "",
    ):
        from openai import OpenAI

        self.name = model
        self.local = local
        self.prefix = prefix
        self._client = OpenAI(base_url=base_url, api_key=api_key, timeout=120.0, max_retries=1)
        self.calls = 0

    def _turn(self) -> AbstractContextManager[None]:
        return heavy() if self.local else nullcontext()

    def logprobs(self, context: str, texts: Sequence[str]) -> list[float]:
        # one turn for all the variants: no other request evicts the context between them,
        # so its rows (and its share of each score) are the same for every variant
        with self._turn():
            return [self._one(context, t) for t in texts]

    def _one(self, context: str, text: str) -> float:
        prompt = self.prefix + context + text
        try:
            resp: Any = self._client.completions.create(
                model=self.name,
                prompt=prompt,
                max_tokens=1,
                temperature=0.0,
                echo=True,
                logprobs=1,
            )
        except Exception as exc:
            raise LLMError(
                f"Scoring a sentence with {self.name} failed: {type(exc).__name__}: {exc}",
                "The endpoint must serve /v1/completions with echo and logprobs (llama.cpp, "
                "vLLM); or turn the correction pass off (SHIKUMI_GLOSSARY_CORRECTION=false).",
                provider=self.name,
                cause=exc,
            ) from exc
        self.calls += 1
        generated = getattr(getattr(resp, "usage", None), "completion_tokens", None)
        return prompt_logprob(resp.choices[0].logprobs, 1 if generated is None else generated)


def prompt_logprob(logprobs: Any, generated: int) -> float:
    """Sum of the log-probabilities of the echoed prompt's tokens (the last ``generated``
    tokens are the answer's, not the prompt's).

    The whole prompt, not the text's tokens found by character offset: llama-cpp-python's
    offsets skip the characters of tokens that are part of a character (a kana split into
    bytes), and a text after 「ありがとうございました。」 then had no token at its offsets
    (every variant scored 0.0). The context's tokens are the same for every variant of one
    call (the server reuses their rows), so they add the same amount to each and differences
    between variants are those of the text; a token that merges the context's last
    characters with the text's first (「、新生」) is counted, as it must be."""
    if logprobs is None:
        raise LLMError(
            "The endpoint returned no log-probabilities.",
            "Use an endpoint that echoes prompt log-probabilities (llama.cpp, vLLM).",
        )
    values = list(getattr(logprobs, "token_logprobs", None) or [])
    if generated:
        values = values[:-generated]
    prompt = [float(v) for v in values if v is not None]
    if not prompt:  # no echo: every variant would score 0.0 and nothing would be corrected
        raise LLMError(
            "The endpoint did not echo the prompt's log-probabilities.",
            "Use an endpoint that echoes prompt log-probabilities (llama.cpp, vLLM), or turn "
            "the correction pass off (SHIKUMI_GLOSSARY_CORRECTION=false).",
        )
    return sum(prompt)


def sentence_scorer(settings: Settings) -> CompletionScorer | None:
    """The configured LLM as a sentence scorer; None where it cannot give prompt log-probs."""
    provider = settings.resolved_llm_provider
    if provider == EMBEDDED:
        from .llama_server import MODEL_ALIAS
        from .llm import embedded_server

        # llama-cpp-python 0.3.36 aligns echoed prompt log-probabilities with the token they
        # predict only when the prompt starts with the BOS token (else each token gets the
        # probability of itself following itself); Qwen adds none, so the scorer does
        return CompletionScorer(
            embedded_server(settings).base_url, MODEL_ALIAS, local=True, prefix=QWEN_BOS
        )
    if provider == "openai_compatible" and settings.llm_base_url:
        return CompletionScorer(
            settings.llm_base_url,
            settings.llm_model or "default",
            settings.llm_api_key or "none",
            local=False,
        )
    return None  # OpenAI's chat models: no prompt log-probabilities


class LazyScorer:
    """A scorer made on first use: a hearing with nothing to correct starts no LLM server."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.name = "lazy"
        self.start_s = 0.0  # time taken to start the model (the embedded server) on first use
        self._inner: CompletionScorer | None = None

    def logprobs(self, context: str, texts: Sequence[str]) -> list[float]:
        if self._inner is None:
            t0 = time.monotonic()
            self._inner = sentence_scorer(self.settings)
            self.start_s = time.monotonic() - t0
            if self._inner is None:
                raise LLMError(
                    "The configured LLM gives no prompt log-probabilities.",
                    "Corrections are limited to words that are not words; configure an "
                    "OpenAI-compatible server (llama.cpp, vLLM) for scoring in context.",
                )
            self.name = self._inner.name
        return self._inner.logprobs(context, texts)
