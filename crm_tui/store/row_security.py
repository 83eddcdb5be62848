"""PostgreSQL row-level security: the roles' rules enforced by the database.

Each CRM user connects with their own PostgreSQL login (``users.login``). Policies on every table
holding CRM data implement the rules crm_tui/store/visibility.py applies in the app, keyed on the
login (``current_user``):

- a record table (accounts, contacts, leads, opportunities, activities, proposals, products):
  its role's level for the action (``role_rules`` over ``crm_tui.store.rules.DEFAULT_RULES``):
  all, team (owned by a member of the user's team, or by the user), own (leads: unassigned ones
  too), linked (activities: the most specific record it is logged on is readable), none; and for
  reading, whatever belongs to an account shared with the user (``account_shares``);
- a child table (a deal's contacts, a proposal's revisions and lines, an account's shares): its
  parent record is readable (to read) or editable (to write; assignable for shares);
- a table keyed by (entity, record_id) (changes, taggings): the record is readable (to read),
  editable (to tag); change rows the user wrote stay readable by them (undo of their own delete),
  and the change log is append-only for everyone but an admin;
- forecast snapshot rows: the deal-owner rule; users, teams, rules, stages, quotas: everyone reads
  them, admins write them (quotas: managers too);
- writing for others: a new lead or deal owned by someone else only when that is whom the assignment
  rules give it (crm_rule_gives); an owner change only within the login's assign level, for the record as
  it was and as it will be (the trigger crm_owner_change: a policy sees only the new row); a notification
  (and its e-mail) for another user only about a record the same transaction wrote that the user or
  their team owns (crm_may_notify, crm_may_queue).

On PostgreSQL the full-text "search index" is an expression index on the record tables, so a
search only ever reaches the rows the policies let through.

Helper functions are SECURITY DEFINER (owned by the tables' owner, with a fixed search_path), so
a policy calls them once per statement (as an InitPlan: ``(SELECT crm_level(...))``) and they
read users, rules and shares without recursing into policies. The tables' owner (the admin
connection that runs migrations) is not subject to row security: it can do everything.

``install(connection)`` drops and re-creates the functions and policies and grants every linked
login the privileges the app needs; the migrations' environment (migrations/env.py) runs it after
every upgrade or downgrade, and ``crm_tui.store.db.ensure_schema`` when a newer crm-tui brings other
policies for the same schema.
The table list below is the one place that says how a table is covered; tests/test_row_security.py
fails when a table with an owner or a record reference is neither covered nor exempt.
On SQLite nothing here runs: whoever has the file has all of it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from crm_tui.store.rules import ACTIONS, DEFAULT_RULES

WRITES = ("insert", "update", "delete")
# This transaction's id as a row's xmin shows it (the app writes without savepoints): a row whose xmin it is
# was written by this very transaction.
_CURRENT_XID = "mod(pg_current_xact_id()::text::bigint, 4294967296)::text::xid"
LOGIN = "current_user::text"

# entity -> its table; the record tables carry owner_id (except products).
RECORDS = {"account": "accounts", "contact": "contacts", "lead": "leads", "opportunity": "opportunities",
           "activity": "activities", "proposal": "proposals", "product": "products"}
# The column naming the account a record belongs to (a shared account shares these).
ACCOUNT_COLUMN = {"account": "id", "contact": "account_id", "opportunity": "account_id", "proposal": "account_id"}
# An activity's links, most specific first: the first one set decides.
ACTIVITY_LINKS = (("opportunity_id", "opportunity"), ("lead_id", "lead"), ("contact_id", "contact"),
                  ("account_id", "account"))

# table -> (kind, detail). kinds: record (entity), child (parent entity, fk column, write action),
# by_ref (entity column, id column), owner_rule (entity decided on owner_id), admin_write (who else writes).
COVERED: dict[str, tuple[str, Any]] = {
    **{table: ("record", entity) for entity, table in RECORDS.items()},
    "opportunity_contacts": ("child", ("opportunity", "opportunity_id", "edit")),
    "proposal_revisions": ("child", ("proposal", "proposal_id", "edit")),
    "proposal_lines": ("child", ("proposal", "proposal_id", "edit")),
    "account_shares": ("child", ("account", "account_id", "assign")),
    "changes": ("by_ref", ("entity", "record_id")),
    "taggings": ("by_ref", ("entity", "record_id")),
    "forecast_snapshot_rows": ("owner_rule", "opportunity"),
    "users": ("admin_write", ()),
    "teams": ("admin_write", ()),
    "role_rules": ("admin_write", ()),
    "stages": ("admin_write", ()),
    "quotas": ("admin_write", ("manager",)),
    # A user's own rows (user_id): read and changed by them (and an admin); a login adds one for another
    # user only about a lead, deal or proposal it wrote in the same transaction that the user (or their
    # team) owns: assigning a deal notifies its new owner (crm_may_notify).
    "notifications": ("per_user", "about_written"),
    "notification_prefs": ("per_user", "own"),
    # E-mail waiting to go out: a login queues the e-mail of a notification it just wrote, to that user's
    # address (crm_may_queue); only an admin (or the tables' owner, which runs `crm jobs run` on a server)
    # reads and sends them.
    "outbox": ("queue", ()),
    # Admins write the rules; adding a record as anyone advances a round-robin turn (last_user_id).
    "assignment_rules": ("admin_write", ("turns",)),
}
# Tables without row security, and why.
EXEMPT = {
    "alembic_version": "the schema's revision (logins only read it)",
    "tags": "tag names only; which record carries a tag is in taggings",
    "saved_views": "filter texts, no record data",
    "forecast_snapshots": "a snapshot's header (name, time, count); its rows are covered",
    "proposal_templates": "the shared catalog of proposal templates",
    "proposal_template_lines": "the lines of the shared templates",
    "proposal_counters": "the next proposal number per year",
    "job_runs": "which scheduled job ran when",
}
# The trigger on the record tables that checks an owner change against the assign level (crm_owner_change).
OWNER_TRIGGER = "crm_owner_change"
# Tables logins may only read (besides what policies allow).
READ_ONLY = ("alembic_version",)
# Columns the only ones a login may update (a round-robin turn advances as anyone adds a lead; the rule
# itself is changed by the tables' owner, which runs `crm assign rule` on a server).
UPDATE_ONLY = {"assignment_rules": ("last_user_id",)}


# ---------------------------------------------------------------- SQL builders


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _level(entity: str, action: str) -> str:
    return f"(SELECT crm_level({_lit(entity)}, {_lit(action)}, {LOGIN}))"


def _by_level(entity: str, action: str, row: str, columns: set[str]) -> str:
    """The rows of ``entity`` (alias ``row``) the login may ``action`` by its role's level."""
    parts = [f"{_level(entity, action)} = 'all'"]
    if "owner_id" in columns:
        parts.append(f"{row}.owner_id = ANY ((SELECT crm_owners({_lit(entity)}, {_lit(action)}, {LOGIN}))::integer[])")
        if entity == "lead":
            parts.append(f"({row}.owner_id IS NULL AND {_level(entity, action)} = 'own')")
    if entity == "activity":
        parts.append(f"({_level(entity, action)} = 'linked' AND {_activity_links(row, shared=False)})")
    return "(" + " OR ".join(parts) + ")"


def _shared(entity: str, row: str) -> str | None:
    if entity == "activity":
        return _activity_links(row, shared=True)
    column = ACCOUNT_COLUMN.get(entity)
    return None if column is None else f"{row}.{column} = ANY ((SELECT crm_shared({LOGIN}))::integer[])"


def _activity_links(row: str, *, shared: bool) -> str:
    """The activity's most specific link is a readable record (``shared``: one on a shared account)."""
    whens = []
    for column, entity in ACTIVITY_LINKS:
        if shared:
            condition = _shared(entity, "t")
            test = "false" if condition is None else (
                f"EXISTS (SELECT 1 FROM {RECORDS[entity]} t WHERE t.id = {row}.{column} AND {condition})")
        else:  # the target's own read policy decides (row security applies inside the policy)
            test = f"EXISTS (SELECT 1 FROM {RECORDS[entity]} t WHERE t.id = {row}.{column})"
        whens.append(f"WHEN {row}.{column} IS NOT NULL THEN {test}")
    return "(CASE " + " ".join(whens) + " ELSE false END)"


# The entities assignment rules give an owner (crm_tui/services/assignment.py), and the columns of
# theirs a rule's field condition reads (a deal's state, industry and country are its account's).
RULED = {"lead": ("state", "industry", "source", "country", None),
         "opportunity": (None, None, "source", None, "account_id")}


def _rule_gives(entity: str, row: str) -> str:
    """The new row's owner is the one the first matching active rule gives it (crm_rule_gives)."""
    args = ", ".join("NULL" if c is None else f"{row}.{c}" for c in RULED[entity])
    return f"crm_rule_gives({_lit(entity)}, {row}.owner_id, {args}, {LOGIN})"


def _readable(entity: str, row: str, columns: set[str]) -> str:
    expr = _by_level(entity, "read", row, columns)
    shared = _shared(entity, row)
    return expr if shared is None else f"({expr} OR {shared})"


def _record_ref(entity_col: str, id_col: str, action: str, columns_of: dict[str, set[str]]) -> str:
    """The record an (entity, record_id) row names is readable (or, for a write, may be ``action``-ed)."""
    whens = []
    for entity, table in RECORDS.items():
        if table not in columns_of:
            continue
        extra = "" if action == "read" else f" AND {_by_level(entity, action, 'r', columns_of[table])}"
        whens.append(f"WHEN {_lit(entity)} THEN ({_level(entity, action)} = 'all' OR "
                     f"EXISTS (SELECT 1 FROM {table} r WHERE r.id = {id_col}{extra}))")
    return f"(CASE {entity_col} " + " ".join(whens) + " ELSE true END)"


def _policies(table: str, columns_of: dict[str, set[str]]) -> list[tuple[str, str, str | None, str | None]]:
    """(name, command, USING, WITH CHECK) for ``table``."""
    kind, detail = COVERED[table]
    cols = columns_of[table]
    if kind == "record":
        entity = detail
        read = _readable(entity, table, cols)
        edit, delete = _by_level(entity, "edit", table, cols), _by_level(entity, "delete", table, cols)
        # A changed row stays one the login may edit, or goes to someone its assign level covers (all:
        # anyone; team: a member of its team; own: itself), as the app's assign rule (records.check_assignee).
        assignable = _by_level(entity, "assign", table, cols)
        insert = edit
        if entity in RULED:  # or the owner the assignment rules give it (the turn the app just took)
            insert = f"({edit} OR {_rule_gives(entity, table)})"
        changed = f"({edit} OR {assignable})"
        if entity == "activity":  # logged (or moved) only onto a record the login reads
            unlinked = " AND ".join(f"{table}.{column} IS NULL" for column, _ in ACTIVITY_LINKS)
            on_readable = (f"(({unlinked}) OR {_activity_links(table, shared=False)} OR "
                           f"{_activity_links(table, shared=True)})")
            insert, changed = f"({insert} AND {on_readable})", f"({changed} AND {on_readable})"
        return [("crm_read", "SELECT", read, None),
                ("crm_insert", "INSERT", None, insert),
                ("crm_update", "UPDATE", f"({read} AND {edit})", changed),
                ("crm_delete", "DELETE", f"({read} AND {delete})", None)]
    if kind == "child":
        entity, fk, action = detail
        parent = RECORDS[entity]
        read = ("true" if table == "account_shares" else
                f"EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {table}.{fk})")
        write = (f"EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {table}.{fk} "
                 f"AND {_by_level(entity, action, 'p', columns_of[parent])})")
        return [("crm_read", "SELECT", read, None), ("crm_insert", "INSERT", None, write),
                ("crm_update", "UPDATE", write, write), ("crm_delete", "DELETE", write, None)]
    if kind == "by_ref":
        entity_col, id_col = (f"{table}.{c}" for c in detail)
        read = _record_ref(entity_col, id_col, "read", columns_of)
        if table == "changes":  # who wrote a change row may read it (their own undo, after a delete)
            # The log is append-only: a login adds its own rows; only an admin rewrites or removes any.
            mine = f"({table}.actor = (SELECT crm_username({LOGIN})) OR (SELECT crm_is_admin({LOGIN})))"
            admin = f"(SELECT crm_is_admin({LOGIN}))"
            return [("crm_read", "SELECT", f"({mine} OR {read})", None), ("crm_insert", "INSERT", None, mine),
                    ("crm_update", "UPDATE", admin, admin), ("crm_delete", "DELETE", admin, None)]
        write = _record_ref(entity_col, id_col, "edit", columns_of)
        return [("crm_read", "SELECT", read, None), ("crm_insert", "INSERT", None, write),
                ("crm_update", "UPDATE", f"({read} AND {write})", write),
                ("crm_delete", "DELETE", f"({read} AND {write})", None)]
    if kind == "owner_rule":
        read = _by_level(detail, "read", table, cols)
        return [("crm_read", "SELECT", read, None), ("crm_insert", "INSERT", None, read),
                ("crm_update", "UPDATE", read, read), ("crm_delete", "DELETE", read, None)]
    if kind == "per_user":
        mine = f"({table}.user_id = (SELECT crm_me({LOGIN})) OR (SELECT crm_is_admin({LOGIN})))"
        insert = mine
        if detail == "about_written":
            insert = (f"({mine} OR crm_may_notify({table}.user_id, {table}.entity, {table}.record_id, "
                      f"{LOGIN}))")
        return [("crm_read", "SELECT", mine, None), ("crm_insert", "INSERT", None, insert),
                ("crm_update", "UPDATE", mine, mine), ("crm_delete", "DELETE", mine, None)]
    if kind == "queue":
        admin = f"(SELECT crm_is_admin({LOGIN}))"
        return [("crm_read", "SELECT", admin, None),
                ("crm_insert", "INSERT", None,
                 f"({admin} OR crm_may_queue({table}.dedupe_key, {table}.to_addr, {LOGIN}))"),
                ("crm_update", "UPDATE", admin, admin), ("crm_delete", "DELETE", admin, None)]
    if kind == "admin_write" and "turns" in detail:
        admin = f"(SELECT crm_is_admin({LOGIN}))"
        # A turn goes to an active member of the rule's team (or back to nobody), never to anyone else.
        turn = (f"({admin} OR {table}.last_user_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE "
                f"u.id = {table}.last_user_id AND u.active AND u.team_id = {table}.team_id))")
        return [("crm_read", "SELECT", "true", None), ("crm_insert", "INSERT", None, admin),
                ("crm_update", "UPDATE", f"((SELECT crm_me({LOGIN})) IS NOT NULL)", turn),
                ("crm_delete", "DELETE", admin, None)]
    if kind == "admin_write":
        roles = ("admin", *detail)
        write = f"((SELECT crm_role({LOGIN})) IN ({', '.join(_lit(r) for r in roles)}))"
        return [("crm_read", "SELECT", "true", None), ("crm_insert", "INSERT", None, write),
                ("crm_update", "UPDATE", write, write), ("crm_delete", "DELETE", write, None)]
    raise ValueError(f"unknown row security kind {kind!r} for table {table}")


def _functions(schema: str) -> list[str]:
    """The helpers, in PL/pgSQL: a session plans their queries once and reuses the plans."""
    defaults = " ".join(f"WHEN {_lit(f'{role}:{entity}:{action}')} THEN {_lit(level)}"
                        for role, entities in DEFAULT_RULES.items()
                        for entity, actions in entities.items() for action, level in actions.items()
                        if action in ACTIONS)
    # PARALLEL SAFE: they only read, so a query calling them may still run in parallel workers.
    head = f"STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = {_q(schema)}, pg_temp"

    def plpgsql(signature: str, returns: str, body: str) -> str:
        return f"CREATE OR REPLACE FUNCTION {signature} RETURNS {returns} LANGUAGE plpgsql {head} AS $$ {body} $$"

    return [
        plpgsql("crm_me(login text)", "integer",
                "BEGIN RETURN (SELECT id FROM users WHERE users.login = $1 AND active); END"),
        plpgsql("crm_username(login text)", "text",
                "BEGIN RETURN (SELECT username FROM users WHERE users.login = $1 AND active); END"),
        plpgsql("crm_role(login text)", "text",
                "BEGIN RETURN (SELECT role FROM users WHERE users.login = $1 AND active); END"),
        plpgsql("crm_is_admin(login text)", "boolean",
                "BEGIN RETURN coalesce((SELECT role = 'admin' FROM users WHERE users.login = $1 AND active), "
                "false); END"),
        # The level of the login's role for an action on an entity: an admin's change (role_rules), else
        # the default (crm_tui/store/rules.py); 'none' for a login linked to no active user.
        plpgsql("crm_level(entity text, action text, login text)", "text", f"""
            DECLARE r text; lvl text;
            BEGIN
              SELECT role INTO r FROM users WHERE users.login = $3 AND active;
              IF r IS NULL THEN RETURN 'none'; END IF;
              IF r <> 'admin' THEN
                SELECT level INTO lvl FROM role_rules
                 WHERE role_rules.role = r AND role_rules.entity = $1 AND role_rules.action = $2;
                IF lvl IS NOT NULL THEN RETURN lvl; END IF;
              END IF;
              RETURN coalesce(CASE r || ':' || $1 || ':' || $2 {defaults} END, 'none');
            END"""),
        # Whose records the level lets the login act on: own and linked: theirs; team: their team's.
        plpgsql("crm_owners(entity text, action text, login text)", "integer[]", """
            DECLARE lvl text := crm_level($1, $2, $3); me integer; team integer;
            BEGIN
              SELECT id, team_id INTO me, team FROM users WHERE users.login = $3 AND active;
              IF me IS NULL THEN RETURN '{}'::integer[]; END IF;
              IF lvl IN ('own', 'linked') OR (lvl = 'team' AND team IS NULL) THEN RETURN ARRAY[me]; END IF;
              IF lvl = 'team' THEN
                RETURN ARRAY(SELECT me UNION SELECT u.id FROM users u WHERE u.team_id = team);
              END IF;
              RETURN '{}'::integer[];
            END"""),
        # The owner the assignment rules give a new lead or deal (services/assignment.py, Picker): the first
        # active rule by position whose field condition matches decides; a field rule its (active) user, a
        # round-robin rule one of its team's active members (whose turn it is: the app's Picker; an import
        # takes many turns before it saves the last). Whether that is ``owner``: a login may add a record
        # owned by someone else only when the rules could give it to them.
        plpgsql("crm_rule_gives(entity text, owner integer, p_state text, p_industry text, p_source text, "
                "p_country text, p_account integer, login text)", "boolean", """
            DECLARE r record; v text;
            BEGIN
              IF owner IS NULL OR crm_me($8) IS NULL THEN RETURN false; END IF;
              IF $1 = 'opportunity' THEN
                SELECT a.state, a.industry, a.country INTO p_state, p_industry, p_country
                  FROM accounts a WHERE a.id = p_account;
              END IF;
              FOR r IN SELECT * FROM assignment_rules ar WHERE ar.entity = $1 AND ar.active
                       ORDER BY ar.position, ar.id LOOP
                IF r.field IS NOT NULL THEN
                  v := nullif(lower(btrim(CASE r.field WHEN 'state' THEN p_state WHEN 'industry' THEN p_industry
                                      WHEN 'source' THEN p_source WHEN 'country' THEN p_country END)), '');
                  IF v IS NULL OR v IS DISTINCT FROM nullif(lower(btrim(r.value)), '') THEN CONTINUE; END IF;
                END IF;
                IF r.kind = 'field' THEN
                  IF NOT EXISTS (SELECT 1 FROM users u WHERE u.id = r.user_id AND u.active) THEN CONTINUE; END IF;
                  RETURN r.user_id = owner;
                END IF;
                IF NOT EXISTS (SELECT 1 FROM users u WHERE u.team_id = r.team_id AND u.active) THEN CONTINUE; END IF;
                RETURN EXISTS (SELECT 1 FROM users u WHERE u.id = owner AND u.team_id = r.team_id AND u.active);
              END LOOP;
              RETURN false;
            END"""),
        plpgsql("crm_shared(login text)", "integer[]", """
            BEGIN
              RETURN ARRAY(SELECT s.account_id FROM account_shares s JOIN users u ON u.id = s.user_id
                           WHERE u.login = $1 AND u.active);
            END"""),
        # Whether the login may notify ``recipient`` (another active user) about a record: a lead, deal or
        # proposal (or, record_id unset: some lead or deal) this transaction wrote, owned by the recipient or
        # by a member of their team (a proposal: or its deal's owner). Volatile: it reads the transaction id.
        f"""CREATE OR REPLACE FUNCTION crm_may_notify(recipient integer, p_entity text, p_record integer, login text)
            RETURNS boolean LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {_q(schema)}, pg_temp
            AS $$
            DECLARE team integer; mine xid; people integer[];
            BEGIN
              IF crm_me(login) IS NULL OR recipient IS NULL THEN RETURN false; END IF;
              SELECT u.team_id INTO team FROM users u WHERE u.id = recipient AND u.active;
              IF NOT FOUND THEN RETURN false; END IF;
              mine := {_CURRENT_XID};
              people := crm_team_of(recipient, team);
              IF p_entity = 'proposal' AND p_record IS NOT NULL THEN
                RETURN EXISTS (SELECT 1 FROM proposals r LEFT JOIN opportunities d ON d.id = r.opportunity_id
                               WHERE r.id = p_record AND (r.xmin = mine OR d.xmin = mine)
                               AND (r.owner_id = ANY (people) OR d.owner_id = ANY (people)));
              ELSIF p_entity = 'lead' AND p_record IS NOT NULL THEN
                RETURN EXISTS (SELECT 1 FROM leads r WHERE r.id = p_record AND r.xmin = mine
                               AND r.owner_id = ANY (people));
              ELSIF p_entity = 'lead' THEN
                RETURN EXISTS (SELECT 1 FROM leads r WHERE r.owner_id = ANY (people) AND r.xmin = mine);
              ELSIF p_entity = 'opportunity' AND p_record IS NOT NULL THEN
                RETURN EXISTS (SELECT 1 FROM opportunities r WHERE r.id = p_record AND r.xmin = mine
                               AND r.owner_id = ANY (people));
              ELSIF p_entity = 'opportunity' THEN
                RETURN EXISTS (SELECT 1 FROM opportunities r WHERE r.owner_id = ANY (people) AND r.xmin = mine);
              END IF;
              RETURN false;
            END $$""",
        plpgsql("crm_team_of(recipient integer, team integer)", "integer[]", """
            BEGIN
              IF team IS NULL THEN RETURN ARRAY[recipient]; END IF;
              RETURN ARRAY(SELECT recipient UNION SELECT u.id FROM users u WHERE u.team_id = team);
            END"""),
        # An owner change (a trigger on the record tables): the login's assign level covers the record as it
        # was and as it will be (all: anyone; team: its team's; own: its own, and for leads unassigned), as
        # the app's rule (records.check_right + check_assignee). The policies only see the new row. Runs as the
        # login (not SECURITY DEFINER): current_user is who changes it; the tables' owner is let through.
        f"""CREATE OR REPLACE FUNCTION crm_owner_change() RETURNS trigger LANGUAGE plpgsql
            SET search_path = {_q(schema)}, pg_temp AS $$
            DECLARE entity text := TG_ARGV[0]; login text := current_user::text; lvl text; owners integer[];
            BEGIN
              IF NEW.owner_id IS NOT DISTINCT FROM OLD.owner_id OR crm_me(login) IS NULL THEN RETURN NEW; END IF;
              lvl := crm_level(entity, 'assign', login);
              IF lvl = 'all' THEN RETURN NEW; END IF;
              owners := crm_owners(entity, 'assign', login);
              IF (OLD.owner_id = ANY (owners) OR (entity = 'lead' AND lvl = 'own' AND OLD.owner_id IS NULL))
                 AND (NEW.owner_id = ANY (owners) OR (entity = 'lead' AND lvl = 'own' AND NEW.owner_id IS NULL))
              THEN RETURN NEW; END IF;
              RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = 'new row violates row-level security policy for table "' || TG_TABLE_NAME
                          || '": its owner may change only within the assign level (' || lvl || ')';
            END $$""",
        # The e-mail of a notification this transaction wrote, to its user's address: nothing else.
        f"""CREATE OR REPLACE FUNCTION crm_may_queue(p_key text, p_to text, login text)
            RETURNS boolean LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {_q(schema)}, pg_temp
            AS $$
            BEGIN
              IF crm_me(login) IS NULL OR p_key !~ '^notification:[0-9]{{1,18}}$' THEN RETURN false; END IF;
              RETURN EXISTS (SELECT 1 FROM notifications n JOIN users u ON u.id = n.user_id
                             WHERE n.id = substring(p_key from 14)::bigint AND n.xmin = {_CURRENT_XID}
                             AND u.email = p_to);
            END $$""",
    ]


# ---------------------------------------------------------------- installing


def _columns(connection: Any, schema: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for table, column in connection.exec_driver_sql(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %(s)s",
            {"s": schema}):
        out.setdefault(table, set()).add(column)
    return out


def statements(connection: Any) -> list[str]:
    """Every statement ``install`` runs (policies for the tables this database has)."""
    schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
    columns_of = _columns(connection, schema)
    out = _functions(schema)
    for table in sorted(COVERED):
        if table not in columns_of:
            continue
        out.append(f"ALTER TABLE {_q(table)} ENABLE ROW LEVEL SECURITY")
        for name, command, using, check in _policies(table, columns_of):
            text = f"CREATE POLICY {name} ON {_q(table)} FOR {command}"
            if using is not None:
                text += f" USING ({using})"
            if check is not None:
                text += f" WITH CHECK ({check})"
            out.append(text)
        if COVERED[table][0] == "record" and "owner_id" in columns_of[table]:
            out.append(f"CREATE TRIGGER {OWNER_TRIGGER} BEFORE UPDATE OF owner_id ON {_q(table)} FOR EACH ROW "
                       f"EXECUTE FUNCTION crm_owner_change({_lit(COVERED[table][1])})")
    return out


def fingerprint(revision: str | None) -> str:
    """What ``install`` creates, in 16 hex digits: this module, the default rules and the schema's revision
    (which decides the tables and columns). A crm-tui with other policies has another."""
    from pathlib import Path

    from crm_tui.store import rules

    digest = hashlib.sha256(Path(__file__).read_bytes() + Path(rules.__file__).read_bytes())
    digest.update(str(revision).encode())
    return digest.hexdigest()[:16]


def version(connection: Any) -> str:
    """The fingerprint ``install`` would write on this database now."""
    revision = None
    if connection.exec_driver_sql("SELECT to_regclass('alembic_version') IS NOT NULL").scalar():
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return fingerprint(revision)


def install(connection: Any) -> None:
    """Drop and re-create the helper functions and every policy, and grant each linked login what the
    app needs. Idempotent; PostgreSQL only; run by the tables' owner (after every migration)."""
    if connection.dialect.name != "postgresql":
        return
    stmts = statements(connection)
    installed = version(connection)
    uninstall(connection)
    # The helpers name users, role_rules and account_shares, which a downgrade may have dropped.
    connection.exec_driver_sql("SET LOCAL check_function_bodies = off")
    for stmt in stmts:
        connection.exec_driver_sql(stmt)
    connection.exec_driver_sql(
        f"CREATE OR REPLACE FUNCTION crm_row_security_version() RETURNS text LANGUAGE sql IMMUTABLE "
        f"AS $$ SELECT {_lit(installed)}::text $$")
    schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
    if "login" not in _columns(connection, schema).get("users", set()):  # an older schema (a downgrade)
        return
    for (login,) in connection.exec_driver_sql(
            "SELECT u.login FROM users u JOIN pg_roles r ON r.rolname = u.login WHERE u.login IS NOT NULL").all():
        grant(connection, login)


def uninstall(connection: Any) -> None:
    """Drop every crm_ policy and owner trigger (the migrations run without them: a policy names other tables)."""
    if connection.dialect.name != "postgresql":
        return
    for (table,) in connection.exec_driver_sql(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %(n)s AND c.relnamespace = current_schema()::regnamespace",
            {"n": OWNER_TRIGGER}).all():
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {OWNER_TRIGGER} ON {_q(table)}")
    for table, policy in connection.exec_driver_sql(
            "SELECT tablename, policyname FROM pg_policies WHERE schemaname = current_schema() "
            "AND left(policyname, 4) = 'crm_'").all():
        connection.exec_driver_sql(f"DROP POLICY IF EXISTS {_q(policy)} ON {_q(table)}")


def installed_version(connection: Any) -> str | None:
    """The fingerprint of the installed policies (None: none installed); one cheap query."""
    return connection.exec_driver_sql(
        "SELECT substring(prosrc from '([0-9a-f]{16})') FROM pg_proc "
        "WHERE proname = 'crm_row_security_version' LIMIT 1").scalar()


def grant(connection: Any, login: str) -> None:
    """Give ``login`` what the app needs: read and write every table (the policies decide which rows),
    read only the schema's revision, use the sequences."""
    schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
    database = connection.exec_driver_sql("SELECT current_database()").scalar()
    who = _q(login)
    connection.exec_driver_sql(f"GRANT CONNECT ON DATABASE {_q(database)} TO {who}")
    connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {_q(schema)} TO {who}")
    connection.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {_q(schema)} TO {who}")
    for table in READ_ONLY:
        connection.exec_driver_sql(f"REVOKE INSERT, UPDATE, DELETE ON TABLE {_q(table)} FROM {who}")
    for table, columns in UPDATE_ONLY.items():  # the rest: the tables' owner (`crm assign rule` on a server)
        if connection.exec_driver_sql(f"SELECT to_regclass({_lit(table)}) IS NOT NULL").scalar():
            connection.exec_driver_sql(f"REVOKE UPDATE ON TABLE {_q(table)} FROM {who}")
            connection.exec_driver_sql(f"GRANT UPDATE ({', '.join(_q(c) for c in columns)}) ON TABLE {_q(table)} TO {who}")
    connection.exec_driver_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_q(schema)} TO {who}")


# ---------------------------------------------------------------- logins


def is_admin_connection(connection: Any) -> bool:
    """Whether this connection is exempt from row security: SQLite, the tables' owner, a superuser."""
    if connection.dialect.name != "postgresql":
        return True
    row = connection.exec_driver_sql(
        "SELECT r.rolsuper OR r.rolbypassrls OR coalesce(pg_has_role(current_user, c.relowner, 'MEMBER'), false) "
        "FROM pg_roles r LEFT JOIN pg_class c ON c.oid = to_regclass('users') "
        "WHERE r.rolname = current_user").first()
    return bool(row and row[0])


def current_login(connection: Any) -> str:
    return connection.exec_driver_sql("SELECT current_user::text").scalar()


def login_exists(connection: Any, login: str) -> bool:
    return connection.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(n)s", {"n": login}).first() is not None


def is_privileged(connection: Any, login: str) -> bool:
    """Whether ``login`` is exempt from row security (a superuser, BYPASSRLS, the tables' owner)."""
    row = connection.exec_driver_sql(
        "SELECT r.rolsuper OR r.rolbypassrls OR coalesce(pg_has_role(r.oid, c.relowner, 'MEMBER'), false) "
        "FROM pg_roles r LEFT JOIN pg_class c ON c.oid = to_regclass('users') WHERE r.rolname = %(n)s",
        {"n": login}).first()
    return bool(row and row[0])


def create_login(connection: Any, login: str, password: str) -> None:
    """CREATE ROLE ``login`` LOGIN with ``password`` (sent as a literal the driver quotes; never logged)."""
    from psycopg import sql

    raw = connection.connection.dbapi_connection
    statement = sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(login), sql.Literal(password))
    with raw.cursor() as cursor:
        cursor.execute(statement)


def set_password(connection: Any, login: str, password: str) -> None:
    from psycopg import sql

    raw = connection.connection.dbapi_connection
    with raw.cursor() as cursor:
        cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(login), sql.Literal(password)))


def set_can_login(connection: Any, login: str, enabled: bool) -> None:
    """LOGIN or NOLOGIN for ``login`` (a deactivated user cannot connect)."""
    connection.exec_driver_sql(f"ALTER ROLE {_q(login)} {'LOGIN' if enabled else 'NOLOGIN'}")
