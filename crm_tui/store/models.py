"""SQLModel tables. Every schema change goes through an Alembic migration.

Money columns are integer minor units (``*_minor``) next to an ISO 4217
``currency`` column. Every editable record carries a ``version`` used for
optimistic locking, so two writers never overwrite each other silently.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar, Optional

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, MetaData, Table, Text, UniqueConstraint
from sqlmodel import Field
from sqlmodel import SQLModel as _SQLModel

from crm_tui.store.types import UTCDateTime

if TYPE_CHECKING:
    class SQLModel(_SQLModel):
        """What the type checker sees: a table class carries its ``__table__`` (SQLModel does not declare it)."""

        __table__: ClassVar[Table]
else:
    SQLModel = _SQLModel

# Stable constraint names on every backend, so migrations can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata
# The pydantic side of a model (its validator and serializer) is built on first use, not on import: the
# CLI's reads use the tables only, and building 25 validators up front costs every command time.
SQLModel.model_config["defer_build"] = True

USER_ROLES = ("admin", "manager", "sales", "finance")
ACCOUNT_STATUSES = ("prospect", "active", "churned")
LEAD_STATUSES = ("new", "contacted", "nurture", "qualified", "unqualified", "converted", "junk")
BUYING_ROLES = ("decision maker", "champion", "influencer", "user", "blocker")
ACTIVITY_TYPES = ("call", "meeting", "email", "note", "task", "whatsapp", "system")
FORECAST_CATEGORIES = ("pipeline", "best case", "commit", "closed", "omitted")


def utcnow() -> dt.datetime:
    """Now, in UTC, timezone-aware, to the second."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


class Versioned(SQLModel):
    version: int = Field(default=1, nullable=False)
    created_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)


class Team(SQLModel, table=True):
    """A sales team: its manager sees its members' records (the roles' "team" level)."""

    __tablename__: ClassVar[str] = "teams"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, nullable=False)
    created_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    __tablename__: ClassVar[str] = "users"

    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, nullable=False)
    name: str = Field(default="", max_length=200, nullable=False)
    email: Optional[str] = Field(default=None, max_length=254)
    role: str = Field(default="sales", max_length=16, nullable=False)
    active: bool = Field(default=True, nullable=False)
    created_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)
    team_id: Optional[int] = Field(default=None, foreign_key="teams.id", index=True)  # one team per user
    # The PostgreSQL login this user connects with ("me" on PostgreSQL is the login); None on SQLite.
    login: Optional[str] = Field(default=None, max_length=63, unique=True)


class AccountShare(SQLModel, table=True):
    """An account shared with a user (for learning): they may read it in full, its contacts, deals,
    activities and history, whatever their role's levels say."""

    __tablename__: ClassVar[str] = "account_shares"

    account_id: int = Field(foreign_key="accounts.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", primary_key=True, index=True, ondelete="CASCADE")
    shared_by: str = Field(default="", max_length=64, nullable=False)
    created_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)


class RoleRule(SQLModel, table=True):
    """An admin's change to a role's default access (services/access.py holds the defaults):
    ``role`` may ``action`` (read, edit, delete, assign) records of ``entity`` at ``level``
    (all, team, own, linked, none)."""

    __tablename__: ClassVar[str] = "role_rules"
    __table_args__ = (UniqueConstraint("role", "entity", "action", name="uq_role_rules_role"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    role: str = Field(max_length=16, nullable=False)
    entity: str = Field(max_length=32, nullable=False)
    action: str = Field(max_length=16, nullable=False)
    level: str = Field(max_length=16, nullable=False)
    changed_by: str = Field(default="", max_length=64, nullable=False)
    changed_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)


class Account(Versioned, table=True):
    __tablename__: ClassVar[str] = "accounts"
    __table_args__ = (Index("ix_accounts_name", "name"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, nullable=False)
    website: Optional[str] = Field(default=None, max_length=255)
    industry: Optional[str] = Field(default=None, max_length=100, index=True)
    phone: Optional[str] = Field(default=None, max_length=50)
    email: Optional[str] = Field(default=None, max_length=254)
    street: Optional[str] = Field(default=None, max_length=200)
    city: Optional[str] = Field(default=None, max_length=100)
    state: Optional[str] = Field(default=None, max_length=100, index=True)
    postal_code: Optional[str] = Field(default=None, max_length=20)
    country: Optional[str] = Field(default=None, max_length=100)
    status: str = Field(default="prospect", max_length=16, nullable=False)
    owner_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True)
    source: Optional[str] = Field(default=None, max_length=100)
    employees: Optional[int] = Field(default=None)
    description: Optional[str] = Field(default=None, sa_column=Column(Text))
    lifetime_value_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    currency: str = Field(default="USD", max_length=3, nullable=False)


class Contact(Versioned, table=True):
    __tablename__: ClassVar[str] = "contacts"

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: Optional[int] = Field(default=None, foreign_key="accounts.id", index=True)
    first_name: str = Field(default="", max_length=100, nullable=False)
    last_name: str = Field(max_length=100, nullable=False)
    email: Optional[str] = Field(default=None, max_length=254, index=True)
    phone: Optional[str] = Field(default=None, max_length=50)
    title: Optional[str] = Field(default=None, max_length=150)
    buying_role: Optional[str] = Field(default=None, max_length=32)
    is_primary: bool = Field(default=False, nullable=False)
    reports_to_id: Optional[int] = Field(default=None, foreign_key="contacts.id")
    owner_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True)
    notes: Optional[str] = Field(default=None, sa_column=Column(Text))


class Stage(SQLModel, table=True):
    __tablename__: ClassVar[str] = "stages"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, nullable=False)
    probability: int = Field(nullable=False)
    position: int = Field(nullable=False)
    is_won: bool = Field(default=False, nullable=False)
    is_lost: bool = Field(default=False, nullable=False)
    forecast_category: str = Field(default="pipeline", max_length=16, nullable=False)
    active: bool = Field(default=True, nullable=False)


class Opportunity(Versioned, table=True):
    __tablename__: ClassVar[str] = "opportunities"
    __table_args__ = (
        Index("ix_opportunities_stage_close", "stage_id", "expected_close"),
        Index("ix_opportunities_owner_stage", "owner_id", "stage_id"),
        # The forecast's grouped query reads these two indexes only, in group order (no sort):
        # closed deals by actual close date, open ones (actual_close NULL) by expected close date.
        Index("ix_opportunities_forecast_closed", "actual_close", "stage_id", "currency", "owner_id",
              "forecast_category", "amount_minor", "created_at"),
        Index("ix_opportunities_forecast_open", "actual_close", "expected_close", "stage_id", "currency", "owner_id",
              "forecast_category", "amount_minor", "probability"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, nullable=False)
    account_id: Optional[int] = Field(default=None, foreign_key="accounts.id", index=True)
    primary_contact_id: Optional[int] = Field(default=None, foreign_key="contacts.id")
    owner_id: Optional[int] = Field(default=None, foreign_key="users.id")
    stage_id: int = Field(foreign_key="stages.id", nullable=False)
    probability: int = Field(nullable=False)
    probability_manual: bool = Field(default=False, nullable=False)
    amount_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    currency: str = Field(default="USD", max_length=3, nullable=False)
    expected_close: Optional[dt.date] = Field(default=None, index=True)
    actual_close: Optional[dt.date] = Field(default=None)
    source: Optional[str] = Field(default=None, max_length=100)
    description: Optional[str] = Field(default=None, sa_column=Column(Text))
    next_step: Optional[str] = Field(default=None, max_length=255)
    lost_reason: Optional[str] = Field(default=None, max_length=100)
    competitors: Optional[str] = Field(default=None, max_length=255)
    forecast_category: Optional[str] = Field(default=None, max_length=16)
    stage_changed_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)


class OpportunityContact(SQLModel, table=True):
    """A contact's role in one opportunity's buying group."""

    __tablename__: ClassVar[str] = "opportunity_contacts"

    opportunity_id: int = Field(foreign_key="opportunities.id", primary_key=True, ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contacts.id", primary_key=True, ondelete="CASCADE")
    role: Optional[str] = Field(default=None, max_length=32)


class Lead(Versioned, table=True):
    __tablename__: ClassVar[str] = "leads"
    __table_args__ = (Index("ix_leads_status_owner", "status", "owner_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    first_name: str = Field(default="", max_length=100, nullable=False)
    last_name: str = Field(default="", max_length=100, nullable=False)
    email: Optional[str] = Field(default=None, max_length=254, index=True)
    phone: Optional[str] = Field(default=None, max_length=50)
    title: Optional[str] = Field(default=None, max_length=150)
    company: Optional[str] = Field(default=None, max_length=200)
    website: Optional[str] = Field(default=None, max_length=255)
    industry: Optional[str] = Field(default=None, max_length=100)
    city: Optional[str] = Field(default=None, max_length=100)
    state: Optional[str] = Field(default=None, max_length=100)
    country: Optional[str] = Field(default=None, max_length=100)
    source: Optional[str] = Field(default=None, max_length=100)
    status: str = Field(default="new", max_length=16, nullable=False)
    score: int = Field(default=0, nullable=False)
    owner_id: Optional[int] = Field(default=None, foreign_key="users.id")
    next_follow_up: Optional[dt.datetime] = Field(default=None, index=True, sa_type=UTCDateTime)
    notes: Optional[str] = Field(default=None, sa_column=Column(Text))
    converted_at: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    converted_account_id: Optional[int] = Field(default=None, foreign_key="accounts.id")
    converted_contact_id: Optional[int] = Field(default=None, foreign_key="contacts.id")
    converted_opportunity_id: Optional[int] = Field(default=None, foreign_key="opportunities.id")


class Activity(Versioned, table=True):
    __tablename__: ClassVar[str] = "activities"
    __table_args__ = (Index("ix_activities_owner_due", "owner_id", "due_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    type: str = Field(max_length=16, nullable=False)
    subject: str = Field(max_length=255, nullable=False)
    body: Optional[str] = Field(default=None, sa_column=Column(Text))
    due_at: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    duration_minutes: Optional[int] = Field(default=None)  # a scheduled call, meeting or task: how long
    completed_at: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    occurred_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)
    owner_id: Optional[int] = Field(default=None, foreign_key="users.id")
    account_id: Optional[int] = Field(default=None, foreign_key="accounts.id", index=True)
    contact_id: Optional[int] = Field(default=None, foreign_key="contacts.id", index=True)
    lead_id: Optional[int] = Field(default=None, foreign_key="leads.id", index=True)
    opportunity_id: Optional[int] = Field(default=None, foreign_key="opportunities.id", index=True)


class Change(SQLModel, table=True):
    """One field of one record changed: who, when, from what, to what, in which batch."""

    __tablename__: ClassVar[str] = "changes"
    __table_args__ = (
        # A record's history is found by its id alone: an integer key is half the size of
        # (entity, record_id) and cheaper to insert into, and the few rows of other entities
        # with the same id are filtered out after the look-up.
        Index("ix_changes_record", "record_id"),
        Index("ix_changes_batch", "batch_id"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    entity: str = Field(max_length=32, nullable=False)
    record_id: int = Field(nullable=False)
    field: str = Field(max_length=64, nullable=False)
    old_value: Optional[str] = Field(default=None, sa_column=Column(Text))
    new_value: Optional[str] = Field(default=None, sa_column=Column(Text))
    actor: str = Field(max_length=64, nullable=False)
    changed_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)
    batch_id: str = Field(max_length=32, nullable=False)


class Tag(SQLModel, table=True):
    __tablename__: ClassVar[str] = "tags"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, nullable=False)


class Tagging(SQLModel, table=True):
    """A tag on any record: (entity, record, tag).

    The key alone serves every look-up: a record's tags, and whether a record has a tag.
    On SQLite the rows live in the key (WITHOUT ROWID), so tagging or untagging a record
    writes one b-tree.

    tag_id names a row of tags but is not declared a foreign key: with one declared,
    SQLite deletes from this table in two passes (the first only to collect the rows),
    which doubled the cost of untagging 100,000 records. Tags are never deleted, and
    every writer takes the id from the tags table in the same transaction (bulk._tag_id)."""

    __tablename__: ClassVar[str] = "taggings"
    __table_args__ = {"sqlite_with_rowid": False}

    entity: str = Field(max_length=32, primary_key=True)
    record_id: int = Field(primary_key=True)
    tag_id: int = Field(primary_key=True)
    created_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)


class SavedView(SQLModel, table=True):
    """A named filter (the one filter language), sort and columns for one entity."""

    __tablename__: ClassVar[str] = "saved_views"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True, nullable=False)
    entity: str = Field(max_length=32, nullable=False)
    where: Optional[str] = Field(default=None, sa_column=Column("where_text", Text))
    sort: Optional[str] = Field(default=None, max_length=100)
    columns: Optional[str] = Field(default=None, max_length=1000)
    owner: Optional[str] = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)


class Quota(SQLModel, table=True):
    """A user's sales target for one month (``month`` is the first day of that month)."""

    __tablename__: ClassVar[str] = "quotas"
    __table_args__ = (UniqueConstraint("user_id", "month", name="uq_quotas_user_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", nullable=False, ondelete="CASCADE")
    month: dt.date = Field(nullable=False, index=True)
    amount_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    currency: str = Field(default="USD", max_length=3, nullable=False)


class ForecastSnapshot(SQLModel, table=True):
    """The open pipeline as it stood at one moment, so a later forecast can be compared with it."""

    __tablename__: ClassVar[str] = "forecast_snapshots"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: Optional[str] = Field(default=None, max_length=100)
    taken_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)
    actor: str = Field(max_length=64, nullable=False)
    opportunities: int = Field(default=0, nullable=False)
    # Deals with a higher id were created after the snapshot (timestamps alone tie within a second).
    last_opportunity_id: int = Field(default=0, nullable=False)


class ForecastSnapshotRow(SQLModel, table=True):
    """One open opportunity in a snapshot. No foreign key to the deal: a deleted deal stays in history."""

    __tablename__: ClassVar[str] = "forecast_snapshot_rows"

    snapshot_id: int = Field(sa_column=Column(Integer, ForeignKey("forecast_snapshots.id", ondelete="CASCADE"),
                                              primary_key=True))
    opportunity_id: int = Field(primary_key=True)
    name: str = Field(max_length=200, nullable=False)
    owner_id: Optional[int] = Field(default=None)
    stage_id: int = Field(nullable=False)
    probability: int = Field(nullable=False)
    amount_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    currency: str = Field(max_length=3, nullable=False)
    expected_close: Optional[dt.date] = Field(default=None)
    forecast_category: str = Field(max_length=16, nullable=False)


DEFAULT_STAGES = (
    # name, probability, position, is_won, is_lost, forecast category
    ("Lead", 10, 1, False, False, "pipeline"),
    ("Qualified", 25, 2, False, False, "pipeline"),
    ("Proposal", 50, 3, False, False, "best case"),
    ("Negotiation", 75, 4, False, False, "commit"),
    ("Won", 100, 5, True, False, "closed"),
    ("Lost", 0, 6, False, True, "omitted"),
)


# ---------------------------------------------------------------- proposals

PROPOSAL_STATUSES = ("draft", "sent", "accepted", "rejected", "expired")


def _money_column(nullable: bool = False) -> Column:
    return Column(BigInteger, nullable=nullable, server_default=None if nullable else "0")


class Product(Versioned, table=True):
    """A catalog item a proposal line can start from."""

    __tablename__: ClassVar[str] = "products"

    id: Optional[int] = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64, unique=True, nullable=False)
    name: str = Field(max_length=200, nullable=False)
    description: Optional[str] = Field(default=None, sa_column=Column(Text))
    unit_price_minor: int = Field(default=0, sa_column=_money_column())
    currency: str = Field(default="USD", max_length=3, nullable=False)
    active: bool = Field(default=True, nullable=False)


class ProposalTemplate(Versioned, table=True):
    """A named set of line items, terms and validity period a proposal starts from."""

    __tablename__: ClassVar[str] = "proposal_templates"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True, nullable=False)
    title: Optional[str] = Field(default=None, max_length=200)
    terms: Optional[str] = Field(default=None, sa_column=Column(Text))
    notes: Optional[str] = Field(default=None, sa_column=Column(Text))
    valid_days: int = Field(default=30, nullable=False)
    tax_rate_bp: int = Field(default=0, nullable=False)


class ProposalTemplateLine(SQLModel, table=True):
    __tablename__: ClassVar[str] = "proposal_template_lines"

    id: Optional[int] = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="proposal_templates.id", nullable=False, index=True, ondelete="CASCADE")
    position: int = Field(nullable=False)
    product_id: Optional[int] = Field(default=None, foreign_key="products.id")
    description: Optional[str] = Field(default=None, max_length=500)
    quantity_milli: int = Field(default=1000, sa_column=Column(BigInteger, nullable=False))
    # None: take the product's price when the proposal is made.
    unit_price_minor: Optional[int] = Field(default=None, sa_column=_money_column(nullable=True))
    discount_bp: int = Field(default=0, nullable=False)


class ProposalCounter(SQLModel, table=True):
    """The last proposal number handed out per year; numbers are never reused."""

    __tablename__: ClassVar[str] = "proposal_counters"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = Field(default=0, nullable=False)


class Proposal(Versioned, table=True):
    __tablename__: ClassVar[str] = "proposals"
    __table_args__ = (Index("ix_proposals_status_sent", "status", "sent_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True, nullable=False)
    opportunity_id: int = Field(foreign_key="opportunities.id", nullable=False, index=True)
    account_id: Optional[int] = Field(default=None, foreign_key="accounts.id", index=True)
    contact_id: Optional[int] = Field(default=None, foreign_key="contacts.id")
    owner_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True)
    template_id: Optional[int] = Field(default=None, foreign_key="proposal_templates.id")
    title: str = Field(max_length=200, nullable=False)
    status: str = Field(default="draft", max_length=16, nullable=False)
    revision: int = Field(default=1, nullable=False)
    valid_until: Optional[dt.date] = Field(default=None)
    terms: Optional[str] = Field(default=None, sa_column=Column(Text))
    notes: Optional[str] = Field(default=None, sa_column=Column(Text))
    tax_rate_bp: int = Field(default=0, nullable=False)
    currency: str = Field(default="USD", max_length=3, nullable=False)
    subtotal_minor: int = Field(default=0, sa_column=_money_column())
    discount_minor: int = Field(default=0, sa_column=_money_column())
    tax_minor: int = Field(default=0, sa_column=_money_column())
    total_minor: int = Field(default=0, sa_column=_money_column())
    sent_at: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    responded_at: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    followup_activity_id: Optional[int] = Field(default=None, foreign_key="activities.id")


class ProposalRevision(SQLModel, table=True):
    """The header of an earlier revision, kept when a sent proposal is edited."""

    __tablename__: ClassVar[str] = "proposal_revisions"

    proposal_id: int = Field(foreign_key="proposals.id", primary_key=True, ondelete="CASCADE")
    revision: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    status: str = Field(max_length=16, nullable=False)
    valid_until: Optional[dt.date] = Field(default=None)
    terms: Optional[str] = Field(default=None, sa_column=Column(Text))
    notes: Optional[str] = Field(default=None, sa_column=Column(Text))
    tax_rate_bp: int = Field(default=0, nullable=False)
    subtotal_minor: int = Field(default=0, sa_column=_money_column())
    discount_minor: int = Field(default=0, sa_column=_money_column())
    tax_minor: int = Field(default=0, sa_column=_money_column())
    total_minor: int = Field(default=0, sa_column=_money_column())
    sent_at: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)


class ProposalLine(SQLModel, table=True):
    """One line of one revision of a proposal. Quantity is exact: thousandths."""

    __tablename__: ClassVar[str] = "proposal_lines"
    __table_args__ = (Index("ix_proposal_lines_proposal_revision", "proposal_id", "revision", "position"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposals.id", nullable=False, ondelete="CASCADE")
    revision: int = Field(nullable=False)
    position: int = Field(nullable=False)
    product_id: Optional[int] = Field(default=None, foreign_key="products.id")
    description: str = Field(max_length=500, nullable=False)
    quantity_milli: int = Field(sa_column=Column(BigInteger, nullable=False))
    unit_price_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    discount_bp: int = Field(default=0, nullable=False)
    gross_minor: int = Field(default=0, sa_column=_money_column())
    discount_minor: int = Field(default=0, sa_column=_money_column())
    total_minor: int = Field(default=0, sa_column=_money_column())


JOB_RUN_STATUSES = ("running", "ok", "error")


class JobRun(SQLModel, table=True):
    """One run of a scheduled job (services/jobs.py) for one slot: its due time, e.g.
    ``2026-03-05T09:15Z`` or the local date ``2026-03-05`` for a daily job.

    The unique (job, slot) is the claim: however many runners (cron on two machines,
    the TUI's timer) reach a slot at once, one INSERT wins and only its runner runs the job.
    """

    __tablename__: ClassVar[str] = "job_runs"
    __table_args__ = (UniqueConstraint("job", "slot", name="uq_job_runs_job"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    job: str = Field(max_length=64, nullable=False)
    slot: str = Field(max_length=64, nullable=False)
    status: str = Field(default="running", max_length=16, nullable=False)  # JOB_RUN_STATUSES
    started_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)
    finished_at: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    message: Optional[str] = Field(default=None, sa_column=Column(Text))  # what it did, or the error
    runner: str = Field(default="", max_length=200, nullable=False)  # host:pid


# ---------------------------------------------------------------- assignment and notifications

NOTIFICATION_KINDS = ("assigned", "team_lead", "deal_won", "deal_lost", "proposal_accepted")
ASSIGNMENT_ENTITIES = ("lead", "opportunity")
ASSIGNMENT_KINDS = ("round_robin", "field")


class Notification(SQLModel, table=True):
    """A notice to one user: what happened (``kind``, ``title``, ``body``), the record it opens
    (``entity``, ``record_id``) and when they read it (None: unread)."""

    __tablename__: ClassVar[str] = "notifications"
    __table_args__ = (Index("ix_notifications_user_id", "user_id", "id"),
                      Index("ix_notifications_user_read", "user_id", "read_at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", nullable=False)
    kind: str = Field(max_length=32, nullable=False)
    title: str = Field(max_length=500, nullable=False)
    body: Optional[str] = Field(default=None, sa_column=Column(Text))
    entity: Optional[str] = Field(default=None, max_length=32)
    record_id: Optional[int] = Field(default=None)
    created_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)
    read_at: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)


class NotificationPref(SQLModel, table=True):
    """Whether a user wants notifications of ``kind`` by e-mail too (no row: in the app only)."""

    __tablename__: ClassVar[str] = "notification_prefs"

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    kind: str = Field(max_length=32, primary_key=True)
    email: bool = Field(default=False, nullable=False)


class OutboxMessage(SQLModel, table=True):
    """One outgoing e-mail, once: ``dedupe_key`` is unique, so the same message is never queued twice.
    A sender claims a row (``claimed_at``) before sending and sets ``sent_at`` right after."""

    __tablename__: ClassVar[str] = "outbox"
    __table_args__ = (Index("ix_outbox_sent_at", "sent_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True, nullable=False)
    to_addr: str = Field(max_length=254, nullable=False)
    subject: str = Field(max_length=500, nullable=False)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow, nullable=False, sa_type=UTCDateTime)
    sent_at: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0, nullable=False)
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text))
    claimed_at: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    claimed_by: Optional[str] = Field(default=None, max_length=200)


class AssignmentRule(SQLModel, table=True):
    """Who gets a new lead or deal nobody was given: ``round_robin`` among the active members of
    ``team_id`` (``last_user_id`` is whose turn it was), or ``field``: to ``user_id`` when the record's
    ``field`` equals ``value``. A round-robin rule may have a field condition too. The first active
    rule by ``position`` that matches decides."""

    __tablename__: ClassVar[str] = "assignment_rules"

    id: Optional[int] = Field(default=None, primary_key=True)
    entity: str = Field(max_length=32, nullable=False)  # ASSIGNMENT_ENTITIES
    kind: str = Field(max_length=16, nullable=False)  # ASSIGNMENT_KINDS
    team_id: Optional[int] = Field(default=None, foreign_key="teams.id")
    field: Optional[str] = Field(default=None, max_length=32)
    value: Optional[str] = Field(default=None, max_length=200)
    user_id: Optional[int] = Field(default=None, foreign_key="users.id")
    position: int = Field(default=0, nullable=False)
    active: bool = Field(default=True, nullable=False)
    last_user_id: Optional[int] = Field(default=None, foreign_key="users.id")
