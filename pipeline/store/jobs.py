"""The job queue's table, shared by every worker of one database (SQLite or PostgreSQL).

A worker *claims* the oldest claimable job in one UPDATE: on PostgreSQL its candidate is picked
with ``FOR UPDATE SKIP LOCKED`` (workers on several machines never wait on each other or take
the same job); SQLite runs one writer at a time, so the same statement is atomic there too.
A claim is a lease: the worker renews ``heartbeat_at`` while it works; a running job whose
heartbeat is older than the lease belonged to a worker that died and is claimed again. Every
later write names the worker, so a worker that lost its lease can no longer overwrite the job.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update

from ..errors import NotFoundError
from ..models import Job, JobStatus, utcnow
from .base import StoreBase
from .schema import JobRow, _dump

LEASE_S = 60.0  # a running job without a heartbeat for this long is taken over
ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


def worker_id() -> str:
    """This process as a queue worker: host and pid, unique across machines."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _job(row: JobRow) -> Job:
    job = Job.model_validate(row.data)
    job.worker, job.attempts = row.worker or "", row.attempts or 0
    return job


def _claimable(lease_s: float) -> ColumnElement[bool]:
    stale = utcnow() - timedelta(seconds=lease_s)
    return or_(
        JobRow.status == JobStatus.QUEUED.value,
        and_(
            JobRow.status == JobStatus.RUNNING.value,
            or_(JobRow.heartbeat_at.is_(None), JobRow.heartbeat_at < stale),
        ),
    )


class JobStore(StoreBase):
    def add_job(self, job: Job) -> Job:
        with self.tx() as s:
            s.add(
                JobRow(
                    id=job.id,
                    interview_id=job.interview_id,
                    status=job.status.value,
                    data=_dump(job),
                    created_at=job.created_at,
                    attempts=0,
                )
            )
        return job

    def save_job(self, job: Job) -> Job:
        with self.tx() as s:
            row = s.get(JobRow, job.id)
            if row is None:
                raise NotFoundError(f"Job {job.id} not found.", "Reload the hearings page.")
            row.status, row.data = job.status.value, _dump(job)
        return job

    def get_job(self, job_id: str) -> Job:
        with self.tx() as s:
            row = s.get(JobRow, job_id)
            if row is None:
                raise NotFoundError(f"Job {job_id} not found.", "Reload the hearings page.")
            return _job(row)

    def list_jobs(self, status: JobStatus | None = None) -> list[Job]:
        q = select(JobRow).order_by(JobRow.created_at)
        if status:
            q = q.where(JobRow.status == status.value)
        with self.tx() as s:
            return [_job(r) for r in s.scalars(q).all()]

    def claim_next_job(self, worker: str = "", lease_s: float = LEASE_S) -> Job | None:
        """Take the oldest queued job (or one whose worker died) for ``worker``; None if idle."""
        worker = worker or worker_id()
        now = utcnow()
        candidate = (
            select(JobRow.id)
            .where(_claimable(lease_s))
            .order_by(JobRow.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite writes one at a time
            .scalar_subquery()
        )
        with self.tx() as s:
            row = s.execute(
                update(JobRow)
                .where(JobRow.id == candidate, _claimable(lease_s))
                .values(
                    status=JobStatus.RUNNING.value,
                    worker=worker,
                    heartbeat_at=now,
                    attempts=JobRow.attempts + 1,
                )
                .returning(JobRow.id, JobRow.data, JobRow.attempts)
                .execution_options(synchronize_session=False)
            ).first()
            if row is None:
                return None
            job = Job.model_validate(row.data)
            if job.status == JobStatus.RUNNING:
                job.message = "re-queued after its worker stopped"
            job.status, job.started_at = JobStatus.RUNNING, now
            job.worker, job.attempts = worker, int(row.attempts)
            s.execute(
                update(JobRow)
                .where(JobRow.id == row.id)
                .values(data=_dump(job))
                .execution_options(synchronize_session=False)
            )
            return job

    def _update_held(self, job_id: str, worker: str, values: dict[str, Any]) -> bool:
        with self.tx() as s:
            result = s.execute(
                update(JobRow)
                .where(
                    JobRow.id == job_id,
                    JobRow.status == JobStatus.RUNNING.value,
                    JobRow.worker == worker,
                )
                .values(heartbeat_at=utcnow(), **values)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def heartbeat(self, job_id: str, worker: str) -> bool:
        """Renew the lease; False when the job is no longer this worker's (cancelled, taken)."""
        return self._update_held(job_id, worker, {})

    def update_held_job(self, job: Job) -> bool:
        """Write progress or the outcome of a job its worker still holds; False otherwise."""
        return self._update_held(
            job.id, job.worker, {"status": job.status.value, "data": _dump(job)}
        )

    def cancel_job(self, job_id: str) -> Job:
        """Cancel a queued or running job (its worker stops at its next progress step)."""
        job = self.get_job(job_id)
        if job.status.value not in ACTIVE:
            return job
        job.status, job.finished_at, job.message = JobStatus.CANCELLED, utcnow(), "cancelled"
        with self.tx() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status.in_(ACTIVE))
                .values(status=job.status.value, data=_dump(job))
                .execution_options(synchronize_session=False)
            )
        return self.get_job(job_id)

    def requeue_job(self, job_id: str, worker: str) -> bool:
        """Put a running job of ``worker`` (known dead) back in the queue."""
        job = self.get_job(job_id)
        job.status, job.message = JobStatus.QUEUED, "re-queued: its worker stopped"
        with self.tx() as s:
            result = s.execute(
                update(JobRow)
                .where(
                    JobRow.id == job_id,
                    JobRow.status == JobStatus.RUNNING.value,
                    JobRow.worker == worker,
                )
                .values(status=job.status.value, worker=None, data=_dump(job))
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def requeue_stale_jobs(self, lease_s: float = LEASE_S) -> int:
        """Running jobs whose worker stopped renewing its lease go back to the queue."""
        stale = utcnow() - timedelta(seconds=lease_s)
        n = 0
        for job in self.list_jobs(JobStatus.RUNNING):
            job.status, job.message = JobStatus.QUEUED, "re-queued after an interrupted run"
            with self.tx() as s:
                result = s.execute(
                    update(JobRow)
                    .where(
                        JobRow.id == job.id,
                        JobRow.status == JobStatus.RUNNING.value,
                        or_(JobRow.heartbeat_at.is_(None), JobRow.heartbeat_at < stale),
                    )
                    .values(status=job.status.value, worker=None, data=_dump(job))
                    .execution_options(synchronize_session=False)
                )
                n += int(result.rowcount == 1)  # type: ignore[attr-defined]
        return n
