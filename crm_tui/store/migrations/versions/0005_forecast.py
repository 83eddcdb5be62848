"""quotas, forecast snapshots, forecast indexes

Revision ID: 0005_forecast
Revises: 0004_proposals
Create Date: 2026-11-21
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_forecast'
down_revision = '0004_proposals'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('forecast_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('opportunities', sa.Integer(), nullable=False),
    sa.Column('last_opportunity_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_snapshots'))
    )
    op.create_table('forecast_snapshot_rows',
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('probability', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('expected_close', sa.Date(), nullable=True),
    sa.Column('forecast_category', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['forecast_snapshots.id'], name=op.f('fk_forecast_snapshot_rows_snapshot_id_forecast_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('snapshot_id', 'opportunity_id', name=op.f('pk_forecast_snapshot_rows'))
    )
    op.create_table('quotas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_quotas_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotas')),
    sa.UniqueConstraint('user_id', 'month', name='uq_quotas_user_id')
    )
    with op.batch_alter_table('quotas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotas_month'), ['month'], unique=False)

    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.create_index('ix_opportunities_forecast_closed', ['actual_close', 'stage_id', 'currency', 'owner_id', 'forecast_category', 'amount_minor', 'created_at'], unique=False)
        batch_op.create_index('ix_opportunities_forecast_open', ['actual_close', 'expected_close', 'stage_id', 'currency', 'owner_id', 'forecast_category', 'amount_minor', 'probability'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_index('ix_opportunities_forecast_open')
        batch_op.drop_index('ix_opportunities_forecast_closed')

    with op.batch_alter_table('quotas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quotas_month'))

    op.drop_table('quotas')
    op.drop_table('forecast_snapshot_rows')
    op.drop_table('forecast_snapshots')
