"""full-text search: FTS5 tables kept in step by triggers (SQLite), expression GIN indexes (PostgreSQL)

Revision ID: 0003_search
Revises: 0002_roles_views
Create Date: 2026-11-21

A frozen copy of the objects crm_tui/store/search.py describes (a migration must
not change when that module does). The tables are filled from existing records.
"""
from __future__ import annotations

from alembic import op

revision = '0003_search'
down_revision = '0002_roles_views'
branch_labels = None
depends_on = None

SOURCES = {
    "account": ("accounts", ("name", "website", "description")),
    "contact": ("contacts", ("first_name", "last_name", "email", "notes")),
    "lead": ("leads", ("first_name", "last_name", "company", "email", "notes")),
    "opportunity": ("opportunities", ("name", "description", "next_step")),
    "activity": ("activities", ("subject", "body")),
}


def _body(cols, prefix=""):
    return " || ' ' || ".join(f"coalesce({prefix}{c}, '')" for c in cols)


def upgrade() -> None:
    bind = op.get_bind()
    for entity, (table, cols) in SOURCES.items():
        fts = f"search_{entity}"
        if bind.dialect.name == "sqlite":
            new, old = _body(cols, "new."), _body(cols, "old.")
            op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5(body, content='', "
                       f"tokenize='unicode61 remove_diacritics 0')")
            op.execute(f"INSERT INTO {fts}(rowid, body) SELECT id, {_body(cols)} FROM {table}")
            op.execute(f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
                       f"INSERT INTO {fts}(rowid, body) VALUES (new.id, {new}); END")
            op.execute(f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
                       f"INSERT INTO {fts}({fts}, rowid, body) VALUES ('delete', old.id, {old}); END")
            op.execute(f"CREATE TRIGGER {fts}_au AFTER UPDATE OF id, {', '.join(cols)} ON {table} "
                       f"WHEN old.id IS NOT new.id OR ({old}) IS NOT ({new}) BEGIN "
                       f"INSERT INTO {fts}({fts}, rowid, body) VALUES ('delete', old.id, {old}); "
                       f"INSERT INTO {fts}(rowid, body) VALUES (new.id, {new}); END")
        else:
            op.execute(f"CREATE INDEX ix_search_{table} ON {table} USING gin "
                       f"(to_tsvector('simple'::regconfig, regexp_replace({_body(cols)}, "
                       f"'[^[:alnum:]]+', ' ', 'g')))")


def downgrade() -> None:
    bind = op.get_bind()
    for entity, (table, _cols) in SOURCES.items():
        fts = f"search_{entity}"
        if bind.dialect.name == "sqlite":
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
        else:
            op.execute(f"DROP INDEX IF EXISTS ix_search_{table}")
