"""The pipeline: the Kanban board's columns and cards, moving a deal, stage admin.

- ``board_summary`` is one grouped SQL query: count, total and weighted amount per
  stage (and currency). Weighted sums are kept raw (amount × probability, in
  hundredths of a minor unit) so they can be adjusted exactly after a move and
  rounded once, half-even, when shown.
- ``column_page`` reads one page of one column's cards (the UI fetches more as it
  scrolls), ``list_page`` one page of the list view.
- ``move_opportunity`` is one transaction: the stage rules of
  ``opportunities._prepare`` through ``records.update_record`` (optimistic
  locking, Change rows) plus a system activity on the deal's timeline.
- ``add_stage`` / ``update_stage`` / ``reorder_stages``: stages are data; a new
  probability reaches every deal that follows its stage in one UPDATE, with one
  Change row per deal written by one INSERT ... SELECT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Text, and_, cast, false, func, insert, literal, or_, select, update
from sqlmodel import Session

from crm_tui import money
from crm_tui.actor import Actor
from crm_tui.errors import Conflict, NotFound, ValidationError
from crm_tui.services import records
from crm_tui.services.fields import FORECAST_CATEGORIES
from crm_tui.services.sales import opportunities
from crm_tui.services.sales.pipeline_filter import (  # noqa: F401 - part of this module's API
    DEFAULT_LOST_REASONS,
    DEFAULT_STALLED_DAYS,
    FILTER_FIELDS,
    FILTER_HELP,
    BoardFilter,
)
from crm_tui.services.sales.stages import list_stages, resolve_stage
from crm_tui.services.validate import parse_date, parse_id
from crm_tui.settings import Settings
from crm_tui.store.models import Account, Activity, Change, Opportunity, Stage, Tag, Tagging, User, utcnow
from crm_tui.store.scope import scope

T = Opportunity.__table__
S = Stage.__table__
A = Activity.__table__

PAGE_SIZE = 40


# ---------------------------------------------------------------- configuration


def lost_reasons(settings: Settings | None = None) -> tuple[str, ...]:
    """The lost reasons to choose from: the settings' "lost_reasons", else the defaults."""
    return tuple(settings.lost_reasons) if settings is not None else DEFAULT_LOST_REASONS


def stalled_days(settings: Settings | None = None) -> int:
    """Days without a stage change or an activity after which an open deal is stalled (settings "stalled_days")."""
    return settings.stalled_days if settings is not None else DEFAULT_STALLED_DAYS


def clean_lost_reason(reason: str | None, *, reasons: Sequence[str] | None = None) -> str:
    reasons = tuple(reasons or DEFAULT_LOST_REASONS)
    text = (reason or "").strip()
    if not text:
        raise ValidationError("reason", reason, f"is required when a deal is lost; reasons are: {', '.join(reasons)}")
    for choice in reasons:
        if text.lower() == choice.lower() or text.lower() == choice.lower().replace(" ", "_"):
            return choice
    raise ValidationError("reason", reason, f"is not a lost reason; reasons are: {', '.join(reasons)}")


# ---------------------------------------------------------------- filters




def parse_filter(raw: dict[str, Any], *, actor: Actor | None = None,
                 currency: str = money.DEFAULT_CURRENCY) -> BoardFilter:
    """Build a BoardFilter from text (a form or CLI options). 'me' as owner is ``actor``.

    Every bad value is refused with a ValidationError naming it.
    """
    me = actor.username if actor is not None else None
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in FILTER_FIELDS:
            raise ValidationError(key, value, f"is not a filter; filters are: {', '.join(FILTER_FIELDS)}")
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        text = value.strip() if isinstance(value, str) else value
        if key == "owner":
            values[key] = me if (str(text).lower() == "me" and me) else str(text)
        elif key in ("close_from", "close_to"):
            values[key] = parse_date(text, field_name=key)
        elif key in ("amount_min", "amount_max"):
            if isinstance(text, int) and not isinstance(text, bool):
                values[key] = text
            else:
                try:
                    values[key] = money.parse_amount(str(text), currency)
                except money.MoneyError:
                    raise ValidationError(key, value, "is not an amount of money") from None
        else:
            values[key] = str(text)
    f = BoardFilter(**values)
    if f.close_from and f.close_to and f.close_from > f.close_to:
        raise ValidationError("close_to", f.close_to.isoformat(), f"is before close_from {f.close_from.isoformat()}")
    if f.amount_min is not None and f.amount_max is not None and f.amount_min > f.amount_max:
        raise ValidationError("amount_max", raw.get("amount_max"), "is below amount_min")
    return f




def parse_filter_text(text: str, *, actor: Actor | None = None) -> BoardFilter:
    """The board's filter bar: ``me owner:bob account:acme tag:x close:A..B amount:A..B words``.

    Ranges may be open (``close:..today``, ``amount:5000..``). Bad values raise ValidationError.
    """
    import shlex

    from crm_tui.filter_text import looks_like_expression

    if looks_like_expression(text):
        # The filter language (as in `crm opp list --where`): compiled here, so a bad one fails now.
        from crm_tui.services.registry import ENTITIES
        from crm_tui.services.where import compile_for

        compile_for(ENTITIES["opportunity"], text.strip(), actor=actor)
        return BoardFilter(where=text.strip(), me=actor.username if actor is not None else None)
    try:
        tokens = shlex.split(text or "")
    except ValueError:
        tokens = (text or "").split()
    raw: dict[str, str] = {}
    words: list[str] = []
    for token in tokens:
        key, sep, value = token.partition(":")
        if not sep:
            key, sep, value = token.partition("=")
        key = key.lower()
        if not sep:
            if token.lower() == "me":
                raw["owner"] = "me"
            else:
                words.append(token)
            continue
        if key in ("close", "amount"):
            low, dots, high = value.partition("..")
            if not dots:
                low = high = value
            names = ("close_from", "close_to") if key == "close" else ("amount_min", "amount_max")
            if low:
                raw[names[0]] = low
            if high:
                raw[names[1]] = high
        elif key in FILTER_FIELDS:
            raw[key] = value
        else:
            raise ValidationError(key, token, f"is not a filter; use {FILTER_HELP}")
    if words:
        raw["text"] = " ".join(words)
    return parse_filter(raw, actor=actor)


def _clauses(session: Session, f: BoardFilter | None, actor: Actor | None) -> list:
    """SQL conditions on the opportunities table alone (subqueries, no joins), so counts stay cheap.
    ``me`` in ``f.where`` is ``actor`` (or, for a filter parsed for someone, ``f.me``)."""
    if f is None or f.empty:
        return []
    out = []
    if f.where:
        from crm_tui.services.registry import ENTITIES
        from crm_tui.services.where import compile_for

        entity = ENTITIES["opportunity"]
        if actor is None and f.me is not None:
            actor = Actor.unknown(f.me)
        cond = compile_for(entity, f.where, actor=actor)
        # A subquery over the list query's own joins; not correlated with the outer opportunities table.
        out.append(T.c.id.in_(select(entity.table.c.id).select_from(entity.joins(entity.table)).where(cond)
                              .correlate(None).scalar_subquery()))
    if f.owner:
        me = actor.username if actor is not None else f.me
        if me and f.owner.strip().lower() == me.lower():
            # My deals: none yet when I am not a user yet (a user row is made on my first write).
            mine = session.execute(select(User.id).where(func.lower(User.username) == me.lower())).scalar()
            out.append(T.c.owner_id == mine if mine is not None else false())
        else:
            out.append(T.c.owner_id == records.user_id(session, f.owner, field_name="owner"))
    if f.account:
        if f.account.isdigit():
            out.append(T.c.account_id == parse_id(f.account, field_name="account", label="account"))
        else:
            acc = Account.__table__
            out.append(T.c.account_id.in_(
                select(acc.c.id).where(func.lower(acc.c.name).like(f"%{f.account.lower()}%")).scalar_subquery()))
    if f.tag:
        tg, tt = Tagging.__table__, Tag.__table__
        out.append(T.c.id.in_(
            select(tg.c.record_id).join(tt, tt.c.id == tg.c.tag_id)
            .where(tg.c.entity == "opportunity", func.lower(tt.c.name) == f.tag.lower()).scalar_subquery()))
    if f.close_from:
        out.append(T.c.expected_close >= f.close_from)
    if f.close_to:
        out.append(T.c.expected_close <= f.close_to)
    if f.amount_min is not None:
        out.append(T.c.amount_minor >= f.amount_min)
    if f.amount_max is not None:
        out.append(T.c.amount_minor <= f.amount_max)
    if f.text:
        acc = Account.__table__
        for word in f.text.split():
            pattern = f"%{word.lower()}%"
            out.append(or_(
                func.lower(T.c.name).like(pattern),
                func.lower(func.coalesce(T.c.next_step, "")).like(pattern),
                T.c.account_id.in_(select(acc.c.id).where(func.lower(acc.c.name).like(pattern)).scalar_subquery()),
            ))
    return out


# ---------------------------------------------------------------- the board


def round_weighted(raw: int) -> int:
    """A raw weighted sum (Σ amount × probability) in minor units, rounded once, half-even."""
    return int((Decimal(int(raw)) / Decimal(100)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@dataclass
class Totals:
    count: int = 0
    amount_minor: int = 0
    weighted_raw: int = 0  # Σ amount_minor × probability

    @property
    def weighted_minor(self) -> int:
        return round_weighted(self.weighted_raw)

    def add(self, count: int, amount: int, weighted_raw: int) -> None:
        self.count += count
        self.amount_minor += amount
        self.weighted_raw += weighted_raw


@dataclass
class Column:
    stage_id: int
    name: str
    probability: int
    position: int
    is_won: bool
    is_lost: bool
    count: int = 0
    totals: dict[str, Totals] = field(default_factory=dict)  # currency -> totals
    counted: bool = True  # False until the grouped query has filled count and totals

    @property
    def closed(self) -> bool:
        return self.is_won or self.is_lost

    def main_currency(self) -> str:
        if not self.totals:
            return money.DEFAULT_CURRENCY
        return max(self.totals.items(), key=lambda kv: kv[1].count)[0]

    def adjust(self, currency: str, count: int, amount: int, weighted_raw: int) -> None:
        self.count += count
        self.totals.setdefault(currency, Totals()).add(count, amount, weighted_raw)


def board_columns(*, session: Session) -> list[Column]:
    """Every active stage in order, not counted yet (``counted`` False): the board's skeleton."""
    return [Column(stage_id=s.id, name=s.name, probability=s.probability, position=s.position,
                   is_won=s.is_won, is_lost=s.is_lost, counted=False)
            for s in list_stages(session=session, active_only=True)]


def _scoped(stmt, actor: Actor | None):
    return scope(stmt, entity="opportunity", table=T, actor=actor)


def board_summary(*, session: Session, flt: BoardFilter | None = None, actor: Actor | None = None) -> list[Column]:
    """Every active stage in order with its count, total and raw weighted amount: one grouped query."""
    columns = {c.stage_id: c for c in board_columns(session=session)}
    for c in columns.values():
        c.counted = True
    # Group by stage_id + 0: on SQLite a plain stage_id lets the planner walk the (stage, close) index
    # and fetch every row from it, three times slower than one pass over the table.
    stage_key = (T.c.stage_id + 0).label("stage_key")
    stmt = (select(stage_key, T.c.currency, func.count(), func.coalesce(func.sum(T.c.amount_minor), 0),
                   func.coalesce(func.sum(T.c.amount_minor * T.c.probability), 0))
            .where(*_clauses(session, flt, actor)).group_by(stage_key, T.c.currency))
    stmt = _scoped(stmt, actor)
    for stage_id, currency, count, amount, weighted_raw in session.execute(stmt):
        col = columns.get(stage_id)
        if col is not None:
            col.adjust(currency, int(count), int(amount), int(weighted_raw))
    return list(columns.values())


@dataclass(frozen=True)
class Card:
    id: int
    name: str
    account: str | None
    owner: str | None
    stage_id: int
    amount_minor: int
    currency: str
    probability: int
    expected_close: dt.date | None
    actual_close: dt.date | None
    stage_changed_at: dt.datetime
    last_activity_at: dt.datetime | None
    version: int
    closed: bool
    today: dt.date
    stall_days: int

    @property
    def amount(self) -> str:
        return money.format_money(self.amount_minor, self.currency)

    @property
    def weighted_raw(self) -> int:
        return self.amount_minor * self.probability

    @property
    def days_in_stage(self) -> int:
        return max(0, (self.today - self.stage_changed_at.date()).days)

    @property
    def last_touch(self) -> dt.datetime:
        changed = self.stage_changed_at
        if self.last_activity_at is None:
            return changed
        return max(changed, self.last_activity_at)

    @property
    def stalled(self) -> bool:
        return not self.closed and (self.today - self.last_touch.date()).days >= self.stall_days

    @property
    def overdue(self) -> bool:
        return not self.closed and self.expected_close is not None and self.expected_close < self.today


def _card_select():
    acc = Account.__table__.alias("card_account")
    own = User.__table__.alias("card_owner")
    last_activity = (select(func.max(A.c.occurred_at))
                     .where(A.c.opportunity_id == T.c.id, A.c.type != "system")
                     .correlate(T).scalar_subquery())
    stmt = (select(T.c.id, T.c.name, acc.c.name.label("account"), own.c.username.label("owner"), T.c.stage_id,
                   T.c.amount_minor, T.c.currency, T.c.probability, T.c.expected_close, T.c.actual_close,
                   T.c.stage_changed_at, last_activity.label("last_activity_at"), T.c.version,
                   (S.c.is_won | S.c.is_lost).label("closed"))
            .select_from(T.join(S, S.c.id == T.c.stage_id)
                         .outerjoin(acc, acc.c.id == T.c.account_id)
                         .outerjoin(own, own.c.id == T.c.owner_id)))
    return stmt


def _cards(session: Session, stmt, today: dt.date | None, stall: int | None) -> list[Card]:
    today = today or dt.date.today()
    stall = stall or DEFAULT_STALLED_DAYS
    return [Card(**{**dict(row._mapping), "closed": bool(row.closed)}, today=today, stall_days=stall)
            for row in session.execute(stmt)]


def column_page(*, session: Session, stage_id: int, flt: BoardFilter | None = None, offset: int = 0,
                limit: int = PAGE_SIZE, today: dt.date | None = None, stall: int | None = None,
                actor: Actor | None = None) -> list[Card]:
    """One page of one column, by expected close date then id (the stage+close index serves it)."""
    stmt = _scoped(_card_select().where(T.c.stage_id == stage_id, *_clauses(session, flt, actor))
                   .order_by(T.c.expected_close, T.c.id).offset(offset).limit(limit), actor)
    return _cards(session, stmt, today, stall)


LIST_SORTS = {"expected_close": T.c.expected_close, "amount": T.c.amount_minor, "id": T.c.id, "name": T.c.name}


def list_page(*, session: Session, flt: BoardFilter | None = None, sort: str = "expected_close",
              offset: int = 0, limit: int = PAGE_SIZE, today: dt.date | None = None,
              stall: int | None = None, actor: Actor | None = None) -> list[Card]:
    """One page of the list view; sort by expected_close or amount, '-' prefix for descending."""
    key = (sort or "expected_close").strip()
    descending = key.startswith("-")
    key = key.lstrip("+-")
    if key not in LIST_SORTS:
        raise ValidationError("sort", sort, f"is not a sort; sorts are: {', '.join(LIST_SORTS)}")
    col = LIST_SORTS[key]
    order = [col.desc(), T.c.id.desc()] if descending else [col.asc(), T.c.id.asc()]
    stmt = _scoped(_card_select().where(*_clauses(session, flt, actor)).order_by(*order).offset(offset).limit(limit),
                   actor)
    return _cards(session, stmt, today, stall)


def count_matching(*, session: Session, flt: BoardFilter | None = None, actor: Actor | None = None) -> int:
    stmt = _scoped(select(func.count()).select_from(T).where(*_clauses(session, flt, actor)), actor)
    return int(session.execute(stmt).scalar() or 0)


def get_card(*, session: Session, opportunity_id: int, today: dt.date | None = None,
             stall: int | None = None, actor: Actor | None = None) -> Card:
    cards = _cards(session, _scoped(_card_select().where(T.c.id == opportunity_id), actor), today, stall)
    if not cards:
        raise NotFound("opportunity", opportunity_id)
    return cards[0]


# ---------------------------------------------------------------- moving a deal


@dataclass(frozen=True)
class Move:
    """What a move did, enough for the board to update the two columns without reloading."""

    card: Card  # after the move
    from_stage_id: int
    to_stage_id: int
    currency: str
    old_amount_minor: int
    old_probability: int
    new_probability: int
    version: int
    batch_id: str = ""  # the change log's batch of the move (``crm undo`` takes it back)


def move_opportunity(*, session: Session, opportunity_id: int, stage: Any, reason: str | None = None,
                     actor: str | Actor, expected_version: int | None = None,
                     reasons: Sequence[str] | None = None, batch_id: str | None = None) -> Move:
    """Move a deal to ``stage`` (name or id) in the caller's transaction.

    Won sets the actual close date; Lost needs a ``reason`` from ``reasons`` (the settings'
    lost_reasons; default ``DEFAULT_LOST_REASONS``);
    the probability follows the stage unless it was set by hand. Writes the Change
    rows and a system activity. With ``expected_version``, a deal changed by
    someone else since it was read is refused (Conflict); without it the move
    applies on top of the latest version. ``batch_id``: the change log's batch to write in (a new one
    by default), e.g. to undo a move together with edits saved with it. ``actor``: the Actor, whose right
    to edit the deal is checked (a deal they only read is refused with the rule), or a bare username
    (a move the system makes on someone's behalf, e.g. an accepted proposal winning its deal).
    """
    entity = opportunities.ENTITY
    username = actor.username if isinstance(actor, Actor) else actor
    try:
        oid = int(opportunity_id)
    except (TypeError, ValueError):
        raise ValidationError("id", opportunity_id, "is not an opportunity id") from None
    before = records._raw(entity, session, oid)
    target = resolve_stage(session=session, value=stage)
    if not target.active:
        raise ValidationError("stage", stage, "is not an active stage")
    if expected_version is not None and before["version"] != expected_version:
        raise Conflict(f"opportunity {oid} changed since you loaded it (version {expected_version}, "
                       f"now {before['version']}); reload it and try again")
    if target.id == before["stage_id"]:
        raise ValidationError("stage", target.name, f"is already the stage of opportunity {oid}")
    data: dict[str, Any] = {"stage": target.id}
    if target.is_lost:
        data["lost_reason"] = clean_lost_reason(reason, reasons=reasons)
    elif reason:
        raise ValidationError("reason", reason, f"applies only when moving to a lost stage, not {target.name}")
    elif before.get("lost_reason"):
        data["lost_reason"] = None  # reopened or won: the old reason no longer holds
    old_stage = session.get(Stage, before["stage_id"])
    batch = batch_id or records.new_batch_id()
    row = records.update_record(entity, session=session, record_id=oid, data=data, actor=actor,
                                expected_version=before["version"], batch_id=batch)
    subject = f"Stage: {old_stage.name if old_stage else before['stage_id']} → {target.name}"
    if target.is_lost:
        subject += f" (lost: {data['lost_reason']})"
    now = utcnow()
    session.execute(insert(A).values(
        type="system", subject=subject, body=None, occurred_at=now, completed_at=now,
        owner_id=records.ensure_user(session, username), account_id=before["account_id"], opportunity_id=oid,
        created_at=now, updated_at=now, version=1))
    card = get_card(session=session, opportunity_id=oid)
    return Move(card=card, from_stage_id=before["stage_id"], to_stage_id=target.id, currency=before["currency"],
                old_amount_minor=before["amount_minor"], old_probability=before["probability"],
                new_probability=row["probability"], version=row["version"], batch_id=batch)


def apply_move(columns: list[Column], move: Move) -> None:
    """Adjust two columns' summaries after a move, exactly as the grouped query would."""
    for col in columns:
        if col.stage_id == move.from_stage_id:
            col.adjust(move.currency, -1, -move.old_amount_minor, -move.old_amount_minor * move.old_probability)
        elif col.stage_id == move.to_stage_id:
            col.adjust(move.card.currency, 1, move.card.amount_minor, move.card.amount_minor * move.new_probability)


def neighbour_stage(columns: list[Column], stage_id: int, step: int) -> Column | None:
    ids = [c.stage_id for c in columns]
    if stage_id not in ids:
        return None
    i = ids.index(stage_id) + step
    return columns[i] if 0 <= i < len(columns) else None


# ---------------------------------------------------------------- field history


def readable_history(*, session: Session, opportunity_id: int) -> list[dict]:
    """The deal's Change rows, newest first, with stage, owner and account names and money as text."""
    records._raw(opportunities.ENTITY, session, opportunity_id)  # NotFound for an unknown id
    rows = records.history(session=session, entity="opportunity", record_id=opportunity_id)
    return opportunities.describe_changes(session, rows)


# ---------------------------------------------------------------- stage admin


def _clean_probability(value: Any) -> int:
    try:
        number = int(str(value).strip().rstrip("%")) if not isinstance(value, int) or isinstance(value, bool) else value
    except ValueError:
        raise ValidationError("probability", value, "is not a whole number") from None
    if isinstance(number, bool) or not 0 <= number <= 100:
        raise ValidationError("probability", value, "is outside 0-100")
    return number


def _clean_name(value: Any) -> str:
    name = str(value or "").strip()
    if not name:
        raise ValidationError("name", value, "is required")
    if len(name) > 64:
        raise ValidationError("name", value, "is longer than 64 characters")
    if name.isdigit():
        raise ValidationError("name", value, "must not be only digits (ids are numbers)")
    return name


def _clean_category(value: Any) -> str:
    text = str(value).strip().lower()
    for c in FORECAST_CATEGORIES:
        if text in (c, c.replace(" ", "_")):
            return c
    raise ValidationError("forecast_category", value, f"is not one of: {', '.join(FORECAST_CATEGORIES)}")


def add_stage(*, session: Session, name: str, probability: Any, position: int | None = None,
              is_won: bool = False, is_lost: bool = False, forecast_category: str | None = None) -> Stage:
    """Add a stage. Without a position it goes after the last open stage (before Won and Lost)."""
    clean_name = _clean_name(name)
    prob = _clean_probability(probability)
    if is_won and is_lost:
        raise ValidationError("is_lost", True, "cannot be set together with is_won")
    category = _clean_category(forecast_category) if forecast_category else (
        "closed" if is_won else "omitted" if is_lost else "pipeline")
    existing = session.execute(select(Stage).where(func.lower(Stage.name) == clean_name.lower())).scalar()
    if existing is not None:
        raise ValidationError("name", clean_name, "is already a stage")
    stages = list_stages(session=session)
    if position is None:
        open_positions = [s.position for s in stages if not s.is_won and not s.is_lost]
        position = (max(open_positions) + 1) if open_positions else 1
        if is_won or is_lost:
            position = max((s.position for s in stages), default=0) + 1
    elif position < 1:
        raise ValidationError("position", position, "must be 1 or more")
    # Make room: everything at or after the position shifts one down.
    session.execute(update(S).where(S.c.position >= position).values(position=S.c.position + 1))
    stage = Stage(name=clean_name, probability=prob, position=position, is_won=is_won, is_lost=is_lost,
                  forecast_category=category, active=True)
    session.add(stage)
    session.flush()
    _renumber(session)
    session.refresh(stage)
    return stage


def _renumber(session: Session) -> None:
    for i, s in enumerate(list_stages(session=session), start=1):
        if s.position != i:
            s.position = i
    session.flush()


@dataclass(frozen=True)
class StageUpdate:
    stage: Stage
    opportunities_updated: int
    batch_id: str | None


def update_stage(*, session: Session, stage: Any, actor: str, name: str | None = None,
                 probability: Any = None, forecast_category: str | None = None) -> StageUpdate:
    """Rename a stage, change its forecast category or its probability.

    A new probability is given to every deal in the stage whose probability was
    not set by hand: one UPDATE, with one Change row per deal (one batch).
    """
    st = resolve_stage(session=session, value=stage)
    new_name = _clean_name(name) if name is not None else None
    new_prob = _clean_probability(probability) if probability is not None else None
    new_cat = _clean_category(forecast_category) if forecast_category is not None else None
    if new_name is None and new_prob is None and new_cat is None:
        raise ValidationError("stage", stage, "nothing to change: give a name, probability or forecast category")
    if new_name and new_name.lower() != st.name.lower():
        clash = session.execute(select(Stage.id).where(func.lower(Stage.name) == new_name.lower())).scalar()
        if clash is not None:
            raise ValidationError("name", new_name, "is already a stage")
    if new_name:
        st.name = new_name
    if new_cat:
        st.forecast_category = new_cat
    updated = 0
    batch = None
    if new_prob is not None and new_prob != st.probability:
        st.probability = new_prob
        batch = records.new_batch_id()
        now = utcnow()
        follows = and_(T.c.stage_id == st.id, T.c.probability_manual.is_(False), T.c.probability != new_prob)
        session.execute(insert(Change.__table__).from_select(
            ["entity", "record_id", "field", "old_value", "new_value", "actor", "changed_at", "batch_id"],
            select(literal("opportunity"), T.c.id, literal("probability"),
                   cast(T.c.probability, Text),
                   literal(str(new_prob)), literal(actor), literal(now, Change.__table__.c.changed_at.type),
                   literal(batch)).where(follows)))
        result = session.execute(update(T).where(follows).values(
            probability=new_prob, version=T.c.version + 1, updated_at=now))
        updated = result.rowcount or 0  # type: ignore[attr-defined]  # DML gives a CursorResult
    session.flush()
    return StageUpdate(stage=st, opportunities_updated=updated, batch_id=batch)


def reorder_stages(*, session: Session, names: list[str]) -> list[Stage]:
    """Put the stages in this order: every stage, each once, by name or id."""
    stages = list_stages(session=session)
    seen: dict[int, Stage] = {}
    for value in names:
        st = resolve_stage(session=session, value=value)
        if st.id in seen:
            raise ValidationError("stages", value, "is given twice")
        seen[st.id] = st
    missing = [s.name for s in stages if s.id not in seen]
    if missing:
        raise ValidationError("stages", ", ".join(str(n) for n in names),
                              f"must list every stage; missing: {', '.join(missing)}")
    for i, st in enumerate(seen.values(), start=1):
        st.position = i
    session.flush()
    return list_stages(session=session)



# ---------------------------------------------------------------- the detail view


@dataclass
class Detail:
    record: dict
    history: list[dict]
    activities: list[dict]
    stages: list[tuple[int, str]]
    contact_roles: list[dict]
    lost_reasons: tuple[str, ...]
    lost_stages: tuple[str, ...] = ()
    won_stages: tuple[str, ...] = ()


def opportunity_detail(*, session: Session, opportunity_id: int, activity_limit: int = 200,
                       reasons: Sequence[str] | None = None, actor: Actor | None = None) -> Detail:
    """Everything the detail screen shows, read in one unit of work; ``reasons``: the lost reasons to offer
    (NotFound if ``actor`` may not see it)."""
    from crm_tui.services.engagement import activities

    record = records.get_record(opportunities.ENTITY, session=session, record_id=opportunity_id, actor=actor)
    raw = records._raw(opportunities.ENTITY, session, opportunity_id)
    record["owner_username"] = record.get("owner")
    record["probability_manual"] = raw["probability_manual"]
    from crm_tui.services.engagement.changes import describe_changes

    raw_history = records.history(session=session, entity="opportunity", record_id=opportunity_id)
    sentences = {r["id"]: text for r, text in zip(raw_history, describe_changes(session=session, rows=raw_history,
                                                                                 actor=actor))}
    # each row as before, plus its sentence ("Stage moved from Proposal to Negotiation"); bookkeeping has none
    hist = [{**h, "sentence": sentences.get(h["id"])} for h in opportunities.describe_changes(session, raw_history)
            if sentences.get(h["id"])]
    acts = records.list_records(activities.ENTITY, session=session, filters={"opp": opportunity_id},
                                sort="-occurred_at", limit=activity_limit, actor=actor)
    active = list_stages(session=session, active_only=True)
    return Detail(record=record, history=hist, activities=acts, stages=[(s.id, s.name) for s in active],
                  contact_roles=contact_roles(session=session, opportunity_id=opportunity_id),
                  lost_reasons=tuple(reasons or DEFAULT_LOST_REASONS), lost_stages=tuple(s.name for s in active if s.is_lost),
                  won_stages=tuple(s.name for s in active if s.is_won))


def contact_roles(*, session: Session, opportunity_id: int) -> list[dict]:
    from crm_tui.store.models import Contact, OpportunityContact

    oc, c = OpportunityContact.__table__, Contact.__table__
    stmt = (select(oc.c.contact_id, c.c.first_name, c.c.last_name, c.c.title, oc.c.role)
            .join(c, c.c.id == oc.c.contact_id).where(oc.c.opportunity_id == opportunity_id)
            .order_by(c.c.last_name, c.c.first_name))
    return [{"contact_id": r.contact_id, "name": f"{r.first_name} {r.last_name}".strip(), "title": r.title,
             "role": r.role} for r in session.execute(stmt)]


def set_contact_role(*, session: Session, opportunity_id: int, contact_id: Any, role: str | None,
                     actor: str) -> None:
    """Add a contact to the deal's buying group with a role, change the role, or (role "-") remove it."""
    from crm_tui.services.fields import BUYING_ROLES
    from crm_tui.store.models import Contact, OpportunityContact

    records._raw(opportunities.ENTITY, session, opportunity_id)
    cid = records.ref_exists(session, Contact.__table__, contact_id, "contact", "contact")
    oc = OpportunityContact.__table__
    remove = role is not None and role.strip() == "-"
    clean_role = None
    if role and not remove:
        text = role.strip().lower()
        clean_role = next((r for r in BUYING_ROLES if text in (r, r.replace(" ", "_"))), None)
        if clean_role is None:
            raise ValidationError("role", role, f"is not one of: {', '.join(BUYING_ROLES)}")
    old = session.execute(select(oc.c.role, literal(1)).where(
        oc.c.opportunity_id == opportunity_id, oc.c.contact_id == cid)).first()
    if remove:
        if old is None:
            raise ValidationError("contact", contact_id, "is not in this deal's buying group")
        session.execute(oc.delete().where(oc.c.opportunity_id == opportunity_id, oc.c.contact_id == cid))
        new_value = None
    elif old is None:
        session.execute(insert(oc).values(opportunity_id=opportunity_id, contact_id=cid, role=clean_role))
        new_value = clean_role or "(member)"
    else:
        session.execute(update(oc).where(oc.c.opportunity_id == opportunity_id, oc.c.contact_id == cid)
                        .values(role=clean_role))
        new_value = clean_role or "(member)"
    old_value = None if old is None else (old[0] or "(member)")
    if old_value != new_value:
        records.record_changes(session, entity="opportunity", record_id=opportunity_id,
                               changes={f"contact_role:{cid}": (old_value, new_value)}, actor=actor,
                               batch_id=records.new_batch_id())
