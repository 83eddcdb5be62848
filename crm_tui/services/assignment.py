"""Assignment: giving a lead or deal to a user, by hand or by rule, and telling them.

- ``assign`` gives one record to a user: the acting user needs the assign right on it (and to be
  able to read it), the change is in the record's history like any owner change, and the new
  owner is notified ("Lead X assigned to you by Y").
- Rules (``add_rule``, admins) decide the owner of a new lead or deal created without one (`crm lead
  add` without --owner, the app's forms left on "me", an import without an owner column, intake):
  the first active rule by position that matches wins. ``round_robin`` rules take turns among the
  active members of a team (``last_user_id`` remembers whose turn it was); ``field`` rules give
  the record to one user when a field equals a value (case-insensitive). A round-robin rule may
  have a field condition too. Leads match on their own state, industry, source and country;
  deals on their source, and on their account's state, industry and country. No rule matches:
  the creator owns the record, as without rules.
- Every owner change through ``records.update_record`` / ``create_record`` (the form, `crm opp update
  --owner`, ``assign``) notifies the new owner (``after_write``), and a deal moved to a won or lost
  stage notifies its owner and their team (those of them whose role lets them read it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from crm_tui.actor import Actor
from crm_tui.errors import NotFound, ValidationError
from crm_tui.services import notifications
from crm_tui.store.models import (
    ASSIGNMENT_ENTITIES,
    ASSIGNMENT_KINDS,
    Account,
    AssignmentRule,
    Stage,
    Team,
    User,
)

R = AssignmentRule.__table__
U = User.__table__
RULE_FIELDS = ("state", "industry", "source", "country")
RULE_COLUMNS = ("id", "position", "entity", "kind", "field", "value", "team", "user", "last_user", "active")
WORDS = {"lead": "Lead", "opportunity": "Deal"}
PLURAL_WORDS = {"lead": "leads", "opportunity": "deals"}
_RULE_FLAG = "crm_assigned_by_rule"  # session.info: the team a rule just gave a new record to


def _entity_name(entity: str) -> str:
    from crm_tui.services.registry import entry_for

    name = entry_for(entity).name
    if name not in ASSIGNMENT_ENTITIES:
        raise ValidationError("entity", entity, "is not assignable: give lead or opportunity")
    return name


def _active_user(session: Session, username: str, field_name: str = "to") -> Any:
    row = session.execute(select(U.c.id, U.c.username, U.c.active)
                          .where(func.lower(U.c.username) == str(username or "").strip().lower())).first()
    if row is None:
        raise ValidationError(field_name, username, "is not a user (crm user list)")
    if not row.active:
        raise ValidationError(field_name, username, "is deactivated: assign to an active user")
    return row


# ---------------------------------------------------------------- assigning by hand


def assign(*, session: Session, entity: str, record_id: int, to_user: str, actor: Actor) -> dict:
    """Give record ``record_id`` of ``entity`` (lead or opportunity) to ``to_user``; the record after."""
    from crm_tui.services import records
    from crm_tui.services.registry import ENTITIES

    name = _entity_name(entity)
    target = _active_user(session, to_user)
    E = ENTITIES[name]
    current = records.get_record(E, session=session, record_id=record_id, actor=actor)
    if (current.get("owner") or "").lower() == target.username.lower():
        raise ValidationError("to", to_user, f"already owns {name} {record_id}")
    records.check_right(E, session, record_id, actor, "assign")
    return records.update_record(E, session=session, record_id=record_id, data={"owner": target.username},
                                 actor=actor)


def assignable_users(*, session: Session) -> list[dict]:
    """The active users a record can be given to, by name: for the app's picker."""
    rows = session.execute(select(U.c.id, U.c.username, U.c.name).where(col(U.c.active).is_(True))
                           .order_by(func.lower(func.coalesce(func.nullif(U.c.name, ""), U.c.username)), U.c.id))
    return [{"id": r.id, "username": r.username, "name": r.name or r.username} for r in rows]


# ---------------------------------------------------------------- rules


def add_rule(*, session: Session, actor: Actor, entity: str, kind: str, team: str | None = None,
             field: str | None = None, value: str | None = None, user: str | None = None,
             position: int | None = None) -> dict:
    """Add a rule (admins). round_robin needs a team; field needs a field, a value and a user."""
    from crm_tui.services.users import require_admin

    require_admin(session=session, actor=actor, what="change assignment rules")
    name = _entity_name(entity)
    kind = (kind or "").strip().lower().replace("-", "_")
    if kind not in ASSIGNMENT_KINDS:
        raise ValidationError("kind", kind, f"is not one of: {', '.join(ASSIGNMENT_KINDS)}")
    field_name = (field or "").strip().lower() or None
    text = (value or "").strip() or None
    if field_name is not None and field_name not in RULE_FIELDS:
        raise ValidationError("field", field, f"is not one of: {', '.join(RULE_FIELDS)}")
    if (field_name is None) != (text is None):
        raise ValidationError("value" if field_name else "field", value if field_name else field,
                              "a field condition needs both --field and --value")
    if text is not None and len(text) > 200:
        raise ValidationError("value", text, "is longer than 200 characters")
    team_id = user_id = None
    if kind == "round_robin":
        if not (team or "").strip():
            raise ValidationError("team", team, "is required for a round-robin rule")
        if user:
            raise ValidationError("user", user, "a round-robin rule picks among the team; give --team only")
        team_id = session.execute(select(Team.id).where(func.lower(Team.name) == team.strip().lower())).scalar()
        if team_id is None:
            raise ValidationError("team", team, "is not a team (crm team list)")
    else:
        if field_name is None:
            raise ValidationError("field", field, "is required for a field rule (one of: "
                                                  f"{', '.join(RULE_FIELDS)})")
        if team:
            raise ValidationError("team", team, "a field rule gives the record to one user; give --user")
        if not (user or "").strip():
            raise ValidationError("user", user, "is required for a field rule")
        user_id = _active_user(session, user, "user").id
    if position is None:
        position = int(session.execute(select(func.coalesce(func.max(R.c.position), 0))).scalar() or 0) + 1
    rule = AssignmentRule(entity=name, kind=kind, team_id=team_id, field=field_name, value=text, user_id=user_id,
                          position=int(position), active=True)
    session.add(rule)
    session.flush()
    return _rule_rows(session, rule.id)[0]


def list_rules(*, session: Session, entity: str | None = None) -> list[dict]:
    return _rule_rows(session, None, _entity_name(entity) if entity else None)


def _rule_rows(session: Session, rule_id: int | None, entity: str | None = None) -> list[dict]:
    T = Team.__table__
    owner, last = U.alias("rule_user"), U.alias("rule_last")
    stmt = (select(R, T.c.name.label("team"), owner.c.username.label("user"), last.c.username.label("last_user"))
            .select_from(R.outerjoin(T, T.c.id == R.c.team_id).outerjoin(owner, owner.c.id == R.c.user_id)
                         .outerjoin(last, last.c.id == R.c.last_user_id))
            .order_by(R.c.position, R.c.id))
    if rule_id is not None:
        stmt = stmt.where(R.c.id == rule_id)
    if entity is not None:
        stmt = stmt.where(R.c.entity == entity)
    return [{k: r._mapping[k] for k in RULE_COLUMNS} for r in session.execute(stmt)]


def remove_rule(*, session: Session, actor: Actor, rule_id: int) -> dict:
    from crm_tui.services.users import require_admin

    require_admin(session=session, actor=actor, what="change assignment rules")
    rows = _rule_rows(session, rule_id)
    if not rows:
        raise NotFound("assignment rule", rule_id)
    session.execute(R.delete().where(R.c.id == rule_id))
    return rows[0]


@dataclass
class _Rule:
    id: int
    kind: str
    field: str | None
    value: str | None
    user_id: int | None
    team_id: int | None
    last_user_id: int | None
    members: list[int]
    last_saved: int | None


class Picker:
    """The owner the rules give new records of one entity: load the rules once, ``pick`` for each new
    record (round-robin turns advance in memory), ``save`` the turns (one UPDATE per rule used).
    The rules are read under a lock held until the transaction ends (PostgreSQL: the rows, FOR UPDATE;
    SQLite: the write lock), so two writers at once take turns one after the other."""

    def __init__(self, session: Session, entity: str):
        self.session, self.entity = session, entity
        stmt = select(R).where(R.c.entity == entity, col(R.c.active).is_(True)).order_by(R.c.position, R.c.id)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        else:
            # SQLite: the write lock before reading whose turn it is (the caller is about to write the new
            # record anyway); read outside it, two writers at once would give the same turn twice.
            from crm_tui.store.db import begin_write

            begin_write(session)
        rows = list(session.execute(stmt))
        members: dict[int, list[int]] = {}
        teams = {r.team_id for r in rows if r.kind == "round_robin" and r.team_id is not None}
        if teams:
            for uid, tid in session.execute(select(U.c.id, U.c.team_id).where(
                    U.c.team_id.in_(teams), col(U.c.active).is_(True)).order_by(U.c.id)):
                members.setdefault(tid, []).append(uid)
        self.rules = [_Rule(r.id, r.kind, r.field, (r.value or "").strip().lower() or None, r.user_id, r.team_id,
                            r.last_user_id, members.get(r.team_id, []) if r.kind == "round_robin" else [],
                            r.last_user_id) for r in rows]
        active_users = {uid for (uid,) in session.execute(select(U.c.id).where(col(U.c.active).is_(True)))} \
            if any(r.kind == "field" for r in self.rules) else set()
        self.rules = [r for r in self.rules if r.kind == "round_robin" or r.user_id in active_users]
        self._accounts: dict[int, dict[str, Any]] = {}
        self.last_team: int | None = None

    def __bool__(self) -> bool:
        return bool(self.rules)

    def _field(self, values: dict, name: str) -> str | None:
        if self.entity == "opportunity" and name != "source":
            account_id = values.get("account_id")
            if account_id is None:
                return None
            if account_id not in self._accounts:
                A = Account.__table__
                row = self.session.execute(select(A.c.state, A.c.industry, A.c.country)
                                           .where(A.c.id == account_id)).first()
                self._accounts[account_id] = dict(row._mapping) if row else {}
            found = self._accounts[account_id].get(name)
        else:
            found = values.get(name)
        return str(found).strip().lower() if found is not None and str(found).strip() else None

    def pick(self, values: dict) -> int | None:
        """The owner for a new record with these column values, or None when no rule matches."""
        self.last_team = None
        for rule in self.rules:
            if rule.field is not None and self._field(values, rule.field) != rule.value:
                continue
            if rule.kind == "field":
                return rule.user_id
            if not rule.members:
                continue
            later = [m for m in rule.members if rule.last_user_id is None or m > rule.last_user_id]
            rule.last_user_id = later[0] if later else rule.members[0]
            self.last_team = rule.team_id
            return rule.last_user_id
        return None

    def save(self) -> None:
        for rule in self.rules:
            if rule.last_user_id != rule.last_saved:
                self.session.execute(update(R).where(R.c.id == rule.id).values(last_user_id=rule.last_user_id))
                rule.last_saved = rule.last_user_id


def rule_owner(entity: str, session: Session, values: dict) -> int | None:
    """The owner the rules give one new record (``create_record``'s default owner), or None."""
    picker = Picker(session, entity)
    if not picker:
        return None
    owner = picker.pick(values)
    picker.save()
    if owner is not None:
        session.info[_RULE_FLAG] = picker.last_team if picker.last_team is not None else \
            notifications.user_team(session, owner)
    return owner


# ---------------------------------------------------------------- telling people


def _label(entity: str, row: dict) -> str:
    if entity == "lead":
        from crm_tui.services.sales.leads import lead_label

        return lead_label(row)
    return str(row.get("name") or f"#{row.get('id')}")


def _actor_id(session: Session, username: str | None) -> int | None:
    if not username:
        return None
    return session.execute(select(U.c.id).where(func.lower(U.c.username) == username.lower())).scalar()


def after_write(entity: str, session: Session, before: dict | None, after: dict | None, actor: str) -> None:
    """The records' ``after_write`` hook for leads and deals: notify a new owner, a new lead's team
    (when a rule assigned it), and a deal's team when it is won or lost."""
    if after is None:
        return
    from crm_tui.services import records
    from crm_tui.services.registry import ENTITIES

    hidden = False
    try:
        raw = records._raw(ENTITIES[entity], session, after["id"])
    except NotFound:  # a new record the rules gave someone the writer may not read (PostgreSQL): as written
        raw, hidden = after, True
    owner = raw.get("owner_id")
    actor_id = _actor_id(session, actor)
    who = notifications.display_name(session, actor_id, actor or "someone")
    label = _label(entity, {**raw, **after})
    ruled = before is None and _RULE_FLAG in session.info  # a rule chose the owner, not the writer
    by_rule = session.info.pop(_RULE_FLAG, None) if before is None else None
    if owner is not None and owner != actor_id and (before is None or before.get("owner_id") != owner):
        how = f"by a rule (added by {who})" if ruled else f"by {who}"
        notifications.notify(session=session, user_id=owner, kind="assigned",
                             title=f"{WORDS[entity]} {label} assigned to you {how}",
                             entity=entity, record_id=raw["id"])
    if entity == "lead" and before is None and by_rule is not None:
        notify_new_lead(session=session, lead_id=raw["id"], team_id=by_rule, exclude={owner, actor_id}, label=label,
                        owned_by=owner if hidden else None)
    if entity == "opportunity" and before is not None and before.get("stage_id") != raw.get("stage_id"):
        stage = session.get(Stage, raw["stage_id"])
        if stage is not None and (stage.is_won or stage.is_lost):
            _deal_closed(session, raw, label, stage, actor_id, who)


def notify_new_lead(*, session: Session, lead_id: int, team_id: int | None, exclude: set[int | None],
                    label: str | None = None, owned_by: int | None = None) -> list[int]:
    """Tell the members of ``team_id`` who may read the lead (managers, usually) that it came in
    (``owned_by``: its owner, when the writer may not read it: decided from the owner)."""
    if label is None:
        from crm_tui.services import records
        from crm_tui.services.sales.leads import ENTITY

        label = _label("lead", records.get_record(ENTITY, session=session, record_id=lead_id))
    team = session.execute(select(Team.name).where(Team.id == team_id)).scalar() if team_id else None
    made = []
    for uid in notifications.team_readers(session, entity="lead", record_id=lead_id, team_id=team_id,
                                          exclude=exclude, owned_by=owned_by):
        nid = notifications.notify(session=session, user_id=uid, kind="team_lead",
                                   title=f"New lead {label} for {team or 'your team'}", entity="lead",
                                   record_id=lead_id)
        if nid is not None:
            made.append(nid)
    return made


def _deal_closed(session: Session, raw: dict, label: str, stage: Stage, actor_id: int | None, who: str) -> None:
    owner = raw.get("owner_id")
    kind = "deal_won" if stage.is_won else "deal_lost"
    owner_name = notifications.display_name(session, owner, "nobody")
    title = f"Deal {label} {'won' if stage.is_won else 'lost'} ({owner_name})"
    body = f"Moved to {stage.name} by {who}" + (f"; reason: {raw['lost_reason']}" if raw.get("lost_reason") else "")
    people = [] if owner is None or owner == actor_id else [owner]
    people += notifications.team_readers(session, entity="opportunity", record_id=raw["id"],
                                         team_id=notifications.user_team(session, owner),
                                         exclude={owner, actor_id})
    for uid in people:
        notifications.notify(session=session, user_id=uid, kind=kind, title=title, body=body,
                             entity="opportunity", record_id=raw["id"])


def notify_created(*, session: Session, entity: str, created: list[tuple[int, int | None, str]], actor: str,
                   by_rule: dict[int, int | None] | None = None) -> int:
    """After a bulk create (an import): tell each owner other than ``actor`` what they were given,
    one notification per owner (naming the record when it is one, counting them otherwise), and the
    teams of the leads rules assigned. ``created``: (id, owner id, label). How many were made."""
    actor_id = _actor_id(session, actor)
    who = notifications.display_name(session, actor_id, actor or "someone")
    per_owner: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for rid, owner, label in created:
        if owner is not None and owner != actor_id:
            per_owner[owner].append((rid, label))
    made = 0
    for owner, items in per_owner.items():
        ruled = bool(by_rule) and all(rid in by_rule for rid, _label in items)  # rules chose, not the importer
        how = f"by a rule (imported by {who})" if ruled else f"by {who}"
        if len(items) == 1:
            rid, label = items[0]
            title, record_id = f"{WORDS[entity]} {label} assigned to you {how}", rid
        else:
            title, record_id = f"{len(items)} {PLURAL_WORDS[entity]} assigned to you {how}", None
        if notifications.notify(session=session, user_id=owner, kind="assigned", title=title, entity=entity,
                                record_id=record_id) is not None:
            made += 1
    if entity == "lead" and by_rule:
        made += _team_leads_summary(session, created, by_rule, actor_id)
    return made


def notify_given(*, session: Session, entity: str, actor: str, owner_id: int, count: int, record_id: int | None,
                 label: str | None) -> int | None:
    """After a bulk owner change: tell the new owner once (unless it is the actor), naming the record when
    it is one, counting them otherwise."""
    actor_id = _actor_id(session, actor)
    if owner_id == actor_id or not count:
        return None
    who = notifications.display_name(session, actor_id, actor or "someone")
    title = (f"{WORDS[entity]} {label} assigned to you by {who}" if count == 1 else
             f"{count} {PLURAL_WORDS[entity]} assigned to you by {who}")
    return notifications.notify(session=session, user_id=owner_id, kind="assigned", title=title, entity=entity,
                                record_id=record_id if count == 1 else None)


def _team_leads_summary(session: Session, created: list[tuple[int, int | None, str]],
                        by_rule: dict[int, int | None], actor_id: int | None) -> int:
    """One "new leads for your team" notification per team member who may read some of the leads
    rules gave their team (their own excepted: those were "assigned to you")."""
    from crm_tui.services.sales.leads import T as LEADS
    from crm_tui.services.users import actor_for
    from crm_tui.store.visibility import visible

    labels = {rid: label for rid, _o, label in created}
    per_team: dict[int, list[int]] = defaultdict(list)
    for rid, team_id in by_rule.items():
        if team_id is not None:
            per_team[team_id].append(rid)
    made = 0
    for team_id, ids in per_team.items():
        team = session.execute(select(Team.name).where(Team.id == team_id)).scalar()
        members = session.execute(select(User).where(User.team_id == team_id, col(User.active).is_(True))
                                  .order_by(User.id)).scalars().all()
        for member in members:
            if member.id == actor_id:
                continue
            stmt = visible(select(LEADS.c.id).where(LEADS.c.id.in_(ids), (LEADS.c.owner_id != member.id)
                                                    | LEADS.c.owner_id.is_(None)).order_by(LEADS.c.id),
                           entity="lead", table=LEADS, actor=actor_for(member, session))
            seen = list(session.execute(stmt).scalars())
            if not seen:
                continue
            if len(seen) == 1:
                title, record_id = f"New lead {labels.get(seen[0], seen[0])} for {team}", seen[0]
            else:
                title, record_id = f"{len(seen)} new leads for {team}", None
            if notifications.notify(session=session, user_id=member.id, kind="team_lead", title=title,
                                    entity="lead", record_id=record_id) is not None:
                made += 1
    return made


def proposal_accepted(*, session: Session, proposal: dict, actor: str) -> None:
    """Tell the owner of an accepted proposal's deal (unless they recorded it themselves)."""
    from crm_tui.store.models import Opportunity

    D = Opportunity.__table__
    opp = session.execute(select(D.c.id, D.c.name, D.c.owner_id).where(D.c.id == proposal["opportunity_id"])).first()
    if opp is None or opp.owner_id is None or opp.owner_id == _actor_id(session, actor):
        return
    number = proposal.get("number") or f"#{proposal.get('id')}"
    notifications.notify(session=session, user_id=opp.owner_id, kind="proposal_accepted",
                         title=f"Proposal {number} for {opp.name} accepted",
                         body=f"Recorded by {notifications.display_name(session, _actor_id(session, actor), actor)}",
                         entity="proposal", record_id=proposal.get("id"))
