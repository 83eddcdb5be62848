"""Full-text search: the query language and its two compilers (FTS5 and tsquery), and the index objects.

What is indexed (``SOURCES``): account names, web sites and descriptions; contact
and lead names, emails, companies and notes; opportunity names, descriptions and
next steps; activity subjects and bodies. Each record's fields are joined with
spaces into one text, and both backends see the same words in it:

- SQLite: one contentless FTS5 table per entity (``search_<entity>``, rowid = the
  record's id, tokenizer ``unicode61 remove_diacritics 0``), kept in step by
  insert / update / delete triggers;
- PostgreSQL: an expression GIN index per table over
  ``to_tsvector('simple', regexp_replace(text, '[^[:alnum:]]+', ' ', 'g'))``: the
  text cut into runs of letters and digits, as FTS5's tokenizer cuts it, lower-cased,
  no stemming and no stop words. Nothing to keep in step.

The query language: words, ``"quoted phrases"``, ``AND`` (also implied between
terms), ``OR``, ``NOT``, parentheses and prefixes (``chat*``). Operators are
upper case, as in FTS5; lower-case ``and`` is a word. A word with punctuation
(``e-commerce``) is the phrase of its parts. The text is parsed here and
compiled to FTS5 MATCH syntax or to a tsquery from the parsed tree, with every
term quoted, so user text never reaches either engine's parser raw. A query
that cannot be parsed raises ``ValidationError("query", ...)`` naming the problem.

Migration 0003_search creates these objects with its own frozen copy of the SQL;
``demo`` uses ``rebuild_sqlite`` after its bulk load. They are not in the models'
metadata, so ``include_object`` keeps them out of schema comparisons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crm_tui.errors import ValidationError

# entity -> (table, indexed columns); the order is the order hits are listed in.
SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "account": ("accounts", ("name", "website", "description")),
    "contact": ("contacts", ("first_name", "last_name", "email", "notes")),
    "lead": ("leads", ("first_name", "last_name", "company", "email", "notes")),
    "opportunity": ("opportunities", ("name", "description", "next_step")),
    "activity": ("activities", ("subject", "body")),
}

TOKENIZER = "unicode61 remove_diacritics 0"


def fts_table(entity: str) -> str:
    return f"search_{entity}"


def pg_index(entity: str) -> str:
    return f"ix_search_{SOURCES[entity][0]}"


def body_sql(columns: tuple[str, ...], prefix: str = "") -> str:
    """The indexed text of one row: its fields joined with spaces."""
    return " || ' ' || ".join(f"coalesce({prefix}{c}, '')" for c in columns)


def pg_vector_sql(columns: tuple[str, ...], prefix: str = "") -> str:
    return (f"to_tsvector('simple'::regconfig, regexp_replace({body_sql(columns, prefix)}, "
            f"'[^[:alnum:]]+', ' ', 'g'))")


def sqlite_ddl(entity: str) -> list[str]:
    """CREATE statements for one entity's FTS5 table and its triggers (SQLite)."""
    fts = fts_table(entity)
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(body, content='', tokenize='{TOKENIZER}')",
        *sqlite_triggers(entity),
    ]


def sqlite_triggers(entity: str) -> list[str]:
    table, cols = SOURCES[entity]
    fts = fts_table(entity)
    new, old = body_sql(cols, "new."), body_sql(cols, "old.")
    return [
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, body) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, body) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF id, {', '.join(cols)} ON {table} "
        f"WHEN old.id IS NOT new.id OR ({old}) IS NOT ({new}) BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, body) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, body) VALUES (new.id, {new}); END",
    ]


def sqlite_trigger_names(entity: str) -> list[str]:
    fts = fts_table(entity)
    return [f"{fts}_ai", f"{fts}_ad", f"{fts}_au"]


def rebuild_sqlite(conn) -> None:
    """Fill every FTS5 table from its records in one statement each (after a bulk load)."""
    for entity, (table, cols) in SOURCES.items():
        fts = fts_table(entity)
        conn.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('delete-all')")
        conn.exec_driver_sql(f"INSERT INTO {fts}(rowid, body) SELECT id, {body_sql(cols)} FROM {table}")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic hook: the search tables, their FTS5 shadow tables and the GIN indexes are not in the models."""
    if type_ == "table" and name and name.startswith("search_"):
        return False
    if type_ == "index" and name and name.startswith("ix_search_"):
        return False
    return True


# ---------------------------------------------------------------- the query language


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or a phrase
    prefix: bool = False  # the last word is a prefix


@dataclass(frozen=True)
class Not:
    child: object


@dataclass(frozen=True)
class And:
    children: tuple


@dataclass(frozen=True)
class Or:
    children: tuple


_TOKEN = re.compile(r'\s*(?:(?P<quote>")|(?P<open>\()|(?P<close>\))|(?P<word>[^\s"()]+))')
_WORD_PART = re.compile(r"[^\W_]+")
OPERATORS = ("AND", "OR", "NOT")
MAX_QUERY = 1000


def _bad(query: str, why: str) -> ValidationError:
    return ValidationError("query", query, why)


def words(text: str) -> list[str]:
    """Text cut into lower-case runs of letters and digits, as both indexes cut it."""
    return [w.lower() for w in _WORD_PART.findall(text)]


_words = words


def _lex(query: str) -> list[tuple[str, object, int]]:
    tokens: list[tuple[str, object, int]] = []
    pos = 0
    while pos < len(query):
        if query[pos:].strip() == "":
            break
        m = _TOKEN.match(query, pos)
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        if m.group("quote"):
            end = query.find('"', m.end())
            if end < 0:
                raise _bad(query, f"has an unbalanced quote at position {start + 1}: close the phrase with \"")
            inner = query[m.end():end]
            prefix = inner.rstrip().endswith("*")
            words = _words(inner)
            if not words:
                raise _bad(query, f"has an empty phrase at position {start + 1}")
            tokens.append(("term", Term(tuple(words), prefix), start))
            pos = end + 1
            continue
        if m.group("open"):
            tokens.append(("(", None, start))
        elif m.group("close"):
            tokens.append((")", None, start))
        else:
            word = m.group("word")
            if word in OPERATORS:
                tokens.append((word, None, start))
            else:
                words = _words(word)
                if not words:
                    raise _bad(query, f"has nothing to search for in {word!r} at position {start + 1}: "
                                      "use letters or digits")
                tokens.append(("term", Term(tuple(words), word.endswith("*")), start))
        pos = m.end()
    return tokens


def parse_query(query: str):
    """Parse search text into a tree of Term / And / Or / Not; raises ValidationError when it is not valid."""
    if query is None or not query.strip():
        raise _bad(query or "", "is empty: give words to search for")
    if len(query) > MAX_QUERY:
        raise _bad(query[:40] + "...", f"is longer than {MAX_QUERY} characters")
    tokens = _lex(query)
    pos = 0

    def peek():
        return tokens[pos][0] if pos < len(tokens) else None

    def where() -> str:
        return f"at position {tokens[pos][2] + 1}" if pos < len(tokens) else "at the end"

    def primary():
        nonlocal pos
        kind = peek()
        if kind == "term":
            pos += 1
            return tokens[pos - 1][1]
        if kind == "(":
            pos += 1
            node = or_expr()
            if peek() != ")":
                raise _bad(query, f"has an unclosed parenthesis: expected ) {where()}")
            pos += 1
            return node
        if kind in ("AND", "OR"):
            raise _bad(query, f"has {kind} {where()} without a search term before it")
        if kind == ")":
            raise _bad(query, f"has a ) {where()} without a matching (")
        before = tokens[pos - 1][0] if pos else None
        raise _bad(query, f"ends after {before} without a search term" if before else "has no search terms")

    def unary():
        nonlocal pos
        if peek() == "NOT":
            pos += 1
            child = unary()
            return child.child if isinstance(child, Not) else Not(child)
        return primary()

    def and_expr():
        nonlocal pos
        items = [unary()]
        while peek() in ("AND", "term", "(", "NOT"):
            if peek() == "AND":
                pos += 1
            items.append(unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def or_expr():
        nonlocal pos
        items = [and_expr()]
        while peek() == "OR":
            pos += 1
            items.append(and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    tree = or_expr()
    if pos < len(tokens):
        kind = peek()
        if kind == ")":
            raise _bad(query, f"has a ) {where()} without a matching (")
        raise _bad(query, f"cannot be read {where()}")
    _check_not(query, tree, top=True)
    return tree


def _check_not(query: str, node, top: bool = False) -> None:
    """NOT only takes away from something: 'chatbot NOT demo' works, 'NOT demo' alone or 'a OR NOT b' does not."""
    if isinstance(node, Not):
        raise _bad(query, "uses NOT without a term to take away from: write e.g. 'chatbot NOT demo'")
    if isinstance(node, Or):
        for child in node.children:
            _check_not(query, child)
    if isinstance(node, And):
        if all(isinstance(c, Not) for c in node.children):
            raise _bad(query, "uses NOT without a term to take away from: write e.g. 'chatbot NOT demo'")
        for child in node.children:
            if isinstance(child, Not):
                _check_not_inner(query, child.child)
            else:
                _check_not(query, child)


def _check_not_inner(query: str, node) -> None:
    if isinstance(node, (And, Or)):
        _check_not(query, node)


def to_fts5(node) -> str:
    """FTS5 MATCH text for a parsed query: every word quoted, NOT as FTS5's binary operator."""
    if isinstance(node, Term):
        parts = [f'"{w}"' for w in node.words]
        if node.prefix:
            parts[-1] += "*"
        return " + ".join(parts)
    if isinstance(node, Or):
        return "(" + " OR ".join(to_fts5(c) for c in node.children) + ")"
    if isinstance(node, And):
        positives = [c for c in node.children if not isinstance(c, Not)]
        negatives = [c.child for c in node.children if isinstance(c, Not)]
        text = "(" + " AND ".join(to_fts5(c) for c in positives) + ")"
        for neg in negatives:
            text = f"({text} NOT {to_fts5(neg)})"
        return text
    raise TypeError(node)


def to_tsquery(node) -> str:
    """PostgreSQL tsquery text for a parsed query: quoted lexemes, <-> for phrases, :* for prefixes."""
    if isinstance(node, Term):
        parts = [f"'{w}'" for w in node.words]
        if node.prefix:
            parts[-1] += ":*"
        return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"
    if isinstance(node, Or):
        return "(" + " | ".join(to_tsquery(c) for c in node.children) + ")"
    if isinstance(node, And):
        return "(" + " & ".join(("!" + to_tsquery(c.child)) if isinstance(c, Not) else to_tsquery(c)
                               for c in node.children) + ")"
    raise TypeError(node)


def positive_terms(node) -> list[Term]:
    """The terms a hit must (or may) contain, for snippets (NOT branches left out)."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, (And, Or)):
        return [t for c in node.children if not isinstance(c, Not) for t in positive_terms(c)]
    return []
