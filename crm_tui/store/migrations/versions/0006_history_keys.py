"""cheaper keys for the change log and taggings

Revision ID: 0006_history_keys
Revises: 0005_forecast
Create Date: 2026-11-22

- changes: a record's history is looked up by record_id alone (ix_changes_record),
  replacing the (entity, record_id) index.
- taggings: the primary key becomes (entity, record_id, tag_id) and the separate
  (entity, record_id) index goes; on SQLite the table is rebuilt WITHOUT ROWID.
  tag_id is no longer a declared foreign key: SQLite deletes from a table with one
  in two passes (see models.Tagging).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_history_keys'
down_revision = '0005_forecast'
branch_labels = None
depends_on = None


def _taggings(name: str, key: tuple[str, ...], *foreign_key, **kwargs) -> None:
    op.create_table(name,
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    *foreign_key,
    sa.PrimaryKeyConstraint(*key, name=op.f('pk_taggings')),
    **kwargs,
    )


def _tag_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_taggings_tag_id_tags'), ondelete='CASCADE')


def _rebuild_taggings(key: tuple[str, ...], *foreign_key, **kwargs) -> None:
    _taggings('taggings_new', key, *foreign_key, **kwargs)
    op.execute("INSERT INTO taggings_new (entity, record_id, tag_id, created_at) "
               "SELECT entity, record_id, tag_id, created_at FROM taggings")
    op.drop_table('taggings')
    op.rename_table('taggings_new', 'taggings')


def upgrade() -> None:
    op.drop_index('ix_changes_entity_record', table_name='changes')
    op.create_index('ix_changes_record', 'changes', ['record_id'], unique=False)
    op.drop_index('ix_taggings_entity_record', table_name='taggings')
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_taggings(('entity', 'record_id', 'tag_id'), sqlite_with_rowid=False)
    else:
        op.drop_constraint('fk_taggings_tag_id_tags', 'taggings', type_='foreignkey')
        op.drop_constraint('pk_taggings', 'taggings', type_='primary')
        op.create_primary_key('pk_taggings', 'taggings', ['entity', 'record_id', 'tag_id'])


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_taggings(('tag_id', 'entity', 'record_id'), _tag_fk())
    else:
        op.drop_constraint('pk_taggings', 'taggings', type_='primary')
        op.create_primary_key('pk_taggings', 'taggings', ['tag_id', 'entity', 'record_id'])
        op.create_foreign_key('fk_taggings_tag_id_tags', 'taggings', 'tags', ['tag_id'], ['id'], ondelete='CASCADE')
    op.create_index('ix_taggings_entity_record', 'taggings', ['entity', 'record_id'], unique=False)
    op.drop_index('ix_changes_record', table_name='changes')
    op.create_index('ix_changes_entity_record', 'changes', ['entity', 'record_id'], unique=False)
