"""The interface every evaluation module implements, and small shared helpers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "eval-data"


def eval_data_dir() -> Path:
    """External evaluation data: $SHIKUMI_EVAL_DATA, else ../shared/eval-data."""
    return Path(os.environ.get("SHIKUMI_EVAL_DATA", str(DEFAULT_DATA)))


@dataclass
class EvalContext:
    data_dir: Path  # external data (read only, never copied into the repo)
    quick: bool  # eval-quick: small subsets, whole harness under 10 minutes on 2 cores
    smoke: bool = False  # CI smoke: one case per task, seconds
    work_dir: Path = field(default_factory=lambda: Path("/tmp/shikumi-eval"))
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Metric:
    name: str
    value: float | None
    baseline: float | None = None  # computed in the same run, or a published anchor
    baseline_name: str = ""  # e.g. "TF-IDF (same run)" or "PET paper, Table 4"
    target: str = ""  # e.g. ">= 0.7"
    n: int | None = None  # number of cases


@dataclass
class Section:
    task: str  # e.g. "asr", "extraction/samples", "retrieval/or_sharc"
    metrics: list[Metric]
    datasets: list[str] = field(default_factory=list)  # name + licence, for attribution
    config: dict[str, Any] = field(default_factory=dict)  # model names, prompt versions, ...
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # per-case results for the JSON report


class LazyChat:
    """A chat-model factory that starts the model on first use (an eval whose questions are
    all refused by retrieval never starts it) and tells its name for the report."""

    def __init__(self, settings: Any):
        self.settings = settings
        self.model: Any = None

    def __call__(self) -> Any:
        if self.model is None:
            from pipeline.adapters.llm import chat_model

            self.model = chat_model(self.settings)
        return self.model

    @property
    def name(self) -> str:
        return str(getattr(self.model, "name", "not started"))


def product_embedder() -> Any:
    """The product's default sentence embedder (the knowledge base's), which extraction also
    uses to read labels and remarks by meaning."""
    from pipeline.adapters.embeddings import embedder
    from pipeline.settings import load_settings

    return embedder(load_settings())
