"""Every entity the generic record functions know, by name and by CLI noun."""

from __future__ import annotations

from crm_tui.services import accounts, activities, contacts, opportunities
from crm_tui.services.records import Entity
from crm_tui.store.models import Lead

ENTITIES: dict[str, Entity] = {
    "account": accounts.ENTITY,
    "contact": contacts.ENTITY,
    "opportunity": opportunities.ENTITY,
    "activity": activities.ENTITY,
}

# Until the leads service exists, references to a lead check its table only.
ENTITIES["lead"] = Entity(
    name="lead", plural="leads", table=Lead.__table__, specs={}, columns=lambda: {"id": Lead.__table__.c.id},
    joins=lambda t: t, search=lambda: [],
)

NOUNS = {"account": "account", "contact": "contact", "opp": "opportunity", "activity": "activity"}
