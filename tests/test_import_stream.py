"""`crm import` reads its file as a stream: memory does not grow with the file, the encoding is found (and
NUL bytes refused) over the whole file read in chunks, and rows are checked and written in chunks that
behave like one pass over the file (duplicates, all or nothing, references)."""

from __future__ import annotations

import codecs
import io
import tracemalloc

import pytest
from sqlalchemy import text
from sqlmodel import Session

from crm_tui.errors import ValidationError
from crm_tui.services.data import importing
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import open_engine

ACC, CON = ENTITIES["account"], ENTITIES["contact"]


def count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def accounts_csv(path, n: int):
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("name,industry,website,phone,email,city,state,employees\r\n")
        for i in range(n):
            out.write(f"Company {i},Retail,c{i}.example.com,+1 555 {i % 10000:04d},info{i}@c{i}.example.com,"
                      f"Berlin,CA,{i % 5000}\r\n")
    return path


def test_memory_does_not_grow_with_the_file(tmp_path):
    """Peak Python memory of importing 50,000 rows is about that of 5,000 (one chunk): before streaming
    it was 7x as much (13 MB for 5,000 rows, 99 MB for 50,000)."""
    peaks = {}
    for n in (100, 5_000, 50_000):  # the first run only loads and compiles what the import uses
        engine = open_engine(f"sqlite:///{tmp_path / f'crm{n}.db'}")
        path = accounts_csv(tmp_path / f"accounts{n}.csv", n)
        try:
            with Session(engine) as s, path.open("rb") as source:
                tracemalloc.start()
                try:
                    result = importing.import_csv(ACC, source, session=s, actor="tester")
                    peaks[n] = tracemalloc.get_traced_memory()[1]
                finally:
                    tracemalloc.stop()
                s.commit()
            assert result.created == n and not result.errors
            assert count(engine, "SELECT count(*) FROM accounts") == n
            assert count(engine, "SELECT count(DISTINCT name) FROM accounts") == n
            assert count(engine, "SELECT count(*) FROM changes WHERE field = '*'") == n
        finally:
            engine.dispose()
    assert peaks[50_000] < 1.5 * peaks[5_000] + 2_000_000, peaks


def test_chunks_behave_like_one_pass(session, engine):
    """Rows two at a time: a key twice in the file is found across chunks, every bad row is listed in
    file order, nothing is written when one is bad, and a record the import itself created is not there
    to refer to (as when the whole file was checked before writing)."""
    def run(content: str, entity=CON, **options):
        return importing.import_csv(entity, io.BytesIO(content.encode()), session=session, actor="tester",
                                    chunk_rows=2, **options)

    content = ("last_name,email\nA,a@example.com\nB,b@example.com\nC,nope\nD,d@example.com\n"
               "E,A@example.com\nF,f@example.com\n")
    with pytest.raises(importing.ImportRefused) as refused:
        run(content, match="email")
    session.rollback()
    assert [str(e) for e in refused.value.result.errors] == [
        "line 4, column 'email': email: 'nope' is not an email address",
        "line 6, column 'email': 'A@example.com' is also on line 2"]
    assert str(refused.value) == "2 of 6 rows cannot be imported (listed above); nothing written"
    assert count(engine, "SELECT count(*) FROM contacts") == 0
    # skipping them: the good rows of every chunk are written, in one batch
    result = run(content, match="email", skip_invalid=True)
    session.commit()
    assert (result.rows, result.created, len(result.rejects)) == (6, 4, 2)
    assert [cells for cells, _reason in result.rejects] == [["C", "nope"], ["E", "A@example.com"]]
    assert count(engine, "SELECT count(*) FROM contacts") == 4
    assert count(engine, f"SELECT count(*) FROM changes WHERE batch_id = '{result.batch_id}'") == 4
    # G is made by this import (in its first chunk): I's reports_to cannot name it, A's can
    first = count(engine, "SELECT min(id) FROM contacts")
    if session.get_bind().dialect.name == "postgresql":
        last, called = session.execute(text("SELECT last_value, is_called FROM contacts_id_seq")).one()
        g = last + 1 if called else last
    else:
        g = count(engine, "SELECT max(id) FROM contacts") + 1
    with pytest.raises(importing.ImportRefused) as refused:
        run(f"last_name,reports_to\nG,{first}\nH,\nI,{g}\n")
    session.rollback()
    assert [str(e) for e in refused.value.result.errors] == [
        f"line 4, column 'reports_to': reports_to: '{g}' is not an existing contact"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252"])
def test_encodings_are_found_over_the_whole_file_read_in_small_pieces(session, monkeypatch, encoding):
    """Read 3 bytes at a time, so characters and BOMs are split between reads; the first non-ASCII
    character is far from the start, past what the head shows."""
    monkeypatch.setattr(importing, "READ_BYTES", 3)
    rows = [f"Company {i},Retail" for i in range(300)] + ["Zürich Café,Food"]
    data = ("name,industry\r\n" + "\r\n".join(rows) + "\r\n").encode(encoding)
    result = importing.import_csv(ACC, io.BytesIO(data), session=session, actor="tester", dry_run=True)
    assert (result.encoding, result.rows, result.created) == (encoding, 301, 301)
    parsed = importing.open_csv(io.BytesIO(data))
    assert list(parsed.rows)[-1] == (302, ["Zürich Café", "Food"])


def test_refusals_found_in_the_middle_of_a_file(session, monkeypatch):
    monkeypatch.setattr(importing, "READ_BYTES", 5)
    head = "name,industry\n" + "".join(f"Company {i},Retail\n" for i in range(50))

    def refusal(data: bytes, **options) -> str:
        with pytest.raises(ValidationError) as info:
            importing.import_csv(ACC, io.BytesIO(data), session=session, actor="tester", **options)
        return str(info.value)

    assert refusal((head + "Bad\x00Co,Retail\n").encode()) == (
        "file: contains a NUL byte on line 52: it is not a text CSV file (or give the right --encoding)")
    latin = (head + "Café,Food\n").encode("cp1252")
    offset = len(head.encode()) + 3
    assert refusal(latin, encoding="utf-8") == f"file: is not utf-8: undecodable byte at offset {offset}"
    assert refusal(latin, encoding="klingon") == "encoding: 'klingon' is not an encoding Python knows"
    utf16 = codecs.BOM_UTF16_LE + (head + "x").encode("utf-16-le")[:-1]  # cut in the middle of a character
    assert refusal(utf16) == "file: cannot be decoded as utf-16; give --encoding"
    # a row that is not valid CSV far down the file is found before a mapping that does not fit
    assert refusal((head + 'Acme,"Retail\n').encode(), maps=["nope=name"]).startswith("file: is not valid CSV")
    assert count(session.get_bind(), "SELECT count(*) FROM accounts") == 0
