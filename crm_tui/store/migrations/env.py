"""Alembic environment: runs on the engine crm-tui hands over (never a URL in an ini file)."""

from __future__ import annotations

from alembic import context

from crm_tui.store.models import metadata
from crm_tui.store.search import include_object

config = context.config


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # e.g. `alembic` run by hand with -x url=...
        from crm_tui.store.db import make_engine

        url = context.get_x_argument(as_dictionary=True).get("url")
        if not url:
            raise SystemExit("pass the database with: alembic -x url=sqlite:///path upgrade head")
        engine = make_engine(url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,  # full-text search objects are not in the models
        )
        context.run_migrations()


run_migrations_online()
