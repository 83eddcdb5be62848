"""job_runs: one row per scheduled job run, unique per (job, slot)

Revision ID: 0007_job_runs
Revises: 0006_history_keys
Create Date: 2026-11-24

The unique (job, slot) lets exactly one runner claim a slot when `crm jobs run`
runs from cron on several machines, or next to the TUI's timer.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_job_runs'
down_revision = '0006_history_keys'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('slot', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('runner', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job', 'slot', name='uq_job_runs_job')
    )


def downgrade() -> None:
    op.drop_table('job_runs')
