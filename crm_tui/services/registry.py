"""The entity registry: one entry per entity, and every map about entities derived from it.

An entry says everything the rest of the code needs to know about an entity: its
name, plural, CLI noun and the other words users type for it, its fields, the
columns of its table view and of an export, the fields ``--search`` reads, its
default sort and the screen that shows one record. Nothing else keeps a list of
nouns, plurals, columns or screens: the CLI commands, the bulk and import/export
services, full-text search and the screens all ask here.

Light on import (no SQLAlchemy, no UI): an entry points at the module that builds
the entity's SQL side (``records.Entity``, loaded on first use through
``entry.entity`` or ``ENTITIES[name]``) and names its detail screen as a dotted
path, so the services never import the UI and a screen can resolve a noun
without loading the database stack.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crm_tui.errors import ValidationError
from crm_tui.services import fields
from crm_tui.services.validate import FieldSpec

if TYPE_CHECKING:
    from crm_tui.services.records import Entity


@dataclass(frozen=True)
class EntityEntry:
    """One entity, as every part of crm-tui sees it."""

    name: str  # "opportunity": the services' name; Change rows, tags, views and search hits use it
    plural: str  # "opportunities"
    module: str  # the module whose ENTITY is the SQL side (table, columns, joins, filters, rules)
    specs: dict[str, FieldSpec]  # the editable fields (crm_tui.services.fields): forms, CLI options, import
    filters: dict[str, str]  # the list filters the CLI offers: name -> help
    summary_columns: tuple[str, ...]  # the table view (`crm NOUN list`, bulk previews)
    export_columns: tuple[str, ...]  # `crm export` by default: stable, documented order
    search_fields: tuple[str, ...]  # output columns `--search` (and search without a full-text index) reads
    default_sort: str  # an output column, "-" first for descending
    noun: str = ""  # the CLI command (`crm opp ...`); default: the name
    aliases: tuple[str, ...] = ()  # other words for it: "opps", "deal", "deals"
    detail_screen: str | None = None  # "crm_tui.screens.account_detail:AccountDetailScreen"
    ui_words: tuple[str, str] = ("", "")  # what the app calls one and many, when not the name and plural
    _nouns: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.noun:
            object.__setattr__(self, "noun", self.name)
        forms = (self.noun, self.name, self.plural, *self.aliases)
        object.__setattr__(self, "_nouns", tuple(dict.fromkeys(f.lower() for f in forms)))

    @property
    def nouns(self) -> tuple[str, ...]:
        """Every word that names this entity: the CLI noun, the name, the plural, the aliases."""
        return self._nouns

    @property
    def entity(self) -> Entity:
        """The SQL side (``records.Entity``), imported on first use."""
        return importlib.import_module(self.module).ENTITY

    def counted(self, n: int, adjective: str = "") -> str:
        """'1 account', '12,500 accounts', '1 new opportunity'."""
        return f"{n:,} {adjective + ' ' if adjective else ''}{self.name if n == 1 else self.plural}"

    def ui_counted(self, n: int) -> str:
        """As ``counted``, in the app's words ('2 deals')."""
        one, many = self.ui_words
        return f"{n:,} {(one or self.name) if n == 1 else (many or self.plural)}"


ENTRIES: tuple[EntityEntry, ...] = (
    EntityEntry(
        name="account", plural="accounts", aliases=("client", "clients"),
        module="crm_tui.services.sales.accounts",
        specs=fields.ACCOUNT_FIELDS, filters=fields.ACCOUNT_FILTERS,
        summary_columns=("id", "name", "industry", "city", "state", "status", "owner"),
        export_columns=("id", "name", "industry", "website", "phone", "email", "street", "city", "state",
                        "postal_code", "country", "status", "owner", "source", "employees", "lifetime_value",
                        "currency", "description", "created_at", "updated_at", "version"),
        search_fields=("name", "industry", "city", "state", "website", "email"),
        default_sort="name",
        detail_screen="crm_tui.screens.account_detail:AccountDetailScreen",
    ),
    EntityEntry(
        name="contact", plural="contacts",
        module="crm_tui.services.sales.contacts",
        specs=fields.CONTACT_FIELDS, filters=fields.CONTACT_FILTERS,
        summary_columns=("id", "name", "account", "title", "email", "phone", "buying_role"),
        export_columns=("id", "first_name", "last_name", "account_id", "account", "email", "phone", "title",
                        "buying_role", "is_primary", "reports_to_id", "owner", "notes", "created_at", "updated_at",
                        "version"),
        search_fields=("first_name", "last_name", "email", "title", "account"),
        default_sort="last_name",
        detail_screen="crm_tui.screens.contact_detail:ContactDetailScreen",
    ),
    EntityEntry(
        name="opportunity", plural="opportunities", noun="opp", aliases=("opps", "deal", "deals"),
        module="crm_tui.services.sales.opportunities",
        specs=fields.OPPORTUNITY_FIELDS, filters=fields.OPPORTUNITY_FILTERS,
        summary_columns=("id", "name", "account", "stage", "amount", "currency", "probability", "expected_close",
                         "owner"),
        export_columns=("id", "name", "account_id", "account", "contact_id", "owner", "stage", "probability",
                        "amount", "currency", "weighted_amount", "expected_close", "actual_close",
                        "forecast_category", "source", "next_step", "competitors", "lost_reason", "description",
                        "stage_changed_at", "created_at", "updated_at", "version"),
        search_fields=("name", "account", "description", "next_step"),
        default_sort="expected_close",
        detail_screen="crm_tui.screens.opportunity_detail:OpportunityDetailScreen",
        ui_words=("deal", "deals"),
    ),
    EntityEntry(
        name="activity", plural="activities",
        module="crm_tui.services.engagement.activities",
        specs=fields.ACTIVITY_FIELDS, filters=fields.ACTIVITY_FILTERS,
        summary_columns=("id", "type", "subject", "occurred_at", "due_at", "completed_at", "owner", "account"),
        export_columns=("id", "type", "subject", "body", "due_at", "completed_at", "occurred_at", "owner",
                        "account_id", "account", "contact_id", "lead_id", "opportunity_id", "created_at",
                        "updated_at", "version"),
        search_fields=("subject", "body"),
        default_sort="-occurred_at",
        # no screen of its own: the app opens the record it is logged on
    ),
    EntityEntry(
        name="lead", plural="leads",
        module="crm_tui.services.sales.leads",
        specs=fields.LEAD_FIELDS, filters=fields.LEAD_FILTERS,
        summary_columns=("id", "name", "company", "status", "source", "score", "next_follow_up", "owner"),
        export_columns=("id", "first_name", "last_name", "company", "email", "phone", "title", "website",
                        "industry", "city", "state", "country", "source", "status", "score", "owner",
                        "next_follow_up", "notes", "converted_at", "converted_account_id", "converted_contact_id",
                        "converted_opportunity_id", "created_at", "updated_at", "version"),
        search_fields=("first_name", "last_name", "company", "email", "title"),
        default_sort="-created_at",
        detail_screen="crm_tui.screens.lead_detail:LeadDetailScreen",
    ),
    EntityEntry(
        name="product", plural="products",
        module="crm_tui.services.quotes.products",
        specs=fields.PRODUCT_FIELDS, filters=fields.PRODUCT_FILTERS,
        summary_columns=("id", "sku", "name", "unit_price", "currency", "active"),
        export_columns=("id", "sku", "name", "unit_price", "currency", "active", "description", "created_at",
                        "updated_at", "version"),
        search_fields=("sku", "name", "description"),
        default_sort="sku",
        detail_screen="crm_tui.screens.products:ProductFormScreen",
    ),
)

BY_NAME: dict[str, EntityEntry] = {e.name: e for e in ENTRIES}

NOUNS: dict[str, str] = {noun: e.name for e in ENTRIES for noun in e.nouns}
"""Every word for an entity (singular, plural, alias, CLI noun) -> its name."""

ENTITY_HELP = ", ".join(e.noun for e in ENTRIES) + " (or their plurals)"
"""The nouns, for help texts and messages."""

def entry_for(name: str) -> EntityEntry:
    """The entry for any word that names an entity ("opps", "Accounts", "deal"); ValidationError
    listing the nouns otherwise."""
    key = NOUNS.get(str(name).strip().lower()) if name is not None else None
    if key is None:
        raise ValidationError("entity", name, f"is not one of: {ENTITY_HELP}")
    return BY_NAME[key]


def entity_for(name: str) -> Entity:
    """The SQL side of the entity any word names (see ``entry_for``)."""
    return entry_for(name).entity


def cli_noun(name: str) -> str:
    """The CLI noun of an entity name ("opportunity" -> "opp"); other names stay as they are."""
    entry = BY_NAME.get(name)
    return entry.noun if entry else name


class _Entities(Mapping[str, "Entity"]):
    """name -> ``records.Entity``, each loaded when first asked for."""

    def __getitem__(self, name: str) -> Entity:
        return BY_NAME[name].entity

    def __iter__(self) -> Iterator[str]:
        return iter(BY_NAME)

    def __len__(self) -> int:
        return len(BY_NAME)


ENTITIES: Mapping[str, Entity] = _Entities()
