"""Import records from CSV files: the other half of services/io.py.

``import_csv`` reads a whole file (bytes), then:

1. decodes it: UTF-8 with or without BOM, UTF-16 (BOM, or NUL-byte pattern), else
   Windows-1252 / Latin-1 (or the encoding the caller names); NUL bytes are refused;
2. finds the delimiter (comma, semicolon, tab or pipe) from the header line, with
   csv.Sniffer as a fallback; quoted fields may hold newlines and delimiters;
3. maps columns to fields: by name (``Company name`` -> ``company_name``), by the
   export's column names (so a ``crm export`` file maps as is), by a preset
   (HubSpot, Salesforce) and by ``--map 'Source Column=field'`` (``'Column='``
   ignores a column);
4. validates every row through the same field specs the forms use
   (validate.clean with fields.*_FIELDS), resolves owners, references and stages
   in batches, and applies the entity's own rules (``Entity.prepare``);
5. writes: new records with Core executemany in the caller's one transaction;
   matched records (``match`` = id, email or name; a file with an ``id`` column
   matches by id) through records.update_record, so they get the version check
   and Change rows, and only the cells that differ from the record are written.
   A ``version`` column that differs from the record's is a conflict, never
   overwritten.

All or nothing by default: any invalid row (or conflict) and nothing is
written; the result lists every problem by line and column. With
``skip_invalid`` the good rows are written and the bad ones come back with their
reason for a rejects file.
"""

from __future__ import annotations

import codecs
import datetime as dt
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import Session

from crm_tui.errors import CRMError, ValidationError
from crm_tui.services import records
from crm_tui.services.io import neutralise
from crm_tui.services.records import Entity, new_batch_id
from crm_tui.services.validate import clean
from crm_tui.store.models import Stage, User, utcnow

DELIMITERS = (",", ";", "\t", "|")
MATCH_KEYS = ("id", "email", "name")
MAX_ERRORS_SHOWN = 20
csv.field_size_limit(16 * 1024 * 1024)

# Column names of other CRMs -> our fields, per entity.
PRESETS: dict[str, dict[str, dict[str, str]]] = {
    "hubspot": {
        "account": {"company_id": "", "name": "name", "company_name": "name", "domain": "website", "company_domain_name": "website",
                    "website_url": "website", "phone_number": "phone", "street_address": "street", "city": "city",
                    "state": "state", "state_region": "state", "postal_code": "postal_code", "country": "country",
                    "country_region": "country", "industry": "industry", "description": "description",
                    "number_of_employees": "employees", "company_owner": "owner", "lead_source": "source"},
        "contact": {"company_id": "", "contact_id": "", "first_name": "first_name", "last_name": "last_name",
                    "email": "email", "phone_number": "phone", "job_title": "title", "contact_owner": "owner", "notes": "notes"},
        # HubSpot's own record ids are not ours: never read them as references.
        "opportunity": {"company_id": "", "contact_id": "", "deal_name": "name", "deal_stage": "stage", "amount": "amount", "deal_owner": "owner",
                        "close_date": "expected_close", "deal_description": "description",
                        "closed_lost_reason": "lost_reason", "currency": "currency"},
    },
    "salesforce": {
        "account": {"account_name": "name", "website": "website", "phone": "phone", "industry": "industry",
                    "billing_street": "street", "billing_city": "city", "billing_state_province": "state",
                    "billing_zip_postal_code": "postal_code", "billing_country": "country",
                    "description": "description", "employees": "employees", "account_owner": "owner",
                    "account_source": "source"},
        "contact": {"first_name": "first_name", "last_name": "last_name", "email": "email", "phone": "phone",
                    "title": "title", "contact_owner": "owner", "description": "notes", "account_id": "account"},
        "opportunity": {"opportunity_name": "name", "stage": "stage", "amount": "amount",
                        "opportunity_owner": "owner", "close_date": "expected_close", "description": "description",
                        "next_step": "next_step", "probability": "probability", "lead_source": "source",
                        "opportunity_currency": "currency", "account_id": "account"},
        "activity": {"subject": "subject", "description": "body", "due_date": "due", "assigned": "owner"},
    },
}

# Stage names other CRMs use -> ours (matched after our own stage names, case-insensitively).
STAGE_SYNONYMS = {
    "appointment scheduled": "Lead", "qualified to buy": "Qualified", "presentation scheduled": "Qualified",
    "decision maker bought-in": "Proposal", "contract sent": "Negotiation", "closed won": "Won",
    "closed lost": "Lost", "prospecting": "Lead", "engaging": "Qualified", "qualification": "Qualified",
    "needs analysis": "Qualified", "value proposition": "Proposal", "proposal/price quote": "Proposal",
    "negotiation/review": "Negotiation", "id. decision makers": "Qualified", "perception analysis": "Proposal",
}

LOST_REASON_DEFAULT = "not given (imported)"


@dataclass
class RowError:
    line: int  # line in the file where the row starts
    column: str | None  # source column
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column!r}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    entity: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    rejects: list[tuple[list[str], str]] = field(default_factory=list)  # (cells, reason)
    header: list[str] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ","
    mapping: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    users_created: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    batch_id: str | None = None
    dry_run: bool = False


class ImportRefused(CRMError):
    """The import wrote nothing; ``result.errors`` says why, by line and column."""

    def __init__(self, result: ImportResult, message: str):
        self.result = result
        super().__init__(message)


def _refuse(what: str, reason: str) -> ValidationError:
    return ValidationError(what, None, reason)


# ---------------------------------------------------------------- reading


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used)."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise _refuse("encoding", f"{encoding!r} is not an encoding Python knows") from None
        except UnicodeDecodeError as exc:
            raise _refuse("file", f"is not {encoding}: undecodable byte at offset {exc.start}") from None
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        head = data[:4096]
        even, odd = head[0::2], head[1::2]
        if len(head) >= 4 and odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.1:
            candidates = ["utf-16-le"]
        elif len(head) >= 4 and even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.1:
            candidates = ["utf-16-be"]
        else:
            candidates = ["utf-8", "cp1252", "latin-1"]
    for name in candidates:
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    raise _refuse("file", f"cannot be decoded as {' or '.join(candidates)}; give --encoding")


def _header_line(text: str) -> str:
    """The first record's text (a quoted header may span lines)."""
    out, quoted = [], False
    for ch in text[:65536]:
        if ch == '"':
            quoted = not quoted
        elif ch in "\r\n" and not quoted:
            break
        out.append(ch)
    return "".join(out)


def sniff_delimiter(text: str) -> str:
    header = _header_line(text)
    plain = re.sub(r'"[^"]*"', "", header)  # delimiters inside quotes do not count
    counts = {d: plain.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    if counts[best] and list(counts.values()).count(counts[best]) == 1:
        return best
    try:
        return csv.Sniffer().sniff(text[:65536], delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        return ","


def read_rows(text: str, delimiter: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(line number, cells)]); blank lines skipped."""
    nul = text.find("\x00")
    if nul >= 0:
        raise _refuse("file", f"contains a NUL byte on line {text.count(chr(10), 0, nul) + 1}: "
                              "it is not a text CSV file (or give the right --encoding)")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True, strict=True)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    line = 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if header is None:
                header = cells
                continue
            if not any(c.strip() for c in cells):
                continue
            rows.append((start, cells))
    except csv.Error as exc:
        raise _refuse("file", f"is not valid CSV near line {reader.line_num}: {exc}") from None
    if header is None or not any(h.strip() for h in header):
        raise _refuse("file", "is empty: no header line with column names")
    header = [h.replace("\ufeff", "").strip() for h in header]
    seen: set[str] = set()
    for h in header:
        if h and h in seen:
            raise _refuse("file", f"has the column {h!r} twice in its header")
        seen.add(h)
    return header, rows


# ---------------------------------------------------------------- mapping


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def map_columns(entity: Entity, header: list[str], *, preset: str | None = None,
                maps: list[str] | None = None) -> tuple[dict[str, str], list[str]]:
    """({source column: field}, ignored columns). Fields include the pseudo-fields id and version, and
    created_at: when a record imported from another system was created (kept on new records only)."""
    specs = entity.specs
    known = {**{name: name for name in specs}, "id": "id", "version": "version", "created_at": "created_at"}
    aliases = {}
    for name, spec in specs.items():
        aliases[spec.col] = name
        if spec.kind == "ref":
            aliases[f"{name}_id"] = name
    aliases.update({"opportunity_id": "opp"} if "opp" in specs else {})
    table = {}
    if preset:
        if preset not in PRESETS:
            raise ValidationError("preset", preset, f"is not one of: {', '.join(PRESETS)}")
        table = PRESETS[preset].get(entity.name, {})
    explicit: dict[str, str | None] = {}
    for item in maps or []:
        if "=" not in item:
            raise ValidationError("map", item, "must look like 'Source Column=field' (or 'Source Column=' to skip it)")
        source, target = (part.strip() for part in item.rsplit("=", 1))
        col = source if source in header else next((h for h in header if _norm(h) == _norm(source)), None)
        if col is None:
            raise ValidationError("map", item, f"names no column of the file; columns are: {', '.join(header)}")
        if target and target not in known:
            raise ValidationError("map", item, f"maps to no field of {entity.plural}; fields are: "
                                               f"{', '.join(known)}")
        explicit[col] = target or None
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    # An id column (account_id) wins over a name column (account) for the same reference field.
    for prefer_alias in (True, False):
        for col in header:
            if col in mapping or col in ignored or not col:
                continue
            if col in explicit:
                if explicit[col] is None:
                    ignored.append(col)
                elif prefer_alias:
                    mapping[col] = explicit[col]
                continue
            key = _norm(col)
            if table.get(key) == "":
                ignored.append(col)
                continue
            target = table.get(key) or (aliases.get(key) if prefer_alias else known.get(key))
            if target and target not in mapping.values():
                mapping[col] = target
    ignored += [c for c in header if c and c not in mapping and c not in ignored]
    if not any(f in specs for f in mapping.values()):
        raise _refuse("columns", f"none of the file's columns ({', '.join(h for h in header if h) or 'none'}) "
                                 f"is a field of {entity.plural}; fields are: {', '.join(specs)}; "
                                 "use --map 'Column=field' or --preset")
    return mapping, ignored


# ---------------------------------------------------------------- resolving


class _Resolver:
    """Owners, references and stages looked up in batches, cached for the whole file."""

    def __init__(self, session: Session, create_users: bool):
        self.session = session
        self.create_users = create_users
        self.users: dict[str, int] = {}
        self.new_users: list[str] = []
        self.stages = {s.name.lower(): s for s in session.execute(select(Stage)).scalars()}
        self.stages_by_id = {s.id: s for s in self.stages.values()}

    def load_users(self, texts: set[str]) -> None:
        t = User.__table__
        wanted = {x.strip().lower() for x in texts if x and x.strip()}
        if not wanted:
            return
        for uid, username, email, name in self.session.execute(select(t.c.id, t.c.username, t.c.email, t.c.name)):
            for key in (username, email, name):
                if key and key.lower() in wanted:
                    self.users.setdefault(key.lower(), uid)

    def user(self, text: str, field_name: str) -> int:
        key = text.strip().lower()
        if key in self.users:
            return self.users[key]
        if not self.create_users:
            raise ValidationError(field_name, text, "is not a user (give --create-users to add missing users)")
        username = re.sub(r"[^0-9a-z._-]+", ".", (key.split("@")[0] if "@" in key else key)).strip(".")[:64] or "user"
        base, n = username, 1
        while self.session.execute(select(User.__table__.c.id).where(User.__table__.c.username == username)).first():
            n += 1
            username = f"{base}{n}"
        name = text.strip() if "@" not in text else username
        uid = self.session.execute(insert(User.__table__).values(
            username=username, name=name[:200], email=text.strip() if "@" in text else None, role="sales",
            active=True, created_at=utcnow()).returning(User.__table__.c.id)).scalar_one()
        self.users[key] = uid
        self.new_users.append(username)
        return uid

    def stage(self, text: str) -> Stage:
        key = str(text).strip().lower()
        if key.isdigit() and int(key) in self.stages_by_id:
            return self.stages_by_id[int(key)]
        stage = self.stages.get(key) or self.stages.get(STAGE_SYNONYMS.get(key, "").lower())
        if stage is None:
            raise ValidationError("stage", text, f"is not a stage; stages are: {', '.join(s.name for s in self.stages.values())}")
        return stage


def _refs(session: Session, entity_name: str, texts: set[str]) -> dict[str, int | str]:
    """text -> id for references given as ids (checked) or, for accounts, names; text -> reason if not."""
    from crm_tui.services.registry import ENTITIES

    table = ENTITIES[entity_name].table
    out: dict[str, int | str] = {}
    ids = {t: int(t) for t in texts if t.strip().isdigit()}
    found: set[int] = set()
    values = list(set(ids.values()))
    for start in range(0, len(values), 5000):
        found |= set(session.execute(select(table.c.id).where(table.c.id.in_(values[start:start + 5000]))).scalars())
    for t, i in ids.items():
        out[t] = i if i in found else f"is not an existing {entity_name}"
    names = [t for t in texts if t not in ids]
    if names:
        if "name" not in table.c:
            for t in names:
                out[t] = f"is not a {entity_name} id"
            return out
        wanted = {t.strip().lower(): t for t in names}
        by_name: dict[str, list[int]] = {}
        keys = list(wanted)
        for start in range(0, len(keys), 5000):
            for rid, name in session.execute(select(table.c.id, table.c.name).where(
                    func.lower(table.c.name).in_(keys[start:start + 5000]))):
                by_name.setdefault(name.lower(), []).append(rid)
        for key, t in wanted.items():
            hits = by_name.get(key, [])
            out[t] = hits[0] if len(hits) == 1 else (
                f"matches {len(hits)} {entity_name} records; give the id" if hits else f"is not an existing {entity_name}")
    return out


# ---------------------------------------------------------------- the import


def _date_text(value: str) -> str:
    """Dates as spreadsheets and other CRMs write them: 2002/1/16 -> 2002-01-16 (ISO passes through)."""
    m = re.fullmatch(r"\s*(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})(?:[ T].*)?\s*", value)
    return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else value


def import_csv(entity: Entity, data: bytes, *, session: Session, actor: str, preset: str | None = None,
               maps: list[str] | None = None, match: str | None = None, dry_run: bool = False,
               skip_invalid: bool = False, create_users: bool = False, encoding: str | None = None,
               progress: Callable[[str], None] | None = None) -> ImportResult:
    """Validate and write every row of a CSV file, all or nothing unless ``skip_invalid``.

    Raises ImportRefused (nothing written) when rows are invalid and not skipped,
    ValidationError when the file itself cannot be used."""
    note = progress or (lambda _m: None)
    result = ImportResult(entity.name, dry_run=dry_run)
    text, result.encoding = decode(data, encoding)
    result.delimiter = sniff_delimiter(text)
    header, rows = read_rows(text, result.delimiter)
    result.header = header
    mapping, result.ignored = map_columns(entity, header, preset=preset, maps=maps)
    result.mapping = mapping
    result.rows = len(rows)
    specs = entity.specs
    field_col = {f: header.index(c) for c, f in mapping.items()}
    source_of = {f: c for c, f in mapping.items()}
    if match is None and "id" in field_col:
        match = "id"
    if match is not None:
        if match not in MATCH_KEYS:
            raise ValidationError("match", match, f"is not one of: {', '.join(MATCH_KEYS)}")
        key_field = match if match == "id" else ("email" if match == "email" else
                                                 ("name" if "name" in specs else "last_name"))
        if key_field != "id" and key_field not in specs:
            raise ValidationError("match", match, f"{entity.plural} have no {match} field")
        if key_field not in field_col:
            raise ValidationError("match", match, f"needs a column for {key_field}; columns are: {', '.join(header)}")
    else:
        key_field = None
        missing = [n for n, s in specs.items() if s.required and n not in field_col]
        if missing:
            raise _refuse("columns", f"no column for the required field {', '.join(missing)} of {entity.plural}; "
                                     f"columns are: {', '.join(h for h in header if h)}; use --map 'Column={missing[0]}'")
    width = len(header)
    T = entity.table
    resolver = _Resolver(session, create_users)
    now = utcnow()

    def cell(cells: list[str], f: str) -> str:
        i = field_col[f]
        value = cells[i].strip() if i < len(cells) else ""
        if value[:1] == "'" and neutralise(value[1:]) == value:
            value = value[1:]  # our export made it inert for spreadsheets ("'+1 555..."): take that back
        return value

    # Pass 1: shape, raw field data, what to look up.
    parsed: list[tuple[int, list[str], dict[str, str]]] = []
    bad: dict[int, list[RowError]] = {}
    lookups: dict[str, set[str]] = {}
    user_texts: set[str] = set()
    for line, cells in rows:
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            bad.setdefault(line, []).append(RowError(line, None, f"has {len(cells)} cells; the header has {width}"))
        raw = {f: cell(cells, f) for f in field_col}
        for f, spec in specs.items():
            if f in raw and raw[f]:
                if spec.kind == "date":
                    raw[f] = _date_text(raw[f])
                elif spec.kind == "user":
                    user_texts.add(raw[f])
                elif spec.kind == "ref":
                    lookups.setdefault(spec.ref, set()).add(raw[f])
        parsed.append((line, cells, raw))
    note(f"checking {len(parsed):,} rows")
    resolver.load_users(user_texts)
    refs = {name: _refs(session, name, texts) for name, texts in lookups.items()}

    # Matching existing records.
    existing: dict[str, int] = {}
    if key_field:
        keys = sorted({raw[key_field].lower() for _l, _c, raw in parsed if raw.get(key_field)})
        col = T.c.id if key_field == "id" else T.c[specs[key_field].col]
        for start in range(0, len(keys), 5000):
            part = keys[start:start + 5000]
            if key_field == "id":
                stmt = select(T.c.id, T.c.id).where(T.c.id.in_([int(k) for k in part if k.isdigit()]))
            else:
                stmt = select(func.lower(col), T.c.id).where(func.lower(col).in_(part))
            for k, rid in session.execute(stmt):
                k = str(k)
                existing[k] = -1 if k in existing else rid  # -1: more than one record has this key

    first_stage = None
    actor_id = None
    creates: list[tuple[int, list[str], dict]] = []
    updates: list[tuple[int, list[str], int, dict, int | None]] = []
    seen_keys: dict[str, int] = {}
    for line, cells, raw in parsed:
        errors = bad.setdefault(line, [])

        def fail(f: str | None, message: str) -> None:
            errors.append(RowError(line, source_of.get(f) if f else None, message))

        target_id = None
        if key_field:
            k = raw.get(key_field, "").lower()
            if key_field == "id" and k and not k.isdigit():
                fail("id", f"{raw['id']!r} is not a record id")
                continue
            if k:
                if k in seen_keys:
                    fail(key_field, f"{raw[key_field]!r} is also on line {seen_keys[k]}")
                    continue
                seen_keys[k] = line
            target_id = existing.get(k) if k else None
            if target_id == -1:
                fail(key_field, f"{raw[key_field]!r} matches more than one {entity.name}; match by id instead")
                continue
            if key_field == "id" and target_id is None:
                fail("id", f"{entity.name} {raw.get('id') or '(blank)'} does not exist in this database")
                continue
        data = {f: v for f, v in raw.items() if f in specs}
        if target_id is not None:
            version = raw.get("version")
            if version and not version.isdigit():
                fail("version", f"{version!r} is not a version number")
                continue
            updates.append((line, cells, target_id, data, int(version) if version else None))
            continue
        try:
            cleaned = clean(specs, data, partial=False, context=records._context(entity, data, None))
        except ValidationError as exc:
            for e in exc.errors:
                fail(e.field, str(e))
            continue
        values: dict[str, Any] = {}
        for name, value in cleaned.items():
            spec = specs[name]
            try:
                if value is not None and spec.kind == "user":
                    value = resolver.user(str(value), name)
                elif value is not None and spec.kind == "ref":
                    got = refs[spec.ref][str(value).strip()]
                    if isinstance(got, str):
                        raise ValidationError(name, value, got)
                    value = got
                elif value is not None and spec.kind == "stage":
                    value = resolver.stage(value).id
            except ValidationError as exc:
                fail(name, str(exc))
                continue
            values[spec.col] = value
        if errors:
            continue
        if "owner_id" in T.c and values.get("owner_id") is None and "owner" not in data:
            if actor_id is None:
                actor_id = records.ensure_user(session, actor)
            values["owner_id"] = actor_id
        if entity.name == "opportunity":
            if values.get("stage_id") is None:
                if first_stage is None:
                    from crm_tui.services.stages import first_stage as _first

                    first_stage = _first(session=session)
                values["stage_id"] = first_stage.id
            stage = resolver.stages_by_id[values["stage_id"]]
            if stage.is_lost and not values.get("lost_reason"):
                values["lost_reason"] = LOST_REASON_DEFAULT
                result.notes.append("lost_reason")
            if (stage.is_won or stage.is_lost) and values.get("expected_close"):
                values["actual_close"] = values["expected_close"]  # a historical deal closed then, not today
        try:
            if entity.prepare:
                values = entity.prepare(session, values, None, actor)
        except ValidationError as exc:
            fail(exc.field, str(exc))
            continue
        if raw.get("created_at"):
            try:
                created = _historical_datetime(raw["created_at"])
            except ValidationError as exc:
                fail("created_at", str(exc))
                continue
            values["created_at"] = values["updated_at"] = created
            if "stage_changed_at" in T.c:
                values["stage_changed_at"] = created
        values.setdefault("created_at", now)
        values.setdefault("updated_at", now)
        values.setdefault("version", 1)
        creates.append((line, cells, values))

    # Updates: only the cells that differ from the record, under its version.
    batch_id = new_batch_id()
    if updates:
        note(f"checking {len(updates):,} matched records")
    planned_updates: list[tuple[int, list[str], int, dict, int]] = []
    for line, cells, rid, data, version in updates:
        errors = bad.setdefault(line, [])
        current = records._raw(entity, session, rid)
        if version is not None and version != current["version"]:
            errors.append(RowError(line, source_of.get("version"),
                                   f"conflict: {entity.name} {rid} changed since the export "
                                   f"(version {version} in the file, {current['version']} now); not overwritten"))
            continue
        try:
            context = records._context(entity, data, current)
            cleaned = clean(specs, data, partial=True, context=context)
            changed = {}
            for name, value in cleaned.items():
                spec = specs[name]
                if spec.kind == "user" and value is not None:
                    value = resolver.user(str(value), name)
                elif spec.kind == "ref" and value is not None:
                    got = refs[spec.ref][str(value).strip()]
                    if isinstance(got, str):
                        raise ValidationError(name, value, got)
                    value = got
                elif spec.kind == "stage" and value is not None:
                    value = resolver.stage(value).id
                stored = current.get(spec.col)
                if name == "forecast_category" and stored is None and "stage_id" in current:
                    stored = resolver.stages_by_id[current["stage_id"]].forecast_category
                if name == key_field and isinstance(value, str) and str(stored).lower() == value.lower():
                    continue  # the key it was matched on (emails and names match in any case)
                if value != stored and not (value is None and stored in ("", None)):
                    if value is None:
                        changed[name] = ""
                    elif spec.kind == "stage":
                        changed[name] = resolver.stages_by_id[value].name
                    elif spec.kind == "user":
                        changed[name] = session.execute(
                            select(User.__table__.c.username).where(User.__table__.c.id == value)).scalar_one()
                    elif spec.kind == "ref":
                        changed[name] = str(value)
                    else:
                        changed[name] = data[name]
        except ValidationError as exc:
            for e in exc.errors:
                errors.append(RowError(line, source_of.get(e.field), str(e)))
            continue
        planned_updates.append((line, cells, rid, changed, current["version"]))

    problems = [e for errs in bad.values() for e in errs]
    result.errors = sorted(problems, key=lambda e: e.line)
    rejected_lines = {e.line for e in problems}
    for line, cells in rows:
        if line in rejected_lines:
            result.rejects.append((cells, "; ".join(str(e) for e in bad[line])))
    if problems and not skip_invalid:
        n = len(rejected_lines)
        if len(problems) == 1:
            raise ImportRefused(result, f"{result.errors[0]}; nothing written")
        raise ImportRefused(result, f"{n:,} of {len(rows):,} rows cannot be imported (listed above); "
                                    "nothing written")
    result.users_created = list(resolver.new_users)
    if dry_run:
        result.created = len(creates)
        result.updated = sum(1 for u in planned_updates if u[3])
        result.unchanged = len(planned_updates) - result.updated
        return result
    if creates:
        note(f"writing {len(creates):,} {entity.plural}")
        groups: dict[tuple[str, ...], list[dict]] = {}
        for _line, _cells, values in creates:
            groups.setdefault(tuple(sorted(values)), []).append(values)
        for group in groups.values():
            for start in range(0, len(group), 5000):
                session.execute(insert(T), group[start:start + 5000])
        result.created = len(creates)
    for line, _cells, rid, changed, version in planned_updates:
        if not changed:
            result.unchanged += 1
            continue
        try:
            records.update_record(entity, session=session, record_id=rid, data=changed, actor=actor,
                                  expected_version=version, batch_id=batch_id)
        except CRMError as exc:  # a rule of the entity (e.g. a lost stage without reason)
            result.errors.append(RowError(line, None, str(exc)))
            raise ImportRefused(result, f"line {line}: {exc}; nothing written") from None
        result.updated += 1
    if result.updated:
        result.batch_id = batch_id
    return result


def rejects_csv(result: ImportResult, out) -> None:
    """The rejected rows as they were, plus an ``error`` column: fix them and import the file again."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*result.header, "error"])
    for cells, reason in result.rejects:
        writer.writerow([*cells[:len(result.header)], *[""] * (len(result.header) - len(cells)), reason])


def _historical_datetime(value: str) -> dt.datetime:
    """A creation time from another system: a bare date is that day's start in UTC."""
    text = str(value).strip()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        from crm_tui.services.validate import parse_datetime

        return parse_datetime(text, field_name="created_at")
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
