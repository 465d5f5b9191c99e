"""Inventory decisions: the reviewer's merge / split / move / rename / workload edits, one JSON
row per engagement (``pipeline.inventory_store``).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a workspace that used the inventory before this migration already has the table
    if sa.inspect(op.get_bind()).has_table("inventory_decisions"):
        return
    op.create_table(
        "inventory_decisions",
        sa.Column("engagement_id", sa.String(40), primary_key=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("inventory_decisions")
