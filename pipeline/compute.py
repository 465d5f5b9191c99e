"""One machine-wide lock around heavy local inference (Whisper decoding, the embedded LLM).

Both use every core. Run at the same time (the background worker transcribing while an operator
asks the assistant), llama.cpp's threads spin-wait on each other and slow down about twenty
times. Taking turns at a fine grain (one LLM request, one Whisper segment) keeps both fast.
Remote endpoints (OpenAI, another server) do not take the lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from .settings import default_cache_dir

T = TypeVar("T")


def lock_path() -> Path:
    return Path(os.environ.get("SHIKUMI_COMPUTE_LOCK", str(default_cache_dir() / "compute.lock")))


@contextmanager
def heavy() -> Iterator[None]:
    path = lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def locked_iter(items: Iterator[T]) -> Iterator[T]:
    """Iterate a lazy generator, holding the lock only while each next item is computed."""
    while True:
        with heavy():
            try:
                item = next(items)
            except StopIteration:
                return
        yield item
