"""Mine or Everyone: Pipeline, Leads, Forecast and Today open on the acting user's own records; `m`
toggles to everyone's (what the user's role may read) and back. The choice shows in the sub-title and
is remembered per screen and per user across restarts (``crm_tui.ui_state``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.binding import Binding

from crm_tui.ui_state import EVERYONE, MINE

if TYPE_CHECKING:
    from crm_tui.app import CRMApp


def mine_binding(prefix: str) -> Binding:
    return Binding("m", "toggle_mine", "Mine/All", id=f"{prefix}.toggle_mine",
                   tooltip="Show only my records, or everyone's (remembered for this screen)")


MINE_PALETTE_NAMES = {"toggle_mine": "switch between mine and everyone's"}


class MineScope:
    """Mixed into a screen. It names ``SCOPE_KEY`` and reloads in ``scope_changed()``."""

    if TYPE_CHECKING:
        @property
        def app(self) -> CRMApp: ...

    SCOPE_KEY: ClassVar[str] = ""  # pipeline, leads, forecast, today

    @property
    def mine(self) -> bool:
        state = getattr(self.app, "ui_state", None)
        return state is None or state.scope(self.SCOPE_KEY) == MINE

    @property
    def scope_label(self) -> str:
        return "Mine" if self.mine else "Everyone"

    def scope_sub_title(self) -> str:
        """The sub-title: the scope first, then who and which database."""
        app: Any = self.app
        return f"{self.scope_label} · {app.user} · {app.database_label}"

    def action_toggle_mine(self) -> None:
        state = getattr(self.app, "ui_state", None)
        if state is not None:
            state.set_scope(self.SCOPE_KEY, EVERYONE if self.mine else MINE)
        self.sub_title = self.scope_sub_title()  # type: ignore[attr-defined]
        self.scope_changed()

    def scope_changed(self) -> None:  # pragma: no cover - each screen says
        raise NotImplementedError
