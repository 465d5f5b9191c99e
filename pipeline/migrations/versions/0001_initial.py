"""The tables as they were before migrations (engagements included).

A workspace created then by ``create_all`` has some or all of them: only the missing ones are
created, so it opens unchanged.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _tables() -> dict[str, tuple[list[Any], list[tuple[str, bool]]]]:
    """table -> (columns and constraints, indexed columns (name, unique))."""
    return {
        "engagements": (
            [
                sa.Column("id", sa.String(40), primary_key=True),
                sa.Column("data", sa.JSON(), nullable=False),
                sa.Column("created_at", TZ, nullable=False),
            ],
            [],
        ),
        "interviews": (
            [
                sa.Column("id", sa.String(40), primary_key=True),
                sa.Column("data", sa.JSON(), nullable=False),
                sa.Column("status", sa.String(20), nullable=False),
                sa.Column("created_at", TZ, nullable=False),
            ],
            [("status", False)],
        ),
        "transcripts": (
            [
                sa.Column(
                    "interview_id",
                    sa.String(40),
                    sa.ForeignKey("interviews.id", ondelete="CASCADE"),
                    primary_key=True,
                ),
                sa.Column("language", sa.String(8), nullable=False),
                sa.Column("model", sa.String(200), nullable=False),
                sa.Column("duration", sa.Float(), nullable=False),
            ],
            [],
        ),
        "segments": (
            [
                sa.Column(
                    "interview_id",
                    sa.String(40),
                    sa.ForeignKey("interviews.id", ondelete="CASCADE"),
                    primary_key=True,
                ),
                sa.Column("idx", sa.Integer(), primary_key=True, autoincrement=False),
                sa.Column("data", sa.JSON(), nullable=False),
            ],
            [],
        ),
        "elements": (
            [
                sa.Column("id", sa.String(40), primary_key=True),
                sa.Column(
                    "interview_id",
                    sa.String(40),
                    sa.ForeignKey("interviews.id", ondelete="CASCADE"),
                    nullable=False,
                ),
                sa.Column("kind", sa.String(20), nullable=False),
                sa.Column("status", sa.String(20), nullable=False),
                sa.Column("version", sa.Integer(), nullable=False),
                sa.Column("data", sa.JSON(), nullable=False),
                sa.Column("updated_at", TZ, nullable=False),
            ],
            [("interview_id", False), ("kind", False), ("status", False)],
        ),
        "chunks": (
            [
                sa.Column(
                    "interview_id",
                    sa.String(40),
                    sa.ForeignKey("interviews.id", ondelete="CASCADE"),
                    primary_key=True,
                ),
                sa.Column("idx", sa.Integer(), primary_key=True, autoincrement=False),
                sa.Column("data", sa.JSON(), nullable=False),
            ],
            [],
        ),
        "jobs": (
            [
                sa.Column("id", sa.String(40), primary_key=True),
                sa.Column("interview_id", sa.String(40), nullable=False),
                sa.Column("status", sa.String(20), nullable=False),
                sa.Column("data", sa.JSON(), nullable=False),
                sa.Column("created_at", TZ, nullable=False),
            ],
            [("interview_id", False), ("status", False)],
        ),
        "open_questions": (
            [
                sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
                sa.Column("key", sa.String(500), nullable=False),
                sa.Column("data", sa.JSON(), nullable=False),
                sa.UniqueConstraint("key"),
            ],
            [],
        ),
        "llm_cache": (
            [
                sa.Column("key", sa.String(64), primary_key=True),
                sa.Column("value", sa.Text(), nullable=False),
                sa.Column("created_at", TZ, nullable=False),
            ],
            [],
        ),
    }


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, (columns, indexes) in _tables().items():
        if name in existing:
            continue  # made by create_all before migrations: kept as it is
        op.create_table(name, *columns)
        for column, unique in indexes:
            op.create_index(f"ix_{name}_{column}", name, [column], unique=unique)


def downgrade() -> None:
    for name in reversed(list(_tables())):
        op.drop_table(name)
