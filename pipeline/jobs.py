"""Background jobs: processing runs in worker processes, its state in the database.

The app and the CLI enqueue; ``ensure_worker`` starts one detached worker per workspace if none
is alive, and more workers, on this machine or others sharing a PostgreSQL database, can run
``shikumi worker`` (the queue: ``pipeline/store/jobs.py``). Jobs survive page reloads and
browser closes, report progress, can be cancelled (checked at every progress step) and retried.
A worker renews its job's lease while it works; the job of a worker that died is claimed again
by any worker once the lease runs out. A worker takes one job at a time: Whisper and the local
LLM each use all cores, and running two at once slows both down many times over.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import ShikumiError
from .models import Job, JobStatus, utcnow
from .store import LEASE_S, DatabaseUnavailable, Store, worker_id
from .workspace import Workspace


class Cancelled(Exception):
    """The job was cancelled, or another worker took it over: stop without writing."""


def enqueue(store: Store, interview_id: str, kind: str = "process") -> Job:
    return store.add_job(Job(interview_id=interview_id, kind=kind))  # type: ignore[arg-type]


def cancel(store: Store, job_id: str) -> Job:
    return store.cancel_job(job_id)


def retry(store: Store, job_id: str) -> Job:
    old = store.get_job(job_id)
    return enqueue(store, old.interview_id, old.kind)


@contextmanager
def _lease(store: Store, job: Job, lease_s: float) -> Iterator[threading.Event]:
    """Renew the job's lease in the background; the event is set once it is lost."""
    lost, stop = threading.Event(), threading.Event()

    def renew() -> None:
        while not stop.wait(lease_s / 4):
            try:
                if not store.heartbeat(job.id, job.worker):
                    lost.set()
                    return
            except Exception:  # database unreachable for a moment: try again next beat
                continue

    beat = threading.Thread(target=renew, name=f"lease-{job.id}", daemon=True)
    beat.start()
    try:
        yield lost
    finally:
        stop.set()
        beat.join()


def run_job(ws: Workspace, job: Job, lease_s: float = LEASE_S) -> Job:
    store = ws.store
    job.worker = job.worker or worker_id()

    with _lease(store, job, lease_s) as lost:

        def progress(message: str, fraction: float) -> None:
            job.progress, job.message = round(fraction, 4), message
            if lost.is_set() or not store.update_held_job(job):
                raise Cancelled  # cancelled, or taken over after our lease ran out

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
            return store.get_job(job.id)
        except ShikumiError as exc:
            job.status, job.error = JobStatus.FAILED, str(exc)
        except Exception as exc:
            job.status = JobStatus.FAILED
            job.error = f"Unexpected error: {exc!r}. Retry the job; if it fails again, report it.\n"
            job.error += traceback.format_exc(limit=3)
        job.finished_at = utcnow()
        if not store.update_held_job(job):  # cancelled at the very end, or taken over
            return store.get_job(job.id)
    return job


def work(
    ws: Workspace,
    idle_exit_s: float | None = 20.0,
    poll_s: float = 1.0,
    lease_s: float = LEASE_S,
) -> int:
    """Process jobs one at a time; return after ``idle_exit_s`` without work (None: never)."""
    done = 0
    idle_since = time.monotonic()
    me = worker_id()
    while True:
        try:
            job = ws.store.claim_next_job(me, lease_s=lease_s)
        except DatabaseUnavailable as exc:  # the database restarts or the network drops: wait
            print(f"worker {me}: database unavailable ({exc.orig}); retrying", file=sys.stderr)
            time.sleep(max(poll_s, 1.0))
            continue
        if job is None:
            if idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                return done
            time.sleep(poll_s)
            continue
        run_job(ws, job, lease_s=lease_s)
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


def _dead_here(worker: str) -> bool:
    """True for a worker of this machine whose process no longer exists."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def recover_stale(store: Store, lease_s: float = LEASE_S) -> int:
    """Jobs left running by a worker that died go back to the queue.

    At once for a worker of this machine whose process is gone; after its lease ran out for a
    worker elsewhere. A job a live worker holds (here or on another machine) is left alone.
    Workers also claim expired jobs themselves: this makes the state visible sooner.
    """
    n = 0
    for job in store.list_jobs(JobStatus.RUNNING):
        if job.worker and _dead_here(job.worker):
            n += store.requeue_job(job.id, job.worker)
    return n + store.requeue_stale_jobs(lease_s)
