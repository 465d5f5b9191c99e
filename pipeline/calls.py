"""One schema-constrained model call: validated, re-asked on a bad answer, cached.

Leaf module of the extraction stage. The cache is anything with ``cache_get`` / ``cache_put``
(the workspace's store in the product); results are keyed by (model, prompt version, content).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from .adapters.llm import ChatModel, Completion, Message
from .models import ChunkRecord

MAX_ATTEMPTS = 3
M = TypeVar("M", bound=BaseModel)


class Cache(Protocol):
    def cache_get(self, key: str) -> str | None: ...

    def cache_put(self, key: str, value: str) -> None: ...


class ChunkFailure(Exception):
    def __init__(self, message: str, attempts: list[str]):
        super().__init__(message)
        self.attempts = attempts


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema made acceptable to OpenAI's strict mode.

    Strict mode wants ``additionalProperties: false`` and every property listed in ``required``
    on every object; defaults are dropped (the model must answer every field). llama.cpp's grammar
    accepts the same schema.
    """
    schema = model.model_json_schema()

    def fix(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            node.pop("default", None)
            node.pop("minLength", None)
            for v in node.values():
                fix(v)
        elif isinstance(node, list):
            for v in node:
                fix(v)

    fix(schema)
    return schema


def cache_key(model: str, prompt_id: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x00{prompt_id}\x00{text}".encode()).hexdigest()


def json_object(text: str) -> Any:
    """The JSON object in a model answer, tolerating code fences and prose around it."""
    s = text.strip()
    if "```" in s and s.count("```") >= 2:
        s = s.split("```")[1].removeprefix("json").strip()
    start, end = s.find("{"), s.rfind("}")
    if start < 0 or end < start:
        raise ValueError("the answer contains no JSON object")
    return json.loads(s[start : end + 1])


def ask_validated(
    llm: ChatModel,
    messages: list[Message],
    model: type[M],
    schema: dict[str, Any],
    record: ChunkRecord,
    max_tokens: int,
    reask_hint: str,
    top_logprobs: int = 0,
) -> tuple[M, Completion]:
    """A validated answer and the completion it came from; errors are sent back to the model,
    at most MAX_ATTEMPTS times, then ChunkFailure."""
    attempts: list[str] = []
    for _ in range(MAX_ATTEMPTS):
        record.attempts += 1
        record.calls += 1
        out = llm.complete(
            messages, schema=schema, max_tokens=max_tokens, top_logprobs=top_logprobs
        )
        record.prompt_tokens += out.prompt_tokens
        record.completion_tokens += out.completion_tokens
        attempts.append(out.text)
        try:
            value = model.model_validate(json_object(out.text))
        except (ValueError, ValidationError) as exc:
            messages = [
                *messages,
                {"role": "assistant", "content": out.text[:4000]},
                {
                    "role": "user",
                    "content": f"Your answer was invalid: {str(exc)[:800]}\n{reask_hint}",
                },
            ]
            continue
        return value, out
    raise ChunkFailure(
        f"invalid output after {MAX_ATTEMPTS} attempts: {attempts[-1][:300]}", attempts
    )
