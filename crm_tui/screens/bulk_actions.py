"""Bulk actions over the rows marked in a list: tag, reassign, change stage.

Mixed into the list screens (accounts, leads, contacts, the pipeline list). The
marked rows (or, when none is marked, the row under the cursor) go to
``crm_tui.services.data.bulk`` in a thread worker, in one transaction: the same code
and the same batch ids as ``crm tag add`` and ``crm update``, so ``crm undo
BATCH`` restores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select

from crm_tui.widgets import PagedTable
from crm_tui.widgets.worker import run_db


def bulk_bindings(prefix: str, *, stage: bool = False) -> list[Binding]:
    """The bulk-action keys of a list screen (ids ``<prefix>.bulk_tag`` …, remappable)."""
    out = [
        Binding("t", "bulk_tag", "Tag", id=f"{prefix}.bulk_tag",
                tooltip="Tag the marked rows (space marks, * marks all), or the row under the cursor"),
        Binding("a", "bulk_owner", "Reassign", id=f"{prefix}.bulk_owner",
                tooltip="Give the marked rows (or the row under the cursor) to another owner"),
    ]
    if stage:
        out.append(Binding("g", "bulk_stage", "Stage", id=f"{prefix}.bulk_stage",
                           tooltip="Move the marked deals (or the one under the cursor) to another stage"))
    return out


BULK_PALETTE_NAMES = {"bulk_tag": "tag the marked rows", "bulk_owner": "reassign the marked rows",
                      "bulk_stage": "change the stage of the marked deals"}


class PromptScreen(ModalScreen[str | None]):
    """One line of text (a tag, a username); escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="bulk-dialog"):
            yield Label(self.title_text, classes="bulk-title")
            yield Input(placeholder=self.placeholder, id="bulk-input")
            yield Label("enter: apply   escape: cancel", classes="hint")

    @on(Input.Submitted, "#bulk-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if value:
            self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class StagePromptScreen(ModalScreen[str | None]):
    """Pick a stage from a Select (the stages are loaded by the caller)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, stages: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.stages = stages

    def compose(self) -> ComposeResult:
        with Vertical(classes="bulk-dialog"):
            yield Label(self.title_text, classes="bulk-title")
            yield Select([(s, s) for s in self.stages], prompt="stage", id="bulk-stage")
            yield Label("enter: choose   escape: cancel", classes="hint")

    @on(Select.Changed, "#bulk-stage")
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL:
            self.dismiss(str(event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class BulkActions:
    """Mixed into a list screen. It names its entity and table; the rest is here."""

    BULK_ENTITY: ClassVar[str] = ""  # account, lead, contact, opportunity

    @dataclass
    class BulkDone(Message):
        text: str
        batch_id: str | None = None
        what: str = ""  # for ctrl+z: "tagged 3 deals “q1”"

    @dataclass
    class StagesLoaded(Message):
        stages: list
        ids: list

    def bulk_table(self) -> PagedTable:  # pragma: no cover - each screen says
        raise NotImplementedError

    def bulk_reload(self) -> None:  # pragma: no cover - each screen says
        raise NotImplementedError

    def bulk_entity(self) -> str:
        return self.BULK_ENTITY or getattr(self, "ENTITY", "")

    def bulk_ids(self) -> list[int]:
        table = self.bulk_table()
        keys = table.selected_keys or ([table.cursor_key()] if table.cursor_key() else [])
        return [int(k) for k in keys if k]

    def _describe(self, ids: list[int]) -> str:
        from crm_tui.services.registry import entry_for

        return entry_for(self.bulk_entity()).ui_counted(len(ids))

    def _ids_or_warn(self) -> list[int] | None:
        ids = self.bulk_ids()
        if not ids:
            self.notify("No rows: mark some with space (or * for all).", severity="warning")  # type: ignore[attr-defined]
            return None
        return ids

    def action_bulk_tag(self) -> None:
        ids = self._ids_or_warn()
        if ids is None:
            return

        def chosen(tag: str | None) -> None:
            if tag:
                self._run_bulk("tag", ids, tag)

        self.app.push_screen(PromptScreen(f"Tag {self._describe(ids)} with:", "tag name, e.g. q1_priority"),  # type: ignore[attr-defined]
                             chosen)

    def action_bulk_owner(self) -> None:
        ids = self._ids_or_warn()
        if ids is None:
            return

        def chosen(user: Any) -> None:
            if user is not None:
                self._run_bulk("owner", ids, user.key)

        from crm_tui.widgets.picker import PickerDialog

        self.app.push_screen(PickerDialog("user", title=f"Give {self._describe(ids)} to:"), chosen)  # type: ignore[attr-defined]

    def action_bulk_stage(self) -> None:
        if self.bulk_entity() != "opportunity":
            return
        ids = self._ids_or_warn()
        if ids is None:
            return
        self._load_stages(ids)

    def _load_stages(self, ids: list[int]) -> None:
        def load(session: Any) -> BulkActions.StagesLoaded:
            from crm_tui.services.sales.stages import list_stages

            return self.StagesLoaded([s.name for s in list_stages(session=session, active_only=True)], ids)

        run_db(self, load, group="bulk-stages")  # type: ignore[arg-type]

    # Handlers by name (``@on`` is not collected from a plain mixin class).
    def on_bulk_actions_stages_loaded(self, message: StagesLoaded) -> None:
        def chosen(stage: str | None) -> None:
            if stage:
                self._run_bulk("stage", message.ids, stage)

        self.app.push_screen(StagePromptScreen(f"Move {self._describe(message.ids)} to:", message.stages),  # type: ignore[attr-defined]
                             chosen)

    def _run_bulk(self, kind: str, ids: list[int], value: str) -> None:
        entity_name = self.bulk_entity()

        def run(session: Any) -> BulkActions.BulkDone:  # one transaction
            from crm_tui.services.data import bulk
            from crm_tui.services.registry import entity_for, entry_for

            actor = self.app.actor  # type: ignore[attr-defined]
            entity = entity_for(entity_name)
            counted = entry_for(entity_name).ui_counted  # the app's words: "3 deals"
            if kind == "tag":
                result = bulk.tag(entity, session=session, tag=value, add=True, actor=actor, ids=ids)
                said, done = f"Tagged {counted(result.affected)} “{value}”", f"tagged “{value}”"
            elif kind == "owner":
                result = bulk.update_where(entity, session=session, data={"owner": value}, actor=actor,
                                           ids=ids)  # an owner "me" is the actor: the service resolves it
                who = actor.username if value.strip().lower() == "me" else value
                said, done = f"Gave {counted(result.affected)} to {who}", f"reassigned to {who}"
            else:
                result = bulk.update_where(entity, session=session, data={"stage": value}, actor=actor,
                                           ids=ids)
                said, done = f"Moved {counted(result.affected)} to {value}", f"moved to {value}"
            if result.batch_id:
                text = said
                if result.affected < result.matched:
                    text += f" ({result.matched - result.affected:,} already were)"
                text += " — ctrl+z undoes"
            else:
                text = f"Nothing to change: the {result.matched:,} selected already were."
            return self.BulkDone(text, result.batch_id, f"{counted(result.affected)} {done}")

        run_db(self, run, group="bulk", title="Nothing changed")  # type: ignore[arg-type]

    def on_bulk_actions_bulk_done(self, message: BulkDone) -> None:
        self.notify(message.text, title="Bulk change", timeout=10)  # type: ignore[attr-defined]
        self.app.remember_write(message.batch_id, message.what)  # type: ignore[attr-defined]  # ctrl+z
        self.bulk_table().clear_marks()
        self.bulk_reload()

