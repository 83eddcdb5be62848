"""`crm tag list`: the tags in use with how many records carry each, counting only records the user may read."""

from __future__ import annotations

import json

from support import one_line_error
from test_visibility import team  # noqa: F401 - the team of reps, as a fixture


def _counts(cli, user: str, *args: str) -> dict[tuple[str, str], int]:
    result = cli("tag", "list", "--format", "json", *args, env={"CRM_USER": user})
    assert result.exit_code == 0, result.output
    return {(r["tag"], r["entity"]): r["records"] for r in json.loads(result.stdout)}


def test_tag_counts_follow_what_each_user_may_read(cli, team):  # noqa: F811
    root = {"CRM_USER": "root"}
    assert cli("tag", "add", "renewal", "--entity", "opp", "--where", "name ~ kestrel", env=root).exit_code == 0
    carol_deal = team["carol"]["opportunity"]
    assert cli("tag", "add", "secret-bid", "--entity", "opp", "--where", f"id = {carol_deal}", env=root).exit_code == 0
    alice_account = team["alice"]["account"]
    assert cli("tag", "add", "vip", "--entity", "account", "--where", f"id = {alice_account}", env=root).exit_code == 0

    assert _counts(cli, "root") == {("renewal", "opportunity"): 3, ("secret-bid", "opportunity"): 1,
                                    ("vip", "account"): 1}
    # alice reads her own deals and every account: carol's tagged deal is not counted, nor its tag listed
    assert _counts(cli, "alice") == {("renewal", "opportunity"): 1, ("vip", "account"): 1}
    assert _counts(cli, "root", "--entity", "account") == {("vip", "account"): 1}

    table = cli("tag", "list", env=root)
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    cells = [line for line in lines if "renewal" in line][0].split("│")[1:4]
    assert [c.strip() for c in cells] == ["renewal", "opportunity", "3"]
    assert cells[2].endswith("3 ")  # counts are right-aligned


def test_no_tags_yet(cli):
    result = cli("tag", "list")
    assert result.exit_code == 0 and result.stdout == "" and "no tags yet" in result.stderr
    assert cli("tag", "list", "--format", "csv").stdout == "tag,entity,records\n"


def test_an_unknown_entity_is_one_line(cli):
    result = cli("tag", "list", "--entity", "nope")
    assert "entity" in one_line_error(result) and "nope" in result.stderr
