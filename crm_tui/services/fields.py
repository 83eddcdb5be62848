"""The editable fields of each entity, their kinds and help text.

Light on import (no SQLAlchemy): the CLI builds its options from these, and the
services clean input with them.
"""

from __future__ import annotations

from crm_tui.services.validate import FieldSpec

ACCOUNT_STATUSES = ("prospect", "active", "churned")
BUYING_ROLES = ("decision maker", "champion", "influencer", "user", "blocker")
ACTIVITY_TYPES = ("call", "meeting", "email", "note", "task", "whatsapp", "system")
FORECAST_CATEGORIES = ("pipeline", "best case", "commit", "closed", "omitted")
USER_ROLES = ("admin", "manager", "sales", "finance")
INDUSTRIES = (
    "Technology", "Software", "Retail", "Finance", "Healthcare", "Manufacturing", "Education",
    "Telecommunications", "Energy", "Real Estate", "Media", "Logistics", "Hospitality", "Legal",
    "Government", "Nonprofit", "Agriculture", "Marketing", "Entertainment", "Services",
)


def _specs(*specs: FieldSpec) -> dict[str, FieldSpec]:
    return {s.name: s for s in specs}


ACCOUNT_FIELDS = _specs(
    FieldSpec("name", required=True, max_len=200, help="Company name", extra={"argument": True}),
    FieldSpec("industry", max_len=100, help="Industry, e.g. Technology"),
    FieldSpec("website", kind="url", max_len=255, help="Web site, e.g. acme.com"),
    FieldSpec("phone", kind="phone", max_len=50, help="Main phone number"),
    FieldSpec("email", kind="email", max_len=254, help="Main email address"),
    FieldSpec("street", max_len=200, help="Billing street"),
    FieldSpec("city", max_len=100, help="Billing city"),
    FieldSpec("state", max_len=100, help="Billing state or region"),
    FieldSpec("postal_code", max_len=20, help="Billing postal code"),
    FieldSpec("country", max_len=100, help="Billing country"),
    FieldSpec("status", kind="choice", choices=ACCOUNT_STATUSES, help="prospect, active or churned"),
    FieldSpec("owner", kind="user", column="owner_id", help="Owner's username (default: you)"),
    FieldSpec("source", max_len=100, help="Where the account came from"),
    FieldSpec("employees", kind="int", minimum=0, help="Number of employees"),
    FieldSpec("currency", kind="currency", help="Account currency (ISO 4217, default USD)"),
    FieldSpec("description", max_len=10_000, help="Notes about the account"),
)

CONTACT_FIELDS = _specs(
    FieldSpec("first_name", max_len=100, help="First name"),
    FieldSpec("last_name", required=True, max_len=100, help="Last name"),
    FieldSpec("account", kind="ref", ref="account", column="account_id", help="Account id"),
    FieldSpec("email", kind="email", max_len=254, help="Email address"),
    FieldSpec("phone", kind="phone", max_len=50, help="Phone number"),
    FieldSpec("title", max_len=150, help="Job title"),
    FieldSpec("buying_role", kind="choice", choices=BUYING_ROLES,
              help="decision maker, champion, influencer, user or blocker"),
    FieldSpec("is_primary", kind="bool", help="Primary contact of the account (yes/no)"),
    FieldSpec("reports_to", kind="ref", ref="contact", column="reports_to_id", help="Id of the contact they report to"),
    FieldSpec("owner", kind="user", column="owner_id", help="Owner's username (default: you)"),
    FieldSpec("notes", max_len=10_000, help="Notes"),
)

OPPORTUNITY_FIELDS = _specs(
    FieldSpec("name", required=True, max_len=200, help="Opportunity name", extra={"argument": True}),
    FieldSpec("account", kind="ref", ref="account", column="account_id", help="Account id"),
    FieldSpec("contact", kind="ref", ref="contact", column="primary_contact_id", help="Primary contact id"),
    FieldSpec("owner", kind="user", column="owner_id", help="Owner's username (default: you)"),
    FieldSpec("stage", kind="stage", column="stage_id", help="Stage name (default: the first stage)"),
    FieldSpec("probability", kind="int", minimum=0, maximum=100,
              help="Win probability 0-100 (default: the stage's)"),
    FieldSpec("amount", kind="money", column="amount_minor", help="Amount, e.g. 12500.00"),
    FieldSpec("currency", kind="currency", help="ISO 4217 currency (default USD)"),
    FieldSpec("expected_close", kind="date", help="Expected close date: YYYY-MM-DD or today+30d"),
    FieldSpec("source", max_len=100, help="Lead source"),
    FieldSpec("next_step", max_len=255, help="The next step"),
    FieldSpec("competitors", max_len=255, help="Competitors in the deal, comma-separated"),
    FieldSpec("description", max_len=10_000, help="Description"),
    FieldSpec("forecast_category", kind="choice", choices=FORECAST_CATEGORIES,
              help="pipeline, best case, commit, closed or omitted (default: from the stage)"),
    FieldSpec("lost_reason", max_len=100, help="Why it was lost"),
)

ACTIVITY_FIELDS = _specs(
    FieldSpec("subject", required=True, max_len=255, help="Subject", extra={"argument": True}),
    FieldSpec("type", kind="choice", choices=ACTIVITY_TYPES, help="call, meeting, email, note, task or whatsapp"),
    FieldSpec("body", max_len=100_000, help="Details"),
    FieldSpec("due", kind="datetime", column="due_at", help="Due date-time for a task: YYYY-MM-DD HH:MM"),
    FieldSpec("duration", kind="int", column="duration_minutes", minimum=1, maximum=24 * 60,
              help="How long it takes, in minutes (a scheduled call or meeting), e.g. 30"),
    FieldSpec("occurred", kind="datetime", column="occurred_at", help="When it happened (default: now)"),
    FieldSpec("owner", kind="user", column="owner_id", help="Owner's username (default: you)"),
    FieldSpec("account", kind="ref", ref="account", column="account_id", help="Account id"),
    FieldSpec("contact", kind="ref", ref="contact", column="contact_id", help="Contact id"),
    FieldSpec("lead", kind="ref", ref="lead", column="lead_id", help="Lead id"),
    FieldSpec("opp", kind="ref", ref="opportunity", column="opportunity_id", help="Opportunity id"),
)

# List filters each noun's `list` command offers (name -> help).
ACCOUNT_FILTERS = {
    "industry": "Only this industry", "state": "Only this state", "status": "Only this status",
    "owner": "Only this owner's (username, or 'me')",
}
CONTACT_FILTERS = {"account": "Only this account's (id)", "owner": "Only this owner's (username, or 'me')"}
OPPORTUNITY_FILTERS = {
    "stage": "Only this stage", "owner": "Only this owner's (username, or 'me')",
    "account": "Only this account's (id)", "open": "Only open (not won or lost) ones: yes/no",
}
ACTIVITY_FILTERS = {
    "type": "Only this type", "owner": "Only this owner's (username, or 'me')", "account": "Only this account's (id)",
    "contact": "Only this contact's (id)", "opp": "Only this opportunity's (id)", "lead": "Only this lead's (id)",
    "open": "Only open tasks (not done): yes/no",
    "due": "Only open tasks due: today (including overdue) or overdue",
}

LEAD_STATUSES = ("new", "contacted", "nurture", "qualified", "unqualified", "converted", "junk")

LEAD_FIELDS = _specs(
    FieldSpec("first_name", max_len=100, help="First name"),
    FieldSpec("last_name", max_len=100, help="Last name"),
    FieldSpec("company", max_len=200, help="Company name"),
    FieldSpec("email", kind="email", max_len=254, help="Email address"),
    FieldSpec("phone", kind="phone", max_len=50, help="Phone number"),
    FieldSpec("title", max_len=150, help="Job title"),
    FieldSpec("website", kind="url", max_len=255, help="Company web site, e.g. acme.com"),
    FieldSpec("industry", max_len=100, help="Industry, e.g. Technology"),
    FieldSpec("city", max_len=100, help="City"),
    FieldSpec("state", max_len=100, help="State or region"),
    FieldSpec("country", max_len=100, help="Country"),
    FieldSpec("source", max_len=100, help="Where the lead came from, e.g. Website, Referral"),
    FieldSpec("status", kind="choice", choices=LEAD_STATUSES[:5] + LEAD_STATUSES[6:],
              help="new, contacted, nurture, qualified, unqualified or junk (converting sets converted)"),
    FieldSpec("score", kind="int", minimum=0, maximum=100, help="Lead score 0-100"),
    FieldSpec("owner", kind="user", column="owner_id", help="Owner's username (default: you)"),
    FieldSpec("next_follow_up", kind="datetime", help="Next follow-up: YYYY-MM-DD HH:MM, or a date such as tomorrow"),
    FieldSpec("notes", max_len=10_000, help="Qualification notes"),
)

LEAD_FILTERS = {
    "status": "Only this status", "source": "Only this source", "owner": "Only this owner's (username, or 'me')",
    "since": "Only leads created on or after this date, e.g. yesterday or 2026-01-31",
    "follow_up": "Only open leads whose next follow-up is: today, overdue, or due (today or overdue)",
}

SCHEDULE_HELP = "YYYY-MM-DD HH:MM, YYYY-MM-DD (09:00), today, tomorrow, today+3d"

PRODUCT_FIELDS = _specs(
    FieldSpec("sku", required=True, max_len=64, help="Stock keeping unit, a short unique code, e.g. CRM-SEAT",
              extra={"argument": True}),
    FieldSpec("name", required=True, max_len=200, help="Product name as it appears on a proposal"),
    FieldSpec("unit_price", kind="money", column="unit_price_minor", help="Price per unit, e.g. 49.90"),
    FieldSpec("currency", kind="currency", help="ISO 4217 currency of the price (default USD)"),
    FieldSpec("description", max_len=10_000, help="Longer description"),
    FieldSpec("active", kind="bool", help="Offered for new proposals (yes/no, default yes)"),
)
PRODUCT_FILTERS = {"active": "Only active (yes) or retired (no) products", "currency": "Only this currency"}
