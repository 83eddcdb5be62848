"""Users: who owns records and who made each change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from crm_tui.actor import DEFAULT_ROLE, Actor
from crm_tui.errors import Conflict, ValidationError
from crm_tui.services.fields import USER_ROLES
from crm_tui.services.validate import FieldSpec, clean
from crm_tui.store.models import Team, User

USER_FIELDS = {
    s.name: s
    for s in (
        FieldSpec("username", required=True, max_len=64),
        FieldSpec("name", max_len=200),
        FieldSpec("email", kind="email", max_len=254),
        FieldSpec("role", kind="choice", choices=USER_ROLES),
        FieldSpec("team", max_len=64),
    )
}


def list_users(*, session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.username)).scalars())


def user_rows(*, session: Session) -> list[dict]:
    """Every user with the name of their team, for lists."""
    teams = _team_names(session)
    return [{"id": u.id, "username": u.username, "name": u.name, "email": u.email, "role": u.role,
             "team": teams.get(u.team_id) if u.team_id else None, "active": u.active}
            for u in list_users(session=session)]


def _team_names(session: Session) -> dict[int, str]:
    return {tid: name for tid, name in session.execute(select(Team.id, Team.name))}


def has_admin(session: Session, *, besides: int | None = None) -> bool:
    """Whether an active admin exists (other than the user with id ``besides``)."""
    stmt = select(User.id).where(User.role == "admin", col(User.active).is_(True))
    if besides is not None:
        stmt = stmt.where(User.id != besides)
    return session.execute(stmt.limit(1)).scalar() is not None


def require_admin(*, session: Session, actor: Actor, what: str) -> None:
    """Refuse unless ``actor`` is an admin. While no active admin exists (a first run, a database
    without users), whoever runs crm administers it."""
    if actor.role == "admin":
        return
    if has_admin(session):
        raise ValidationError("user", actor.username, f"is a {actor.role} user: only an admin may {what}")


def _team_id(session: Session, name: str | None) -> int | None:
    if name is None or not str(name).strip():
        return None
    tid = session.execute(select(Team.id).where(func.lower(Team.name) == str(name).strip().lower())).scalar()
    if tid is None:
        raise ValidationError("team", name, "is not a team (crm team add NAME)")
    return tid


def get_user(*, session: Session, username: str) -> User:
    user = session.execute(select(User).where(func.lower(User.username) == str(username).strip().lower())
                           ).scalars().first()
    if user is None:
        raise ValidationError("user", username, "is not a user (crm user list)")
    return user


def database_logins(*, session: Session) -> bool:
    """Whether users connect with database logins of their own here (PostgreSQL; on SQLite whoever has
    the file has all of it)."""
    return session.connection().dialect.name == "postgresql"


def login_exists(*, session: Session, login: str) -> bool:
    """Whether the PostgreSQL login ``login`` exists already (then ``crm user add --login`` links it)."""
    from crm_tui.store import row_security

    return database_logins(session=session) and row_security.login_exists(session.connection(), login)


def _attach_login(session: Session, user: User, login: str | None, password: str | None) -> None:
    """Create (or link) ``user``'s PostgreSQL login and grant it what the app needs."""
    from crm_tui.store import row_security

    name = (login or user.username).strip()
    if not name or len(name) > 63:
        raise ValidationError("login", login, "must be 1 to 63 characters")
    if session.execute(select(User.id).where(User.login == name, User.id != user.id)).scalar() is not None:
        raise Conflict(f"login {name!r} is already linked to another user")
    conn = session.connection()
    if row_security.login_exists(conn, name):
        if row_security.is_privileged(conn, name):
            raise ValidationError("login", name, "is a superuser or owns the tables: link an ordinary login")
        if password:
            row_security.set_password(conn, name, password)
        row_security.set_can_login(conn, name, True)  # an active user may connect
    elif not password:
        raise ValidationError("password", None, f"is needed to create the login {name}: give --password-stdin")
    else:
        row_security.create_login(conn, name, password)
    row_security.grant(conn, name)
    user.login = name
    session.add(user)


def create_user(*, session: Session, data: dict, actor: Actor | None = None, with_login: bool = False,
                login: str | None = None, password: str | None = None) -> User:
    """Add a user (an admin's work once an admin exists; ``actor`` None: internal callers).

    ``with_login`` (PostgreSQL): also create their database login ``login`` (default: the username) with
    ``password``, or link the existing login of that name, and grant it the privileges the app needs;
    row-level security then shows that login what the user's role may see."""
    if actor is not None:
        require_admin(session=session, actor=actor, what="add users")
    values = clean(USER_FIELDS, data, partial=False)
    username = values["username"]
    if not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValidationError("username", username, "may use only letters, digits, '.', '-' and '_'")
    if session.execute(select(User.id).where(User.username == username)).scalar() is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, name=values.get("name") or username, email=values.get("email"),
                role=values.get("role") or "sales", team_id=_team_id(session, values.get("team")))
    session.add(user)
    session.flush()
    if with_login and database_logins(session=session):
        _attach_login(session, user, login, password)
        session.flush()
    return user


def update_user(*, session: Session, actor: Actor, username: str, data: dict) -> User:
    """Change a user's name, e-mail, role or team (admins); an empty team takes them out of theirs."""
    require_admin(session=session, actor=actor, what="change users")
    user = get_user(session=session, username=username)
    given = {k: v for k, v in data.items() if v is not None}
    if not given:
        raise ValidationError("user", username, "nothing to change: give --name, --email, --role, --team or --active")
    values = clean(USER_FIELDS, {"username": user.username, **{k: v for k, v in given.items() if k != "active"}},
                   partial=True)
    if "role" in given and values.get("role") != "admin" and user.role == "admin":
        _keep_an_admin(session, user)
    if given.get("active") is not None:
        if not given["active"] and user.role == "admin":
            _keep_an_admin(session, user)
        user.active = bool(given["active"])
        _set_can_login(session, user)
    for key in ("name", "email", "role"):
        if key in given:
            setattr(user, key, values.get(key) or (user.username if key == "name" else None))
    if "team" in given:
        user.team_id = _team_id(session, values.get("team"))
    session.add(user)
    session.flush()
    return user


def _keep_an_admin(session: Session, leaving: User) -> None:
    if not has_admin(session, besides=leaving.id):
        raise ValidationError("user", leaving.username, "is the last active admin: make another user admin first")


def deactivate_user(*, session: Session, actor: Actor, username: str) -> User:
    """Deactivate a user: crm refuses to act as them; their records stay theirs until reassigned in bulk
    (`crm update opp --where 'owner=NAME' --set owner=OTHER`)."""
    require_admin(session=session, actor=actor, what="deactivate users")
    user = get_user(session=session, username=username)
    if not user.active:
        raise ValidationError("user", username, "is already inactive")
    if user.role == "admin":
        _keep_an_admin(session, user)
    user.active = False
    _set_can_login(session, user)
    session.add(user)
    session.flush()
    return user


def _set_can_login(session: Session, user: User) -> None:
    """A deactivated user's database login may not connect (NOLOGIN); a reactivated one may again."""
    if user.login and database_logins(session=session):
        from crm_tui.store import row_security

        if row_security.login_exists(session.connection(), user.login):
            row_security.set_can_login(session.connection(), user.login, bool(user.active))


# ---------------------------------------------------------------- teams


def create_team(*, session: Session, actor: Actor, name: str) -> Team:
    require_admin(session=session, actor=actor, what="add teams")
    text = (name or "").strip()
    if not text or len(text) > 64:
        raise ValidationError("team", name, "must be 1 to 64 characters")
    if session.execute(select(Team.id).where(func.lower(Team.name) == text.lower())).scalar() is not None:
        raise Conflict(f"team {text!r} already exists")
    team = Team(name=text)
    session.add(team)
    session.flush()
    return team


def list_teams(*, session: Session) -> list[dict]:
    """Every team with its number of active members."""
    counts: dict[int, int] = {}
    for tid in session.execute(select(User.team_id).where(col(User.active).is_(True),
                                                          col(User.team_id).is_not(None))).scalars():
        counts[tid] = counts.get(tid, 0) + 1
    return [{"id": t.id, "name": t.name, "members": counts.get(t.id or 0, 0)}
            for t in session.execute(select(Team).order_by(Team.name)).scalars()]


def team_members(*, session: Session, team: str) -> list[dict]:
    tid = _team_id(session, team)
    return [{"username": u.username, "name": u.name, "role": u.role, "active": u.active}
            for u in session.execute(select(User).where(User.team_id == tid).order_by(User.username)).scalars()]


def set_team(*, session: Session, actor: Actor, username: str, team: str | None) -> User:
    """Put a user in ``team`` (None: in none). A user is in one team at a time."""
    return update_user(session=session, actor=actor, username=username, data={"team": team or ""})


def remove_from_team(*, session: Session, actor: Actor, username: str, team: str) -> User:
    """Take a user out of ``team``; refused when they are not in it."""
    user = get_user(session=session, username=username)
    if user.team_id is None or user.team_id != _team_id(session, team):
        raise ValidationError("user", username, f"is not in team {team}")
    return set_team(session=session, actor=actor, username=username, team=None)


def actor_for(user: Any, session: Session | None = None) -> Actor:
    """The Actor of a row of the users table: their team, and what their role may read (the rules in
    effect, crm_tui/services/access.py; without ``session`` the defaults)."""
    from crm_tui.services.access import read_levels, write_levels

    role = user.role or DEFAULT_ROLE
    team = None
    if user.team_id is not None and session is not None:
        T = Team.__table__
        team = session.execute(select(T.c.name).where(T.c.id == user.team_id)).scalar()
    return Actor(user_id=user.id, username=user.username, role=role, team=team, team_id=user.team_id,
                 reads=read_levels(session=session, role=role), writes=write_levels(session=session, role=role))


def resolve_actor(*, session: Session, username: str, explicit: bool = True) -> Actor:
    """Who is acting: the user called ``username`` (case-insensitive), or, when the users table
    does not know that name (yet), an Actor without an id and with the default role.

    On PostgreSQL, connected with a login other than the tables' owner, "me" is the user linked to
    that login (``users.login``): a ``username`` that names someone else is refused (unless it was not
    ``explicit``: only the OS login name), and so is a login linked to no active user."""
    login_user = _login_user(session)
    if login_user is not None:
        if explicit and username and username.strip().lower() != login_user.username.lower():
            raise ValidationError("user", username, f"is not you: the database login {login_user.login} is crm "
                                                    f"user {login_user.username} (unset CRM_USER or set it to that)")
        username = login_user.username
    name = (username or "").strip()
    # Core, not ORM: every command resolves its Actor, and a Core read never configures the mappers
    # (the row has the user's columns as attributes, as ``actor_for`` reads them).
    U = User.__table__
    user = session.execute(select(U).where(func.lower(U.c.username) == name.lower())
                           .order_by((U.c.username == name).desc(), U.c.id)).first()
    if user is None:
        return Actor.unknown(name or username)
    if not user.active:
        raise ValidationError("user", user.username, "is deactivated: an admin can reactivate them "
                                                     "(crm user update NAME --active)")
    return actor_for(user, session)


def _login_user(session: Session) -> User | None:
    """The user linked to this connection's database login; None on SQLite and for the tables' owner."""
    from crm_tui.store import row_security

    conn = session.connection()
    if row_security.is_admin_connection(conn):
        return None
    login = row_security.current_login(conn)
    user = session.execute(select(User).where(User.login == login)).scalars().first()
    if user is None or not user.active:
        raise ValidationError("login", login, "is linked to no active crm user: an admin links it "
                                              "(crm user add NAME --login LOGIN)")
    return user


def actor_user_id(session: Session, actor: Actor) -> int | None:
    """The users-table id of ``actor``: its own, or (when it was resolved before the user was added,
    e.g. by the first record this run created) looked up by its username once more."""
    if actor.user_id is not None:
        return actor.user_id
    return session.execute(select(User.id).where(func.lower(User.username) == actor.username.lower())).scalar()
