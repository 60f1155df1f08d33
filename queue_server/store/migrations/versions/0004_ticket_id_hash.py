"""ticket_identity, appointment.id_hash: the keyed hash of a 身份证 read at the kiosk

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_identity',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('business_day', sa.Date(), nullable=False),
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'],
                            name=op.f('fk_ticket_identity_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_ticket_identity'))
    )
    op.create_index('ix_ticket_identity_day_hash', 'ticket_identity',
                    ['business_day', 'id_hash'], unique=False)
    with op.batch_alter_table('appointment') as batch:
        batch.add_column(sa.Column('id_hash', sa.String(length=64), nullable=True))
        batch.create_index(batch.f('ix_appointment_id_hash'), ['id_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('appointment') as batch:
        batch.drop_index(batch.f('ix_appointment_id_hash'))
        batch.drop_column('id_hash')
    op.drop_index('ix_ticket_identity_day_hash', table_name='ticket_identity')
    op.drop_table('ticket_identity')
