"""Import records from CSV files: the other half of services/io.py.

``import_csv`` reads a binary stream (a file, stdin, ``io.BytesIO``) in constant
memory, whatever its size: stdin and other streams that cannot seek are first
copied in chunks to a temporary file. Then:

1. the encoding: UTF-8 with a BOM, UTF-16 (BOM, or NUL-byte pattern in the first
   4 KiB), else the first of UTF-8, Windows-1252 and Latin-1 that decodes the
   whole file (or the encoding the caller names, checked); each candidate is
   tried by one pass that decodes the file in 1 MiB pieces without keeping it,
   and refuses NUL characters, naming their line;
2. the delimiter (comma, semicolon, tab or pipe) from the header line, with
   csv.Sniffer over the first 64 KiB as a fallback; quoted fields may hold
   newlines and delimiters;
3. maps columns to fields: by name (``Company name`` -> ``company_name``), by the
   export's column names (so a ``crm export`` file maps as is), by a preset
   (HubSpot, Salesforce) and by ``--map 'Source Column=field'`` (``'Column='``
   ignores a column);
4. reads the rows ``CHUNK_ROWS`` at a time, and for each chunk validates every row
   through the same field specs the forms use (validate.clean with
   fields.*_FIELDS), resolves owners, references and stages and matches existing
   records with a few queries, and applies the entity's own rules
   (``Entity.prepare``). Keys (``match``) are remembered across chunks, so a key
   twice in the file is an error wherever the two rows are, and records created
   by earlier chunks are not there to refer to (as if the whole file were checked
   before writing);
5. writes the chunk's good rows: new records with Core executemany in the caller's
   one transaction (their ids taken first, see ``_new_ids``), each with a Change row (field ``*``, old value NULL, new value
   the whole record as JSON, as records.snapshot_text writes it) from one INSERT ...
   SELECT; matched records (``match`` = id, email or name, only when asked: a file
   with an ``id`` column and no ``match`` is refused) through records.update_record, so they get the version
   check and Change rows, and only the cells that differ from the record are
   written. A ``version`` column that differs from the record's is a conflict,
   never overwritten. Creates and updates share one batch id (``result.batch_id``),
   so ``bulk.undo`` takes the whole import back.

All or nothing by default: any invalid row (or conflict) and ImportRefused is
raised after the last row, listing every problem by line and column, and the
caller rolls back, so nothing is written (no chunk is written after the first bad
row is seen). With ``skip_invalid`` the good rows are written and the bad ones
come back with their reason for a rejects file; only bad rows are kept in memory.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from crm_tui.errors import Conflict, CRMError, ValidationError
from crm_tui.services import records
from crm_tui.services.records import Entity, new_batch_id
from crm_tui.services.validate import clean, is_id, parse_id
from crm_tui.spreadsheet import neutralise, unneutralise
from crm_tui.store.db import begin_write
from crm_tui.store.models import Change, Stage, User, utcnow

DELIMITERS = (",", ";", "\t", "|")
MATCH_KEYS = ("id", "email", "name")
MAX_ERRORS_SHOWN = 20
CHUNK_ROWS = 5000  # rows checked, looked up and written together
READ_BYTES = 1 << 20  # bytes read from the file at a time
HEAD_CHARS = 65536  # characters the delimiter is found from
CHANGES = Change.__table__
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

# Column names only that CRM's exports have: a file with one of them is read with that preset when
# none is given (``--preset none`` maps by our field names only).
PRESET_SIGNS: dict[str, frozenset[str]] = {
    "hubspot": frozenset({"hubspot_owner_email", "hubspot_owner_id", "lifecycle_stage", "deal_stage", "deal_name",
                          "company_domain_name", "associated_company", "record_id"}),
    "salesforce": frozenset({"opportunity_name", "account_name", "billing_street", "billing_city",
                             "billing_zip_postal_code", "opportunity_owner", "account_owner", "opportunity_currency"}),
}
PRESET_NAMES = {"hubspot": "HubSpot", "salesforce": "Salesforce"}


def choose_preset(header: list[str], preset: str | None) -> tuple[str | None, bool]:
    """(the preset to map ``header`` with, whether it was detected): ``preset`` as given ("none": no
    preset); when not given, the one CRM whose own column names the header has, if exactly one."""
    if preset is not None:
        name = preset.strip().lower()
        if name == "none":
            return None, False
        if name not in PRESETS:
            raise ValidationError("preset", preset, f"is not one of: {', '.join(PRESETS)}, none")
        return name, False
    columns = {_norm(h) for h in header if h}
    found = [name for name, signs in PRESET_SIGNS.items() if columns & signs]
    return (found[0], True) if len(found) == 1 else (None, False)


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
    lost_reasons_defaulted: int = 0  # lost deals given LOST_REASON_DEFAULT
    preset: str | None = None  # the other CRM's column names the file was read with
    preset_detected: bool = False  # ... found from its columns, not given
    batch_id: str | None = None
    dry_run: bool = False


class ImportRefused(CRMError):
    """The import is refused: the caller rolls back, so nothing is written; ``result.errors`` says why,
    by line and column."""

    def __init__(self, result: ImportResult, message: str):
        self.result = result
        super().__init__(message)


def _refuse(what: str, reason: str) -> ValidationError:
    return ValidationError(what, None, reason)


# ---------------------------------------------------------------- reading


class _Undecodable(Exception):
    def __init__(self, offset: int):
        self.offset = offset


def _scan(stream: BinaryIO, start: int, encoding: str) -> tuple[str, int | None]:
    """Decode the whole stream once, in chunks, without keeping it: (its first HEAD_CHARS characters,
    the line of its first NUL character or None). Raises _Undecodable with the byte offset."""
    stream.seek(start)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    head: list[str] = []
    head_len = 0
    newlines = 0
    nul_line = None
    offset = 0
    while True:
        chunk = stream.read(READ_BYTES)
        pending = decoder.getstate()[0]
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise _Undecodable(offset - len(pending) + exc.start) from None
        offset += len(chunk)
        if head_len < HEAD_CHARS:
            head.append(text[:HEAD_CHARS - head_len])
            head_len += len(head[-1])
        if nul_line is None:
            nul = text.find("\x00")
            if nul >= 0:
                nul_line = newlines + text.count("\n", 0, nul) + 1
            else:
                newlines += text.count("\n")
        if not chunk:
            return "".join(head), nul_line


def _choose_encoding(stream: BinaryIO, start: int, encoding: str | None) -> tuple[str, str, int | None]:
    """(encoding, first characters, line of the first NUL or None), reading the stream through once per
    candidate encoding: UTF-8 with or without BOM, UTF-16 (BOM, or NUL-byte pattern), else Windows-1252 /
    Latin-1, or the encoding the caller names."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise _refuse("encoding", f"{encoding!r} is not an encoding Python knows") from None
        try:
            return (encoding, *_scan(stream, start, encoding))
        except _Undecodable as exc:
            raise _refuse("file", f"is not {encoding}: undecodable byte at offset {exc.offset}") from None
    stream.seek(start)
    head = stream.read(4096)
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        even, odd = head[0::2], head[1::2]
        if len(head) >= 4 and odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.1:
            candidates = ["utf-16-le"]
        elif len(head) >= 4 and even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.1:
            candidates = ["utf-16-be"]
        else:
            candidates = ["utf-8", "cp1252", "latin-1"]
    for name in candidates:
        try:
            return (name, *_scan(stream, start, name))
        except _Undecodable:
            continue
    raise _refuse("file", f"cannot be decoded as {' or '.join(candidates)}; give --encoding")


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used) of bytes in memory, by the same rules as ``open_csv`` (for small inputs)."""
    name, _head, _nul = _choose_encoding(io.BytesIO(data), 0, encoding)
    return data.decode(name), name


def _header_line(text: str) -> str:
    """The first record's text (a quoted header may span lines)."""
    out, quoted = [], False
    for ch in text[:HEAD_CHARS]:
        if ch == '"':
            quoted = not quoted
        elif ch in "\r\n" and not quoted:
            break
        out.append(ch)
    return "".join(out)


def sniff_delimiter(text: str) -> str:
    """The delimiter, from the start of the file's text (its first HEAD_CHARS characters are read)."""
    header = _header_line(text)
    plain = re.sub(r'"[^"]*"', "", header)  # delimiters inside quotes do not count
    counts = {d: plain.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    if counts[best] and list(counts.values()).count(counts[best]) == 1:
        return best
    try:
        return csv.Sniffer().sniff(text[:HEAD_CHARS], delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        return ","


@dataclass
class CsvFile:
    """An open CSV file: how it was read, its header, and its rows, read as they are iterated."""

    encoding: str
    delimiter: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (line where the row starts, cells); blank lines skipped
    _readers: tuple = ()

    def check_rest(self) -> None:
        """Read the rows left, only to raise ValidationError if they are not valid CSV: a broken
        file is reported as such before what is wrong with its columns."""
        for _row in self.rows:
            pass

    def close(self) -> None:
        """Stop reading (the stream itself stays open)."""
        for reader in (self.rows, *self._readers):
            reader.close()


def _lines(stream: BinaryIO, start: int, encoding: str) -> Iterator[str]:
    """The stream's text line by line (a CR, LF or CRLF ends a line; csv joins quoted ones)."""
    stream.seek(start)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        yield from text
    finally:
        with contextlib.suppress(ValueError):  # already closed
            text.detach()  # the caller's stream stays open


def _records(lines: Iterator[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True, strict=True)
    line = 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            yield start, cells
    except csv.Error as exc:
        raise _refuse("file", f"is not valid CSV near line {reader.line_num}: {exc}") from None


def open_csv(stream: BinaryIO, encoding: str | None = None) -> CsvFile:
    """Open a CSV file from a seekable binary stream, reading it in chunks, never whole.

    The encoding is chosen (or the named one checked) by decoding the stream through once,
    which also refuses NUL characters; the delimiter comes from the first characters; the
    rows are then read as ``rows`` is iterated. Raises ValidationError for a file that
    cannot be used (rows that are not valid CSV raise it when they are reached)."""
    start = stream.tell()
    name, head, nul_line = _choose_encoding(stream, start, encoding)
    if nul_line is not None:
        raise _refuse("file", f"contains a NUL byte on line {nul_line}: "
                              "it is not a text CSV file (or give the right --encoding)")
    delimiter = sniff_delimiter(head)
    lines = _lines(stream, start, name)
    records = _records(lines, delimiter)
    rows = ((line, cells) for line, cells in records if any(c.strip() for c in cells))
    csvfile = CsvFile(name, delimiter, [], rows, (records, lines))
    try:
        first = next(records, None)
        if first is None or not any(h.strip() for h in first[1]):
            csvfile.check_rest()
            raise _refuse("file", "is empty: no header line with column names")
        csvfile.header = [h.replace("\ufeff", "").strip() for h in first[1]]
        seen: set[str] = set()
        for h in csvfile.header:
            if h and h in seen:
                csvfile.check_rest()
                raise _refuse("file", f"has the column {h!r} twice in its header")
            seen.add(h)
    except BaseException:
        csvfile.close()
        raise
    return csvfile


@contextlib.contextmanager
def _seekable(source: BinaryIO) -> Iterator[BinaryIO]:
    """``source`` itself when it can seek; else (a pipe, stdin) a temporary file it is copied to in
    chunks, so the encoding pass and the row pass can both read it without holding it in memory."""
    try:
        seekable = source.seekable()
    except (AttributeError, ValueError):
        seekable = False
    if seekable:
        yield source
        return
    with tempfile.TemporaryFile() as spool:
        shutil.copyfileobj(source, spool, READ_BYTES)
        spool.seek(0)
        yield spool


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
            raise ValidationError("preset", preset, f"is not one of: {', '.join(PRESETS)}, none")
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
        wanted = {x.strip().lower() for x in texts if x and x.strip()} - self.users.keys()
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
        if is_id(key) and int(key) in self.stages_by_id:
            return self.stages_by_id[int(key)]
        stage = self.stages.get(key) or self.stages.get(STAGE_SYNONYMS.get(key, "").lower())
        if stage is None:
            raise ValidationError("stage", text, f"is not a stage; stages are: {', '.join(s.name for s in self.stages.values())}")
        return stage


def _refs(session: Session, entity_name: str, texts: set[str], exclude=None) -> dict[str, int | str]:
    """text -> id for references given as ids (checked) or, for accounts, names; text -> reason if not.
    ``exclude``: a subquery of ids that do not count (records this import created)."""
    from crm_tui.services.registry import ENTITIES

    table = ENTITIES[entity_name].table
    out: dict[str, int | str] = {}
    ids: dict[str, int] = {}
    for t in texts:
        if t.strip().isdigit():
            try:
                ids[t] = parse_id(t.strip(), label=entity_name)
            except ValidationError as exc:
                out[t] = exc.reason
    found: set[int] = set()
    values = list(set(ids.values()))
    allowed = [] if exclude is None else [table.c.id.not_in(exclude)]
    for start in range(0, len(values), 5000):
        found |= set(session.execute(select(table.c.id).where(table.c.id.in_(values[start:start + 5000]),
                                                              *allowed)).scalars())
    for t, i in ids.items():
        out[t] = i if i in found else f"is not an existing {entity_name}"
    names = [t for t in texts if t not in ids and t not in out]
    if names:
        if "name" not in table.c:
            for t in names:
                out[t] = f"is not {'an' if entity_name[:1] in 'aeiou' else 'a'} {entity_name} id"
            return out
        wanted = {t.strip().lower(): t for t in names}
        by_name: dict[str, list[int]] = {}
        keys = list(wanted)
        for start in range(0, len(keys), 5000):
            for rid, name in session.execute(select(table.c.id, table.c.name).where(
                    func.lower(table.c.name).in_(keys[start:start + 5000]), *allowed)):
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


def _chunks(rows: Iterator[tuple[int, list[str]]], size: int) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _new_ids(session: Session, table, n: int) -> list[int]:
    """Ids for ``n`` new rows of ``table``, taken before they are inserted (so the change log can name them
    without INSERT ... RETURNING, which SQLAlchemy runs several times slower for many rows): the next ones
    after the largest on SQLite, whose one writer at a time is this transaction; from the id sequence on
    PostgreSQL. A clash fails the insert (primary key), it never mixes records up."""
    if session.connection().dialect.name == "postgresql":
        seq = func.pg_get_serial_sequence(table.name, "id")
        return list(session.execute(select(func.nextval(seq)).select_from(func.generate_series(1, n))).scalars())
    last = session.execute(select(func.max(table.c.id))).scalar() or 0
    return list(range(last + 1, last + n + 1))


def _ids_in(column, ids: list[int]):
    ids = sorted(ids)
    if ids[-1] - ids[0] + 1 == len(ids):
        return column.between(ids[0], ids[-1])
    return column.in_(ids)


class _Import:
    """One import: the state kept from chunk to chunk (keys seen, users, counts, errors of bad rows)."""

    def __init__(self, entity: Entity, csvfile: CsvFile, mapping: dict[str, str], *, session: Session, actor: str,
                 match: str | None, dry_run: bool, skip_invalid: bool, create_users: bool,
                 result: ImportResult, note: Callable[[str], None]):
        self.entity, self.session, self.actor = entity, session, actor
        self.dry_run, self.skip_invalid, self.result, self.note = dry_run, skip_invalid, result, note
        header = csvfile.header
        specs = self.specs = entity.specs
        self.field_col = {f: header.index(c) for c, f in mapping.items()}
        self.source_of = {f: c for c, f in mapping.items()}
        if match is None and "id" in self.field_col:
            # Updating existing records is asked for, never inferred: a file from another system has
            # ids of its own, and a plain re-import of an export must not write over anything.
            raise _refuse("id", f"the file has an id column ({self.source_of['id']!r}); give --match id to update "
                                "the records it names, or --map 'id=' to add every row as a new record")
        if match is not None:
            if match not in MATCH_KEYS:
                raise ValidationError("match", match, f"is not one of: {', '.join(MATCH_KEYS)}")
            key_field = match if match == "id" else ("email" if match == "email" else
                                                     ("name" if "name" in specs else "last_name"))
            if key_field != "id" and key_field not in specs:
                raise ValidationError("match", match, f"{entity.plural} have no {match} field")
            if key_field not in self.field_col:
                raise ValidationError("match", match, f"needs a column for {key_field}; columns are: {', '.join(header)}")
        else:
            key_field = None
            missing = [n for n, s in specs.items() if s.required and n not in self.field_col]
            if missing:
                raise _refuse("columns", f"no column for the required field {', '.join(missing)} of {entity.plural}; "
                                         f"columns are: {', '.join(h for h in header if h)}; "
                                         f"use --map 'Column={missing[0]}'")
        self.key_field = key_field
        self.width = len(header)
        self.resolver = _Resolver(session, create_users)
        self.now = utcnow()
        self.batch_id = new_batch_id()
        self.seen_keys: dict[str, int] = {}  # key -> line, for duplicates within the file
        self.first_stage: Stage | None = None
        self.actor_id = None
        self.rejected = 0  # rows with errors
        self.rules = None  # the assignment rules (loaded once), when the entity has any
        self.rule_team: dict[int, int | None] = {}  # id(values) -> the team a rule gave the new record to
        if "owner_id" in entity.table.c and not dry_run:
            from crm_tui.services.assignment import Picker

            picker = Picker(session, entity.name)
            self.rules = picker if picker else None

    def cell(self, cells: list[str], f: str) -> str:
        i = self.field_col[f]
        value = cells[i].strip() if i < len(cells) else ""
        return unneutralise(value)  # our export made it inert for spreadsheets ("'+1 555..."): take that back

    @property
    def writing(self) -> bool:
        """Whether rows are written: not in a dry run, nor once a bad row means nothing will be."""
        return not self.dry_run and (self.skip_invalid or not self.result.errors)

    def chunk(self, rows: list[tuple[int, list[str]]]) -> None:
        """Check, resolve and match one chunk of rows; write its good ones while writing."""
        entity, specs, session, result = self.entity, self.specs, self.session, self.result
        T = entity.table
        key_field, source_of = self.key_field, self.source_of
        resolver = self.resolver

        # Pass 1: shape, raw field data, what to look up.
        parsed: list[tuple[int, list[str], dict[str, str]]] = []
        bad: dict[int, list[RowError]] = {}
        lookups: dict[str, set[str]] = {}
        user_texts: set[str] = set()
        for line, cells in rows:
            if len(cells) > self.width and any(c.strip() for c in cells[self.width:]):
                bad.setdefault(line, []).append(RowError(line, None, f"has {len(cells)} cells; the header has {self.width}"))
            raw = {f: self.cell(cells, f) for f in self.field_col}
            for f, spec in specs.items():
                if f in raw and raw[f]:
                    if spec.kind == "date":
                        raw[f] = _date_text(raw[f])
                    elif spec.kind == "user":
                        user_texts.add(raw[f])
                    elif spec.kind == "ref":
                        lookups.setdefault(spec.ref, set()).add(raw[f])
            parsed.append((line, cells, raw))
        resolver.load_users(user_texts)
        # Records this import created are not there to refer to (as when the whole file was checked first).
        created = (select(CHANGES.c.record_id).where(CHANGES.c.batch_id == self.batch_id, CHANGES.c.field == "*")
                   .scalar_subquery())
        refs = {name: _refs(session, name, texts, created if name == entity.name else None)
                for name, texts in lookups.items()}

        # Matching existing records.
        existing: dict[str, int] = {}
        if key_field:
            keys = sorted({raw[key_field].lower() for _l, _c, raw in parsed if raw.get(key_field)})
            col = T.c.id if key_field == "id" else T.c[specs[key_field].col]
            if key_field == "id":
                stmt = select(T.c.id, T.c.id).where(T.c.id.in_([int(k) for k in keys if is_id(k)]))
            else:
                stmt = select(func.lower(col), T.c.id).where(func.lower(col).in_(keys))
            for k, rid in session.execute(stmt):
                k = str(k)
                existing[k] = -1 if k in existing else rid  # -1: more than one record has this key

        creates: list[dict] = []
        updates: list[tuple[int, list[str], int, dict, int | None]] = []
        for line, cells, raw in parsed:
            errors = bad.setdefault(line, [])

            def fail(f: str | None, message: str) -> None:
                errors.append(RowError(line, source_of.get(f) if f else None, message))  # noqa: B023 - used in this pass only

            target_id = None
            if key_field:
                k = raw.get(key_field, "").lower()
                if key_field == "id" and k and not k.isdigit():
                    fail("id", f"{raw['id']!r} is not a record id")
                    continue
                if k:
                    if k in self.seen_keys:
                        fail(key_field, f"{raw[key_field]!r} is also on line {self.seen_keys[k]}")
                        continue
                    self.seen_keys[k] = line
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
            # No owner given (no owner column, or an empty cell): the assignment rules may give one.
            by_rule = "owner_id" in T.c and values.get("owner_id") is None and not data.get("owner")
            if by_rule and "owner" not in data:
                if self.actor_id is None:
                    self.actor_id = records.ensure_user(session, self.actor)
                values["owner_id"] = self.actor_id
            if entity.name == "opportunity":
                if values.get("stage_id") is None:
                    if self.first_stage is None:
                        from crm_tui.services.sales.stages import first_stage as _first

                        self.first_stage = _first(session=session)
                    values["stage_id"] = self.first_stage.id
                stage = resolver.stages_by_id[values["stage_id"]]
                if stage.is_lost and not values.get("lost_reason"):
                    values["lost_reason"] = LOST_REASON_DEFAULT
                    result.lost_reasons_defaulted += 1
                if (stage.is_won or stage.is_lost) and values.get("expected_close"):
                    values["actual_close"] = values["expected_close"]  # a historical deal closed then, not today
            try:
                if entity.prepare:
                    values = entity.prepare(session, values, None, self.actor)
            except ValidationError as exc:
                fail(exc.field, str(exc))
                continue
            if raw.get("created_at"):
                try:
                    created_at = _historical_datetime(raw["created_at"], self.now)
                except ValidationError as exc:
                    fail("created_at", str(exc))
                    continue
                values["created_at"] = values["updated_at"] = created_at
                if "stage_changed_at" in T.c:
                    values["stage_changed_at"] = created_at
            if by_rule and self.rules is not None:  # the assignment rules give it an owner, if one matches
                owner = self.rules.pick(values)
                if owner is not None:
                    values["owner_id"] = owner
                    self.rule_team[id(values)] = self.rules.last_team
            values.setdefault("created_at", self.now)
            values.setdefault("updated_at", self.now)
            values.setdefault("version", 1)
            creates.append(values)

        # Updates: only the cells that differ from the record, under its version.
        planned: list[tuple[int, int, dict, int]] = []
        for line, _cells, rid, data, version in updates:
            plan = self._plan_update(rid, data, version, line, bad.setdefault(line, []), refs)
            if plan is not None:
                planned.append((line, rid, *plan))

        # The chunk's bad rows, in file order.
        for line, cells in rows:
            errs = bad.get(line)
            if errs:
                result.errors.extend(errs)
                result.rejects.append((cells, "; ".join(str(e) for e in errs)))
                self.rejected += 1
        if self.dry_run:
            result.created += len(creates)
            result.updated += sum(1 for p in planned if p[2])
            result.unchanged += sum(1 for p in planned if not p[2])
            return
        if not self.writing:
            return
        self._create(creates)
        self._update(planned)

    def _plan_update(self, rid: int, data: dict, version: int | None, line: int, errors: list[RowError],
                     refs: dict[str, dict[str, int | str]]) -> tuple[dict, int] | None:
        """(the fields of record ``rid`` the row changes, as text for records.update_record; the record's
        version), or None with the reason in ``errors``."""
        entity, specs, session, resolver = self.entity, self.specs, self.session, self.resolver
        current = records._raw(entity, session, rid)
        if version is not None and version != current["version"]:
            errors.append(RowError(line, self.source_of.get("version"),
                                   f"conflict: {entity.name} {rid} changed since the export "
                                   f"(version {version} in the file, {current['version']} now); not overwritten"))
            return None
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
                if name == self.key_field and isinstance(value, str) and str(stored).lower() == value.lower():
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
                errors.append(RowError(line, self.source_of.get(e.field), str(e)))
            return None
        return changed, current["version"]

    def _create(self, creates: list[dict]) -> None:
        """New records with Core executemany (rows with the same columns together), each with a Change
        row holding the whole record, written by one INSERT ... SELECT per chunk."""
        if not creates:
            return
        from crm_tui.services.data.bulk import log_snapshots

        entity, session = self.entity, self.session
        T = entity.table
        self.note(f"writing {len(creates):,} {entity.plural}")
        groups: dict[tuple[str, ...], list[dict]] = {}
        for values in creates:
            groups.setdefault(tuple(sorted(values)), []).append(values)
        ids: list[int] = []
        for group in groups.values():
            new = _new_ids(session, T, len(group))
            for values, rid in zip(group, new):
                values["id"] = rid
            try:
                session.execute(insert(T), group)
            except IntegrityError as exc:  # e.g. a product SKU that is taken
                raise Conflict(f"cannot import {entity.plural}: {records._integrity_reason(exc)}; "
                               "nothing written") from None
            ids += new
        log_snapshots(entity, session, _ids_in(T.c.id, ids), created=True, actor=self.actor, when=self.now,
                      batch_id=self.batch_id)
        self.result.created += len(creates)
        if "owner_id" in T.c and entity.name in ("lead", "opportunity"):
            from crm_tui.services.assignment import notify_created

            if self.rules is not None:
                self.rules.save()
            by_rule = {v["id"]: self.rule_team[id(v)] for v in creates if id(v) in self.rule_team}
            label = entity.label
            notify_created(session=session, entity=entity.name, actor=self.actor, by_rule=by_rule,
                           created=[(v["id"], v.get("owner_id"), label({"name": v.get("name"), **v}))
                                    for v in creates])

    def _update(self, planned: list[tuple[int, int, dict, int]]) -> None:
        result = self.result
        for line, rid, changed, version in planned:
            if not changed:
                result.unchanged += 1
                continue
            try:
                records.update_record(self.entity, session=self.session, record_id=rid, data=changed,
                                      actor=self.actor, expected_version=version, batch_id=self.batch_id)
            except CRMError as exc:  # a rule of the entity (e.g. a lost stage without reason)
                result.errors.append(RowError(line, None, str(exc)))
                raise ImportRefused(result, f"line {line}: {exc}; nothing written") from None
            result.updated += 1

    def finish(self) -> None:
        result = self.result
        if result.errors and not self.skip_invalid:
            if len(result.errors) == 1:
                raise ImportRefused(result, f"{result.errors[0]}; nothing written")
            raise ImportRefused(result, f"{self.rejected:,} of {result.rows:,} rows cannot be imported "
                                        "(listed above); nothing written")
        result.users_created = list(self.resolver.new_users)
        if not self.dry_run and (result.created or result.updated):
            result.batch_id = self.batch_id


def import_csv(entity: Entity, source: BinaryIO, *, session: Session, actor: str, preset: str | None = None,
               maps: list[str] | None = None, match: str | None = None, dry_run: bool = False,
               skip_invalid: bool = False, create_users: bool = False, encoding: str | None = None,
               progress: Callable[[str], None] | None = None, chunk_rows: int = CHUNK_ROWS) -> ImportResult:
    """Validate and write every row of a CSV file (a binary stream: a file, stdin, io.BytesIO),
    ``chunk_rows`` rows at a time, all or nothing unless ``skip_invalid``.

    Raises ImportRefused when rows are invalid and not skipped, ValidationError when the file
    itself cannot be used; either way the caller rolls its session back and nothing is written."""
    note = progress or (lambda _m: None)
    result = ImportResult(entity.name, dry_run=dry_run)
    begin_write(session)  # a writer from the start: waits for the lock instead of failing part way
    with _seekable(source) as stream:
        csvfile = open_csv(stream, encoding)
        try:
            result.encoding, result.delimiter, result.header = csvfile.encoding, csvfile.delimiter, csvfile.header
            try:
                result.preset, result.preset_detected = choose_preset(csvfile.header, preset)
                result.mapping, result.ignored = map_columns(entity, csvfile.header, preset=result.preset, maps=maps)
                run = _Import(entity, csvfile, result.mapping, session=session, actor=actor, match=match,
                              dry_run=dry_run, skip_invalid=skip_invalid, create_users=create_users, result=result,
                              note=note)
            except ValidationError:
                csvfile.check_rest()
                raise
            for rows in _chunks(csvfile.rows, chunk_rows):
                result.rows += len(rows)
                note(f"checking {entity.plural}: {result.rows - len(rows):,} rows done")
                run.chunk(rows)
        finally:
            csvfile.close()
    run.finish()
    return result


def rejects_csv(result: ImportResult, out) -> None:
    """The rejected rows as they were, plus an ``error`` column: fix them and import the file again."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(unneutralise(c)) for c in (*result.header, "error")])
    for cells, reason in result.rejects:
        # Inert in a spreadsheet, and imported again exactly as the cells of the first file were.
        row = [*cells[:len(result.header)], *[""] * (len(result.header) - len(cells)), reason]
        writer.writerow([neutralise(unneutralise(c)) for c in row])


def _historical_datetime(value: str, now: dt.datetime | None = None) -> dt.datetime:
    """A creation time from another system: a bare date is that day's start in UTC; never in the future."""
    text = str(value).strip()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        from crm_tui.services.validate import parse_datetime

        try:
            when = parse_datetime(text, field_name="created_at")
        except OverflowError:  # a time zone pushes it past year 9999
            raise ValidationError("created_at", text, "is not a date-time the database can hold") from None
    else:
        when = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
    if when > (now or utcnow()):
        raise ValidationError("created_at", text, "is in the future; a record cannot be created after today")
    return when
