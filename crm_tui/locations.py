"""Where crm-tui keeps things: one place, overridable by environment variables and settings.

Imports nothing heavy so the CLI stays quick to start.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crm_tui.settings import Settings

APP_NAME = "crm-tui"


def data_dir(settings: Settings | None = None) -> Path:
    """Settings' data_dir (CRM_DATA_DIR), else the platform data folder."""
    override = settings.data_dir if settings is not None else os.environ.get("CRM_DATA_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """The config file: CRM_CONFIG, else config.json in the platform config folder."""
    environ = os.environ if environ is None else environ
    override = environ.get("CRM_CONFIG")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / "config.json"


def default_database_path(settings: Settings | None = None) -> Path:
    return data_dir(settings) / "crm.db"


def database_url(explicit: str | None = None, settings: Settings | None = None) -> str:
    """The database to use: --db (or CRM_DATABASE_URL), then settings' database_url, then the default file.

    A plain path becomes a SQLite URL; anything with '://' is taken as a SQLAlchemy URL.
    """
    value = explicit or (settings.database_url if settings is not None else os.environ.get("CRM_DATABASE_URL"))
    if not value:
        path = default_database_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    if "://" in value:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # psycopg 3 is the driver we ship.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value
    return f"sqlite:///{Path(value).expanduser().absolute()}"


def current_username(settings: Settings | None = None) -> str:
    """Who "me" is: settings' user (CRM_USER, then the config file), then the OS login.

    Without settings only CRM_USER is looked at: the config file is read once, at the entry point.
    """
    name = settings.user if settings is not None else os.environ.get("CRM_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no login name at all
        return "me"


def ui_state_path(environ: Mapping[str, str] | None = None) -> Path:
    """What the app remembers between runs (Mine or Everyone per screen): ui-state.json next to the config."""
    return config_path(environ).with_name("ui-state.json")
