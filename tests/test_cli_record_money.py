"""`crm NOUN show` reads money the way the lists and the app do: grouped, exact, with its currency.

csv and json keep the exact stored values (minor units and decimal text) for scripts."""

from __future__ import annotations

import json

from test_cli import added_id, read_json


def _lines(result) -> dict[str, str]:
    assert result.exit_code == 0, result.output
    out = {}
    for line in result.stdout.splitlines():
        key, _, value = line.strip().partition(" ")
        if key:
            out[key] = value.strip()
    return out


def test_opportunity_show_formats_amounts_and_hides_minor_units(cli):
    account = added_id(cli("account", "add", "Zeta Robotics"))
    opp = added_id(cli("opp", "add", "Data platform", "--account", str(account), "--amount", "1234567.5",
                       "--currency", "EUR", "--stage", "Proposal"))
    shown = _lines(cli("opp", "show", str(opp)))
    assert shown["amount"] == "1,234,567.50 EUR"
    assert shown["weighted_amount"] == "617,283.75 EUR"  # Proposal is 50 %
    assert "amount_minor" not in shown

    record = read_json(cli("opp", "show", str(opp), "--format", "json"))
    assert (record["amount"], record["amount_minor"], record["weighted_amount"]) == ("1234567.50", 123456750, "617283.75")


def test_zero_decimal_currency_in_a_record(cli):
    account = added_id(cli("account", "add", "Kyoto Labs"))
    opp = added_id(cli("opp", "add", "Rollout", "--account", str(account), "--amount", "1500000", "--currency", "JPY"))
    assert _lines(cli("opp", "show", str(opp)))["amount"] == "1,500,000 JPY"


def test_proposal_show_reads_totals_as_money(cli):
    account = added_id(cli("account", "add", "Lumen Industries"))
    opp = added_id(cli("opp", "add", "E-commerce site", "--account", str(account), "--amount", "100"))
    proposal = added_id(cli("proposal", "new", "--opp", str(opp)))
    assert cli("product", "add", "CRM-LIC", "--name", "Licence", "--unit-price", "1250.00").exit_code == 0
    assert cli("proposal", "add-line", str(proposal), "--product", "CRM-LIC", "--quantity", "3").exit_code == 0
    shown = _lines(cli("proposal", "show", str(proposal)))
    assert shown["total"].startswith("3,750.00 ")
    assert json.loads(cli("proposal", "show", str(proposal), "--format", "json").stdout)["total"] == "3750.00"
