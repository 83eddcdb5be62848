"""save_settings: the one writer of the config file (the app's "who is the seller" form uses it)."""

from __future__ import annotations

import json

import pytest

from crm_tui.errors import ConfigError
from crm_tui.settings import load_settings, save_settings


def test_saving_a_section_keeps_every_other_key(tmp_path):
    path = tmp_path / "conf" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"user": "alice", "stalled_days": 9, "seller": {"email": "a@b.example"}}))
    settings = save_settings({"seller": {"name": "Nordlicht GmbH", "address": "Müllerstraße 12\n80469 München"}},
                             path=path, environ={})
    assert settings.seller.name == "Nordlicht GmbH" and settings.seller.email == "a@b.example"
    assert settings.seller.address == ["Müllerstraße 12", "80469 München"]
    assert settings.user == "alice" and settings.stalled_days == 9
    assert load_settings(environ={}, path=path) == settings
    assert json.loads(path.read_text(encoding="utf-8"))["seller"]["name"] == "Nordlicht GmbH"


def test_a_missing_file_and_folder_are_created(tmp_path):
    path = tmp_path / "new" / "config.json"
    assert save_settings({"seller": {"name": "Solo Ltd"}}, path=path, environ={}).seller.name == "Solo Ltd"
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_an_invalid_value_is_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"user": "alice"}')
    with pytest.raises(ConfigError) as exc:
        save_settings({"seller": {"nmae": "X"}}, path=path, environ={})
    assert "seller.nmae" in str(exc.value) and "name" in str(exc.value)
    assert path.read_text() == '{"user": "alice"}'


def test_a_broken_file_is_never_overwritten(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"user": ')
    with pytest.raises(ConfigError):
        save_settings({"seller": {"name": "X"}}, path=path, environ={})
    assert path.read_text() == '{"user": '
