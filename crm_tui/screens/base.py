"""What every crm-tui screen shares: the engine, the user, worker failures, palette names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from textual.screen import Screen as _MixedInto

    from crm_tui.app import CRMApp
    from crm_tui.settings import Settings
else:
    _MixedInto = object


class StyledOnMount(_MixedInto):
    """Mixed into screens: the first time a screen shows, its widgets are not styled all over again.

    Textual restyles a screen and every widget in it on each ScreenResume, the first one too, when
    each widget was styled as it was mounted a moment before: 10-20 ms on an account's detail and
    40-120 ms on a deal's (60 widgets), paid on every detail opened and every area first visited.
    The first resume restyles the screen alone (its own CSS is loaded after it is first styled);
    later ones (coming back to it, when a theme may have changed meanwhile) restyle everything."""

    _shown_before = False
    _styled_on_mount = False  # composed once the app was up (its first screen is left as Textual does it)

    async def _on_compose(self, event: events.Compose) -> None:
        # Runs before Widget's own handler, which composes: the breakpoint classes (-wide, -tall...) the
        # first Resize would add (restyling every widget again) are given before any widget is styled.
        app = self.app
        # The app's first screen is composed while the app itself is still starting (its CSS and theme
        # settling): it keeps every restyle (without them, the snapshot test saw the Dashboard's cards draw their
        # dim text in the background colour).
        self._styled_on_mount = bool(getattr(app, "_dom_ready", False))
        if not self._styled_on_mount:
            return
        horizontal = (app.HORIZONTAL_BREAKPOINTS if self.HORIZONTAL_BREAKPOINTS is None
                      else self.HORIZONTAL_BREAKPOINTS) or []
        vertical = (app.VERTICAL_BREAKPOINTS if self.VERTICAL_BREAKPOINTS is None
                    else self.VERTICAL_BREAKPOINTS) or []
        if not (horizontal or vertical):
            return
        classes = {name: False for _, name in [*horizontal, *vertical]}
        for dimension, points in ((app.size.width, horizontal), (app.size.height, vertical)):
            for point, name in sorted(points, reverse=True):
                if dimension >= point:
                    classes[name] = True
                    break
        self.update_classes(classes, update=False)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen's own handler (earlier in the MRO), which reads refresh_styles.
        if not self._shown_before:
            self._shown_before = True
            if event.refresh_styles and self.is_attached and self._styled_on_mount:
                event.refresh_styles = False
                self.app.stylesheet.update_nodes([self], animate=False)


class CRMScreenMixin(StyledOnMount):
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
