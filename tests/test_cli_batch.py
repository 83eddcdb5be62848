"""`crm batch`: many commands, one per line, in one process; each line runs as that command would."""

from __future__ import annotations

import json

from support import one_line_error
from test_cli import added_id, read_json


def test_lines_run_in_order_as_the_commands_would(cli):
    acme = added_id(cli("account", "add", "Acme Corp"))
    script = (f"# set up two deals\n"
              f"opp add 'Acme – Data platform' --account {acme} --amount 1200\n"
              f"\n"
              f"crm opp add \"Acme – Support\" --account {acme} --amount 300   # the crm prefix is fine\n"
              f"opp list --format json --sort id\n")
    result = cli("batch", input=script)
    assert result.exit_code == 0, result.output
    first, second, listing = result.stdout.split("\n", 2)
    deals = json.loads(listing)
    assert [int(first), int(second)] == [d["id"] for d in deals]
    assert [(d["name"], d["amount"]) for d in deals] == [("Acme – Data platform", "1200.00"), ("Acme – Support", "300.00")]
    # the same listing as the command on its own
    assert deals == read_json(cli("opp", "list", "--format", "json", "--sort", "id"))


def test_the_first_failing_line_stops_the_batch(cli):
    acme = added_id(cli("account", "add", "Acme Corp"))
    result = cli("batch", input=f"account update {acme} --industry Retail\nopp show 424242\n"
                                f"account update {acme} --industry Energy\n")
    assert result.exit_code == 1
    assert "opportunity 424242 not found" in result.stderr
    assert "line 2 failed (exit 1): opp show 424242" in result.stderr
    assert read_json(cli("account", "show", str(acme), "--format", "json"))["industry"] == "Retail"


def test_keep_going_runs_every_line_and_counts_the_failures(cli):
    acme = added_id(cli("account", "add", "Acme Corp"))
    result = cli("batch", "--keep-going", input=f"opp show 424242\nopp nosuchverb\n"
                                                f"account update {acme} --industry Energy\n")
    assert result.exit_code == 1
    assert "line 2 failed (exit 2): opp nosuchverb" in result.stderr
    assert "2 of 3 commands failed" in result.stderr
    assert read_json(cli("account", "show", str(acme), "--format", "json"))["industry"] == "Energy"


def test_lines_a_batch_cannot_run(cli, tmp_path):
    assert "cannot run another batch" in one_line_error(cli("batch", input="batch\n"))
    assert "no command" in one_line_error(cli("batch", input="--db x.db\n"))  # would open the app
    assert "no command" in one_line_error(cli("batch", input="--db=x.db\n"))
    assert "cannot run another batch" in one_line_error(cli("batch", input="--db x.db batch\n"))
    assert "cannot read the line" in one_line_error(cli("batch", input="account add 'unclosed\n"))
    refused = one_line_error(cli("batch", input="tag add vip --entity account --ids -\n"))
    assert "reads stdin, which holds the commands" in refused


def test_commands_from_a_file_leave_stdin_to_the_lines(cli, tmp_path):
    ids = [added_id(cli("account", "add", name)) for name in ("Acme", "Globex", "Initech")]
    script = tmp_path / "tagging.crm"
    script.write_text("tag add vip --entity account --ids -\naccount list --where 'tag = vip' --format ids\n",
                      encoding="utf-8")
    result = cli("batch", str(script), input=f"{ids[0]}\n{ids[2]}\n")
    assert result.exit_code == 0, result.output
    assert [int(x) for x in result.stdout.split()] == [ids[0], ids[2]]


def test_a_missing_file_is_one_line(cli, tmp_path):
    assert "cannot read" in one_line_error(cli("batch", str(tmp_path / "nope.crm")))
