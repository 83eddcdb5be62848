"""Many accounts at once, written with one set-based INSERT (the bulk, lock and crash tests need
tens of thousands of rows in a second, not the service's per-record path)."""

from __future__ import annotations

from sqlalchemy import text


def seed_accounts(engine, n: int, *, prefix: str = "Acct") -> None:
    """Accounts ``prefix 1`` .. ``prefix n`` (status prospect, USD, version 1)."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text(
                "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < :n) "
                "INSERT INTO accounts (name, status, currency, lifetime_value_minor, version, created_at, updated_at) "
                "SELECT :p || ' ' || i, 'prospect', 'USD', 0, 1, '2026-01-01 00:00:00.000000', "
                "'2026-01-01 00:00:00.000000' FROM k"), {"n": n, "p": prefix})
        else:
            conn.execute(text(
                "INSERT INTO accounts (name, status, currency, lifetime_value_minor, version, created_at, updated_at) "
                "SELECT :p || ' ' || i, 'prospect', 'USD', 0, 1, now(), now() FROM generate_series(1, :n) i"),
                {"n": n, "p": prefix})


def account_ids(engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM accounts ORDER BY id")).scalars())
