"""ticket.printed_wait, printed_scale, wait_error: the printed wait and how far off it was

The printed range is calibrated on the hall's own recent errors: each ticket's figure
as printed (the run forward's, in seconds, and the spread it was printed with) and, at
its first call, the error (actual - figure) / spread. Kept on the ticket so that a
restart finds the calibration and the figures of the tickets still waiting as they
were; NULL for every ticket before this revision (and for tickets printed without an
estimate).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:30:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket') as batch:
        batch.add_column(sa.Column('printed_wait', sa.Float(), nullable=True))
        batch.add_column(sa.Column('printed_scale', sa.Float(), nullable=True))
        batch.add_column(sa.Column('wait_error', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ticket') as batch:
        batch.drop_column('wait_error')
        batch.drop_column('printed_scale')
        batch.drop_column('printed_wait')
