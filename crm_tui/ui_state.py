"""Small choices the app remembers per user between runs: whether a screen shows Mine or Everyone.

One JSON file next to the config (``locations.ui_state_path()``), keyed by username:
``{"users": {"alice": {"scope.pipeline": "everyone"}}}``. It is a convenience, never data: a file
that is missing, unreadable or not this shape means the defaults, and a write that fails is logged
and forgotten (the choice still holds until the app quits).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MINE = "mine"
EVERYONE = "everyone"


class UIState:
    """One user's remembered choices, read from the file on first use."""

    def __init__(self, path: Path, user: str) -> None:
        self.path = path
        self.user = user
        self._values: dict[str, Any] | None = None

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _mine(self) -> dict[str, Any]:
        if self._values is None:
            users = self._read().get("users")
            values = users.get(self.user) if isinstance(users, dict) else None
            self._values = dict(values) if isinstance(values, dict) else {}
        return self._values

    def get(self, key: str, default: Any = None) -> Any:
        return self._mine().get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._mine()[key] = value
        data = self._read()  # other users' choices (and this user's from another app) stay
        users: dict[str, Any] = data["users"] if isinstance(data.get("users"), dict) else {}
        mine: dict[str, Any] = users[self.user] if isinstance(users.get(self.user), dict) else {}
        users[self.user] = {**mine, key: value}
        data["users"] = users
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".ui-state-", suffix=".json", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=2, sort_keys=True)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("could not remember %s in %s: %s", key, self.path, exc)

    def scope(self, screen: str) -> str:
        """Mine (the default) or Everyone, as last chosen on ``screen``."""
        return EVERYONE if self.get(f"scope.{screen}") == EVERYONE else MINE

    def set_scope(self, screen: str, scope: str) -> None:
        self.set(f"scope.{screen}", EVERYONE if scope == EVERYONE else MINE)
