"""account_shares and users.login: accounts shared with a user for learning, and a user's database login

Revision ID: 0009_account_shares
Revises: 0008_teams_roles
Create Date: 2026-12-04

An account shared with a user is readable in full by them (its contacts, deals,
activities, history). users.login is the PostgreSQL login a user connects with
(NULL on SQLite and for users without one); on PostgreSQL "me" is that login.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_account_shares'
down_revision = '0008_teams_roles'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_shares',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('shared_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_shares_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_shares_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'user_id', name=op.f('pk_account_shares'))
    )
    op.create_index(op.f('ix_account_shares_user_id'), 'account_shares', ['user_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login', sa.String(length=63), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_login'), ['login'])


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_login'), type_='unique')
        batch_op.drop_column('login')
    op.drop_index(op.f('ix_account_shares_user_id'), table_name='account_shares')
    op.drop_table('account_shares')
