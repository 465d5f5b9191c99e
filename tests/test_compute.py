"""Heavy local inference takes turns across threads and processes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pipeline.compute import heavy, locked_iter


def test_heavy_sections_never_overlap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIKUMI_COMPUTE_LOCK", str(tmp_path / "c.lock"))
    inside, overlaps = [0], [0]

    def work() -> None:
        for _ in range(5):
            with heavy():
                inside[0] += 1
                if inside[0] > 1:
                    overlaps[0] += 1
                time.sleep(0.005)
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps[0] == 0


def test_locked_iter_yields_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIKUMI_COMPUTE_LOCK", str(tmp_path / "c.lock"))
    assert list(locked_iter(iter([1, 2, 3]))) == [1, 2, 3]
