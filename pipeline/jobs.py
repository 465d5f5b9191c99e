"""Background jobs: processing runs in a worker process, its state in the database.

The app and the CLI enqueue; ``ensure_worker`` starts one detached worker per workspace if none
is alive. Jobs survive page reloads and browser closes, report progress, can be cancelled
(checked at every progress step) and retried. The worker takes one job at a time: Whisper and
the local LLM each use all cores, and running two at once slows both down many times over.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

from .errors import ShikumiError
from .models import Job, JobStatus, utcnow
from .store import Store
from .workspace import Workspace


class Cancelled(Exception):
    pass


def enqueue(store: Store, interview_id: str, kind: str = "process") -> Job:
    return store.add_job(Job(interview_id=interview_id, kind=kind))  # type: ignore[arg-type]


def cancel(store: Store, job_id: str) -> Job:
    job = store.get_job(job_id)
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        job.status, job.finished_at, job.message = JobStatus.CANCELLED, utcnow(), "cancelled"
        store.save_job(job)
    return job


def retry(store: Store, job_id: str) -> Job:
    old = store.get_job(job_id)
    return enqueue(store, old.interview_id, old.kind)


def run_job(ws: Workspace, job: Job) -> Job:
    store = ws.store

    def progress(message: str, fraction: float) -> None:
        current = store.get_job(job.id)
        if current.status == JobStatus.CANCELLED:
            raise Cancelled
        job.progress, job.message = round(fraction, 4), message
        store.save_job(job)

    try:
        if job.kind == "process":
            transcript = store.get_transcript(job.interview_id)
            if transcript is None:
                ws.transcribe(job.interview_id, lambda m, f: progress(m, 0.4 * f))
            ws.extract(job.interview_id, lambda m, f: progress(m, 0.4 + 0.6 * f))
        elif job.kind == "transcribe":
            ws.transcribe(job.interview_id, progress)
        else:
            ws.extract(job.interview_id, progress, retry_failed_only=True)
        job.status, job.progress, job.message = JobStatus.DONE, 1.0, "done"
        interview = store.get_interview(job.interview_id)
        if interview.error:
            job.status, job.error = JobStatus.FAILED, interview.error
    except Cancelled:
        job.status, job.message = JobStatus.CANCELLED, "cancelled"
    except ShikumiError as exc:
        job.status, job.error = JobStatus.FAILED, str(exc)
    except Exception as exc:
        job.status = JobStatus.FAILED
        job.error = f"Unexpected error: {exc!r}. Retry the job; if it fails again, report it.\n"
        job.error += traceback.format_exc(limit=3)
    job.finished_at = utcnow()
    store.save_job(job)
    return job


def work(ws: Workspace, idle_exit_s: float = 20.0, poll_s: float = 1.0) -> int:
    """Process queued jobs one at a time; return after ``idle_exit_s`` without work."""
    done = 0
    idle_since = time.monotonic()
    while True:
        job = ws.store.claim_next_job()
        if job is None:
            if time.monotonic() - idle_since > idle_exit_s:
                return done
            time.sleep(poll_s)
            continue
        run_job(ws, job)
        done += 1
        idle_since = time.monotonic()


def _pid_file(workspace: Path) -> Path:
    return workspace / "run" / "worker.pid"


def worker_alive(workspace: Path) -> bool:
    pid_file = _pid_file(workspace)
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def ensure_worker(workspace: Path) -> None:
    """Start a detached worker for this workspace unless one is running."""
    if worker_alive(workspace):
        return
    pid_file = _pid_file(workspace)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    log = (workspace / "logs").resolve()
    log.mkdir(parents=True, exist_ok=True)
    with (log / "worker.log").open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "worker", "--workspace", str(workspace)],
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    pid_file.write_text(str(proc.pid))


def recover_stale(store: Store) -> int:
    """Jobs left RUNNING by a worker that died go back to the queue."""
    n = 0
    for job in store.list_jobs(JobStatus.RUNNING):
        job.status, job.message = JobStatus.QUEUED, "re-queued after an interrupted run"
        with contextlib.suppress(ShikumiError):
            store.save_job(job)
            n += 1
    return n
