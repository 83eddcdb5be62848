"""The Textual app: modes for the top-level areas, app-wide keys, the command palette.

``make_app`` is the one way to build it, shared by ``crm`` (the CLI) and the tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.markup import escape
from textual.screen import Screen

from crm_tui import locations
from crm_tui.screens.accounts import AccountsScreen
from crm_tui.screens.contacts import ContactsScreen
from crm_tui.screens.dashboard import DashboardScreen
from crm_tui.screens.forecast import ForecastScreen
from crm_tui.screens.leads import LeadsScreen
from crm_tui.screens.pipeline import PipelineScreen
from crm_tui.screens.proposals import ProposalsScreen


@dataclass(frozen=True)
class PaletteCommand:
    name: str  # "Accounts: new account"
    help: str
    action: str
    target: DOMNode


def own_actions(node: DOMNode) -> set[str]:
    """Actions bound by crm-tui's own classes in ``node``'s MRO (not Textual's built-ins)."""
    actions: set[str] = set()
    for cls in type(node).__mro__:
        if cls.__module__.startswith("crm_tui"):
            for binding in cls.__dict__.get("BINDINGS", []):
                actions.add(binding.action if isinstance(binding, Binding) else binding[1])
    return actions


def binding_commands(node: DOMNode, group: str, names: dict[str, str]) -> Iterator[PaletteCommand]:
    """One palette command per distinct action crm-tui binds on ``node`` (keymap applied)."""
    ours = own_actions(node)
    seen: set[str] = set()
    for _key, binding in node._bindings:  # noqa: SLF001 - the node's bindings with the user's keymap
        if binding.action in seen or binding.action not in ours:
            continue
        verb = names.get(binding.action) or binding.description
        if not verb:
            continue
        seen.add(binding.action)
        key = node.app.get_key_display(binding)
        help_text = binding.tooltip or verb
        yield PaletteCommand(f"{group}: {verb[0].lower()}{verb[1:]}", escape(f"{help_text} · key {key}"),
                             binding.action, node)


class CRMCommands(Provider):
    """Every action of the current screen and of the app, named "group: verb"."""

    def commands(self) -> list[PaletteCommand]:
        app = self.app
        assert isinstance(app, CRMApp)
        return app.palette_commands(self.screen)

    async def discover(self) -> Hits:
        for command in self.commands():
            yield DiscoveryHit(command.name, self._runner(command), help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), self._runner(command), text=command.name,
                          help=command.help)

    def _runner(self, command: PaletteCommand):
        return partial(self.app.run_action, command.action, command.target)


class CRMApp(App[None]):
    """crm-tui. Areas are modes, each keeping its own screen stack."""

    CSS_PATH = "app.tcss"
    TITLE = "crm-tui"
    MODES: ClassVar[dict[str, Any]] = {
        "dashboard": DashboardScreen,
        "accounts": AccountsScreen,
        "leads": LeadsScreen,
        "pipeline": PipelineScreen,
        "contacts": ContactsScreen,
        "proposals": ProposalsScreen,
        "forecast": ForecastScreen,
    }
    DEFAULT_MODE = "dashboard"
    COMMANDS = {CRMCommands}

    PALETTE_GROUP = "App"
    PALETTE_NAMES = {
        "switch_mode('dashboard')": "go to the dashboard",
        "switch_mode('forecast')": "go to forecast",
        "switch_mode('accounts')": "go to accounts",
        "switch_mode('leads')": "go to leads",
        "switch_mode('contacts')": "go to contacts",
        "today": "today's tasks and follow-ups",
        "switch_mode('pipeline')": "go to pipeline",
        "switch_mode('proposals')": "go to proposals",
        "toggle_dark": "toggle dark",
        "change_theme": "change theme",
        "show_help_panel": "show keys",
        "quit": "quit",
    }
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Quit crm-tui", priority=True),
        Binding("f2", "switch_mode('accounts')", "Accounts", id="app.accounts", tooltip="The accounts list"),
        Binding("f3", "switch_mode('leads')", "Leads", id="app.leads", tooltip="The leads list"),
        Binding("f4", "switch_mode('pipeline')", "Pipeline", id="app.pipeline",
                tooltip="The pipeline: Kanban board and list of opportunities"),
        Binding("f5", "switch_mode('contacts')", "Contacts", id="app.contacts", tooltip="The contacts list"),
        Binding("f6", "today", "Today", id="app.today", tooltip="My tasks due today and overdue, and lead follow-ups"),
        Binding("f7", "switch_mode('proposals')", "Proposals", id="app.proposals",
                tooltip="Proposals: filters, line-item editor, send, revisions, PDF"),
        Binding("f8", "switch_mode('forecast')", "Forecast", id="app.forecast",
                tooltip="The forecast by month and stage, against quota, with charts"),
        Binding("f10", "switch_mode('dashboard')", "Dashboard", id="app.dashboard",
                tooltip="My pipeline against quota, deals closing, new leads, follow-ups, stalled deals"),
        Binding("ctrl+t", "toggle_dark", "Dark/light", show=False, id="app.toggle_dark",
                tooltip="Switch between the dark and the light theme"),
        Binding("f9", "change_theme", "Theme", show=False, id="app.theme", tooltip="Pick a colour theme"),
        Binding("f1", "show_help_panel", "Keys", id="app.keys",
                tooltip="Show every key of the focused widget and screen"),
    ]

    def __init__(self, *, engine: Any, user: str, keymap: dict[str, str] | None = None,
                 mode: str | None = None) -> None:
        if mode is not None:
            if mode not in self.MODES:
                raise ValueError(f"no area {mode!r}; areas are: {', '.join(self.MODES)}")
            self.DEFAULT_MODE = mode  # the area to open first; the class default is the dashboard
        super().__init__()
        self.engine = engine
        self.user = user
        self._keymap = keymap or {}

    def on_mount(self) -> None:
        if self._keymap:
            self.set_keymap(self._keymap)

    @property
    def database_label(self) -> str:
        url = self.engine.url
        if url.get_backend_name() == "sqlite":
            return Path(url.database or ":memory:").name
        return url.render_as_string(hide_password=True)

    def get_default_screen(self) -> Screen:  # pragma: no cover - modes replace it
        return AccountsScreen()

    def action_today(self) -> None:
        from crm_tui.screens.today import TodayScreen

        if not isinstance(self.screen, TodayScreen):
            self.push_screen(TodayScreen())

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def palette_commands(self, screen: Screen) -> list[PaletteCommand]:
        """The commands the palette offers on ``screen``: that screen's, then the app's."""
        out: list[PaletteCommand] = []
        group = getattr(screen, "PALETTE_GROUP", "") or screen.__class__.__name__.removesuffix("Screen")
        out.extend(binding_commands(screen, group, getattr(screen, "PALETTE_NAMES", {})))
        out.extend(binding_commands(self, self.PALETTE_GROUP, self.PALETTE_NAMES))
        return out


def make_app(*, engine: Any, user: str | None = None, mode: str | None = None) -> CRMApp:
    """The app the user gets: ``crm`` (no arguments) and the tests both build it here.

    ``mode`` opens another area first instead of the dashboard (e.g. "accounts").

    ``keymap`` in the config file ({"binding id": "key"}) remaps keys, e.g.
    {"accounts.new": "a"}.
    """
    keymap = locations.load_config().get("keymap")
    return CRMApp(engine=engine, user=user or locations.current_username(),
                  keymap=keymap if isinstance(keymap, dict) else None, mode=mode)
