"""Background jobs: progress, failure with a reason, cancel, retry; nothing lost."""

from __future__ import annotations

import json
import os
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


def test_job_of_a_dead_worker_is_picked_up_again(make_workspace: Any, tmp_path: Path) -> None:
    """A worker of this machine that died: its job is re-queued at once and runs to the end;
    a live worker's job is left alone."""
    import socket
    import subprocess
    import sys

    stt = FakeSTT([(0.0, 1.8, "5万円を超える場合は部長の承認が必要です。")])
    ws = make_workspace(llm=FakeChat(default=EXTRACTION), stt=stt)
    iv = ws.import_audio(tone_wav(tmp_path / "a.wav"), "t")
    job = jobs.enqueue(ws.store, iv.id)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = f"{socket.gethostname()}:{gone.pid}"
    assert ws.store.claim_next_job(dead).id == job.id  # then the worker died mid-job
    ws.store.set_interview_status(iv.id, InterviewStatus.TRANSCRIBING)
    alive = jobs.enqueue(ws.store, "int_other")
    assert ws.store.claim_next_job(f"{socket.gethostname()}:{os.getpid()}").id == alive.id

    assert jobs.recover_stale(ws.store) == 1
    again = ws.store.claim_next_job("me")
    assert again is not None and again.id == job.id and again.attempts == 2
    assert jobs.run_job(ws, again).status == JobStatus.DONE
    assert ws.store.get_interview(iv.id).status == InterviewStatus.EXTRACTED
    assert ws.store.get_job(alive.id).status == JobStatus.RUNNING  # its worker lives


def test_job_of_a_silent_worker_elsewhere_is_taken_once_its_lease_ran_out(
    make_workspace: Any,
) -> None:
    from datetime import timedelta

    from pipeline.store import JobRow

    ws = make_workspace()
    job = jobs.enqueue(ws.store, "int_x")
    ws.store.claim_next_job("other-machine:123")
    assert ws.store.claim_next_job("me") is None  # its lease holds
    assert jobs.recover_stale(ws.store) == 0
    with ws.store.tx() as s:  # the other machine stopped renewing two minutes ago
        row = s.get(JobRow, job.id)
        assert row is not None and row.heartbeat_at is not None
        row.heartbeat_at = row.heartbeat_at - timedelta(minutes=2)
    taken = ws.store.claim_next_job("me")
    assert taken is not None and taken.id == job.id and taken.worker == "me"
    assert not ws.store.heartbeat(job.id, "other-machine:123")  # the old holder lost it
