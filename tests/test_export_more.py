"""`crm export` covers every noun the CLI has: leads and the product catalog too."""

from __future__ import annotations

import csv
import io


def test_export_leads_and_products(cli):
    lead = cli("lead", "add", "--first-name", "Ada", "--last-name", "Byron", "--company", "=Engines Ltd",
               "--email", "ada@engines.example")
    assert lead.exit_code == 0, lead.stderr
    for args in (("SKU-1", "--name", "Analytical engine", "--unit-price", "1,234.50", "--currency", "EUR"),
                 ("SKU-2", "--name", "Punched cards", "--unit-price", "500", "--currency", "JPY")):
        added = cli("product", "add", *args)
        assert added.exit_code == 0, added.stderr

    leads = list(csv.DictReader(io.StringIO(cli("export", "lead").stdout)))
    assert [(r["last_name"], r["company"], r["email"], r["status"]) for r in leads] == [
        ("Byron", "'=Engines Ltd", "ada@engines.example", "new")]  # a formula-like cell is made inert

    result = cli("export", "product")
    assert result.exit_code == 0, result.stderr
    products = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["sku"], r["unit_price"], r["currency"]) for r in products] == [
        ("SKU-1", "1234.50", "EUR"), ("SKU-2", "500", "JPY")]


def test_export_of_an_unknown_noun_lists_the_nouns(cli):
    result = cli("export", "frob")
    assert result.exit_code == 1
    assert "'frob' is not one of: account, contact, opp, activity, lead, product" in result.stderr
