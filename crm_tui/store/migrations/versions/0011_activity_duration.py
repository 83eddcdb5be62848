"""activities.duration_minutes: how long a scheduled call, meeting or task takes

Revision ID: 0011_activity_duration
Revises: 0008_teams_roles
Create Date: 2026-12-04

Nullable: activities logged before (and notes, e-mails) have no duration.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011_activity_duration'
down_revision = '0009_account_shares'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('duration_minutes', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_column('duration_minutes')
