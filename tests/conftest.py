"""Honest fakes: they implement the same interfaces as the real adapters.

- FakeChat returns queued raw *text* (including malformed answers), so the real parsing,
  validation, re-ask and citation-checking paths run.
- FakeSTT returns fixed segments for any audio.
- FakeEmbedder gives deterministic bag-of-characters vectors (similar texts -> near vectors).
No test reaches the network: a fixture forbids real OpenAI endpoints.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline.adapters.llm import Completion, Message
from pipeline.adapters.whisper import RawInfo, RawSegment
from pipeline.models import Language, Segment, Transcript
from pipeline.settings import Settings, load_settings
from pipeline.workspace import Workspace

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


class FakeChat:
    """A chat model whose answers are given in advance, as raw text."""

    name = "fake-chat"
    structured = "json_object"

    def __init__(self, responses: list[str] | None = None, default: str | None = None):
        self.responses = list(responses or [])
        self.default = default
        self.calls: list[list[Message]] = []
        self.schemas: list[dict[str, Any] | None] = []

    def _next(self) -> str:
        if self.responses:
            return self.responses.pop(0)
        if self.default is not None:
            return self.default
        raise AssertionError("FakeChat ran out of responses")

    def complete(
        self,
        messages: list[Message],
        schema: dict[str, Any] | None = None,
        max_tokens: int = 2048,
        top_logprobs: int = 0,
    ) -> Completion:
        self.calls.append(messages)
        self.schemas.append(schema)
        text = self._next()
        return Completion(
            text=text,
            prompt_tokens=sum(len(m["content"]) for m in messages),
            completion_tokens=len(text),
        )

    def stream(self, messages: list[Message], max_tokens: int = 1024) -> Iterator[str]:
        text = self.complete(messages).text
        for i in range(0, len(text), 8):
            yield text[i : i + 8]


class FakeSTT:
    name = "fake-whisper"

    def __init__(self, segments: list[tuple[float, float, str]], language: str = "ja"):
        self.segments = segments
        self.language = language

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None,
        hotwords: str | None = None,
        initial_prompt: str | None = None,
    ) -> tuple[Iterator[RawSegment], RawInfo]:
        segs = (
            RawSegment(
                start=s, end=e, text=t, avg_logprob=-0.3, no_speech_prob=0.01, compression_ratio=1.2
            )
            for s, e, t in self.segments
        )
        return segs, RawInfo(language or self.language, 0.99, len(audio) / 16000, self.name)


class FakeScorer:
    """A sentence scorer: each occurrence of a ``preferred`` word adds ``bonus`` nats, each
    ``avoided`` word subtracts it (the real one is the LLM's log-probability)."""

    name = "fake-lm"

    def __init__(self, preferred: tuple[str, ...] = (), avoided: tuple[str, ...] = (), bonus=5.0):
        self.preferred, self.avoided, self.bonus = preferred, avoided, bonus
        self.calls: list[tuple[str, list[str]]] = []

    def logprobs(self, context: str, texts: Any) -> list[float]:
        self.calls.append((context, list(texts)))
        return [
            self.bonus
            * (sum(t.count(w) for w in self.preferred) - sum(t.count(w) for w in self.avoided))
            for t in texts
        ]


class FakeEmbedder:
    """Character-trigram hashing vectors: deterministic, language-agnostic, similar -> near."""

    name = "fake-embedder"
    dim = 256

    def _vec(self, text: str) -> list[float]:
        v = [0.0] * self.dim
        t = f"  {text}  "
        for i in range(len(t) - 2):
            h = int(hashlib.md5(t[i : i + 3].encode()).hexdigest(), 16) % self.dim
            v[h] += 1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / norm for x in v]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach OpenAI: any configured key or endpoint is removed."""
    for var in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "SHIKUMI_LLM_BASE_URL",
        "SHIKUMI_LLM_API_KEY",
        "SHIKUMI_LLM_PROVIDER",
        "SHIKUMI_WORKSPACE",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def settings(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """A fresh workspace; ``SHIKUMI_TEST_DATABASE=postgresql`` puts its database of record on
    the test PostgreSQL server instead of SQLite (the whole suite runs on either), for the CLI
    and the app the test starts too."""
    if os.environ.get("SHIKUMI_TEST_DATABASE") == "postgresql":
        url = request.getfixturevalue("postgres_server").new_database()
        monkeypatch.setenv("SHIKUMI_DATABASE_URL", url)
    return load_settings(tmp_path / "ws")


@pytest.fixture
def make_workspace(settings: Settings) -> Any:
    made: list[Workspace] = []

    def make(llm: Any = None, stt: Any = None, embed: Any = None, scorer: Any = None) -> Workspace:
        ws = Workspace(
            settings, llm=llm, stt=stt, embed=embed or FakeEmbedder(), scorer=scorer or FakeScorer()
        )
        made.append(ws)
        return ws

    yield make
    for ws in made:
        ws.close()


def transcript_of(lines: list[str], interview_id: str = "int_test", lang: str = "ja") -> Transcript:
    segs = [
        Segment(id=f"s{i + 1:04d}", start=i * 5.0, end=i * 5.0 + 4.5, text=t, speaker="interviewee")
        for i, t in enumerate(lines)
    ]
    return Transcript(
        interview_id=interview_id, language=Language(lang), segments=segs, duration=len(lines) * 5.0
    )


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """A real PostgreSQL server on loopback for this test session (skipped only when the
    server binaries cannot be found, with the command that installs them)."""
    from .postgres import INSTALL_HINT, PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        pytest.skip(INSTALL_HINT)
    server = PostgresServer(bindir).start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the embedded SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    return str(request.getfixturevalue("postgres_server").new_database())


def echo_fields(title: str, quote: str) -> str:
    """A fields answer (``pipeline.fields``) from a model that copies the quote into the
    summary field and says nothing else; ``title`` is the schema's title."""
    q = quote.strip().rstrip("。.")
    if title == "TaskFields":
        step = {"action": q, "actor": "", "inputs": [], "outputs": [], "systems": []}
        return json.dumps({"steps": [step | {"frequency": "", "volume": "", "deadline": ""}]})
    if title == "JudgmentFields":
        return json.dumps({"decision": q, "rules": [], "decider": "", "criterion": "unstated"})
    return json.dumps(
        {"trigger": q, "handling": "", "owner": "", "frequency": "", "routine": False}
    )
