"""Every CSV the CLI writes follows one rule: a cell a spreadsheet would run as a formula gets a leading
quote, unless --raw. The test walks the command tree (like tests/test_cli.py), so a new command that
can print CSV is covered or fails here. Also: an empty result still has its header row."""

from __future__ import annotations

import csv
import io

from support import FIXTURES
from test_cli import COMMANDS

from crm_tui.commands._common import Format
from crm_tui.commands._output import OUTPUT_MARK
from crm_tui.spreadsheet import is_dangerous

INJECTION = FIXTURES / "csv_messy" / "injection"


def payloads() -> list[str]:
    lines = []
    for path in sorted(INJECTION.glob("*.txt")):
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [p for p in lines if is_dangerous(p) and len(p) > 2]


P = payloads()
assert len(P) >= 12


def _p(i: int) -> str:
    return P[i % len(P)]


CSV_COMMANDS = sorted(" ".join(path) for path, command in COMMANDS
                      if Format.csv in (getattr(command.callback, OUTPUT_MARK, None) or {}).get("formats", ()))

# The data every read below shows: payloads in the text fields of every entity (set up in this order).
SETUP = [
    ["user", "add", "payload", "--name", _p(0)],
    ["team", "add", "Payload team"],
    ["team", "add-member", "Payload team", "payload"],
    ["account", "add", _p(1), "--industry", _p(2), "--city", _p(3)],
    ["account", "update", "1", "--industry", _p(4)],  # a change with payloads on both sides
    ["contact", "add", "--last-name", _p(1), "--first-name", _p(2), "--account", "1", "--title", _p(3)],
    ["contact", "update", "1", "--title", _p(5)],
    ["lead", "add", "--last-name", _p(1), "--company", _p(2), "--source", _p(3)],
    ["lead", "add", "--last-name", _p(6), "--company", _p(7)],
    ["lead", "update", "1", "--company", _p(8)],
    ["opp", "add", _p(1), "--account", "1", "--next-step", _p(2), "--description", _p(3), "--amount", "1000",
     "--expected-close", "today+10d", "--owner", "payload"],
    ["opp", "update", "1", "--next-step", _p(9)],
    ["activity", "add", _p(1), "--body", _p(2), "--opp", "1", "--due", "today"],
    ["activity", "add", _p(3), "--body", _p(4), "--lead", "1", "--due", "today"],
    ["activity", "add", _p(5), "--account", "1", "--contact", "1", "--due", "today"],
    ["activity", "update", "1", "--body", _p(10)],
    ["product", "add", "SKU-1", "--name", _p(1), "--description", _p(2), "--unit-price", "10"],
    ["product", "update", "1", "--description", _p(11)],
    ["proposal", "new", "--opp", "1", "--title", _p(1), "--terms", _p(2)],
    ["proposal", "add-line", "1", "--description", _p(3), "--price", "5", "--quantity", "1"],
    ["proposal", "add-line", "1", "--product", "SKU-1"],
    ["proposal", "send", "1"],
    ["proposal", "revise", "1"],
    ["proposal", "update-line", "1", "1", "--description", _p(4)],
    ["proposal", "send", "1"],
    ["proposal", "new", "--opp", "1", "--title", _p(7)],
    ["proposal", "add-line", "2", "--description", _p(8), "--price", "1"],
    ["proposal", "send", "2"],
    ["proposal", "template", "add", "payload-template", "--from-proposal", "1", "--title", _p(5)],
    ["stage", "add", "Payload stage", "--probability", "30"],
    ["forecast", "snapshot", "--name", _p(6)],
    ["quota", "set", "payload", "2026-12", "5000"],
    ["view", "save", "payloads", "--entity", "account", "--where", "name~cmd"],
    ["tag", "add", "=1+1", "--entity", "opp", "--where", "id=1"],  # a tag name a spreadsheet would run
]

# Reads: these show the payloads above, so --raw must give at least one formula cell back.
READS = {
    "lead list": [], "lead show": ["1"], "lead history": ["1"], "lead timeline": ["1"],
    "account list": [], "account show": ["1"], "account history": ["1"], "account timeline": ["1"],
    "contact list": [], "contact show": ["1"], "contact history": ["1"], "contact timeline": ["1"],
    "opp list": [], "opp show": ["1"], "opp history": ["1"], "opp timeline": ["1"],
    "activity list": [], "activity show": ["1"], "activity history": ["1"], "activity today": [],
    "proposal list": [], "proposal show": ["1"], "proposal diff": ["1", "--from", "1", "--to", "2"],
    "proposal template list": [],
    "product list": [], "product show": ["1"], "product history": ["1"],
    "user list": [], "search": ["cmd"], "export": ["account"],
    "team members": ["Payload team"],
    "forecast snapshots": [],
}
# Reads whose rows hold no free text a user typed (numbers, our own names): checked for inert output only.
PLAIN_READS = {
    "stage list": [], "lint": [], "view list": [], "jobs list": [], "forecast compare": ["1"],
    "forecast": ["--from", "2026-01-01", "--to", "2027-12-31", "--by", "owner"], "forecast changes": [],
    "quota list": [], "team list": [], "role show": [],
    "account shares": ["1"], "assign rule list": [], "notification list": [], "notification prefs": [],
    "tag list": [],  # tag names hold no spaces, so no payload above fits; the "=1+1" tag must come out inert
}
# Writes that print the record they wrote (with --format csv): each writes payloads of its own.
WRITES = [
    ("lead add", ["--last-name", _p(0), "--company", _p(1)]),
    ("lead update", ["1", "--company", _p(2)]),
    ("lead convert", ["2"]),
    ("account add", [_p(3) + " 2", "--industry", _p(4)]),
    ("account update", ["1", "--industry", _p(5)]),
    ("contact add", ["--last-name", _p(6), "--account", "1"]),
    ("contact update", ["1", "--title", _p(7)]),
    ("opp add", [_p(8), "--account", "1", "--next-step", _p(9)]),
    ("opp update", ["1", "--next-step", _p(10)]),
    ("activity add", [_p(11), "--body", _p(0)]),
    ("activity update", ["1", "--body", _p(1)]),
    ("product add", ["SKU-2", "--name", _p(2), "--description", _p(3)]),
    ("product update", ["1", "--description", _p(4)]),
    ("proposal new", ["--opp", "1", "--title", _p(5), "--terms", _p(6)]),  # proposal 3
    ("proposal add-line", ["3", "--description", _p(7), "--price", "1"]),
    ("proposal add-line", ["3", "--description", _p(8), "--price", "2"]),
    ("proposal update-line", ["3", "1", "--description", _p(9)]),
    ("proposal update", ["3", "--terms", _p(10)]),
    ("proposal remove-line", ["3", "2"]),
    ("proposal send", ["3"]),
    ("proposal revise", ["3"]),
    ("proposal accept", ["1"]),
    ("proposal reject", ["2"]),
    ("proposal template add", ["payload-template-2", "--from-proposal", "3", "--title", _p(11)]),
    ("user add", ["payload2", "--name", _p(0)]),
    ("user update", ["payload2", "--name", _p(2)]),
    ("team add", ["Another team"]),
    ("stage add", ["Another stage", "--probability", "40"]),
    ("stage reorder", ["Lead", "Qualified", "Proposal", "Negotiation", "Payload stage", "Another stage", "Won",
                       "Lost"]),
    ("forecast snapshot", ["--name", _p(1)]),
    ("account share", ["1", "--with", "payload"]),
    ("account unshare", ["1", "--with", "payload"]),
    ("assign lead", ["1", "--to", "payload"]),
    ("assign leads", ["1", "--to", "tester"]),
    ("assign opp", ["1", "--to", "tester"]),
    ("assign opps", ["1", "--to", "payload"]),
    ("assign deal", ["1", "--to", "tester"]),
    ("assign deals", ["1", "--to", "payload"]),
    ("assign opportunity", ["1", "--to", "tester"]),
    ("assign opportunities", ["1", "--to", "payload"]),
    ("assign rule add", ["lead", "field", "--field", "state", "--value", "CA", "--user", "payload"]),
    ("assign rule remove", ["1"]),
    ("notification read", ["--all"]),
]
# Writes whose record holds no text of ours (a status change, a stage): checked for inert output only.
PLAIN_WRITES = {"proposal new", "lead convert", "stage add", "team add", "stage reorder", "proposal send", "proposal accept",
                "proposal reject", "proposal remove-line", "proposal revise", "account share", "account unshare",
                "assign lead", "assign leads", "assign opp", "assign opps", "assign deal", "assign deals",
                "assign opportunity", "assign opportunities", "assign rule add", "assign rule remove",
                "notification read"}


def test_every_command_that_writes_csv_takes_raw_and_is_walked_here():
    assert CSV_COMMANDS, "no command writes CSV?"
    for path, command in COMMANDS:
        name = " ".join(path)
        if name in CSV_COMMANDS:
            assert any("--raw" in getattr(p, "opts", ()) for p in command.params), f"`crm {name}` has no --raw"
    walked = set(READS) | set(PLAIN_READS) | {name for name, _args in WRITES}
    assert sorted(walked) == CSV_COMMANDS, (
        f"walk these here: {sorted(set(CSV_COMMANDS) - walked)}; gone: {sorted(walked - set(CSV_COMMANDS))}")


def _cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def test_every_csv_the_cli_writes_is_inert_unless_raw(cli, restore_stages):
    for argv in SETUP:
        result = cli(*argv)
        assert result.exit_code == 0, (argv, result.stderr)
    problems = []

    def check(name: str, args: list[str], shows_payloads: bool, again: bool = True) -> None:
        argv = [*name.split(), *args]
        result = cli(*argv, "--format", "csv")
        if result.exit_code != 0:
            problems.append(f"crm {name}: exit {result.exit_code}: {result.stderr.strip()[-300:]}")
            return
        bad = [c for c in _cells(result.stdout) if is_dangerous(c)]
        if bad:
            problems.append(f"crm {name} --format csv: formula cells {bad[:3]}")
        if not shows_payloads:
            return
        if not any(c.startswith("'") for c in _cells(result.stdout)):
            problems.append(f"crm {name} --format csv: shows no guarded payload (does the walk reach its data?)")
        if not again:  # a write: running it twice would be another write (the same code prints it)
            return
        raw = cli(*argv, "--format", "csv", "--raw")
        if raw.exit_code != 0 or not any(is_dangerous(c) for c in _cells(raw.stdout)):
            problems.append(f"crm {name} --raw: the payloads are not there as stored")
        elif not any(c in P or c.split(" ")[0] in P for c in _cells(raw.stdout)) and name != "forecast":
            problems.append(f"crm {name} --raw: no payload comes back byte for byte")

    for name, args in READS.items():
        check(name, args, True)
    for name, args in PLAIN_READS.items():
        check(name, args, False)
    for name, args in WRITES:  # in order: later ones use what earlier ones made
        check(name, args, name not in PLAIN_WRITES, again=False)
    assert not problems, "\n".join(problems)


EMPTY_THEN_FULL = [
    ["account", "list", "--where", "name~zeta"],
    ["account", "list", "--where", "name~zeta", "--columns", "id,name"],
    ["contact", "list"], ["lead", "list"], ["opp", "list", "--where", "amount>50"], ["product", "list"],
    ["activity", "today"], ["search", "zeta"], ["view", "list"], ["quota", "list"], ["proposal", "list", "--status", "sent"],
    ["proposal", "show", "1"], ["account", "timeline", "1"],
    ["forecast", "--from", "2020-01-01", "--to", "2030-12-31", "--by", "month,stage"],
]


def test_an_empty_csv_result_has_the_header_it_has_with_rows(cli):
    def header(argv):
        result = cli(*argv, "--format", "csv")
        assert result.exit_code == 0, (argv, result.stderr)
        return result.stdout.splitlines()

    # Nothing to list yet (one account and one opportunity with an empty proposal, for the commands that need them).
    for argv in (["account", "add", "Acme"], ["opp", "add", "Deal", "--account", "1"], ["proposal", "new", "--opp", "1"]):
        assert cli(*argv).exit_code == 0
    empty = {}
    for argv in EMPTY_THEN_FULL:
        lines = header(argv)
        assert len(lines) == 1 and all(next(csv.reader(lines))), (argv, lines)
        empty[" ".join(argv)] = lines[0]
    assert empty["account list --where name~zeta --columns id,name"] == "id,name"
    for argv in (["account", "add", "Zeta Labs"], ["contact", "add", "--last-name", "Lee", "--account", "2"],
                 ["lead", "add", "--last-name", "Kim", "--company", "Zeta"], ["product", "add", "SKU-1", "--name", "X"],
                 ["opp", "update", "1", "--amount", "100", "--expected-close", "today", "--description", "zeta"],
                 ["activity", "add", "Call", "--account", "1", "--due", "today"],
                 ["view", "save", "v", "--entity", "account", "--where", "name~zeta"],
                 ["quota", "set", "tester", "2026-12", "100"],
                 ["proposal", "add-line", "1", "--description", "Work", "--price", "5"], ["proposal", "send", "1"]):
        result = cli(*argv)
        assert result.exit_code == 0, (argv, result.stderr)
    for argv in EMPTY_THEN_FULL:
        lines = header(argv)
        assert len(lines) > 1, (argv, lines)
        assert lines[0] == empty[" ".join(argv)], argv
