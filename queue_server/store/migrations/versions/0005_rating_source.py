"""rating.source: where a rating came from (pad, counter, phone)

One rating per served visit, whichever source comes first; statistics count each
source apart. Ratings stored before this revision have no source (NULL).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 07:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rating') as batch:
        batch.add_column(sa.Column('source', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rating') as batch:
        batch.drop_column('source')
