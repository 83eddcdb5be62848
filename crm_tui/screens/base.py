"""What every crm-tui screen shares: the engine, the user, worker failures, palette names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from textual.screen import Screen as _MixedInto

    from crm_tui.app import CRMApp
    from crm_tui.settings import Settings
else:
    _MixedInto = object


class CRMScreenMixin(_MixedInto):
    """Mixed into Screen and ModalScreen subclasses."""

    if TYPE_CHECKING:
        @property
        def app(self) -> CRMApp: ...

    # "Accounts: new account": the group of this screen's commands in the palette.
    PALETTE_GROUP: ClassVar[str] = ""
    # action -> the verb shown in the palette when the footer's description is too short.
    PALETTE_NAMES: ClassVar[dict[str, str]] = {}

    @property
    def crm(self) -> "CRMApp":
        return self.app  # type: ignore[attr-defined, return-value]

    @property
    def engine(self) -> Any:
        return self.crm.engine

    @property
    def user(self) -> str:
        """The acting user's name (what the screen shows)."""
        return self.crm.user

    def user_resolved(self, old: str) -> None:
        """The acting user is ``self.user``, not ``old`` the screen was drawn with: name them in the header."""
        sub_title = str(self.sub_title)
        if old and (sub_title == old or f"{old} · " in sub_title):
            self.sub_title = sub_title.replace(f"{old} · ", f"{self.user} · ", 1) if sub_title != old else self.user

    @property
    def settings(self) -> "Settings":
        """The settings the app read at start (never the file again)."""
        settings = getattr(self.app, "settings", None)
        if settings is None:  # a screen hosted by another app (a test harness): the defaults
            from crm_tui.settings import Settings

            settings = Settings()
        return settings

    @property
    def actor(self) -> Any:
        """The acting user (``crm_tui.actor.Actor``) every service call that reads records gets;
        read it in the worker thread, as ``engine``."""
        return self.crm.actor

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker died of something the screen did not expect: tell the user, keep running."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.log.error(f"worker {event.worker.name} failed: {error!r}")
        self.notify(f"{type(error).__name__}: {error}", title="Something went wrong", severity="error",
                    timeout=10)


def open_record(app: Any, entity: str, record_id: int, callback: Any = None) -> None:
    """Open one record's detail: the same screen from wherever it is opened.

    ``entity`` is any noun of the registry ("opportunity", "opp", "accounts"); the screen is its
    entry's ``detail_screen``. ValueError for an entity without one (activities open the record
    they are logged on instead)."""
    import importlib

    from crm_tui.services.registry import entry_for

    entry = entry_for(entity)
    if not entry.detail_screen:
        raise ValueError(f"no detail screen for {entity!r}")
    module, _, name = entry.detail_screen.partition(":")
    screen = getattr(importlib.import_module(module), name)(record_id)
    app.push_screen(screen, callback)
