"""Deterministic, realistic demo data, written in bulk.

Rows are generated as tuples and written with the driver's bulk path inside one
transaction (executemany on SQLite, COPY on PostgreSQL): never ORM objects one
by one. One million opportunities take well under a minute.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from array import array
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine

from crm_tui.errors import Conflict, ValidationError
from crm_tui.store import search
from crm_tui.store.models import (
    Account,
    Activity,
    Contact,
    Lead,
    Opportunity,
    Product,
    Proposal,
    ProposalCounter,
    ProposalLine,
    ProposalTemplate,
    ProposalTemplateLine,
    Quota,
    Stage,
    User,
)

SIZES = {"small": 500, "medium": 20_000, "large": 1_000_000}


@dataclass
class DemoCounts:
    users: int
    accounts: int
    contacts: int
    leads: int
    opportunities: int
    activities: int
    products: int = 0
    templates: int = 0
    proposals: int = 0

    @classmethod
    def for_opportunities(cls, n: int) -> "DemoCounts":
        accounts = max(20, n // 8)
        return cls(users=8, accounts=accounts, contacts=max(40, n // 4), leads=max(50, n // 8),
                   opportunities=n, activities=max(100, n // 4), products=len(CATALOG), templates=len(TEMPLATES),
                   proposals=min(200, max(15, n // 1000)))


def parse_size(size: str) -> int:
    text_value = str(size).strip().lower().replace("_", "").replace(",", "")
    if text_value in SIZES:
        return SIZES[text_value]
    if text_value.endswith("k") and text_value[:-1].isdigit():
        return int(text_value[:-1]) * 1000
    if text_value.endswith("m") and text_value[:-1].isdigit():
        return int(text_value[:-1]) * 1_000_000
    if text_value.isdigit() and int(text_value) > 0:
        return int(text_value)
    raise ValidationError("size", size, "is not small, medium, large or a number of opportunities")


_PREFIX = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Cyberdyne",
           "Tyrell", "Wonka", "Gringotts", "Oscorp", "Monarch", "Aperture", "Massive", "Pied Piper", "Nakatomi",
           "Blue Sun", "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adventure", "Proseware",
           "Alpine", "Coho", "Fourth Coffee", "Lucerne", "Margie's", "Trey", "Wide World", "Woodgrove",
           "Zentrix", "Bluestone", "Redwood", "Silverline", "Brightpath", "Ironclad", "Quantum", "Nimbus",
           "Polaris", "Sunrise", "Evergreen", "Keystone", "Summit", "Harbor", "Pinnacle", "Cobalt", "Vertex",
           "Orion", "Atlas", "Beacon", "Cascade", "Crescent", "Falcon", "Granite", "Horizon", "Lumen", "Meridian",
           "Müller", "Nordström", "Société Générale de", "Ōsaka", "Zürich")
_NOUN = ("Systems", "Labs", "Logistics", "Analytics", "Foods", "Health", "Robotics", "Media", "Energy", "Capital",
         "Software", "Networks", "Retail", "Partners", "Dynamics", "Solutions", "Industries", "Holdings",
         "Biotech", "Consulting", "Motors", "Textiles", "Ventures", "Studios", "Data", "Cloud", "Security")
_SUFFIX = ("Inc", "LLC", "Ltd", "Corp", "GmbH", "Co", "SA", "plc", "")
_FIRST = ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
          "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Maria",
          "Wei", "Mei", "Hiroshi", "Yuki", "Ahmed", "Fatima", "Olga", "Dmitri", "Priya", "Arjun", "Chloé",
          "François", "Zoë", "Søren", "Ana", "José", "Lucía", "Björn", "Aisha", "Kwame", "Noah", "Emma",
          "Liam", "Olivia", "Mateo", "Sofia", "Lars", "Ingrid", "Giulia", "Marco")
_LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
         "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
         "Lee", "Chen", "Wang", "Tanaka", "Sato", "Khan", "Patel", "Ivanova", "Petrov", "Müller", "Schmidt",
         "Dubois", "Lefèvre", "Rossi", "Bianchi", "Nielsen", "Andersson", "O'Brien", "Nguyen", "Kim", "Okafor",
         "Mensah", "García", "Fernández", "Novák", "Kowalski", "Yılmaz", "Haddad", "Cohen", "Silva")
_TITLES = ("CEO", "CTO", "CFO", "COO", "VP Sales", "VP Marketing", "VP Engineering", "Head of Procurement",
           "IT Director", "Operations Manager", "Marketing Manager", "Product Manager", "Software Engineer",
           "Data Analyst", "Office Manager", "Purchasing Agent", "Finance Director", "HR Director",
           "Account Executive", "Customer Success Lead")
_INDUSTRIES = ("Technology", "Software", "Retail", "Finance", "Healthcare", "Manufacturing", "Education",
               "Telecommunications", "Energy", "Real Estate", "Media", "Logistics", "Hospitality", "Legal")
_PLACES = (("San Francisco", "CA"), ("Los Angeles", "CA"), ("San Diego", "CA"), ("New York", "NY"),
           ("Brooklyn", "NY"), ("Austin", "TX"), ("Dallas", "TX"), ("Houston", "TX"), ("Seattle", "WA"),
           ("Portland", "OR"), ("Denver", "CO"), ("Chicago", "IL"), ("Boston", "MA"), ("Miami", "FL"),
           ("Atlanta", "GA"), ("Phoenix", "AZ"), ("Minneapolis", "MN"), ("Detroit", "MI"),
           ("Philadelphia", "PA"), ("Raleigh", "NC"), ("Nashville", "TN"), ("Salt Lake City", "UT"))
_SOURCES = ("Website", "Referral", "Trade show", "Cold call", "Webinar", "Partner", "LinkedIn", "Email campaign",
            "Web form", "Inbound call")
_PRODUCTS = ("CRM rollout", "Data platform", "Support plan", "Analytics suite", "Cloud migration", "Security audit",
             "Chatbot", "E-commerce site", "Mobile app", "Training", "Licence renewal", "Integration project",
             "Managed services", "Hardware refresh", "Consulting retainer")
_NEXT = ("Send proposal", "Schedule demo", "Follow up call", "Negotiate terms", "Legal review", "Get budget approval",
         "Introduce to CTO", "Send case study", None, None)
_LOST = ("price", "competition", "budget", "missing features", "timing", "no decision maker", "unresponsive",
         "poor fit", "other")
_LEAD_STATUSES = ("new", "contacted", "nurture", "qualified", "unqualified", "converted", "junk")
_ROLES = ("decision maker", "champion", "influencer", "user", "blocker", None, None)
_ACTIVITY = (("call", "Discovery call"), ("call", "Follow-up call"), ("meeting", "On-site meeting"),
             ("meeting", "Product demo"), ("email", "Sent pricing"), ("email", "Sent case study"),
             ("note", "Budget confirmed"), ("note", "Champion identified"), ("task", "Send contract"),
             ("task", "Prepare proposal"), ("whatsapp", "Quick question about invoice"))
# The product catalog: SKU, name, description, unit price in minor units (USD cents).
CATALOG = (
    ("CRM-LIC-STD", "CRM licence, Standard (per user / year)", "Contacts, pipeline, proposals and reports.", 36_000),
    ("CRM-LIC-PRO", "CRM licence, Professional (per user / year)", "Standard plus forecasting and automation.",
     72_000),
    ("CRM-LIC-ENT", "CRM licence, Enterprise (per user / year)", "Professional plus SSO, audit log and sandbox.",
     120_000),
    ("DATA-PLAT-1T", "Data platform, 1 TB tier (per month)", "Managed warehouse, 1 TB storage included.", 150_000),
    ("SUP-GOLD", "Gold support plan (per year)", "24/7 support, 1-hour response on severity 1.", 480_000),
    ("SUP-SILVER", "Silver support plan (per year)", "Business-hours support, next-day response.", 180_000),
    ("SVC-IMPL-DAY", "Implementation consultant (per day)", "On-site or remote implementation work.", 140_000),
    ("SVC-TRAIN-DAY", "Training day (up to 12 people)", "Hands-on training for admins or end users.", 95_000),
    ("SVC-MIGRATE", "Data migration package", "Import of accounts, contacts and history from one system.",
     650_000),
    ("SEC-AUDIT", "Security audit", "Review of configuration, access rights and integrations.", 900_000),
    ("INT-CONNECT", "Integration connector (per year)", "ERP, mail or telephony connector.", 240_000),
    ("HW-SCAN-01", "Badge scanner for trade shows", "Hardware; captures leads at events.", 34_900),
    ("MOB-APP-ADDON", "Mobile app add-on (per user / year)", "Offline access and business-card capture.", 12_000),
)
# Templates: name, title, terms, validity, tax (basis points), lines (SKU, quantity in thousandths, discount bp).
TEMPLATES = (
    ("Starter package", "CRM starter package",
     "Payment 30 days net. Licences billed annually in advance. Prices exclude travel.", 30, 0,
     (("CRM-LIC-STD", 10_000, 0), ("SVC-IMPL-DAY", 3_000, 0), ("SVC-TRAIN-DAY", 1_000, 0),
      ("SUP-SILVER", 1_000, 0))),
    ("Enterprise rollout", "Enterprise CRM rollout",
     "Payment in three instalments: on signature, at go-live and 60 days after go-live. "
     "Licences billed annually in advance. Valid for the quantities shown.", 45, 800,
     (("CRM-LIC-ENT", 50_000, 1_500), ("SVC-IMPL-DAY", 20_000, 500), ("SVC-MIGRATE", 1_000, 0),
      ("SUP-GOLD", 1_000, 0), ("INT-CONNECT", 2_000, 0))),
)
USERS = (("alice", "Alice Anderson", "admin"), ("bob", "Bob Brown", "sales"), ("carol", "Carol Chen", "sales"),
         ("dave", "Dave Dubois", "sales"), ("erin", "Erin Okafor", "sales"), ("frank", "Frank Müller", "sales"),
         ("grace", "Grace Patel", "manager"), ("heidi", "Heidi Nielsen", "sales"))


@functools.lru_cache(maxsize=None)
def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:20] or "company"


class _Writer:
    """Bulk rows through the raw driver connection, inside the caller's transaction."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.dialect = conn.dialect.name
        self.raw = conn.connection.driver_connection
        self._ts: dict[dt.datetime, str] = {}

    def ts(self, value: dt.datetime | None):
        if value is None or self.dialect != "sqlite":
            return value
        text_value = self._ts.get(value)
        if text_value is None:
            text_value = self._ts[value] = value.strftime("%Y-%m-%d %H:%M:%S.000000")
        return text_value

    def without_indexes(self, tables):
        """Drop the secondary indexes of ``tables`` and the search triggers / indexes for the load;
        ``restore`` builds them again (and fills the search tables in one statement each)."""
        self._dropped = [ix for t in tables for ix in t.indexes]
        for ix in self._dropped:
            ix.drop(self.conn)
        for entity in search.SOURCES:
            if self.dialect == "sqlite":
                for name in search.sqlite_trigger_names(entity):
                    self.conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
            else:
                self.conn.exec_driver_sql(f"DROP INDEX IF EXISTS {search.pg_index(entity)}")
        if self.dialect == "sqlite":
            self.conn.exec_driver_sql("PRAGMA cache_size=-262144")

    def restore(self):
        for ix in self._dropped:
            ix.create(self.conn)
        if self.dialect == "sqlite":
            search.rebuild_sqlite(self.conn)
            for entity in search.SOURCES:
                for ddl in search.sqlite_triggers(entity):
                    self.conn.exec_driver_sql(ddl)
        else:
            for entity, (table, cols) in search.SOURCES.items():
                self.conn.exec_driver_sql(f"CREATE INDEX {search.pg_index(entity)} ON {table} "
                                          f"USING gin ({search.pg_vector_sql(cols)})")

    def d(self, value: dt.date | None):
        if value is None or self.dialect != "sqlite":
            return value
        return value.isoformat()

    def write(self, table: str, columns: tuple[str, ...], rows) -> None:
        if self.dialect == "postgresql":
            cur = self.raw.cursor()
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.close()
        else:
            cur = self.raw.cursor()
            marks = ", ".join("?" for _ in columns)
            cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            cur.close()


def database_is_empty(conn: Connection) -> bool:
    for model in (Account, Opportunity, Lead, Contact):
        if conn.execute(select(func.count()).select_from(model.__table__)).scalar():
            return False
    return True


def is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return database_is_empty(conn)


# Kept by --replace: the pipeline's stages, saved views, and the proposal number counters
# (a proposal number is never reused, even after its proposal is gone).
_KEPT = {"stages", "saved_views", "proposal_counters"}


def clear(conn: Connection) -> None:
    """Delete every record (stages and settings stay); ids start again from 1."""
    from crm_tui.store.models import metadata

    tables = [t.name for t in reversed(metadata.sorted_tables) if t.name not in _KEPT]
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        return
    for name in tables:
        conn.execute(text(f"DELETE FROM {name}"))


def generate(engine: Engine, *, opportunities: int, seed: int = 42, me: str | None = None,
             replace: bool = False, today: dt.date | None = None,
             progress: Callable[[str, int], None] | None = None) -> DemoCounts:
    """Fill the database with demo data in one transaction; returns the counts written."""
    counts = DemoCounts.for_opportunities(opportunities)
    rng = random.Random(seed)
    rand = rng.random

    def pick(seq):
        return seq[int(rand() * len(seq))]

    def ri(low: int, high: int) -> int:
        return low + int(rand() * (high - low + 1))

    today = today or dt.date.today()
    now = dt.datetime.combine(today, dt.time(9, 0), tzinfo=dt.timezone.utc)
    report = progress or (lambda _name, _n: None)
    with engine.begin() as conn:
        if not database_is_empty(conn):
            if not replace:
                raise Conflict("the database already has data; use --replace to wipe it and write demo data")
            clear(conn)
        w = _Writer(conn)
        w.without_indexes([m.__table__ for m in (Account, Contact, Lead, Opportunity, Activity)])
        stages = [dict(r._mapping) for r in conn.execute(select(Stage.__table__).order_by(Stage.position))]
        if not stages:
            raise Conflict("no pipeline stages are defined")

        # Users: the demo team, plus the person running it so "me" owns deals too; they administer the
        # demo (an admin reads every record: a sales rep would see only their own deals and leads).
        users = list(USERS)
        if me and me not in {u[0] for u in users}:
            users.append((me, me, "admin"))
        # Users someone added before (`crm user add`) are kept and reused.
        users_t = User.__table__
        existing = {r.username: r.id for r in conn.execute(select(users_t.c.username, users_t.c.id))}
        for username, name, role in users:
            if username not in existing:
                existing[username] = conn.execute(
                    users_t.insert().values(username=username, name=name, email=f"{username}@example.com",
                                            role=role, active=True, created_at=now - dt.timedelta(days=400))
                    .returning(users_t.c.id)
                ).scalar_one()
        counts.users = len(users)
        sales_ids = [existing[u] for u, _n, r in users if r != "manager"]
        report("users", len(users))

        # Quotas: every seller, from a year back to six months ahead, scaled to the deals they own.
        per_month = max(1, opportunities // (len(sales_ids) * 18)) * 2_000_000  # about a fifth of an average deal
        first = today.replace(day=1)
        months = []
        for k in range(-12, 7):
            y, m = divmod(first.month - 1 + k, 12)
            months.append(dt.date(first.year + y, m + 1, 1))
        conn.execute(Quota.__table__.insert(), [
            {"user_id": uid, "month": month, "amount_minor": per_month + 500_000 * (uid % 4), "currency": "USD"}
            for uid in sales_ids for month in months])

        # Accounts.
        account_names = []
        rows = []
        for i in range(1, counts.accounts + 1):
            name = f"{pick(_PREFIX)} {pick(_NOUN)}"
            suffix = pick(_SUFFIX)
            if i > 200:
                name = f"{name} {i}"
            full = f"{name} {suffix}".strip()
            account_names.append(full)
            city, state = pick(_PLACES)
            created = now - dt.timedelta(days=ri(30, 900), minutes=10 * ri(0, 144))
            status = rng.choices(("prospect", "active", "churned"), (5, 8, 1))[0]
            rows.append((i, full, f"www.{_slug(name)}.com", pick(_INDUSTRIES),
                         f"+1 {ri(200, 989)} 555 {ri(1000, 9999)}", f"info@{_slug(name)}.com",
                         f"{ri(1, 9999)} Market Street", city, state, f"{ri(10000, 99999)}",
                         "United States", status, pick(sales_ids), pick(_SOURCES),
                         pick((10, 25, 50, 120, 300, 800, 2500, 12000)), None, 0, "USD",
                         w.ts(created), w.ts(created), 1))
        w.write("accounts", ("id", "name", "website", "industry", "phone", "email", "street", "city", "state",
                             "postal_code", "country", "status", "owner_id", "source", "employees", "description",
                             "lifetime_value_minor", "currency", "created_at", "updated_at", "version"), rows)
        report("accounts", counts.accounts)

        # Contacts: spread over accounts, a decision maker first.
        rows = []
        contact_account = []
        for i in range(1, counts.contacts + 1):
            account_id = ((i - 1) % counts.accounts) + 1
            contact_account.append(account_id)
            first, last = pick(_FIRST), pick(_LAST)
            first_of_account = i <= counts.accounts
            email = f"{_slug(first)}.{_slug(last)}{i}@{_slug(account_names[account_id - 1].split(' ')[0])}.com"
            created = now - dt.timedelta(days=ri(10, 800))
            rows.append((i, account_id, first, last, email, f"+1 {ri(200, 989)} 555 {ri(1000, 9999)}",
                         pick(_TITLES), "decision maker" if first_of_account else pick(_ROLES),
                         first_of_account, None if first_of_account else account_id, pick(sales_ids), None,
                         w.ts(created), w.ts(created), 1))
        w.write("contacts", ("id", "account_id", "first_name", "last_name", "email", "phone", "title", "buying_role",
                             "is_primary", "reports_to_id", "owner_id", "notes", "created_at", "updated_at",
                             "version"), rows)
        report("contacts", counts.contacts)

        # Leads in every status.
        rows = []
        for i in range(1, counts.leads + 1):
            first, last = pick(_FIRST), pick(_LAST)
            company = f"{pick(_PREFIX)} {pick(_NOUN)}"
            city, state = pick(_PLACES)
            status = _LEAD_STATUSES[i % len(_LEAD_STATUSES)] if i <= 14 else rng.choices(
                _LEAD_STATUSES, (6, 5, 3, 3, 2, 2, 1))[0]
            created = now - dt.timedelta(days=ri(0, 120), minutes=10 * ri(0, 144))
            follow = None
            if status in ("new", "contacted", "nurture", "qualified"):
                follow = now + dt.timedelta(days=ri(-5, 14), hours=ri(0, 8))
            rows.append((i, first, last, f"{_slug(first)}.{_slug(last)}{i}@{_slug(company)}.com",
                         f"+1 {ri(200, 989)} 555 {ri(1000, 9999)}", pick(_TITLES), company,
                         f"www.{_slug(company)}.com", pick(_INDUSTRIES), city, state, "United States",
                         pick(_SOURCES), status, ri(0, 100), pick(sales_ids), w.ts(follow),
                         None, w.ts(created), w.ts(created), 1))
        w.write("leads", ("id", "first_name", "last_name", "email", "phone", "title", "company", "website",
                          "industry", "city", "state", "country", "source", "status", "score", "owner_id",
                          "next_follow_up", "notes", "created_at", "updated_at", "version"), rows)
        report("leads", counts.leads)

        # Opportunities across every stage.
        open_stages = [s for s in stages if not s["is_won"] and not s["is_lost"]]
        won = next(s for s in stages if s["is_won"])
        lost = next(s for s in stages if s["is_lost"])
        stage_pool = open_stages * 3 + [won] * 2 + [lost] * 2
        rows = []
        open_opps = []  # (id, account_id, contact_id, owner_id, name) of open deals, for the proposals
        opp_account = array("i")  # each deal's account (its activities are logged on that account)
        for i in range(1, counts.opportunities + 1):
            account_id = ri(1, counts.accounts)
            opp_account.append(account_id)
            stage = stage_pool[rng.randrange(len(stage_pool))] if i > len(stages) else stages[i - 1]
            amount = pick((5, 8, 12, 15, 20, 25, 30, 40, 50, 75, 100, 150, 250)) * 100_000 + ri(0, 99) * 1000
            created = now - dt.timedelta(days=ri(1, 540), minutes=10 * ri(0, 144))
            closed = stage["is_won"] or stage["is_lost"]
            if closed:
                actual = (created + dt.timedelta(days=ri(7, 150))).date()
                actual = min(actual, today)
                expected = actual + dt.timedelta(days=ri(-20, 20))
            else:
                actual = None
                expected = today + dt.timedelta(days=ri(-45, 180))
            changed = created + dt.timedelta(days=ri(0, 30))
            changed = min(changed, now)
            contact_id = ((account_id - 1) % counts.contacts) + 1 if account_id <= counts.contacts else None
            opp_name = f"{account_names[account_id - 1]} – {pick(_PRODUCTS)}"
            owner_id = pick(sales_ids)
            if not closed:
                open_opps.append((i, account_id, contact_id, owner_id, opp_name))
            rows.append((i, opp_name, account_id, contact_id, owner_id, stage["id"], stage["probability"], False, amount, "USD",
                         w.d(expected), w.d(actual), pick(_SOURCES), None, pick(_NEXT) if not closed else None,
                         pick(_LOST) if stage["is_lost"] else None, None, w.ts(changed), w.ts(created),
                         w.ts(changed), 1))
        w.write("opportunities", ("id", "name", "account_id", "primary_contact_id", "owner_id", "stage_id",
                                  "probability", "probability_manual", "amount_minor", "currency", "expected_close",
                                  "actual_close", "source", "description", "next_step", "lost_reason",
                                  "forecast_category", "stage_changed_at", "created_at", "updated_at", "version"),
                rows)
        del rows
        report("opportunities", counts.opportunities)
        _link_converted_leads(conn, counts.opportunities)

        # Activities: history on deals and accounts, and open tasks around today.
        rows = []
        for i in range(1, counts.activities + 1):
            kind, subject = pick(_ACTIVITY)
            opp_id = ri(1, counts.opportunities)
            # Consistent links: the deal's account, and a contact of that account (contact c belongs
            # to account (c - 1) % accounts + 1), or none when the account has no contact.
            account_id = opp_account[opp_id - 1]
            if account_id <= counts.contacts:
                contact_id = account_id + counts.accounts * ri(0, (counts.contacts - account_id) // counts.accounts)
            else:
                contact_id = None
            occurred = now - dt.timedelta(days=ri(0, 200), minutes=10 * ri(0, 60))
            due = completed = None
            if kind == "task":
                due = now + dt.timedelta(days=ri(-7, 14), hours=ri(0, 8))
                completed = occurred if rng.random() < 0.4 else None
            rows.append((i, kind, subject, f"{subject} with {pick(_FIRST)}.", w.ts(due), w.ts(completed),
                         w.ts(occurred), pick(sales_ids), account_id, contact_id, None, opp_id,
                         w.ts(occurred), w.ts(occurred), 1))
        w.write("activities", ("id", "type", "subject", "body", "due_at", "completed_at", "occurred_at", "owner_id",
                               "account_id", "contact_id", "lead_id", "opportunity_id", "created_at", "updated_at",
                               "version"), rows)
        del rows
        report("activities", counts.activities)

        _catalog_and_proposals(conn, rng, counts, open_opps, me_id=existing.get(me) if me else None,
                               now=now, today=today)
        report("proposals", counts.proposals)

        w.restore()
        if w.dialect == "postgresql":
            for name in ("accounts", "contacts", "leads", "opportunities", "activities"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                  f"(SELECT coalesce(max(id), 1) FROM {name}))"))
        if w.dialect == "sqlite":
            conn.exec_driver_sql("ANALYZE")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return counts




def _link_converted_leads(conn: Connection, opportunities: int) -> None:
    """A converted lead names what it became, as a real conversion leaves it: a deal, that deal's account
    (whose name is the lead's company) and its contact (whose name and e-mail are the lead's), if any."""
    deal = "((leads.id * 7) % :n) + 1"
    contact = f"(SELECT o.primary_contact_id FROM opportunities o WHERE o.id = {deal})"

    def of_contact(column: str) -> str:
        return f"coalesce((SELECT c.{column} FROM contacts c WHERE c.id = {contact}), leads.{column})"

    conn.execute(text(
        f"UPDATE leads SET converted_opportunity_id = {deal}, "
        f"converted_account_id = (SELECT o.account_id FROM opportunities o WHERE o.id = {deal}), "
        f"converted_contact_id = {contact}, "
        f"company = (SELECT a.name FROM accounts a JOIN opportunities o ON o.account_id = a.id "
        f"WHERE o.id = {deal}), "
        f"first_name = {of_contact('first_name')}, last_name = {of_contact('last_name')}, "
        f"email = {of_contact('email')}, converted_at = leads.updated_at "
        "WHERE leads.status = 'converted'"), {"n": opportunities})


def _catalog_and_proposals(conn: Connection, rng: random.Random, counts: DemoCounts, open_opps: list[tuple],
                           *, me_id: int | None, now: dt.datetime, today: dt.date) -> None:
    """The product catalog, two templates, and proposals in every status on some open deals.

    Lines are priced by ``services.pricing.price_lines`` (the one pricing rule); the
    counts stay small (at most 200 proposals) so a million-deal demo pays nothing for them.
    """
    from crm_tui.services.pricing import LineInput, price_lines
    from crm_tui.services.quotes.proposals import FOLLOWUP_DAYS

    created = now - dt.timedelta(days=200)
    product_t = Product.__table__
    # Products and templates someone made before (`crm product add`) are kept; the demo adds the rest.
    have = {sku.lower() for sku in conn.execute(select(product_t.c.sku)).scalars()}
    new_products = [
        {"sku": sku, "name": name, "description": desc, "unit_price_minor": price, "currency": "USD",
         "active": sku != "HW-SCAN-01", "created_at": created, "updated_at": created, "version": 1}
        for sku, name, desc, price in CATALOG if sku.lower() not in have]
    if new_products:
        conn.execute(product_t.insert(), new_products)
    products = {r.sku: r for r in conn.execute(
        select(product_t.c.id, product_t.c.sku, product_t.c.name, product_t.c.unit_price_minor)
        .where(product_t.c.sku.in_([c[0] for c in CATALOG])))}
    have_templates = {n.lower(): i for i, n in conn.execute(select(ProposalTemplate.id, ProposalTemplate.name))}
    tpl_t, tpl_lines_t = ProposalTemplate.__table__, ProposalTemplateLine.__table__
    template_ids = []
    for name, title, terms, days, tax_bp, template_lines in TEMPLATES:
        if name.lower() in have_templates:
            template_ids.append(have_templates[name.lower()])
            continue
        tid = conn.execute(tpl_t.insert().values(name=name, title=title, terms=terms, notes=None, valid_days=days,
                                                 tax_rate_bp=tax_bp, created_at=created, updated_at=created,
                                                 version=1).returning(tpl_t.c.id)).scalar_one()
        template_ids.append(tid)
        conn.execute(tpl_lines_t.insert(), [
            {"template_id": tid, "position": pos, "product_id": products[sku].id, "description": None,
             "quantity_milli": qty, "unit_price_minor": None, "discount_bp": disc}
            for pos, (sku, qty, disc) in enumerate(template_lines, start=1)])
    if not open_opps or not counts.proposals:
        counts.proposals = 0
        return

    # Which deals: spread over the open ones, every third one the user's own when they have some.
    mine = [o for o in open_opps if me_id is not None and o[3] == me_id]
    chosen, used = [], set()
    for j in range(counts.proposals):
        pool = mine if mine and j % 3 == 0 else open_opps
        opp = pool[rng.randrange(len(pool))]
        if opp[0] in used:
            opp = next((o for o in open_opps if o[0] not in used), None)
            if opp is None:
                break
        used.add(opp[0])
        chosen.append(opp)
    counts.proposals = len(chosen)

    # The number counter is kept across --replace: numbers are never reused.
    counter_t = ProposalCounter.__table__
    last = conn.execute(select(counter_t.c.last).where(counter_t.c.year == today.year)).scalar()
    if last is None:
        conn.execute(counter_t.insert().values(year=today.year, last=len(chosen)))
        last = 0
    else:
        conn.execute(counter_t.update().where(counter_t.c.year == today.year).values(last=last + len(chosen)))

    catalog = [products[sku] for sku, *_ in CATALOG if sku != "HW-SCAN-01"]
    # (status stored, days since sent or None, responded, valid-until offset from today)
    plans = (("draft", None, False, 30), ("sent", 1, False, 29),
             ("sent", 5, False, 25),  # sent more than FOLLOWUP_DAYS ago, no response yet
             ("accepted", 12, True, 18), ("rejected", 20, True, 10),
             ("sent", 50, False, -20),  # past valid-until: shows as expired
             ("draft", None, False, -3),  # a draft left too long: expired as well
             ("sent", FOLLOWUP_DAYS + 6, False, 21))
    prop_t, line_t = Proposal.__table__, ProposalLine.__table__
    line_rows = []
    for j, (opp_id, account_id, contact_id, owner_id, opp_name) in enumerate(chosen):
        status, sent_days, responded, valid_offset = plans[j % len(plans)]
        use_template = j % 4 != 3
        tpl_index = j % 2
        if use_template:
            _name, title, terms, _days, tax_bp, tpl_lines = TEMPLATES[tpl_index]
            lines = [LineInput(description=products[sku].name, quantity_milli=qty,
                               unit_price_minor=products[sku].unit_price_minor, discount_bp=disc,
                               product_id=products[sku].id, sku=sku) for sku, qty, disc in tpl_lines]
            title = f"{title} — {opp_name}"
        else:
            terms, tax_bp, title = "Payment 30 days net.", 0, opp_name
            lines = []
            for _ in range(1 + rng.randrange(4)):
                p = catalog[rng.randrange(len(catalog))]
                lines.append(LineInput(description=p.name, quantity_milli=1000 * (1 + rng.randrange(20)),
                                       unit_price_minor=p.unit_price_minor,
                                       discount_bp=rng.choice((0, 0, 500, 1000, 1250)), product_id=p.id, sku=p.sku))
        # A negotiated price on some lines (an odd figure, so rounding is exercised).
        if j % 5 == 2:
            first = lines[0]
            lines[0] = LineInput(description=first.description, quantity_milli=first.quantity_milli,
                                 unit_price_minor=first.unit_price_minor * 93 // 100 + 7,
                                 discount_bp=first.discount_bp, product_id=first.product_id, sku=first.sku)
        pricing = price_lines(lines, tax_rate_bp=tax_bp, currency="USD")
        sent_at = now - dt.timedelta(days=sent_days, hours=j % 7) if sent_days is not None else None
        responded_at = sent_at + dt.timedelta(days=2) if responded else None
        made = (sent_at or now - dt.timedelta(days=1 + j % 9)) - dt.timedelta(days=1)
        pid = conn.execute(prop_t.insert().values(
            number=f"PRO-{today.year}-{last + j + 1:04d}", opportunity_id=opp_id, account_id=account_id,
            contact_id=contact_id, owner_id=owner_id, template_id=template_ids[tpl_index] if use_template else None,
            title=title[:200], status=status, revision=1, valid_until=today + dt.timedelta(days=valid_offset),
            terms=terms, notes=None, tax_rate_bp=tax_bp, currency="USD", subtotal_minor=pricing.subtotal_minor,
            discount_minor=pricing.discount_minor, tax_minor=pricing.tax_minor, total_minor=pricing.total_minor,
            sent_at=sent_at, responded_at=responded_at, followup_activity_id=None, created_at=made,
            updated_at=responded_at or sent_at or made, version=1).returning(prop_t.c.id)).scalar_one()
        line_rows.extend(
            {"proposal_id": pid, "revision": 1, "position": ln.position, "product_id": ln.product_id,
             "description": ln.description, "quantity_milli": ln.quantity_milli,
             "unit_price_minor": ln.unit_price_minor, "discount_bp": ln.discount_bp, "gross_minor": ln.gross_minor,
             "discount_minor": ln.discount_minor, "total_minor": ln.total_minor}
            for ln in pricing.lines)
    conn.execute(line_t.insert(), line_rows)
