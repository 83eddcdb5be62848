"""Full-text search over accounts, contacts, leads, opportunities and activities (and, when asked
for by ``entity``, any other entity of the registry, such as products).

``search`` parses the query once (crm_tui.store.search), runs it per entity on the
FTS5 tables (SQLite) or the GIN expression indexes (PostgreSQL), and lists hits
in a fixed order: by entity (accounts, contacts, leads, opportunities,
activities), newest record first within each. The same text gives the same hits
on both backends. Snippets are cut in Python from the record's indexed fields, so
they read the same everywhere too. An entity without an index (the product catalog)
is read row by row and matched in Python by the same rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlmodel import Session, SQLModel

from crm_tui.actor import Actor
from crm_tui.errors import ValidationError
from crm_tui.services import records, registry
from crm_tui.store import search as fts
from crm_tui.store.scope import scope

MAX_LIMIT = 10_000
SNIPPET = 80
ID_CHUNK = 500  # ids read per query: far below any backend's parameter or expression limit


@dataclass
class Hit:
    entity: str
    id: int
    label: str
    snippet: str
    account_id: int | None = None
    """The account the hit belongs to: an account's own id; a contact's, opportunity's or activity's
    account (None when it has none); None for leads and products."""


def _account_column(entity: str, table):
    """The account a row belongs to; an activity logged on a deal or a contact belongs to theirs."""
    if entity != "activity":
        return table.c.account_id
    opps = SQLModel.metadata.tables["opportunities"]
    contacts = SQLModel.metadata.tables["contacts"]
    return func.coalesce(
        table.c.account_id,
        select(opps.c.account_id).where(opps.c.id == table.c.opportunity_id).scalar_subquery(),
        select(contacts.c.account_id).where(contacts.c.id == table.c.contact_id).scalar_subquery(),
    ).label("account_id")


def _account_id(entity: str, row: dict) -> int | None:
    if entity == "account":
        return row.get("id")
    return row.get("account_id")


def _entities(entity: str | None) -> list[str]:
    if entity is None:
        return list(fts.SOURCES)
    return [registry.entry_for(entity).name]


def _label(entity: str, row: dict) -> str:
    if entity in ("contact", "lead"):
        name = f"{row.get('first_name') or ''} {row.get('last_name') or ''}".strip()
        if entity == "lead" and row.get("company"):
            name = f"{name} ({row['company']})" if name else row["company"]
        return name
    if entity == "activity":
        return row.get("subject") or ""
    return row.get("name") or ""


def snippet(texts: list[str], terms: list, width: int = SNIPPET) -> str:
    """A short extract around the first matched term (word, phrase or prefix), the match in [brackets]."""
    patterns = [r"[\W_]+".join(re.escape(w) for w in t.words) + (r"[^\W_]*" if t.prefix else r"(?![^\W_])")
                for t in terms]
    if not patterns:
        return " ".join(" ".join(t.split()) for t in texts if t)[:width]
    found = re.compile(r"(?<![^\W_])(?:" + "|".join(patterns) + ")", re.IGNORECASE)
    for raw in texts:
        if not raw:
            continue
        flat = " ".join(raw.split())
        m = found.search(flat)
        if m is None:
            continue
        start = max(0, m.start() - width // 3)
        end = min(len(flat), start + width)
        piece = flat[start:m.start()] + "[" + m.group(0) + "]" + flat[m.end():end]
        return ("…" if start else "") + piece + ("…" if end < len(flat) else "")
    return " ".join(" ".join(t.split()) for t in texts if t)[:width]


def _ids(session: Session, entity: str, tree, limit: int | None) -> list[int]:
    """Matching ids, newest first; ``limit`` None: all of them."""
    table, cols = fts.SOURCES[entity]
    conn = session.connection()
    cap = "" if limit is None else " LIMIT :n"
    if conn.dialect.name == "sqlite":
        stmt = text(f"SELECT rowid FROM {fts.fts_table(entity)} WHERE {fts.fts_table(entity)} MATCH :q "
                    "ORDER BY rowid DESC" + cap)
        params: dict = {"q": fts.to_fts5(tree)}
    else:
        stmt = text(f"SELECT id FROM {table} WHERE {fts.pg_vector_sql(cols)} @@ to_tsquery('simple', :q) "
                    "ORDER BY id DESC" + cap)
        params = {"q": fts.to_tsquery(tree)}
    if limit is not None:
        params["n"] = limit
    return [r[0] for r in conn.execute(stmt, params)]


def matches(tree, words: list[str]) -> bool:
    """Whether text cut into ``words`` (as ``fts.words`` cuts it) matches a parsed query: the same
    rules as the full-text indexes (whole words, phrases as consecutive words, ``chat*`` prefixes)."""
    if isinstance(tree, fts.Term):
        n = len(tree.words)
        for i in range(len(words) - n + 1):
            window = words[i:i + n]
            if window[:-1] == list(tree.words[:-1]) and (
                    window[-1].startswith(tree.words[-1]) if tree.prefix else window[-1] == tree.words[-1]):
                return True
        return False
    if isinstance(tree, fts.Not):
        return not matches(tree.child, words)
    if isinstance(tree, fts.And):
        return all(matches(c, words) for c in tree.children)
    if isinstance(tree, fts.Or):
        return any(matches(c, words) for c in tree.children)
    raise TypeError(tree)


def _scan(session: Session, name: str, tree, terms: list, limit: int | None, actor: Actor | None) -> list[Hit]:
    """Hits in an entity without a full-text index (the product catalog: small), newest first: its
    registry entry's search fields read row by row, matched by the same rules as the indexes."""
    entry = registry.BY_NAME[name]
    entity = entry.entity
    hits: list[Hit] = []
    for row in records.iter_records(entity, session=session, sort="-id", actor=actor):
        texts = [str(row[f]) for f in entry.search_fields if row.get(f)]
        if matches(tree, fts.words(" ".join(texts))):
            hits.append(Hit(name, row["id"], entity.label(row), snippet(texts, terms), _account_id(name, row)))
            if limit is not None and len(hits) >= limit:
                break
    return hits


def search(*, session: Session, query: str, entity: str | None = None, limit: int = 50,
           actor: Actor | None = None) -> list[Hit]:
    """The first ``limit`` records matching ``query`` (accounts first, then contacts, leads,
    opportunities, activities; newest first within each), of those ``actor`` may see;
    ``limit`` 0: every match (like ``--limit 0`` on a list).

    The index gives the matching ids; the records are then read through the scoping hook, so
    a record ``actor`` may not see is left out (with a restricting rule a page can then hold
    fewer than ``limit`` hits)."""
    if limit < 0 or limit > MAX_LIMIT:
        raise ValidationError("limit", limit, f"must be between 1 and {MAX_LIMIT}, or 0 for all")
    cap: int | None = limit or None
    entities = _entities(entity)
    tree = fts.parse_query(query)
    terms = fts.positive_terms(tree)
    hits: list[Hit] = []
    for name in entities:
        left = None if cap is None else cap - len(hits)
        if left is not None and left <= 0:
            break
        if name not in fts.SOURCES:
            hits.extend(_scan(session, name, tree, terms, left, actor))
            continue
        ids = _ids(session, name, tree, left)
        if not ids:
            continue
        table_name, cols = fts.SOURCES[name]
        table = SQLModel.metadata.tables[table_name]
        extra = [_account_column(name, table)] if "account_id" in table.c else []
        rows: dict[int, dict] = {}
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start:start + ID_CHUNK]
            stmt = scope(select(table.c.id, *[table.c[c] for c in cols], *extra).where(table.c.id.in_(chunk)),
                         entity=name, table=table, actor=actor)
            rows.update((r[0], dict(r._mapping)) for r in session.connection().execute(stmt))
        for rid in ids:
            row = rows.get(rid)
            if row is None:
                continue
            hits.append(Hit(name, rid, _label(name, row), snippet([row.get(c) for c in cols], terms),
                            _account_id(name, row)))
    return hits
