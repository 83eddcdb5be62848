"""Every entity the generic record functions know, by name and by CLI noun."""

from __future__ import annotations

from crm_tui.services.engagement import activities
from crm_tui.services.quotes import products
from crm_tui.services.records import Entity
from crm_tui.services.sales import accounts, contacts, leads, opportunities

ENTITIES: dict[str, Entity] = {
    "account": accounts.ENTITY,
    "contact": contacts.ENTITY,
    "opportunity": opportunities.ENTITY,
    "activity": activities.ENTITY,
    "lead": leads.ENTITY,
    "product": products.ENTITY,
}

NOUNS = {"account": "account", "contact": "contact", "opp": "opportunity", "activity": "activity", "lead": "lead",
         "product": "product"}
