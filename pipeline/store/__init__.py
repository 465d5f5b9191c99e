"""The database of record (SQLAlchemy; SQLite by default, PostgreSQL by connection string).

Interviews, transcripts, elements, their review history, extraction chunks, jobs and open
questions live here. Every public write runs in one transaction: a crash mid-way leaves the
previous state intact. The vector index is derived from this database and can be rebuilt.
The schema is migrated on open (``pipeline/migrations``).

One class per concern, joined in :class:`Store`:

- ``hearings.py``: engagements, interviews, transcripts and segments
- ``elements.py``: elements, their review writes (version-checked), extraction chunks
- ``jobs.py``: the job queue shared by workers (leases, heartbeats)
- ``cache.py``: open questions and the LLM answer cache
- ``users.py``: people, roles and password hashes (``pipeline/auth.py``)
"""

from __future__ import annotations

from sqlalchemy.exc import OperationalError as DatabaseUnavailable

from .base import StoreBase
from .cache import AssistantStore
from .elements import ElementStore
from .hearings import HearingStore
from .jobs import LEASE_S, JobStore, worker_id
from .schema import (
    Base,
    CacheRow,
    ChunkRow,
    ElementRow,
    EngagementRow,
    InterviewRow,
    JobRow,
    OpenQuestionRow,
    SegmentRow,
    TranscriptRow,
    UserRow,
)
from .users import UserStore


class Store(HearingStore, ElementStore, JobStore, AssistantStore, UserStore):
    """All reads and writes of the database of record."""


__all__ = [
    "LEASE_S",
    "AssistantStore",
    "Base",
    "CacheRow",
    "ChunkRow",
    "DatabaseUnavailable",
    "ElementRow",
    "ElementStore",
    "EngagementRow",
    "HearingStore",
    "InterviewRow",
    "JobRow",
    "JobStore",
    "OpenQuestionRow",
    "SegmentRow",
    "Store",
    "StoreBase",
    "TranscriptRow",
    "UserRow",
    "UserStore",
    "worker_id",
]
