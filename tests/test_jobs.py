"""Background jobs: progress, failure with a reason, cancel, retry; nothing lost."""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import jobs
from pipeline.models import InterviewStatus, JobStatus

from .conftest import FakeChat, FakeSTT

EXTRACTION = json.dumps({"label": "judgment"})  # the classify design labels sentences


def tone_wav(path: Path, seconds: float = 2.0) -> Path:
    t = np.arange(int(16000 * seconds)) / 16000
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())
    return path


def test_job_runs_to_done_with_progress(make_workspace: Any, tmp_path: Path) -> None:
    stt = FakeSTT([(0.0, 1.8, "5万円を超える場合は部長の承認が必要です。")])
    ws = make_workspace(llm=FakeChat(default=EXTRACTION), stt=stt)
    iv = ws.import_audio(tone_wav(tmp_path / "a.wav"), "t", "経費精算")
    job = jobs.enqueue(ws.store, iv.id)
    claimed = ws.store.claim_next_job()
    done = jobs.run_job(ws, claimed)
    assert done.status == JobStatus.DONE and done.progress == 1.0
    assert ws.store.get_interview(iv.id).status == InterviewStatus.EXTRACTED
    (el,) = ws.store.list_elements(iv.id)
    assert el.kind == "judgment" and el.grounded
    assert ws.store.get_job(job.id).status == JobStatus.DONE


def test_failed_job_keeps_upload_and_can_be_retried(make_workspace: Any, tmp_path: Path) -> None:
    stt = FakeSTT([(0.0, 1.8, "申請を受け付けます。")])
    ws = make_workspace(llm=FakeChat(default="not json at all"), stt=stt)
    iv = ws.import_audio(tone_wav(tmp_path / "a.wav"), "t")
    jobs.enqueue(ws.store, iv.id)
    done = jobs.run_job(ws, ws.store.claim_next_job())
    assert done.status == JobStatus.FAILED and "retry-failed" in (done.error or "")
    assert ws.audio_file(ws.store.get_interview(iv.id)).exists()
    assert ws.store.get_transcript(iv.id) is not None  # the transcript is kept
    again = jobs.retry(ws.store, done.id)
    assert again.status == JobStatus.QUEUED and again.interview_id == iv.id


def test_cancel_stops_at_next_progress_step(make_workspace: Any, tmp_path: Path) -> None:
    stt = FakeSTT([(0.0, 1.0, "a"), (1.0, 1.8, "b")])
    ws = make_workspace(llm=FakeChat(default=EXTRACTION), stt=stt)
    iv = ws.import_audio(tone_wav(tmp_path / "a.wav"), "t")
    job = jobs.enqueue(ws.store, iv.id)
    claimed = ws.store.claim_next_job()
    jobs.cancel(ws.store, job.id)
    assert jobs.run_job(ws, claimed).status == JobStatus.CANCELLED


def test_stale_running_jobs_are_requeued(make_workspace: Any, tmp_path: Path) -> None:
    ws = make_workspace()
    jobs.enqueue(ws.store, "int_x")
    ws.store.claim_next_job()
    assert jobs.recover_stale(ws.store) == 1
    assert ws.store.list_jobs(JobStatus.QUEUED)
