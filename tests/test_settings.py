"""Typed settings: one model, read once at the entry point, environment overrides, a broken
file is one line naming the file, the line and the key (exit 1, nothing opened)."""

from __future__ import annotations

import json

import pytest

from support import one_line_error


def write_config(isolated_env, text: str):
    path = isolated_env / "config" / "config.json"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- a broken file stops every command


def test_a_trailing_comma_is_an_error_not_an_empty_database(bare_cli, isolated_env, tmp_path):
    configured = tmp_path / "team.db"
    path = write_config(isolated_env, '{\n  "database_url": "%s",\n  "user": "carol",\n}\n' % configured)
    line = one_line_error(bare_cli("account", "list"))
    assert line.startswith(f"error: config {path} line 3:"), line
    assert "user" in line and "trailing comma" in line
    assert not (isolated_env / "data" / "crm.db").exists()  # no other, empty database was opened
    assert not configured.exists()
