"""Typed settings: one model, read once at the entry point, environment overrides, a broken
file is one line naming the file, the line and the key (exit 1, nothing opened)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import one_line_error

import crm_tui
from crm_tui.errors import ConfigError, CRMError
from crm_tui.settings import DEFAULT_LOST_REASONS, Settings, load_settings

PACKAGE = Path(crm_tui.__file__).parent


def write_config(isolated_env, text: str) -> Path:
    path = isolated_env / "config" / "config.json"
    path.write_text(text, encoding="utf-8")
    return path


def write_json(isolated_env, data: dict) -> Path:
    return write_config(isolated_env, json.dumps(data, indent=2))


# ---------------------------------------------------------------- a broken file stops every command


def test_a_trailing_comma_is_an_error_not_an_empty_database(bare_cli, isolated_env, tmp_path):
    configured = tmp_path / "team.db"
    path = write_config(isolated_env, f'{{\n  "database_url": "{configured}",\n  "user": "carol",\n}}\n')
    line = one_line_error(bare_cli("account", "list"))
    assert line.startswith(f"error: config {path} line 3:"), line
    assert "user" in line and "trailing comma" in line
    assert not (isolated_env / "data" / "crm.db").exists()  # no other, empty database was opened
    assert not configured.exists()


BROKEN = [
    # (what, file text, line, words the one line must hold)
    ("trailing comma in a section", '{\n  "smtp": {\n    "host": "mail",\n  }\n}\n', 3, ["host", "trailing comma"]),
    ("missing comma", '{\n  "user": "carol"\n  "stalled_days": 3\n}\n', 3, ["user", "invalid JSON"]),
    ("unknown key", '{\n  "user": "carol",\n  "stalled_dayz": 3\n}\n', 3,
     ["unknown key stalled_dayz", "did you mean stalled_days"]),
    ("unknown nested key", '{\n  "user": "carol",\n  "smtp": {\n    "host": "mail",\n    "hots": "x"\n  }\n}\n', 5,
     ["unknown key smtp.hots", "keys in smtp are: host, port"]),
    ("wrong type", '{\n  "user": "carol",\n  "stalled_days": "two weeks"\n}\n', 3,
     ["stalled_days", "integer", '"two weeks"']),
    ("out of range", '{\n  "smtp": {\n    "port": 99999\n  }\n}\n', 3, ["smtp.port", "65535"]),
    ("not a choice", '{\n  "smtp": {"host": "h",\n           "tls": "maybe"}\n}\n', 3, ["smtp.tls", "'starttls'"]),
    ("wrong type in a list", '{\n  "lost_reasons": [\n    "price",\n    3\n  ]\n}\n', 2, ["lost_reasons[1]"]),
    ("not an object", '["user", "carol"]\n', 1, ["must be a JSON object"]),
]


@pytest.mark.parametrize("what,text,line,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_each_kind_of_broken_file_is_one_line_naming_file_line_and_key(bare_cli, isolated_env, what, text, line,
                                                                       words):
    path = write_config(isolated_env, text)
    message = one_line_error(bare_cli("account", "list"))
    assert message.startswith(f"error: config {path} line {line}: "), message
    for word in words:
        assert word in message, (word, message)
    assert not (isolated_env / "data" / "crm.db").exists()
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert isinstance(exc.value, CRMError)
    assert (exc.value.path, exc.value.line) == (path, line)


def test_the_tui_refuses_a_broken_file_before_it_starts(bare_cli, isolated_env, monkeypatch):
    import crm_tui.app

    def no_app(*args, **kwargs):
        raise AssertionError("the app must not start on a broken config file")

    monkeypatch.setattr(crm_tui.app, "make_app", no_app)
    path = write_config(isolated_env, '{\n  "keymap": {"accounts.new": "a"},\n}\n')
    message = one_line_error(bare_cli())
    assert message.startswith(f"error: config {path} line 2: ") and "keymap" in message
    assert not (isolated_env / "data" / "crm.db").exists()


def test_make_app_reads_the_file_once_and_refuses_a_broken_one(engine, isolated_env):
    from crm_tui.app import make_app

    write_config(isolated_env, '{"stalled_days": 0}')
    with pytest.raises(ConfigError, match="stalled_days"):
        make_app(engine=engine)
    app = make_app(engine=engine, settings=Settings(stalled_days=5, keymap={"accounts.new": "a"}))
    assert app.settings.stalled_days == 5 and app._keymap == {"accounts.new": "a"}


def test_a_bad_environment_value_names_the_variable(bare_cli, monkeypatch, isolated_env):
    monkeypatch.setenv("CRM_STALLED_DAYS", "soon")
    message = one_line_error(bare_cli("account", "list"))
    assert message.startswith("error: environment CRM_STALLED_DAYS: stalled_days:"), message
    monkeypatch.delenv("CRM_STALLED_DAYS")
    monkeypatch.setenv("CRM_SMTP__HOTS", "mail")
    message = one_line_error(bare_cli("account", "list"))
    assert "CRM_SMTP__HOTS" in message and "unknown key smtp.hots" in message
    assert not (isolated_env / "data" / "crm.db").exists()


# ---------------------------------------------------------------- defaults and environment overrides


def test_a_missing_or_empty_file_means_the_defaults(isolated_env, monkeypatch):
    monkeypatch.delenv("CRM_USER")
    monkeypatch.delenv("CRM_DATA_DIR")
    assert load_settings() == Settings()
    write_config(isolated_env, "\n")
    settings = load_settings()
    assert settings == Settings()
    assert (settings.stalled_days, settings.lost_reasons, settings.record_url) == (14, DEFAULT_LOST_REASONS,
                                                                                   "crm://{entity}/{id}")
    assert settings.smtp.host is None and settings.smtp.tls == "starttls" and settings.keymap == {}


def test_environment_overrides_the_file(isolated_env, monkeypatch, tmp_path):
    write_json(isolated_env, {"user": "carol", "database_url": "file.db", "stalled_days": 9,
                              "smtp": {"host": "file-mail", "port": 25, "tls": "none"},
                              "pdf": {"font": "/file/font.ttf"}})
    monkeypatch.setenv("CRM_USER", "dave")
    monkeypatch.setenv("CRM_DATABASE_URL", "env.db")
    monkeypatch.setenv("CRM_SMTP__HOST", "env-mail")
    monkeypatch.setenv("CRM_PDF_FONT", "/env/font.ttf")
    monkeypatch.setenv("CRM_LOST_REASONS", "cost, vendor")
    monkeypatch.setenv("CRM_KEYMAP", '{"accounts.new": "a"}')
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("CRM_TEST_SOMETHING_ELSE", "not a setting")  # other CRM_* variables are left alone
    s = load_settings()
    assert (s.user, s.database_url, s.stalled_days) == ("dave", "env.db", 9)
    assert (s.smtp.host, s.smtp.port, s.smtp.tls) == ("env-mail", 25, "none")  # one key of a section overridden
    assert s.pdf.font == "/env/font.ttf"
    assert s.lost_reasons == ("cost", "vendor")
    assert s.keymap == {"accounts.new": "a"}
    assert s.data_dir == tmp_path / "elsewhere"


def test_crm_user_and_config_user_and_database_url_reach_the_cli(bare_cli, tmp_path, monkeypatch, isolated_env):
    configured, env_db = tmp_path / "configured.db", tmp_path / "env.db"
    write_json(isolated_env, {"database_url": str(configured), "user": "carol"})
    res = bare_cli("account", "add", "From Env", env={"CRM_USER": "dave", "CRM_DATABASE_URL": str(env_db)})
    assert res.exit_code == 0, res.stderr
    assert env_db.exists() and not configured.exists()
    rows = json.loads(bare_cli("--db", str(env_db), "account", "list", "--format", "json").stdout)
    assert [(r["name"], r["owner"]) for r in rows] == [("From Env", "dave")]


def test_data_dir_from_the_file_holds_the_default_database(bare_cli, tmp_path, monkeypatch, isolated_env):
    monkeypatch.delenv("CRM_DATA_DIR")
    write_json(isolated_env, {"data_dir": str(tmp_path / "crm-data")})
    assert bare_cli("account", "add", "Somewhere").exit_code == 0
    assert (tmp_path / "crm-data" / "crm.db").exists()


def test_settings_module_stays_light():
    code = ("import sys, crm_tui.settings; "
            "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'textual', 'typer', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_key_has_a_description():
    from crm_tui.settings import PdfConfig, SellerConfig, SmtpConfig, key_docs

    for model in (Settings, SmtpConfig, SellerConfig, PdfConfig):
        assert model.__doc__
        docs = key_docs(model)
        for name in model.model_fields:
            assert docs.get(name), f"{model.__name__}.{name} has no docstring"
    assert key_docs(Settings)["user"].startswith('Who "me" is')


# ---------------------------------------------------------------- crm config path | show


def test_config_path_prints_the_file_and_says_whether_it_exists(bare_cli, isolated_env):
    path = isolated_env / "config" / "config.json"
    res = bare_cli("config", "path")
    assert (res.exit_code, res.stdout) == (0, f"{path}\n")
    assert "does not exist" in res.stderr
    write_json(isolated_env, {"user": "carol"})
    res = bare_cli("config", "path")
    assert (res.exit_code, res.stdout, res.stderr.strip()) == (0, f"{path}\n", "exists")
    write_config(isolated_env, '{"user": "carol",}')  # broken: still found, so it can be fixed
    res = bare_cli("config", "path")
    assert (res.exit_code, res.stdout) == (0, f"{path}\n")
    assert "invalid" in res.stderr and "line 1" in res.stderr


def test_config_show_masks_secrets(bare_cli, isolated_env, monkeypatch):
    write_json(isolated_env, {"database_url": "postgresql://crm:db-s3cret@db.example.com/crm",
                              "smtp": {"host": "mail.example.com", "user": "crm", "password": "mail-s3cret"},
                              "seller": {"name": "Nordlicht GmbH", "address": "Müllerstraße 12\n80469 München"}})
    monkeypatch.setenv("CRM_SMTP__PORT", "2525")
    res = bare_cli("config", "show", "--format", "json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["database_url"] == "postgresql://crm:***@db.example.com/crm"
    assert data["smtp"] == {"host": "mail.example.com", "port": 2525, "tls": "starttls", "user": "crm",
                            "password": "***", "from": None}
    assert data["seller"]["address"] == ["Müllerstraße 12", "80469 München"]
    assert data["user"] == "tester" and data["stalled_days"] == 14
    table = bare_cli("config", "show")
    assert table.exit_code == 0, table.stderr
    for out in (res.stdout, table.stdout):
        assert "s3cret" not in out
    assert "env CRM_SMTP__PORT" in table.stdout and "smtp.password" in table.stdout


def test_config_show_on_a_broken_file_is_the_one_line_error(bare_cli, isolated_env):
    path = write_config(isolated_env, '{\n  "smtp": {"password": 1234}\n}')
    message = one_line_error(bare_cli("config", "show"))
    assert message.startswith(f"error: config {path} line 2: smtp.password")


# ---------------------------------------------------------------- services get the settings passed


def test_the_cli_reads_the_file_once_per_command(cli, engine, isolated_env, monkeypatch):
    import crm_tui.settings as settings_module
    from crm_tui.services import users
    from crm_tui.store.db import session_scope

    with session_scope(engine) as s:
        users.create_user(session=s, data={"username": "tester", "name": "Tess Ter"})
    write_json(isolated_env, {"stalled_days": 3, "lost_reasons": ["vendor", "cost"]})
    reads = []
    original = settings_module._read_file
    monkeypatch.setattr(settings_module, "_read_file", lambda path: reads.append(path) or original(path))
    res = cli("summary")
    assert res.exit_code == 0, res.stderr
    assert "untouched 3+ days" in res.stdout  # the summary service got stalled_days passed
    assert len(reads) == 1


def test_lost_reasons_from_the_config_file_reach_opp_move(cli, engine, isolated_env):
    write_json(isolated_env, {"lost_reasons": ["vendor", "cost"]})
    res = cli("opp", "add", "Deal")
    assert res.exit_code == 0, res.stderr
    oid = int(res.stdout.strip())
    message = one_line_error(cli("opp", "move", str(oid), "Lost", "--reason", "price"))
    assert "reasons are: vendor, cost" in message
    res = cli("opp", "move", str(oid), "Lost", "--reason", "Vendor")
    assert res.exit_code == 0, res.stderr
    shown = json.loads(cli("opp", "show", str(oid), "--format", "json").stdout)
    assert (shown[0] if isinstance(shown, list) else shown)["lost_reason"] == "vendor"


def test_services_and_integrations_never_read_the_config_file():
    """Only the entry points (cli.py, commands/, app.py) load settings; the rest take values as arguments."""
    for folder in ("services", "integrations", "store"):
        for path in (PACKAGE / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for name in ("load_settings", "config_path", "load_config", "CRM_CONFIG"):
                assert name not in text, f"{path.relative_to(PACKAGE)} uses {name}"


def test_smtp_settings_come_from_the_settings_section():
    from crm_tui.integrations import mail

    smtp = Settings.model_validate({"smtp": {"host": "mail", "tls": "ssl", "user": "crm",
                                             "password": "pw"}}).smtp
    made = mail.SmtpSettings.from_settings(smtp)
    assert (made.host, made.port, made.tls, made.sender, made.password) == ("mail", 465, "ssl", "crm", "pw")
    with pytest.raises(mail.MailError, match="no SMTP server configured"):
        mail.SmtpSettings.from_settings(Settings().smtp)
