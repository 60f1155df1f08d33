"""processed_request: append-only rows numbered by the database, no index on the key

The hall checks idempotency keys in memory; a primary key on (device, request_id) only
scattered each group commit's rows over the B-tree (see models.ProcessedRequest).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 23:30:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import queue_server.store.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_COLUMNS = "device, request_id, reply, at"


def _set_aside() -> None:
    """Free the table's, its primary key's and its index's names (PostgreSQL keeps
    constraint names in the schema's namespace; SQLite only index names)."""
    op.drop_index('ix_processed_request_at', table_name='processed_request')
    op.rename_table('processed_request', 'processed_request_old')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE processed_request_old '
                   'RENAME CONSTRAINT pk_processed_request TO pk_processed_request_old')


def _columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column('device', sa.String(length=64), nullable=False),
            sa.Column('request_id', sa.String(length=64), nullable=False),
            sa.Column('reply', sa.JSON(), nullable=False),
            sa.Column('at', queue_server.store.models.UTCDateTime(), nullable=False)]


def upgrade() -> None:
    _set_aside()
    op.create_table('processed_request',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    *_columns(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processed_request'))
    )
    op.create_index(op.f('ix_processed_request_at'), 'processed_request', ['at'], unique=False)
    op.execute(f"INSERT INTO processed_request ({_COLUMNS}) "
               f"SELECT {_COLUMNS} FROM processed_request_old ORDER BY at")
    op.drop_table('processed_request_old')


def downgrade() -> None:
    _set_aside()
    op.create_table('processed_request',
    *_columns(),
    sa.PrimaryKeyConstraint('device', 'request_id', name=op.f('pk_processed_request'))
    )
    op.create_index(op.f('ix_processed_request_at'), 'processed_request', ['at'], unique=False)
    op.execute(f"INSERT INTO processed_request ({_COLUMNS}) "  # the first reply of a key
               f"SELECT {_COLUMNS} FROM processed_request_old WHERE id IN "
               f"(SELECT min(id) FROM processed_request_old GROUP BY device, request_id)")
    op.drop_table('processed_request_old')
