"""Where crm-tui keeps things: one place, overridable by environment variables.

Imports nothing heavy so the CLI stays quick to start.
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path

APP_NAME = "crm-tui"


def data_dir() -> Path:
    override = os.environ.get("CRM_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    override = os.environ.get("CRM_CONFIG")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / "config.json"


def load_config() -> dict:
    path = config_path()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}


def default_database_path() -> Path:
    return data_dir() / "crm.db"


def database_url(explicit: str | None = None) -> str:
    """The database to use: --db, then CRM_DATABASE_URL, then config, then the default file.

    A plain path becomes a SQLite URL; anything with '://' is taken as a SQLAlchemy URL.
    """
    value = explicit or os.environ.get("CRM_DATABASE_URL") or load_config().get("database_url")
    if not value:
        path = default_database_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    if "://" in value:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # psycopg 3 is the driver we ship.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value
    return f"sqlite:///{Path(value).expanduser().absolute()}"


def current_username() -> str:
    """Who "me" is: CRM_USER, then config's "user", then the OS login."""
    name = os.environ.get("CRM_USER") or load_config().get("user")
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no login name at all
        return "me"
