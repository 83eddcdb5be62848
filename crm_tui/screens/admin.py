"""The Admin screen (admins only): users, teams and the role rules, as `crm user|team|role` do.

Users: every user (name, username, e-mail, role, team, active); ``n`` adds one, ``e`` changes
role, team, name or e-mail, ``d`` deactivates (after a yes), or reactivates an inactive user.
Teams: ``n`` adds a team, ``m`` puts a user in the highlighted team, ``x`` takes the highlighted
member out. Roles: a role's rules (entity × action → level), each a select; ``ctrl+s`` saves what
changed.

Opened with ``ctrl+u`` or from the palette (``open_admin``): the app asks the users service first,
and anyone else is told in one line that only an admin may.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Header, Input, Label, Select, TabbedContent, TabPane

from crm_tui.screens.base import CRMScreenMixin
from crm_tui.services.access import ACTIONS, LEVELS, RULE_ENTITIES
from crm_tui.services.fields import USER_ROLES
from crm_tui.text import visible
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.worker import run_db

ADMIN_WHAT = "administer users, teams and roles"


def open_admin(node: Any) -> None:
    """Open the Admin screen if the acting user may administer (asked in a worker); else one line."""

    def check(s: Any) -> bool:
        from crm_tui.services.users import require_admin

        require_admin(session=s, actor=node.app.actor, what=ADMIN_WHAT)
        return True

    def opened(_: Any) -> None:
        if not isinstance(node.app.screen, AdminScreen):
            node.app.push_screen(AdminScreen())

    run_db(node, check, group="admin-open", done=opened, title="Admin")


def levels_for(entity: str) -> tuple[str, ...]:
    """The levels a rule of ``entity`` may take ("linked" is for activities only)."""
    return LEVELS if entity == "activity" else tuple(lvl for lvl in LEVELS if lvl != "linked")


class UserDialog(CRMScreenMixin, ModalScreen[bool]):
    """Add a user (``username`` None) or change one: name, e-mail, role and team. True when saved."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", tooltip="Save the user"),
        Binding("escape", "cancel", "Cancel", tooltip="Close without saving"),
    ]

    def __init__(self, teams: list[str], user: dict | None = None) -> None:
        super().__init__()
        self.teams = teams
        self.user_row = user

    def compose(self) -> ComposeResult:
        row = self.user_row or {}
        with Vertical(id="admin-user-dialog", classes="dialog"):
            yield Label(f"Change user {row['username']}" if row else "New user", classes="dialog-title")
            yield Input(value=row.get("username", ""), placeholder="username (letters, digits . - _)",
                        id="user-username", disabled=bool(row))
            yield Input(value=row.get("name") or "", placeholder="full name", id="user-name")
            yield Input(value=row.get("email") or "", placeholder="e-mail", id="user-email")
            yield Select([(r, r) for r in USER_ROLES], value=row.get("role") or "sales", allow_blank=False,
                         id="user-role")
            yield Select([(t, t) for t in self.teams], value=row["team"] if row.get("team") in self.teams
                         else Select.NULL, prompt="(no team)", id="user-team")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="user-save")
                yield Button("Cancel", id="user-cancel")

    def on_mount(self) -> None:
        self.query_one("#user-name" if self.user_row else "#user-username", Input).focus()

    def values(self) -> dict:
        team = self.query_one("#user-team", Select).value
        return {"username": self.query_one("#user-username", Input).value.strip(),
                "name": self.query_one("#user-name", Input).value.strip(),
                "email": self.query_one("#user-email", Input).value.strip(),
                "role": str(self.query_one("#user-role", Select).value),
                "team": "" if team is Select.NULL else str(team)}

    @on(Button.Pressed, "#user-save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        data = self.values()
        existing = self.user_row

        def save(s: Any) -> bool:
            from crm_tui.services import users

            if existing is None:
                users.create_user(session=s, actor=self.actor, data={k: v for k, v in data.items() if v})
            else:
                users.update_user(session=s, actor=self.actor, username=existing["username"],
                                  data={k: v for k, v in data.items() if k != "username"})
            return True

        run_db(self, save, group="admin-user-save", done=self.dismiss, title="User")

    @on(Button.Pressed, "#user-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class ChoiceDialog(CRMScreenMixin, ModalScreen[str | None]):
    """One line of text (``choices`` None) or one of ``choices``: dismisses with it, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Close, nothing changes")]

    def __init__(self, title: str, *, choices: list[str] | None = None, placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="admin-choice-dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            if self.choices is None:
                yield Input(placeholder=self.placeholder, id="choice-text")
            else:
                yield Select([(c, c) for c in self.choices], prompt=self.placeholder, id="choice-select")
            with Horizontal(classes="buttons"):
                yield Button("OK", variant="primary", id="choice-ok")
                yield Button("Cancel", id="choice-cancel")

    def on_mount(self) -> None:
        self.query_one("#choice-text" if self.choices is None else "#choice-select").focus()

    @on(Button.Pressed, "#choice-ok")
    @on(Input.Submitted)
    def ok(self) -> None:
        if self.choices is None:
            value = self.query_one("#choice-text", Input).value.strip()
        else:
            picked = self.query_one("#choice-select", Select).value
            value = "" if picked is Select.NULL else str(picked)
        if value:
            self.dismiss(value)

    @on(Button.Pressed, "#choice-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class AdminScreen(CRMScreenMixin, Screen):
    TITLE = "Admin"
    PALETTE_GROUP = "Admin"
    PALETTE_NAMES: ClassVar[dict[str, str]] = {
        "new": "new user or team", "edit_user": "change the user's role or team",
        "deactivate": "deactivate or reactivate the user", "add_member": "add a member to the team",
        "remove_member": "remove the member from the team", "save_rules": "save the role rules",
        "reload": "reload users, teams and rules",
    }

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", tooltip="Close the Admin screen"),
        Binding("n", "new", "New", tooltip="Users: add a user · Teams: add a team"),
        Binding("e", "edit_user", "Edit user", tooltip="Change the role, team, name or e-mail of the user"),
        Binding("d", "deactivate", "(De)activate",
                tooltip="Deactivate the user under the cursor, or reactivate an inactive one (asks first)"),
        Binding("m", "add_member", "Add member", tooltip="Put a user in the team under the cursor"),
        Binding("x", "remove_member", "Remove member", tooltip="Take the highlighted member out of the team"),
        Binding("ctrl+s", "save_rules", "Save rules", tooltip="Roles: save every rule changed"),
        Binding("r", "reload", "Reload", show=False, tooltip="Load users, teams and rules again"),
    ]

    @dataclass
    class Loaded(Message):
        users: list
        teams: list

    @dataclass
    class Members(Message):
        team: str
        members: list

    @dataclass
    class Rules(Message):
        role: str
        levels: dict

    def __init__(self) -> None:
        super().__init__()
        self.users: list[dict] = []
        self.teams: list[dict] = []
        self.rule_levels: dict[tuple[str, str], str] = {}  # the rules as loaded for the shown role
        self.rule_role = "sales"

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="admin-tabs", initial="tab-users"):
            with TabPane("Users", id="tab-users"):
                yield DataTable(id="admin-users", cursor_type="row", zebra_stripes=True)
            with TabPane("Teams", id="tab-teams"):
                with Horizontal(id="admin-teams-row"):
                    yield DataTable(id="admin-teams", cursor_type="row")
                    yield DataTable(id="admin-members", cursor_type="row")
            with TabPane("Roles", id="tab-roles"):
                with Horizontal(id="admin-role-row"):
                    yield Label("Role", classes="filter-label")
                    yield Select([(r, r) for r in USER_ROLES], value=self.rule_role, allow_blank=False,
                                 id="rules-role")
                    yield Label("", id="rules-note", classes="filter-label")
                with Grid(id="admin-rules"):
                    yield Label("")
                    for action in ACTIONS:
                        yield Label(action, classes="rules-head")
                    for entity in RULE_ENTITIES:
                        yield Label(entity)
                        for action in ACTIONS:
                            yield Select([(lvl, lvl) for lvl in levels_for(entity)], allow_blank=False,
                                         id=f"rule-{entity}-{action}", compact=True)
        yield Label("", id="admin-status", classes="status-line")
        yield FitFooter()

    def on_mount(self) -> None:
        users = self.query_one("#admin-users", DataTable)
        for name in ("Name", "Username", "E-mail", "Role", "Team", "Active"):
            users.add_column(name)
        self.query_one("#admin-teams", DataTable).add_columns("Team", "Members")
        self.query_one("#admin-members", DataTable).add_columns("Member", "Name", "Role", "Active")
        self.sub_title = f"{self.user} · {self.crm.database_label}"
        self.action_reload()

    # ------------------------------------------------------------ loading

    def action_reload(self) -> None:
        def load(s: Any) -> AdminScreen.Loaded:
            from crm_tui.services import users

            return self.Loaded(users.user_rows(session=s), users.list_teams(session=s))

        run_db(self, load, group="admin-load", title="Admin")
        self._load_rules(self.rule_role)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.users, self.teams = message.users, message.teams
        table = self.query_one("#admin-users", DataTable)
        row = table.cursor_row
        table.clear()
        for u in self.users:
            table.add_row(*(visible(v, one_line=True) for v in (u["name"], u["username"], u["email"] or "",
                                                                 u["role"], u["team"] or "")),
                          "yes" if u["active"] else "no", key=u["username"])
        if self.users:
            table.move_cursor(row=min(row, len(self.users) - 1))
        teams = self.query_one("#admin-teams", DataTable)
        team_row = teams.cursor_row
        teams.clear()
        for t in self.teams:
            teams.add_row(visible(t["name"], one_line=True), str(t["members"]), key=t["name"])
        if self.teams:
            teams.move_cursor(row=min(team_row, len(self.teams) - 1))
            self._load_members(self.teams[teams.cursor_row]["name"])
        else:
            self.query_one("#admin-members", DataTable).clear()
        active = sum(1 for u in self.users if u["active"])
        self.query_one("#admin-status", Label).update(
            f"{len(self.users)} users ({active} active) · {len(self.teams)} teams")

    def _load_members(self, team: str) -> None:
        def load(s: Any) -> AdminScreen.Members:
            from crm_tui.services import users

            return self.Members(team, users.team_members(session=s, team=team))

        run_db(self, load, group="admin-members", title="Admin")

    @on(Members)
    def _members(self, message: Members) -> None:
        if self.selected_team() != message.team:
            return
        table = self.query_one("#admin-members", DataTable)
        table.clear()
        for m in message.members:
            table.add_row(visible(m["username"], one_line=True), visible(m["name"], one_line=True), m["role"],
                          "yes" if m["active"] else "no", key=m["username"])

    @on(DataTable.RowHighlighted, "#admin-teams")
    def _team_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value:
            self._load_members(str(event.row_key.value))

    def _load_rules(self, role: str) -> None:
        def load(s: Any) -> AdminScreen.Rules:
            from crm_tui.services import access

            return self.Rules(role, {(r.entity, r.action): r.level for r in access.rules(session=s, role=role)})

        run_db(self, load, group="admin-rules", title="Roles")

    @on(Rules)
    def _rules(self, message: Rules) -> None:
        if message.role != self.rule_role:
            return
        self.rule_levels = dict(message.levels)
        fixed = message.role == "admin"
        for (entity, action), level in message.levels.items():
            select = self.query_one(f"#rule-{entity}-{action}", Select)
            with select.prevent(Select.Changed):
                select.value = level
            select.disabled = fixed
        self.query_one("#rules-note", Label).update(
            "an admin always has every right" if fixed else "change a level, then ctrl+s saves")

    @on(Select.Changed, "#rules-role")
    def _role_changed(self, event: Select.Changed) -> None:
        self.rule_role = str(event.value)
        self._load_rules(self.rule_role)

    # ------------------------------------------------------------ what is selected

    def tab(self) -> str:
        return self.query_one("#admin-tabs", TabbedContent).active

    def selected_user(self) -> dict | None:
        table = self.query_one("#admin-users", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((u for u in self.users if u["username"] == key), None)

    def selected_team(self) -> str | None:
        table = self.query_one("#admin-teams", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def selected_member(self) -> str | None:
        table = self.query_one("#admin-members", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _saved(self, saved: Any) -> None:
        if saved:
            self.action_reload()

    # ------------------------------------------------------------ users

    def action_new(self) -> None:
        if self.tab() == "tab-teams":
            self.app.push_screen(ChoiceDialog("New team", placeholder="team name"), self._add_team)
        else:
            self.query_one("#admin-tabs", TabbedContent).active = "tab-users"
            self.app.push_screen(UserDialog([t["name"] for t in self.teams]), self._saved)

    def action_edit_user(self) -> None:
        user = self.selected_user()
        if user is None or self.tab() != "tab-users":
            self.notify("Choose a user on the Users tab first (n adds one).", severity="warning")
            return
        self.app.push_screen(UserDialog([t["name"] for t in self.teams], user), self._saved)

    def action_deactivate(self) -> None:
        user = self.selected_user()
        if user is None or self.tab() != "tab-users":
            self.notify("Choose a user on the Users tab first.", severity="warning")
            return
        from crm_tui.widgets.confirm import ConfirmScreen

        username, active = user["username"], user["active"]

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def change(s: Any) -> str:
                from crm_tui.services import users

                if active:
                    users.deactivate_user(session=s, actor=self.actor, username=username)
                else:
                    users.update_user(session=s, actor=self.actor, username=username, data={"active": True})
                return username

            def done(name: str) -> None:
                self.notify(f"Deactivated {name}: their records stay theirs until reassigned." if active
                            else f"Reactivated {name}.")
                self.action_reload()

            run_db(self, change, group="admin-deactivate", done=done, title="User")

        if active:
            self.app.push_screen(ConfirmScreen(f"Deactivate {username}?", yes="Deactivate",
                                               detail="They can no longer use crm; their records stay theirs."),
                                 answered)
        else:
            self.app.push_screen(ConfirmScreen(f"Reactivate {username}?", yes="Reactivate"), answered)

    # ------------------------------------------------------------ teams

    def _add_team(self, name: str | None) -> None:
        if not name:
            return

        def add(s: Any) -> bool:
            from crm_tui.services import users

            users.create_team(session=s, actor=self.actor, name=name)
            return True

        run_db(self, add, group="admin-team-add", done=self._saved, title="Team")

    def action_add_member(self) -> None:
        team = self.selected_team()
        if team is None or self.tab() != "tab-teams":
            self.notify("Choose a team on the Teams tab first (n adds one).", severity="warning")
            return
        names = [u["username"] for u in self.users if u["active"] and u["team"] != team]

        def picked(username: str | None) -> None:
            if username:
                self._set_team(username, team)

        self.app.push_screen(ChoiceDialog(f"Add a member to {team}", choices=names, placeholder="user"), picked)

    def _set_team(self, username: str, team: str | None, *, leaving: str | None = None) -> None:
        def change(s: Any) -> bool:
            from crm_tui.services import users

            if leaving is not None:
                users.remove_from_team(session=s, actor=self.actor, username=username, team=leaving)
            else:
                users.set_team(session=s, actor=self.actor, username=username, team=team)
            return True

        run_db(self, change, group="admin-team-member", done=self._saved, title="Team")

    def action_remove_member(self) -> None:
        team, member = self.selected_team(), self.selected_member()
        if team is None or member is None or self.tab() != "tab-teams":
            self.notify("Highlight a member of a team on the Teams tab first.", severity="warning")
            return
        self._set_team(member, None, leaving=team)

    # ------------------------------------------------------------ rules

    def changed_rules(self) -> list[tuple[str, str, str]]:
        """(entity, action, level) of every select that differs from the rules as loaded."""
        out = []
        for (entity, action), level in self.rule_levels.items():
            value = self.query_one(f"#rule-{entity}-{action}", Select).value
            if value is not Select.NULL and value != level:
                out.append((entity, action, str(value)))
        return out

    def action_save_rules(self) -> None:
        if self.tab() != "tab-roles":
            self.query_one("#admin-tabs", TabbedContent).active = "tab-roles"
            return
        role, changes = self.rule_role, self.changed_rules()
        if not changes:
            self.notify("No rule changed.")
            return

        def save(s: Any) -> int:
            from crm_tui.services import access

            for entity, action, level in changes:
                access.set_rule(session=s, actor=self.actor, role=role, entity=entity, action=action, level=level)
            return len(changes)

        def done(count: int) -> None:
            self.notify(f"Saved {count} rule{'s' if count != 1 else ''} of {role} (applies from the next start).")
            self._load_rules(role)

        run_db(self, save, group="admin-rules-save", done=done, title="Roles")
