"""Typed settings: the config file (JSON) plus ``CRM_*`` environment overrides, read once.

The entry points read them (``crm ...`` once per command, the TUI once per start) and pass
``Settings`` down; services and integrations take the values they need as arguments and
never read the file themselves.

Where the file is: ``CRM_CONFIG``, else ``config.json`` in the platform config folder
(``crm config path`` prints it). A missing file means the defaults. A file that is not valid
JSON, holds a key this model does not know, or a value of the wrong type is refused with a
``ConfigError`` whose one-line message names the file, the line and the key: a typo must
never be silently ignored.

Environment overrides beat the file: ``CRM_<KEY>`` for a top-level key (``CRM_DATABASE_URL``,
``CRM_USER``, ``CRM_STALLED_DAYS``, ``CRM_DATA_DIR`` ...), ``CRM_<SECTION>__<KEY>`` for a nested
one (``CRM_SMTP__HOST``, ``CRM_SMTP__PASSWORD``, ``CRM_PDF__FONT``), plus ``CRM_PDF_FONT`` for
``pdf.font``. Lists take JSON or comma-separated text, objects take JSON.

Light to import: pydantic and the standard library only (no SQLAlchemy, no Textual).
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator
from pydantic import ValidationError as PydanticValidationError

from crm_tui.errors import ConfigError
from crm_tui.locations import config_path

ENV_PREFIX = "CRM_"
NESTED = "__"
# Environment variables that predate the CRM_<SECTION>__<KEY> scheme and keep working.
LEGACY_ENV: dict[str, tuple[str, ...]] = {"CRM_PDF_FONT": ("pdf", "font")}
MASK = "***"

DEFAULT_LOST_REASONS = ("price", "competition", "budget", "missing features", "timing", "no decision maker",
                        "unresponsive", "poor fit", "other")
DEFAULT_STALLED_DAYS = 14
DEFAULT_RECORD_URL = "crm://{entity}/{id}"


class _Section(BaseModel):
    # Each key is documented by the docstring under it (``key_docs`` reads them). Not pydantic's
    # use_attribute_docstrings: it looks for the source among every loaded module on import, which
    # cost every command about 20 ms before it started.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class SmtpConfig(_Section):
    """The SMTP server `crm summary --send` mails through."""

    host: str | None = None
    """The SMTP server's host name. Mail is off until this is set."""
    port: int | None = Field(default=None, ge=1, le=65535)
    """The server's port; default 465 with tls "ssl", 587 with "starttls", 25 with "none"."""
    tls: Literal["starttls", "ssl", "none"] = "starttls"
    """How the connection is encrypted: "starttls", "ssl" (implicit TLS) or "none"."""
    user: str | None = None
    """The login name, when the server needs one."""
    password: str | None = None
    """The login password (shown as *** by `crm config show`)."""
    sender: str | None = Field(default=None, alias="from")
    """The From address; default the login name, else crm@localhost. The key is "from"."""

    @field_validator("tls", mode="before")
    @classmethod
    def _tls_words(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return "starttls" if value else "none"
        if isinstance(value, str):
            word = value.strip().lower()
            return {"true": "starttls", "yes": "starttls", "1": "starttls",
                    "false": "none", "no": "none", "0": "none"}.get(word, word)
        return value


class SellerConfig(_Section):
    """Who is selling: the header of every proposal PDF."""

    name: str | None = None
    """The company name."""
    address: list[str] = []
    """Address lines: a list, or one text with line breaks."""
    email: str | None = None
    """The sales e-mail address printed on the PDF."""
    phone: str | None = None
    """The phone number printed on the PDF."""
    website: str | None = None
    """The website printed on the PDF."""
    tax_id: str | None = None
    """The VAT or tax number printed on the PDF."""
    logo: str | None = None
    """A PNG or JPEG file drawn at the top left of the first page."""

    @field_validator("address", mode="before")
    @classmethod
    def _address_lines(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [line for line in value.splitlines() if line.strip()]
        return value


class PdfConfig(_Section):
    """The fonts of proposal PDFs."""

    font: str | None = None
    """A Unicode .ttf file (CRM_PDF_FONT); default DejaVu Sans from the usual font folders."""
    font_bold: str | None = None
    """The bold .ttf going with "font"; default the regular font."""
    fallback_fonts: list[str] = []
    """.ttf files tried, in order, for characters the main font lacks."""


class Settings(_Section):
    """Everything crm-tui reads from its config file; each key can be overridden by CRM_<KEY>."""

    database_url: str | None = None
    """The database: a SQLite file path or a SQLAlchemy URL (postgresql+psycopg://user@host/db).
    --db and CRM_DATABASE_URL win; default crm.db in the data folder."""
    user: str | None = None
    """Who "me" is, the user recorded on every change (CRM_USER); default the OS login name."""
    data_dir: Path | None = None
    """The folder for the default database and proposal PDFs (CRM_DATA_DIR); default the platform data folder."""
    pdf_dir: Path | None = None
    """Where the TUI writes proposal PDFs; default "proposals" in the data folder."""
    stalled_days: PositiveInt = DEFAULT_STALLED_DAYS
    """Days without a stage change or an activity after which an open deal counts as stalled."""
    lost_reasons: tuple[str, ...] = DEFAULT_LOST_REASONS
    """The reasons to choose from when a deal is lost."""
    record_url: str = DEFAULT_RECORD_URL
    """The link to a record in summary e-mails, with {entity} and {id}, e.g. https://crm.example.com/{entity}/{id}."""
    keymap: dict[str, str] = {}
    """TUI key remaps: binding id to key, e.g. {"accounts.new": "a"}."""
    smtp: SmtpConfig = SmtpConfig()
    """The SMTP server for mail."""
    seller: SellerConfig = SellerConfig()
    """The seller header of proposal PDFs."""
    pdf: PdfConfig = PdfConfig()
    """Proposal PDF fonts."""

    @field_validator("lost_reasons", mode="before")
    @classmethod
    def _reasons_list(cls, value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            raise ValueError('must be a list of text, e.g. ["price", "timing"]')  # noqa: TRY004 - pydantic wants ValueError
        return value

    @field_validator("lost_reasons", mode="after")
    @classmethod
    def _reasons(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        reasons = tuple(r.strip() for r in value if r.strip())
        if not reasons:
            raise ValueError("needs at least one reason")
        return reasons

    def masked(self) -> dict[str, Any]:
        """The settings as JSON-ready data (file keys), secrets replaced by ***."""
        data = self.model_dump(mode="json", by_alias=True)
        if data["smtp"].get("password"):
            data["smtp"]["password"] = MASK
        if data.get("database_url"):
            data["database_url"] = mask_url(data["database_url"])
        return data


# ---------------------------------------------------------------- locating and loading


def mask_url(url: str) -> str:
    """``scheme://user:secret@host/db`` -> ``scheme://user:***@host/db``."""
    return re.sub(r"(://[^/@:]*:)[^/@]*@", rf"\g<1>{MASK}@", url)


class Loaded:
    """Where each effective value came from, for ``crm config show``."""

    def __init__(self, path: Path, exists: bool, file_keys: set[tuple[str, ...]], env: dict[tuple[str, ...], str]):
        self.path = path
        self.exists = exists
        self.file_keys = file_keys
        self.env = env

    def source(self, key: tuple[str, ...]) -> str:
        for n in range(len(key), 0, -1):
            if key[:n] in self.env:
                return f"env {self.env[key[:n]]}"
        return "file" if key in self.file_keys else "default"


def key_docs(model: type[BaseModel]) -> dict[str, str]:
    """Each key of a settings model (a section or ``Settings``) with its docstring, the string right
    under it in the class body; read from this module's source when asked, never when settings load."""
    import ast

    classes = {node.name: node for node in ast.parse(Path(__file__).read_text(encoding="utf-8")).body
               if isinstance(node, ast.ClassDef)}
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        node = classes.get(cls.__name__) if cls.__module__ == __name__ else None
        body = node.body if node is not None else []
        for stmt, after in zip(body, body[1:]):
            if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                docs[stmt.target.id] = " ".join(after.value.value.split())
    return docs


def load_settings(environ: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    """Read the config file once and apply the environment; ConfigError when either is invalid."""
    return load_settings_with_sources(environ, path)[0]


def load_settings_with_sources(environ: Mapping[str, str] | None = None,
                               path: Path | None = None) -> tuple[Settings, Loaded]:
    environ = os.environ if environ is None else environ
    path = config_path(environ) if path is None else path
    text, data = _read_file(path)
    if data:
        try:
            Settings.model_validate(data)
        except PydanticValidationError as exc:
            raise _file_error(path, text or "", exc) from None
    env_data, env_names = _environment(environ)
    merged = _merge(data, env_data)
    try:
        settings = Settings.model_validate(merged)
    except PydanticValidationError as exc:
        raise _env_error(exc, env_names) from None
    return settings, Loaded(path, text is not None, _keys(data), env_names)


def _read_file(path: Path) -> tuple[str | None, dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, {}
    except IsADirectoryError:
        raise ConfigError(f"config {path}: is a folder, not a file", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"config {path}: cannot be read: {reason}", path=path) from None
    if not text.strip():
        return text, {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _syntax_error(path, text, exc) from None
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} line 1: must be a JSON object ({{\"key\": value, ...}}), "
                          f"not {type(data).__name__}", path=path, line=1)
    return text, data


def _keys(data: dict, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for key, value in data.items():
        out.add(prefix + (key,))
        if isinstance(value, dict):
            out |= _keys(value, prefix + (key,))
    return out


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------- the environment


def _field_names(model: type[BaseModel]) -> dict[str, str]:
    """Key in the file (alias or name), lower-cased -> key in the file."""
    out = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        out[key.lower()] = key
    return out


def _section(name: str) -> type[BaseModel] | None:
    info = Settings.model_fields.get(name)
    if info is None:
        return None
    annotation = info.annotation
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _env_value(raw: str, annotation: Any) -> Any:
    text = raw.strip()
    if text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return raw
    origin = getattr(annotation, "__origin__", None)
    if origin in (list, tuple):
        return [part.strip() for part in text.split(",") if part.strip()]
    return raw


def _environment(environ: Mapping[str, str]) -> tuple[dict, dict[tuple[str, ...], str]]:
    """CRM_* variables that name a setting -> (nested data, {key path: variable name}).

    Other CRM_* variables (CRM_CONFIG, CRM_DEBUG, ...) are not settings and are left alone;
    a variable naming a key inside a section that has no such key is refused.
    """
    data: dict[str, Any] = {}
    names: dict[tuple[str, ...], str] = {}
    top = _field_names(Settings)
    for var in sorted(environ):
        raw = environ[var]
        if not var.startswith(ENV_PREFIX) or raw == "":
            continue
        if var in LEGACY_ENV:
            if f"{ENV_PREFIX}PDF{NESTED}FONT" in environ:
                continue  # the new spelling wins
            parts: tuple[str, ...] = LEGACY_ENV[var]
        else:
            parts = tuple(var[len(ENV_PREFIX):].lower().split(NESTED))
        head = top.get(parts[0])
        if head is None:
            continue
        section = _section(head)
        if len(parts) == 1:
            data[head] = _env_value(raw, Settings.model_fields[head].annotation)
            names[(head,)] = var
            continue
        if section is None or len(parts) != 2 or parts[1] not in _field_names(section):
            choices = ", ".join(_field_names(section).values()) if section else ""
            known = f"; {head} has: {choices}" if choices else f"; {head} is not a section"
            raise ConfigError(f"environment {var}: unknown key {'.'.join(parts)}{known}", key=".".join(parts))
        key = _field_names(section)[parts[1]]
        target = data.setdefault(head, {})
        if not isinstance(target, dict):
            continue  # CRM_SMTP='{...}' given whole: it wins over CRM_SMTP__*
        field = next(f for n, f in section.model_fields.items() if (f.alias or n) == key)
        target[key] = _env_value(raw, field.annotation)
        names[(head, key)] = var
    return data, names


# ---------------------------------------------------------------- one-line errors


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _key_position(text: str, loc: tuple) -> int | None:
    """Where the key at ``loc`` (e.g. ("smtp", "port")) is written in ``text``: each part is
    looked for after the one before it, so a nested key is found inside its section."""
    pos, found = 0, None
    for part in loc:
        if not isinstance(part, str):
            continue
        match = re.compile(r'"' + re.escape(part) + r'"\s*:').search(text, pos)
        if match is None:
            break
        pos = found = match.start()
    return found


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(error: Any, loc: tuple) -> str:
    """One error of a pydantic ValidationError in words, naming the key."""
    key = _dotted(loc)
    if error["type"] == "extra_forbidden":
        parent = loc[:-1]
        model: type[BaseModel] = (_section(parent[0]) if parent else None) or Settings
        allowed = list(_field_names(model).values())
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        where = f" in {_dotted(parent)}" if parent else ""
        return f"unknown key {key}{hint}; keys{where} are: {', '.join(allowed)}"
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    shown = "" if isinstance(value, (dict, list)) else f" (got {json.dumps(value)})"
    return f"{key}: {message[0].lower() + message[1:]}{shown}"


def _first(exc: PydanticValidationError) -> tuple[Any, tuple, str]:
    errors = exc.errors()
    first = errors[0]
    loc = tuple(first["loc"])
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return first, loc, more


def _file_error(path: Path, text: str, exc: PydanticValidationError) -> ConfigError:
    first, loc, more = _first(exc)
    pos = _key_position(text, loc)
    line = _line_of(text, pos) if pos is not None else None
    where = f" line {line}" if line else ""
    return ConfigError(f"config {path}{where}: {_describe(first, loc)}{more}", path=path, line=line,
                       key=_dotted(loc))


def _env_error(exc: PydanticValidationError, names: dict[tuple[str, ...], str]) -> ConfigError:
    first, loc, more = _first(exc)
    keys = tuple(p for p in loc if isinstance(p, str))
    var = next((names[keys[:n]] for n in range(len(keys), 0, -1) if keys[:n] in names), None)
    prefix = f"environment {var}" if var else "settings"
    return ConfigError(f"{prefix}: {_describe(first, loc)}{more}", key=_dotted(loc))


def _syntax_error(path: Path, text: str, exc: json.JSONDecodeError) -> ConfigError:
    pos, reason = exc.pos, exc.msg
    before = text[:pos].rstrip()
    if before.endswith(",") and reason.startswith(("Expecting property name", "Expecting value")):
        pos, reason = len(before) - 1, "trailing comma (JSON allows none before } or ])"
    line = _line_of(text, pos)
    key = _key_before(text, pos)
    near = f" after key {key}" if key else ""
    return ConfigError(f"config {path} line {line}: invalid JSON{near}: {reason[0].lower() + reason[1:]}",
                       path=path, line=line, key=key)


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:]')


def _key_before(text: str, pos: int) -> str | None:
    """The dotted key written last before ``pos`` (e.g. "smtp.host"), read from the JSON's tokens."""
    frames: list[list] = []  # per open container: [kind, last key in it]
    last_string = None
    for match in _TOKEN.finditer(text, 0, pos):
        token = match.group()
        if token in "{[":
            frames.append([token, None])
        elif token in "}]":
            if frames:
                frames.pop()
        elif token == ":":
            if frames and frames[-1][0] == "{" and last_string is not None:
                frames[-1][1] = last_string
        else:
            last_string = token[1:-1]
    keys = [key for kind, key in frames if kind == "{" and key is not None]
    return ".".join(keys) or None


# ---------------------------------------------------------------- writing


def save_settings(updates: Mapping[str, Any], *, environ: Mapping[str, str] | None = None,
                  path: Path | None = None) -> Settings:
    """Write ``updates`` (file keys, nested for sections: ``{"seller": {"name": "Acme"}}``) into the
    config file, merged into what it holds; every other key stays as written. The result is checked
    before anything is written (ConfigError naming the key otherwise), a broken file is never
    overwritten, and the file is replaced in one step. Returns the settings now in effect (the
    environment still wins over the file)."""
    import tempfile

    environ = os.environ if environ is None else environ
    path = config_path(environ) if path is None else path
    _text, data = _read_file(path)  # ConfigError on a broken file: the user's file stays as it is
    merged = _merge(data, dict(updates))
    try:
        Settings.model_validate(merged)
    except PydanticValidationError as exc:
        first, loc, more = _first(exc)
        raise ConfigError(f"config {path}: {_describe(first, loc)}{more}", path=path, key=_dotted(loc)) from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".json", dir=str(path.parent))
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(merged, out, indent=2, ensure_ascii=False)
            out.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"config {path}: cannot be written: {exc.strerror or exc}", path=path) from None
    return load_settings(environ, path)
