"""stat_day: statistics facts cached per finished business day

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 17:45:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import queue_server.store.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stat_day',
    sa.Column('business_day', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('built_at', queue_server.store.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('business_day', name=op.f('pk_stat_day'))
    )


def downgrade() -> None:
    op.drop_table('stat_day')
