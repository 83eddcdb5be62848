"""Every worker failure is shown: a notification, the app still running, no dialog silently stuck.

Each test makes the service a worker calls raise, then checks what the user sees.
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import OperationalError
from textual.widgets import Button, Input
from ui_helpers import USER, make, settle, wait_until

from crm_tui.errors import NotFound
from crm_tui.services.sales import leads
from crm_tui.store.db import session_scope
from crm_tui.widgets.worker import BUSY, failure_text

SIZE = (160, 48)


def messages(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def boom(*args, **kwargs):
    raise RuntimeError("disk on fire")


def a_lead(engine) -> int:
    with session_scope(engine) as s:
        return leads.create_lead(session=s, data={"first_name": "Ada", "last_name": "Byron",
                                                  "company": "Engines Ltd"}, actor=USER)[0]["id"]


async def shown(pilot, text: str) -> None:
    await wait_until(pilot, lambda: any(text in m for m in messages(pilot.app)), what=f"a notification {text!r}")
    assert pilot.app.is_running


async def test_a_failing_save_in_the_lead_form_is_notified_and_keeps_the_form(engine, monkeypatch):
    from crm_tui.screens.lead_detail import LeadFormScreen

    monkeypatch.setattr(leads, "create_lead", boom)
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        pilot.app.push_screen(LeadFormScreen(None))
        await settle(pilot)
        pilot.app.screen.query_one("#lead-first_name", Input).value = "Grace"
        await pilot.press("ctrl+s")
        await shown(pilot, "Something went wrong: RuntimeError: disk on fire")
        form = pilot.app.screen
        assert isinstance(form, LeadFormScreen)  # the edits are still there to retry
        assert form.query_one("#lead-first_name", Input).value == "Grace"
        assert "disk on fire" in str(form.query_one("#lf-error").render())


async def test_a_refused_value_in_the_lead_form_shows_under_the_field(engine):
    from crm_tui.screens.lead_detail import LeadFormScreen

    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        pilot.app.push_screen(LeadFormScreen(None))
        await settle(pilot)
        pilot.app.screen.query_one("#lead-first_name", Input).value = "Grace"
        pilot.app.screen.query_one("#lead-email", Input).value = "not-an-email"
        await pilot.press("ctrl+s")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, LeadFormScreen)
        assert "email" in str(form.query_one("#lf-error").render())
        assert form.focused is form.query_one("#lead-email", Input)


async def test_a_failing_conversion_is_notified_and_the_dialog_can_try_again(engine, monkeypatch):
    from crm_tui.screens.base import open_record
    from crm_tui.screens.lead_detail import ConvertScreen

    lead_id = a_lead(engine)
    monkeypatch.setattr(leads, "convert_lead", boom)
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_record(pilot.app, "lead", lead_id)
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, ConvertScreen)
        assert dialog.query_one("#convert-name", Input).value  # the plan filled it in
        await pilot.press("ctrl+s")
        await shown(pilot, "Something went wrong: RuntimeError: disk on fire")
        assert pilot.app.screen is dialog
        assert dialog.query_one("#convert-go", Button).disabled is False
        assert "disk on fire" in str(dialog.query_one("#convert-error").render())


async def test_a_conversion_of_a_deleted_lead_is_notified_and_the_dialog_closes(engine, monkeypatch):
    from crm_tui.screens.base import open_record
    from crm_tui.screens.lead_detail import ConvertScreen, LeadDetailScreen

    lead_id = a_lead(engine)

    def gone(**kwargs):
        raise NotFound("lead", lead_id)

    monkeypatch.setattr(leads, "plan_conversion", gone)
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_record(pilot.app, "lead", lead_id)
        await settle(pilot)
        await pilot.press("v")
        await shown(pilot, f"lead {lead_id} not found")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, ConvertScreen)
        assert isinstance(pilot.app.screen, LeadDetailScreen)


async def test_a_failing_log_activity_is_notified_and_keeps_the_dialog(engine, seeded, monkeypatch):
    from crm_tui.screens.base import open_record
    from crm_tui.services.engagement import activities
    from crm_tui.widgets.log_activity import LogActivityScreen

    monkeypatch.setattr(activities, "log_activity", boom)
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_record(pilot.app, "contact", 1)
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, LogActivityScreen)
        await pilot.press(*"Talked budget", "enter")
        await shown(pilot, "Something went wrong: RuntimeError: disk on fire")
        assert pilot.app.screen is dialog
        assert dialog.query_one("#log-subject", Input).value == "Talked budget"
        assert "disk on fire" in str(dialog.query_one("#log-error").render())


async def test_a_failing_timeline_is_notified(engine, seeded, monkeypatch):
    from crm_tui.screens.base import open_record
    from crm_tui.screens.contact_detail import ContactDetailScreen
    from crm_tui.services.engagement import timeline

    monkeypatch.setattr(timeline, "timeline", boom)
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_record(pilot.app, "contact", 1)
        await shown(pilot, "Something went wrong: RuntimeError: disk on fire")
        assert isinstance(pilot.app.screen, ContactDetailScreen)


async def test_a_failing_task_completion_in_the_timeline_is_notified(engine, seeded, monkeypatch):
    import datetime as dt

    from crm_tui.screens.base import open_record
    from crm_tui.services.engagement import activities
    from crm_tui.widgets.timeline import Timeline

    with session_scope(engine) as s:
        activities.log_activity(session=s, actor=USER, type="task", subject="Send the contract",
                                due=(dt.date.today() + dt.timedelta(days=1)).isoformat(), links={"contact": 1})
    monkeypatch.setattr(activities, "complete_activity", boom)
    async with make(engine).run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_record(pilot.app, "contact", 1)
        await settle(pilot)
        timeline_widget = pilot.app.screen.query_one(Timeline)
        timeline_widget.focus()
        timeline_widget.highlighted = next(i for i, item in enumerate(timeline_widget.items) if item.open_task)
        await pilot.press("x")
        await shown(pilot, "Something went wrong: RuntimeError: disk on fire")


async def test_a_busy_database_is_one_clear_line(engine, seeded, monkeypatch):
    from crm_tui.services import records

    def locked(*args, **kwargs):
        raise OperationalError("UPDATE account", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(records, "list_records", locked)
    async with make(engine).run_test(size=SIZE) as pilot:
        await shown(pilot, BUSY)


@pytest.mark.parametrize(("error", "text"), [
    (NotFound("lead", 7), "lead 7 not found"),
    (OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")), BUSY),
    (OperationalError("SELECT 1", {}, sqlite3.OperationalError("unable to open database file")),
     "Cannot open the database file (unable to open database file): check that it exists and that you may "
     "read and write it and its folder"),
    (OperationalError("SELECT 1", {}, sqlite3.DatabaseError("file is not a database")),
     "The database file is damaged (file is not a database); restore it from a backup"),
    (ValueError("bad\nsecond line"), "Something went wrong: ValueError: bad"),
])
def test_failure_text_is_one_line(error, text):
    assert failure_text(error) == text


# ---------------------------------------------------------------- no worker without the helper


def _ui_sources():
    from pathlib import Path

    import crm_tui

    package = Path(crm_tui.__file__).parent
    helper = package / "widgets" / "worker.py"
    for path in sorted([*(package / "screens").glob("*.py"), *(package / "widgets").glob("*.py")]):
        if path != helper:
            yield path


def _name(node) -> str:
    """``work`` for ``work``, ``textual.work`` and ``work(...)``; the attribute or name called otherwise."""
    import ast

    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def test_every_worker_in_screens_and_widgets_goes_through_run_db():
    """No @work, no run_worker, no thread, no session of their own: database work starts only in run_db,
    which turns every failure into a notification."""
    import ast

    found: list[str] = []
    for path in _ui_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.parent.name}/{path.name}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found += [f"{path.parent.name}/{path.name}:{d.lineno} @work" for d in node.decorator_list
                          if _name(d) == "work"]
            elif isinstance(node, ast.Call) and _name(node) in ("run_worker", "call_from_thread", "Thread",
                                                                 "session_scope"):
                found.append(f"{where} {_name(node)}()")
            elif isinstance(node, ast.ImportFrom):
                names = {a.name for a in node.names}
                if node.module == "textual" and "work" in names or "session_scope" in names:
                    found.append(f"{where} imports {', '.join(sorted(names))} from {node.module}")
            elif isinstance(node, ast.Import) and any(a.name == "threading" for a in node.names):
                found.append(f"{where} imports threading")
    assert not found, "worker hosts without run_db:\n" + "\n".join(found)


def test_run_db_is_the_one_worker_and_it_never_exits_the_app():
    import ast
    from pathlib import Path

    import crm_tui.widgets.worker as worker

    tree = ast.parse(Path(worker.__file__).read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _name(n) == "run_worker"]
    assert len(calls) == 1
    kwargs = {k.arg: getattr(k.value, "value", k.value) for k in calls[0].keywords}
    assert kwargs["thread"] is True and kwargs["exit_on_error"] is False


def test_the_static_check_finds_a_worker_without_the_helper(tmp_path, monkeypatch):
    """The check above is not vacuous: a screen with its own @work is found."""
    import crm_tui

    package = tmp_path / "crm_tui"
    (package / "screens").mkdir(parents=True)
    (package / "widgets").mkdir()
    (package / "screens" / "rogue.py").write_text(
        "from textual import work\n\nclass S:\n    @work(thread=True)\n    def load(self):\n        pass\n"
        "    def go(self):\n        self.run_worker(self.load)\n", encoding="utf-8")
    monkeypatch.setattr(crm_tui, "__file__", str(package / "__init__.py"))
    with pytest.raises(AssertionError) as failed:
        test_every_worker_in_screens_and_widgets_goes_through_run_db()
    assert "rogue.py:4 @work" in str(failed.value) and "rogue.py:8 run_worker()" in str(failed.value)
    assert "imports work from textual" in str(failed.value)
