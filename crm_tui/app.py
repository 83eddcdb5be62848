"""The Textual app: modes for the top-level areas, app-wide keys, the command palette.

``make_app`` is the one way to build it, shared by ``crm`` (the CLI) and the tests.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual._context import active_app
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.markup import escape
from textual.message import Message
from textual.screen import Screen

from crm_tui import locations
from crm_tui.database import DatabaseHandle
from crm_tui.settings import Settings
from crm_tui.text import visible
from crm_tui.widgets.footer import AREA_KEYS


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


def area(module: str, name: str) -> Callable[[], Screen]:
    """A mode's screen, imported when the mode is first opened (the first paint imports one area)."""

    def build() -> Screen:
        screen: Screen = getattr(importlib.import_module(f"crm_tui.screens.{module}"), name)()
        if not screen.CSS and not screen.CSS_PATH:
            # Our screens keep no CSS of their own (it is all in app.tcss, already parsed), but Textual
            # re-parses every stylesheet source when a mode's screen is first shown unless the screen
            # is marked up to date: ~15-40 ms of the first paint. (Private attribute, Textual 8.)
            screen._css_update_count = active_app.get()._css_update_count
        return screen

    build.__qualname__ = build.__name__ = name
    return build


def _palette_provider() -> type:
    from crm_tui.palette import CRMCommands

    return CRMCommands


class CRMApp(App[None]):
    """crm-tui. Areas are modes, each keeping its own screen stack."""

    CSS_PATH = "app.tcss"
    TITLE = "crm-tui"
    MODES: ClassVar[dict[str, Any]] = {
        "dashboard": area("dashboard", "DashboardScreen"),
        "accounts": area("accounts", "AccountsScreen"),
        "leads": area("leads", "LeadsScreen"),
        "pipeline": area("pipeline", "PipelineScreen"),
        "contacts": area("contacts", "ContactsScreen"),
        "proposals": area("proposals", "ProposalsScreen"),
        "forecast": area("forecast", "ForecastScreen"),
        "products": area("products", "ProductsScreen"),
    }
    DEFAULT_MODE = "dashboard"
    COMMANDS = {_palette_provider}
    pipeline_filter_text: str = ""  # the Pipeline's filter, kept when you come back to it

    PALETTE_GROUP = "App"
    PALETTE_NAMES = {
        "switch_mode('dashboard')": "go to the dashboard",
        "switch_mode('forecast')": "go to forecast",
        "switch_mode('accounts')": "go to accounts",
        "switch_mode('leads')": "go to leads",
        "switch_mode('contacts')": "go to contacts",
        "today": "today's tasks and follow-ups",
        "search": "search everything",
        "switch_mode('pipeline')": "go to pipeline",
        "switch_mode('proposals')": "go to proposals",
        "switch_mode('products')": "go to products",
        "toggle_dark": "toggle dark",
        "change_theme": "change theme",
        "toggle_keys": "show or hide the keys",
        "hide_keys": "hide the keys",
        "open_offered": "open the record just offered (same name or e-mail)",
        "open_admin": "users, teams and roles (admin)",
        "undo": "undo my last change",
        "notifications": "my notifications",
        "quit": "quit",
    }
    # Palette commands with no key of their own: add a record from any screen ("App: new deal").
    NEW_RECORD_COMMANDS = (("opportunity", "new deal", "Add a deal (opportunity) and open it"),
                           ("lead", "new lead", "Add a lead and open it"),
                           ("account", "new account", "Add an account and open it"),
                           ("contact", "new contact", "Add a contact and open it"))
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Quit crm-tui", priority=True),
        Binding("f2", "switch_mode('accounts')", "Accounts", id="app.accounts", tooltip="The accounts list"),
        Binding("f3", "switch_mode('leads')", "Leads", id="app.leads", tooltip="The leads list"),
        Binding("f4", "switch_mode('pipeline')", "Pipeline", id="app.pipeline",
                tooltip="The pipeline: Kanban board and list of opportunities"),
        Binding("f5", "switch_mode('contacts')", "Contacts", id="app.contacts", tooltip="The contacts list"),
        Binding("ctrl+f", "search", "Search", id="app.search",
                tooltip="Search accounts, contacts, leads, deals and activities (full text)"),
        Binding("f6", "today", "Today", id="app.today", tooltip="My tasks due today and overdue, and lead follow-ups"),
        Binding("f7", "switch_mode('proposals')", "Proposals", id="app.proposals",
                tooltip="Proposals: filters, line-item editor, send, revisions, PDF"),
        Binding("f8", "switch_mode('forecast')", "Forecast", id="app.forecast",
                tooltip="The forecast by month and stage, against quota, with charts"),
        Binding("f12", "switch_mode('products')", "Products", id="app.products",
                tooltip="The product catalog: SKUs, prices, active or retired"),
        Binding("f10", "switch_mode('dashboard')", "Dashboard", id="app.dashboard",
                tooltip="My pipeline against quota, deals closing, new leads, follow-ups, stalled deals"),
        Binding("ctrl+t", "toggle_dark", "Dark/light", show=False, id="app.toggle_dark",
                tooltip="Switch between the dark and the light theme"),
        Binding("f9", "change_theme", "Theme", show=False, id="app.theme", tooltip="Pick a colour theme"),
        Binding("f1", "toggle_keys", "Keys", id="app.keys",
                tooltip="Show every key of the focused widget and screen (F1 or escape again hides them)"),
        # Escape closes the keys panel first, before the screen's own escape (back, cancel); with no
        # panel shown check_action turns this binding off and escape goes to the screen.
        Binding("escape", "hide_keys", "Hide keys", show=False, priority=True, id="app.hide_keys",
                tooltip="Hide the keys panel"),
        Binding("ctrl+u", "open_admin", "Admin", show=False, id="app.admin",
                tooltip="Users, teams and role rules (admins only)"),
        Binding("ctrl+z", "undo", "Undo", show=False, id="app.undo",
                tooltip="Undo the last change made in this session (a move, a bulk tag, an edit), as crm undo does"),
        Binding("f11", "notifications", "Notifications", id="app.notifications",
                tooltip="My notifications: leads and deals assigned to me, deals won or lost, proposals accepted"),
        Binding("ctrl+b", "open_offered", "Open offered", show=False, id="app.open_offered",
                tooltip="Open the record the last notification offered: an account with the same name, "
                        "a contact with the same e-mail"),
    ]
    # The footer shows the screen's own keys first (with every area key it overflowed even at 160
    # columns); FitFooter adds the keys to the areas, search and quit when there is room. All stay on F1
    # (the keys panel), in the palette and in the README.
    BINDINGS = [dataclasses.replace(b, show=False) if isinstance(b, Binding) and b.id in AREA_KEYS else b
                for b in BINDINGS]
    offered: Any = None  # the record the last "already used by" notification offers (duplicates.Existing)

    @dataclass
    class DatabaseOpened(Message):
        """The database is open (and migrated): workers waiting on ``app.engine`` go on."""

        migrated: bool

    @dataclass
    class DatabaseFailed(Message):
        """The database cannot be opened: the app exits with this one line (the CLI prints it)."""

        error: str

    @dataclass
    class JobsRan(Message):
        """The scheduled jobs ran (services/jobs.py): one result per job run, or why none could run."""

        results: list
        error: str | None = None

    class UserResolved(Message):
        """The acting user is someone other than the name the app started with (read ``user``)."""

    @dataclass
    class NotificationsPolled(Message):
        """The acting user's newest notification id, unread count, and the notifications new since
        the last poll (none on the first)."""

        latest: int
        unread: int
        new: list

    # How often the app runs the scheduled jobs that are due (as `crm jobs run` from cron does).
    JOBS_INTERVAL = 60.0
    # How often the app looks for new notifications of its user (two indexed queries): within 2 s.
    NOTIFICATIONS_INTERVAL = 1.5

    def __init__(self, *, database: DatabaseHandle, user: str, settings: Settings | None = None,
                 mode: str | None = None) -> None:
        if mode is not None:
            if mode not in self.MODES:
                raise ValueError(f"no area {mode!r}; areas are: {', '.join(self.MODES)}")
            self.DEFAULT_MODE = mode  # the area to open first; the class default is the dashboard
        super().__init__()
        self.db = database
        self.user = user  # the acting user's name, for what the screens show; ``actor`` is who acts
        # The name the screens were first drawn with; the database may name someone else (on PostgreSQL the
        # login decides who "me" is), and then the screens already open are told (``user_resolved``).
        self._shown_user = user
        self._actor: Any = None
        self._actor_lock = threading.Lock()
        # The settings, read once at start; screens take what they need from here.
        self.settings = settings if settings is not None else Settings()
        self._keymap = dict(self.settings.keymap)
        self._loop_thread = threading.get_ident()
        # The one-line reason the app exited early (the database could not be opened), for the CLI.
        self.startup_error: str | None = None
        self.jobs_interval = self.JOBS_INTERVAL
        self._jobs_running = threading.Event()
        self._jobs_error: str | None = None  # the last "could not run" notified (not repeated every tick)
        # The writes of this session ctrl+z can undo, the last one last: (batch id, what it did).
        self.session_writes: list[tuple[str, str]] = []
        self._undone: list[str] = []  # batches ctrl+z undid and the batches that undid them (they cancel out)
        from crm_tui.ui_state import UIState

        # Small choices remembered per user across restarts (Mine or Everyone per screen).
        self.ui_state = UIState(locations.ui_state_path(), user)
        self.notifications_interval = self.NOTIFICATIONS_INTERVAL
        self.unread_notifications = 0  # shown in every screen's header
        self._latest_notification: int | None = None  # None until the first poll
        self._polling = False
        self._poll_pause = 0  # ticks to skip after a failed poll
        self._header_shown: tuple[Any, int] | None = None  # (screen, count) the header last showed
        self._listening = threading.Event()  # PostgreSQL: LISTEN is on, new notifications wake the poll
        self._listen_stop = threading.Event()
        self._quiet_ticks = 0  # ticks since the last poll while listening (a poll every ~30 s anyway)
        self._gc_before: tuple[int, ...] | None = None  # the collector's thresholds before freeze_heap

    @property
    def engine(self) -> Any:
        """The SQLAlchemy engine. In a worker thread this waits until the database is open.

        On the event loop it must not wait (the UI would freeze), so reading it
        there before the database is open is a bug: read it inside the worker.
        """
        if not self.db.ready and not self.db.failed and threading.get_ident() == self._loop_thread:
            raise RuntimeError("the database is still opening: read app.engine inside a thread worker")
        return self.db.wait()

    @property
    def actor(self) -> Any:
        """The acting user (``crm_tui.actor.Actor``), resolved once per app start from ``user`` and
        the users table. Like ``engine``, read it inside a thread worker: the first read waits for
        the database (the app resolves it right after opening the database)."""
        if self._actor is None:
            with self._actor_lock:
                if self._actor is None:
                    from crm_tui.database import session_scope
                    from crm_tui.services.users import resolve_actor

                    with session_scope(self.engine) as session:
                        # On PostgreSQL the database login decides; a configured user that disagrees is refused.
                        self._actor = resolve_actor(session=session, username=self.user,
                                                    explicit=bool(self.settings.user) and self.settings.user == self.user)
                    self.user = self._actor.username
                    if self.user != self._shown_user:
                        self.post_message(self.UserResolved())
        return self._actor

    def actor_for_checks(self) -> Any:
        """For checking what a user typed on the event loop (a filter's syntax, where ``me`` only
        needs a name): the acting user once resolved, until then one of the same name without an
        id. Reading records takes ``actor``, in a worker."""
        if self._actor is not None:
            return self._actor
        from crm_tui.actor import Actor

        return Actor.unknown(self.user)

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification shows its text as written, never as markup (a record named ``[red]x[/]``
        reads literally), with control characters spelled out (crm_tui.text.visible)."""
        super().notify(visible(message), title=visible(title, one_line=True), severity=severity, timeout=timeout,
                       markup=False)

    def format_title(self, title: str, sub_title: str) -> Any:
        """The header: screen titles often name a record; control characters spelled out. The number of
        unread notifications follows the title, before the sub-title (the user and the database, which a
        narrow terminal cuts off at its end)."""
        title = visible(title, one_line=True)
        if self.unread_notifications:
            title = f"{title} · {self.unread_notifications} unread" if title else f"{self.unread_notifications} unread"
        return super().format_title(title, visible(sub_title, one_line=True))

    def on_unmount(self) -> None:
        if self._gc_before is not None:
            gc.set_threshold(*self._gc_before)
            gc.unfreeze()
            self._gc_before = None
        # Quitting before the database opened: let the workers waiting for it finish.
        self.db.abandon()
        self._listen_stop.set()

    def on_mount(self) -> None:
        if self._keymap:
            self.set_keymap(self._keymap)
        self.set_interval(self.jobs_interval, self._jobs_tick, name="scheduled jobs")
        self.set_interval(self.notifications_interval, self._notifications_tick, name="notifications")

    # ------------------------------------------------------------ notifications

    def _notifications_tick(self) -> None:
        self.refresh_notifications(only_header=True)
        if self._polling or not self.db.ready or self.db.failed:
            return
        if self._listening.is_set() and self._latest_notification is not None:
            self._quiet_ticks += 1
            if self._quiet_ticks < 20:
                return  # PostgreSQL tells us (LISTEN/NOTIFY); a poll every ~30 s all the same
        self._quiet_ticks = 0
        if self._poll_pause:
            self._poll_pause -= 1
            return
        self.refresh_notifications()

    def refresh_notifications(self, *, only_header: bool = False) -> None:
        """Look for new notifications now (in a worker); ``only_header``: just redraw the header's count
        on the screen shown, if it shows another number or is another screen than last time."""
        if only_header:
            self._show_unread()
            return
        if self._polling or not self.db.ready:
            return
        self._polling = True
        after = self._latest_notification
        from crm_tui.widgets.worker import run_db

        def poll(s: Any) -> CRMApp.NotificationsPolled:
            from crm_tui.services import notifications

            latest, unread = notifications.status(session=s, actor=self.actor)
            new = notifications.since(session=s, actor=self.actor, after_id=after) if after is not None and \
                latest > after else []
            return self.NotificationsPolled(latest, unread, new)

        def failed(_exc: BaseException) -> None:
            self._polling = False
            self._poll_pause = 20  # about 30 s before the next try

        run_db(self, poll, group="notifications-poll", failed=failed)

    @on(NotificationsPolled)
    def _notifications_polled(self, message: NotificationsPolled) -> None:
        self._polling = False
        if self._latest_notification is None:  # the first poll: the database is open, the user known
            self._listen_for_notifications()
        self._latest_notification = message.latest
        self.unread_notifications = message.unread
        for row in message.new[:3]:
            self.notify(row["title"], title="Notification (F11)", timeout=8)
        if len(message.new) > 3:
            self.notify(f"{len(message.new) - 3} more new notifications", title="Notification (F11)", timeout=8)
        self._show_unread()

    def _show_unread(self) -> None:
        from textual.app import ScreenStackError

        try:
            screen = self.screen
        except ScreenStackError:  # starting or closing: no screen to show it on
            return
        shown = (screen, self.unread_notifications)
        if shown == self._header_shown:
            return
        from textual.widgets import Header
        from textual.widgets._header import HeaderTitle

        for header in screen.query(Header):
            for title in header.query(HeaderTitle):
                title.update(header.format_title())
        self._header_shown = shown

    def _listen_for_notifications(self) -> None:
        """On PostgreSQL: a thread that waits for NOTIFY (sent when a notification for this user commits)
        and polls at once; on SQLite it ends at once and the timer's poll does the work.

        A daemon thread of its own rather than a Textual worker: it never finishes while the app runs,
        and a worker that never finishes would hold up everything that waits for the workers to complete.
        Any failure ends it (logged) and the timer polls as on SQLite."""
        stop, ready = self._listen_stop, self._listening

        def wake() -> None:
            try:
                self.call_from_thread(self.refresh_notifications)
            except RuntimeError:  # the app is closing
                stop.set()

        def listen() -> None:
            from crm_tui.services import notifications

            try:
                notifications.listen(engine=self.engine, user_id=self.actor.user_id, wake=wake, stop=stop,
                                     ready=ready)
            except Exception as exc:  # the poll takes over
                self.log.error(f"notifications listener stopped: {exc!r}")
            finally:
                ready.clear()

        threading.Thread(target=listen, name="crm-notifications-listener", daemon=True).start()

    def action_notifications(self) -> None:
        from crm_tui.screens.notifications import NotificationsScreen

        if not isinstance(self.screen, NotificationsScreen):
            self.push_screen(NotificationsScreen())

    def _jobs_tick(self) -> None:
        # Never two runs at once from this app (a slow run outlasting the interval): skip the tick.
        if not self._jobs_running.is_set() and not self.db.failed:
            self._jobs_running.set()
            self._run_jobs()

    @work(thread=True, exclusive=True, exit_on_error=False, group="jobs")  # one at a time: see _jobs_tick
    def _run_jobs(self) -> None:
        """In a worker thread: run the due jobs; the outcome comes back as JobsRan, never as a crash."""
        try:
            engine = self.engine  # waits until the database is open
            from crm_tui.services import jobs

            results = jobs.run_due_jobs(engine=engine, settings=self.settings)
        except Exception as exc:  # the database went away, a bug: a notification, never a crash
            from crm_tui.errors import CRMError

            reason = str(exc) if isinstance(exc, CRMError) else f"{type(exc).__name__}: {exc}"
            self.post_message(self.JobsRan([], reason))
        else:
            self.post_message(self.JobsRan(results))
        finally:
            self._jobs_running.clear()

    @on(JobsRan)
    def _jobs_ran(self, message: JobsRan) -> None:
        if message.error:
            self.log.error(f"scheduled jobs: {message.error}")
            if message.error != self._jobs_error:
                self.notify(f"Scheduled jobs could not run: {message.error}", title="Jobs", severity="error")
        self._jobs_error = message.error
        for result in message.results:
            self.log.info(f"scheduled job {result.line()}")
            if result.status == "error":
                self.notify(result.line(), title="Job failed", severity="error")
            elif result.status == "ok" and result.message:
                self.notify(result.message, title="Jobs")

    def on_ready(self) -> None:
        # Textual styles the app's first screen before the theme's colour variables have settled: its
        # widgets kept a text colour with no opacity, so the Dashboard's greeting and its period and
        # "My day" cards drew their text in the background colour (invisible in a terminal; the
        # snapshot test pictured it so). Restyle that screen once, now the theme is in place.
        self.refresh_css(animate=False)
        for node in self.screen.walk_children(with_self=True):
            node.refresh()
        # After the first paint: importing SQLAlchemy and opening the engine would otherwise delay it.
        if not self.db.ready:
            self._open_database()
        else:
            self.freeze_heap()  # (opened already: an engine was given)

    @work(thread=True, exclusive=True, exit_on_error=False, group="database")
    def _open_database(self) -> None:
        self.db.open()
        if self.db.abandoned:
            return
        if self.db.error is not None:
            self.post_message(self.DatabaseFailed(self.db.error))
        else:
            try:
                self.actor  # noqa: B018 - resolved once, here, before any screen needs it
            except Exception as exc:  # a worker reading it later reports the error in its own way
                self.log.error(f"could not resolve the acting user: {exc!r}")
            self.post_message(self.DatabaseOpened(self.db.migrated))

    @on(DatabaseOpened)
    def _database_opened(self, message: DatabaseOpened) -> None:
        self.freeze_heap()
        if message.migrated:
            self.notify(f"{self.database_label} was upgraded to the newest schema.", title="Database")

    @on(UserResolved)
    def _user_resolved(self) -> None:
        """The acting user turned out to be someone other than the name the app started with (the
        PostgreSQL login's user, not the OS login): remember choices for them, and let every open
        screen redraw what names them (the header, the dashboard's greeting)."""
        if self.user == self._shown_user:
            return
        old, self._shown_user = self._shown_user, self.user
        from crm_tui.ui_state import UIState

        self.ui_state = UIState(locations.ui_state_path(), self.user)
        stacks = getattr(self, "_screen_stacks", None) or {"": self.screen_stack}
        for stack in list(stacks.values()):
            for screen in list(stack):
                hook = getattr(screen, "user_resolved", None)
                if hook is not None:
                    hook(old)

    # Python's garbage collector as the app sets it once the database is open (see freeze_heap).
    GC_THRESHOLDS = (2_000, 10, 50)

    def freeze_heap(self) -> None:
        """Keep Python's full garbage collections off the keys. The app holds some 300,000 objects; each
        full collection walked them all and stopped the UI for 0.1–0.4 s at random moments (a screen
        switch, a filter, a detail), every few seconds of use. What is loaded by now (Textual, SQLAlchemy,
        the models, the first screen) is left out of them, and they come far less often (the young
        generation is collected after 2,000 new objects, not 700, and full collections far less often). Restored when the app ends."""
        if self._gc_before is None:
            self._gc_before = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(*self.GC_THRESHOLDS)

    @on(DatabaseFailed)
    def _database_failed(self, message: DatabaseFailed) -> None:
        self.startup_error = message.error
        self.exit(return_code=1)

    def busy_text(self, loading: str = "loading…") -> str:
        """What a status line says while it waits: the database opening, then ``loading``."""
        return loading if self.db.ready else f"Opening {self.database_label}…"

    @property
    def database_label(self) -> str:
        return self.db.label

    def get_default_screen(self) -> Screen:  # pragma: no cover - modes replace it
        return self.MODES[self.DEFAULT_MODE]()

    async def action_switch_mode(self, mode: str) -> None:
        """An area's key (F2…F12): that area, as Textual switches modes. Pressed in that area while Today,
        the Notifications or Search (opened over it with F6, F11, ctrl+f) is on top, it closes them: the
        area's key always shows the area (those screens hold no edits to lose)."""
        if mode != self.current_mode:
            self.switch_mode(mode)
            return
        from crm_tui.screens.notifications import NotificationsScreen
        from crm_tui.screens.search import SearchScreen
        from crm_tui.screens.today import TodayScreen

        while len(self.screen_stack) > 1 and isinstance(self.screen, (TodayScreen, NotificationsScreen,
                                                                      SearchScreen)):
            await self.pop_screen()

    def action_today(self) -> None:
        from crm_tui.screens.today import TodayScreen

        if not isinstance(self.screen, TodayScreen):
            self.push_screen(TodayScreen())

    def action_search(self) -> None:
        from crm_tui.screens.search import SearchScreen

        if isinstance(self.screen, SearchScreen):
            self.screen.action_focus_query()
        else:
            self.push_screen(SearchScreen())

    def _keys_panel_shown(self) -> bool:
        from textual.widgets import HelpPanel

        return bool(self.screen.query(HelpPanel))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "hide_keys":
            return self._keys_panel_shown()
        if action == "undo":  # not while a dialog or form is open: its edits are what the user is doing
            from textual.screen import ModalScreen

            return not isinstance(self.screen, ModalScreen)
        return True

    def action_toggle_keys(self) -> None:
        """F1: show the keys panel, or hide it when it is showing."""
        if self._keys_panel_shown():
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_hide_keys(self) -> None:
        self.action_hide_help_panel()

    def offer_record(self, existing: Any) -> None:
        """Say that another record already has this account name or contact e-mail, naming it;
        ctrl+b (``open_offered``) opens it."""
        self.offered = existing
        field = "e-mail" if existing.field == "email" else existing.field
        more = f" (and {existing.others:,} more)" if existing.others else ""
        article = "An" if existing.entity[:1] in ("a", "e", "i", "o", "u") else "A"
        self.notify(f"{article} {existing.entity} with this {field} already exists: "
                    f"{existing.described}{more}. Press ctrl+b to open it.",
                    title=f"Same {existing.field}", severity="warning", timeout=15)

    def action_open_offered(self) -> None:
        offered, self.offered = self.offered, None
        if offered is None:
            self.notify("Nothing to open: no record was offered.", severity="information")
            return
        if offered.entity == "contact":
            from crm_tui.screens.contact_detail import ContactDetailScreen

            self.push_screen(ContactDetailScreen(offered.id))
        else:
            from crm_tui.screens.account_detail import AccountDetailScreen

            self.push_screen(AccountDetailScreen(offered.id))

    def action_open_admin(self) -> None:
        from crm_tui.screens.admin import open_admin

        open_admin(self)

    def action_open_profile(self) -> None:
        from crm_tui.widgets.profile import ProfileDialog

        if not isinstance(self.screen, ProfileDialog):
            self.push_screen(ProfileDialog())
    # ------------------------------------------------------------ undo (ctrl+z)

    def remember_write(self, batch_id: str | None, what: str) -> None:
        """A write of this session (its change-log batch) that ctrl+z can undo; ``what`` says it in
        words ("moved Acme – Platform to Proposal")."""
        if batch_id:
            self.session_writes.append((batch_id, what))

    def action_undo(self) -> None:
        """Undo the last write of this session through the same batch undo as ``crm undo``; refused
        (one line) when a record it changed was changed since."""
        if not self.session_writes:
            self.notify("Nothing to undo in this session.", title="Undo")
            return
        batch_id, what = self.session_writes.pop()
        from crm_tui.widgets.worker import failure_text, run_db

        cancelled = list(self._undone)

        def undo(session: Any) -> str | None:
            from crm_tui.services.data import bulk

            return bulk.undo(session=session, batch_id=batch_id, actor=self.actor, cancelled=cancelled).undo_batch_id

        def done(undo_batch_id: str | None) -> None:
            self._undone.extend(b for b in (batch_id, undo_batch_id) if b)
            self.notify(f"Undid: {what}", title="Undo")
            self._refresh_after_undo()

        def failed(error: BaseException) -> None:
            self.notify(f"Not undone ({what}): {failure_text(error)}", title="Undo", severity="error", timeout=10)

        run_db(self, undo, group="undo", done=done, failed=failed, notify_known=False, exclusive=False)

    def _refresh_after_undo(self) -> None:
        """Show what the undo put back: the screen on top loads its records again."""
        for name in ("action_reload", "action_refresh"):
            method = getattr(self.screen, name, None)
            if callable(method):
                method()
                return

    # ------------------------------------------------------------ a new record from anywhere

    def action_new_record(self, entity: str) -> None:
        """The form for a new ``entity`` (opportunity, lead, account, contact); saved, its detail opens (a
        new deal on a screen with a new-deal action of its own: that action, e.g. prefilled with the account)."""
        from crm_tui.screens.base import open_record

        def saved(row: Any) -> None:
            if row:
                open_record(self, entity, row if isinstance(row, int) else row["id"])

        own = getattr(self.screen, "action_new_deal", None)
        if entity == "opportunity" and callable(own):
            own()  # the screen's own: the pipeline shows it on the board, an account prefills itself
        elif entity == "opportunity":
            from crm_tui.screens.opportunity_form import OpportunityFormScreen

            self.push_screen(OpportunityFormScreen(), saved)
        elif entity == "lead":
            from crm_tui.screens.lead_detail import LeadFormScreen

            self.push_screen(LeadFormScreen(None), saved)
        elif entity == "account":
            from crm_tui.screens.account_form import AccountFormScreen

            self.push_screen(AccountFormScreen(), saved)
        elif entity == "contact":
            from crm_tui.screens.contact_form import ContactFormScreen

            self.push_screen(ContactFormScreen(), saved)

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def palette_commands(self, screen: Screen) -> list[PaletteCommand]:
        """The commands the palette offers on ``screen``: that screen's, then the app's."""
        out: list[PaletteCommand] = []
        group = getattr(screen, "PALETTE_GROUP", "") or screen.__class__.__name__.removesuffix("Screen")
        out.extend(binding_commands(screen, group, getattr(screen, "PALETTE_NAMES", {})))
        admin = self._actor is None or self._actor.role == "admin"  # the Admin screen: for admins only
        out.extend(c for c in binding_commands(self, self.PALETTE_GROUP, self.PALETTE_NAMES)
                   if admin or c.action != "open_admin")
        out.extend(PaletteCommand(f"{self.PALETTE_GROUP}: {verb}", help_text, f"new_record('{entity}')", self)
                   for entity, verb, help_text in self.NEW_RECORD_COMMANDS)
        out.append(PaletteCommand(f"{self.PALETTE_GROUP}: my profile", "My name and e-mail", "open_profile", self))
        return out


def make_app(database_url: str | None = None, *, engine: Any = None, user: str | None = None,
             mode: str | None = None, settings: Settings | None = None) -> CRMApp:
    """The app the user gets: ``crm`` (no arguments) and the tests both build it here.

    ``database_url``: the app paints first and opens (and migrates) this database
    in a thread worker; if it cannot, the app exits with return code 1 and the
    reason in ``app.startup_error``. ``engine``: an engine already open (tests).
    ``mode`` opens another area first instead of the dashboard (e.g. "accounts").

    ``settings``: read once by the caller (`crm` reads them before it starts the app);
    without them they are read here, once (ConfigError when the file is invalid).
    ``keymap`` in the settings ({"binding id": "key"}) remaps keys, e.g.
    {"accounts.new": "a"}.
    """
    if settings is None:
        from crm_tui.settings import load_settings

        settings = load_settings()
    if database_url is None and engine is None:
        database_url = locations.database_url(settings=settings)
    database = DatabaseHandle(database_url, engine=engine)
    return CRMApp(database=database, user=user or locations.current_username(settings), settings=settings,
                  mode=mode)
