"""Startup: the app paints before the database stack loads, opens the database in a worker,
and a database that cannot be opened ends `crm` with one line and exit code 1."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from ui_helpers import settle, status_line, table_names, wait_until

from crm_tui.app import make_app
from crm_tui.screens.accounts import AccountsScreen

SIZE = (160, 48)
CRM = str(Path(sys.executable).parent / "crm")
HEADLESS = {"TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver"}


def test_the_app_and_its_screens_load_without_the_database_stack():
    code = (
        "import sys\n"
        "from crm_tui.app import make_app\n"
        "import crm_tui.screens.account_detail, crm_tui.screens.account_form, crm_tui.screens.contact_form\n"
        "import crm_tui.screens.lead_detail, crm_tui.screens.opportunity_detail, crm_tui.screens.today\n"
        "app = make_app('sqlite:////tmp/never-opened.db', user='x')\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'alembic'))\n"
        "bad += [k for k in sys.modules if k.startswith(('crm_tui.store.', 'crm_tui.services.records'))]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


async def test_the_app_opens_its_database_url_in_a_worker(engine, seeded, tmp_path):
    url = str(engine.url)
    engine.dispose()
    app = make_app(url, user="tester", mode="accounts")
    assert not app.db.ready
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.db.ready and len(table_names(app)) == 3, what="the accounts")
        await settle(pilot)
        assert "3 accounts" in status_line(app)
        assert isinstance(app.screen, AccountsScreen) and app.screen.sub_title == "tester · ui.db"
        assert app.return_code is None and app.startup_error is None
    app.db.dispose()


async def test_the_dashboard_and_forecast_open_from_a_database_url(engine, seeded):
    """The first screen (the dashboard) and Forecast load in workers that wait for the database,
    instead of reading the engine on the event loop while it is still opening."""
    from textual.widgets import Static

    from crm_tui.screens.dashboard import DashboardScreen
    from crm_tui.screens.forecast import ForecastScreen

    url = str(engine.url)
    engine.dispose()
    app = make_app(url, user="tester")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.db.ready and isinstance(app.screen, DashboardScreen)
                         and "loading" not in str(app.screen.query_one("#dash-month", Static).render()),
                         what="the dashboard's figures")
        assert app.return_code is None and app.startup_error is None
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ForecastScreen), what="the forecast")
        await settle(pilot)
        assert app.return_code is None
    app.db.dispose()


async def test_a_file_that_is_not_a_database_ends_the_app_with_one_line(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 100)
    app = make_app(f"sqlite:///{notes}", user="tester")
    async with app.run_test(size=SIZE) as pilot:
        # Not wait_until: it waits on the workers, which the exiting app cancels.
        deadline = time.monotonic() + 10
        while app.return_code is None and time.monotonic() < deadline:
            await pilot.pause(0.02)
    assert app.return_code == 1
    assert app.startup_error == f"cannot open database {notes}: the file is not a SQLite database"
    assert notes.read_text() == "not a database\n" * 100


def _crm(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, **HEADLESS, "CRM_USER": "tester", "CRM_CONFIG": str(tmp_path / "config.json"),
           "CRM_CONNECT_TIMEOUT": "2"}
    env.pop("CRM_DATABASE_URL", None)
    return subprocess.run([CRM, *args], capture_output=True, text=True, timeout=60, env=env,
                          stdin=subprocess.DEVNULL)


def _one_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_crm_on_a_file_that_is_not_a_database(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 100)
    line = _one_line(_crm("--db", str(notes), tmp_path=tmp_path))
    assert line == f"error: cannot open database {notes}: the file is not a SQLite database"


def test_crm_on_a_missing_folder(tmp_path):
    path = tmp_path / "no" / "such" / "crm.db"
    line = _one_line(_crm("--db", str(path), tmp_path=tmp_path))
    assert str(path.parent) in line and "does not exist" in line
    assert not path.parent.exists()


def test_crm_on_a_closed_postgres_port(tmp_path):
    line = _one_line(_crm("--db", "postgresql+psycopg://crm:secret@127.0.0.1:1/crm", tmp_path=tmp_path))
    assert "127.0.0.1:1" in line and "secret" not in line


def test_quitting_before_the_database_opens_releases_the_waiting_workers(tmp_path):
    import threading

    import pytest

    from crm_tui.database import DatabaseHandle
    from crm_tui.errors import DatabaseUnavailable

    handle = DatabaseHandle(f"sqlite:///{tmp_path / 'later.db'}")
    outcome: list[str] = []

    def worker() -> None:
        try:
            handle.wait()
        except DatabaseUnavailable as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=worker)
    thread.start()
    handle.abandon()
    thread.join(timeout=5)
    assert outcome == ["the app is closing"]
    handle.open()  # the opener ran late: it opens nothing
    assert not handle.ready
    with pytest.raises(DatabaseUnavailable):
        handle.wait(0)


async def test_quitting_at_once_is_not_a_database_error(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'quick.db'}", user="tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+q")
    assert app.startup_error is None and app.return_code == 0


async def test_the_list_says_the_database_is_opening_until_it_is(engine, seeded):
    import threading

    url = str(engine.url)
    engine.dispose()
    app = make_app(url, user="tester", mode="accounts")
    release = threading.Event()
    really_open = app.db.open

    def slow_open() -> None:
        release.wait(10)
        really_open()

    app.db.open = slow_open
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert status_line(app) == "Opening ui.db…"
        assert table_names(app) == []
        release.set()
        await wait_until(pilot, lambda: len(table_names(app)) == 3, what="the accounts")
        assert "3 accounts" in status_line(app)
    app.db.dispose()


async def test_the_dashboard_opens_first_and_fills_in_once_the_database_is_open(engine, seeded):
    """The default first screen reads the database only from its workers, so a slow open never
    crashes it (it used to read the engine on the event loop)."""
    from crm_tui.screens.dashboard import DashboardScreen

    url = str(engine.url)
    engine.dispose()
    app = make_app(url, user="tester")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.db.ready and getattr(app.screen, "_loaded", False), what="the dashboard")
        assert isinstance(app.screen, DashboardScreen)
        assert app.return_code is None and app.startup_error is None
    app.db.dispose()
