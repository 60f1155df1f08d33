"""ticket.carried_to: the business day a ticket still waiting at its day's end was kept for

With [day] carry_over = "next_opening" a waiting ticket is kept, once, for the hall's
next opening instead of ending as not served; the column says for which day (and so
that it was kept already). NULL for every ticket before this revision.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:30:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket') as batch:
        batch.add_column(sa.Column('carried_to', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ticket') as batch:
        batch.drop_column('carried_to')
