"""Saved views in the list screens: w applies one (its filter goes into the filter box), W saves the box's filter.

The same views as ``crm view save NAME --entity E --where ...`` and ``--view NAME``
(``crm_tui.services.views``), loaded and saved in thread workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from crm_tui.filter_text import looks_like_expression
from crm_tui.widgets import FilterBar
from crm_tui.widgets.worker import run_db


def view_bindings(prefix: str) -> list[Binding]:
    return [
        Binding("w", "apply_view", "Views", id=f"{prefix}.apply_view",
                tooltip="Pick a saved view: its filter goes into the filter box"),
        Binding("W", "save_view", "Save view", show=False, key_display="W", id=f"{prefix}.save_view",
                tooltip="Save the filter expression in the box as a view"),
    ]


VIEW_PALETTE_NAMES = {"apply_view": "apply a saved view", "save_view": "save the filter as a view"}


class ViewPickerScreen(ModalScreen[dict | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, views: list[dict]) -> None:
        super().__init__()
        self.views = views

    def compose(self) -> ComposeResult:
        with Vertical(classes="bulk-dialog"):
            yield Label("Saved views", classes="bulk-title")
            yield OptionList(*[Option(f"{v['name']}  ·  {v.get('where') or 'everything'}", id=str(i))
                               for i, v in enumerate(self.views)], id="view-options")
            yield Label("enter: apply   escape: cancel", classes="hint")

    @on(OptionList.OptionSelected, "#view-options")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.views[int(event.option.id or 0)])

    def action_cancel(self) -> None:
        self.dismiss(None)


class SavedViews:
    """Mixed into a list screen that has a FilterBar and says its entity (``bulk_entity``)."""

    @dataclass
    class ViewsLoaded(Message):
        views: list

    @dataclass
    class ViewSaved(Message):
        name: str

    def _view_bar(self) -> FilterBar:
        return self.query_one(FilterBar)  # type: ignore[attr-defined]

    def action_apply_view(self) -> None:
        self._load_views(self.bulk_entity())  # type: ignore[attr-defined]

    def _load_views(self, entity: str) -> None:
        def load(session: Any) -> SavedViews.ViewsLoaded:
            from crm_tui.services import views

            return self.ViewsLoaded(views.list_views(session=session, entity=entity))

        run_db(self, load, group="views", title="Views")  # type: ignore[arg-type]

    def on_saved_views_views_loaded(self, message: ViewsLoaded) -> None:
        if not message.views:
            self.notify("No saved views for this list yet: type a filter expression, then W saves it.",  # type: ignore[attr-defined]
                        severity="warning")
            return

        def chosen(view: dict | None) -> None:
            if view is None:
                return
            bar = self._view_bar()
            bar.value = view.get("where") or ""
            bar.post_message(FilterBar.Applied(bar, bar.value.strip()))

        self.app.push_screen(ViewPickerScreen(message.views), chosen)  # type: ignore[attr-defined]

    def action_save_view(self) -> None:
        from crm_tui.screens.bulk_actions import PromptScreen

        where = self._view_bar().value.strip()
        if not looks_like_expression(where):
            self.notify("Type a filter expression in the box first (e.g. industry=Technology and state=CA).",  # type: ignore[attr-defined]
                        severity="warning")
            return

        def named(name: str | None) -> None:
            if name:
                self._save_view(self.bulk_entity(), name, where)  # type: ignore[attr-defined]

        self.app.push_screen(PromptScreen(f"Save “{where}” as the view:", "view name"), named)  # type: ignore[attr-defined]

    def _save_view(self, entity: str, name: str, where: str) -> None:
        def save(session: Any) -> SavedViews.ViewSaved:
            from crm_tui.services import views

            actor = self.app.actor  # type: ignore[attr-defined]
            views.save_view(session=session, name=name, entity=entity, where=where, actor=actor)
            return self.ViewSaved(name)

        run_db(self, save, group="views", title="Views")  # type: ignore[arg-type]

    def on_saved_views_view_saved(self, message: ViewSaved) -> None:
        self.notify(f"Saved the view “{message.name}” (w applies it; crm … --view {message.name})")  # type: ignore[attr-defined]
