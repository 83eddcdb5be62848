"""The proposal PDF: Unicode text, repeated table header, page numbers, the same totals as the CLI."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from crm_tui import money
from crm_tui.integrations import pdf
from crm_tui.services import records
from crm_tui.services.quotes import proposals as P
from crm_tui.services.sales.accounts import ENTITY as ACCOUNT
from crm_tui.services.sales.contacts import ENTITY as CONTACT
from crm_tui.services.sales.opportunities import ENTITY as OPP
from crm_tui.settings import PdfConfig, Settings
from crm_tui.store.db import session_scope

CUSTOMER = "Ανδρέας Παπαδόπουλος & Ко — Société Générale d'Électricité"
LINE_NAMES = [
    "Überprüfung der Datenqualität", "Ελληνική μετάφραση εγγράφων", "Настройка сервера", "Façade façonnée à Zürich",
    "Ωμέγα συμβόλαιο υποστήριξης", "Обучение персонала (Москва)", "Čeština a Łódź — migrace", "Ñandú español",
]
SELLER = Settings.model_validate({"seller": {"name": "Nordlicht Software GmbH",
                                             "address": ["Müllerstraße 12", "80469 München"],
                                             "email": "sales@nordlicht.example"}})


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def big_proposal(engine):
    return make_big_proposal(engine)


def make_big_proposal(engine):
    """A proposal long enough for three pages: 60 lines with accented Latin, Greek and Cyrillic names."""
    with session_scope(engine) as s:
        acc = records.create_record(ACCOUNT, session=s, data={"name": CUSTOMER, "city": "Θεσσαλονίκη",
                                                              "country": "Ελλάδα", "currency": "EUR"}, actor="alice")
        con = records.create_record(CONTACT, session=s, data={"first_name": "Юлия", "last_name": "Соколова",
                                                              "account": acc["id"]}, actor="alice")
        opp = records.create_record(OPP, session=s, data={"name": "Πλατφόρμα 2027", "account": acc["id"],
                                                          "contact": con["id"], "currency": "EUR",
                                                          "stage": "Proposal"}, actor="alice")
        view = P.new_proposal(session=s, opportunity_id=opp["id"], actor="alice", tax_rate="19",
                              terms="Zahlbar innerhalb von 30 Tagen. Условия оплаты: 30 дней.")
        lines = [{"description": f"{LINE_NAMES[i % len(LINE_NAMES)]} #{i + 1}", "quantity": f"{1 + i % 4}.5",
                  "unit_price": f"{100 + i}.99", "discount": str(i % 3 * 5)} for i in range(60)]
        saved = P.save_proposal(session=s, proposal_id=view.id, actor="alice", expected_version=view.version,
                                lines=lines)
    return saved.view


def test_three_page_unicode_proposal_has_customer_totals_every_line_and_page_furniture(big_proposal, tmp_path):
    out = tmp_path / "proposal.pdf"
    result = pdf.render_proposal(big_proposal, out, settings=SELLER)
    assert result.warnings == []
    reader = PdfReader(out)
    assert result.pages == len(reader.pages) == 3
    pages = [normalized(page.extract_text()) for page in reader.pages]
    text = " ".join(pages)
    assert CUSTOMER in text
    assert "Юлия Соколова" in text and "Nordlicht Software GmbH" in text and "Müllerstraße 12" in text
    for ln in big_proposal.pricing.lines:
        assert ln.description in text, ln.description
        assert money.format_money(ln.total_minor, "EUR", code=False) in text
    p = big_proposal.pricing
    for minor in (p.subtotal_minor, p.discount_minor, p.net_minor, p.tax_minor, p.total_minor):
        assert money.format_money(minor, "EUR") in text
    for i, page in enumerate(pages, start=1):
        assert f"Page {i} of 3" in page
        assert "Description" in page and "Amount (EUR)" in page  # the table header on every page
    assert "Zahlbar innerhalb von 30 Tagen" in text and "Условия оплаты" in text


def test_character_missing_from_the_font_is_replaced_and_reported(engine, big_proposal, tmp_path):
    with session_scope(engine) as s:
        lines = P.editable_lines(big_proposal)[:3]
        lines[0]["description"] = "漢字 support 𝄞"
        view = P.save_proposal(session=s, proposal_id=big_proposal.id, actor="alice",
                               expected_version=big_proposal.version, lines=lines).view
    out = tmp_path / "missing.pdf"
    result = pdf.render_proposal(view, out, settings=SELLER)
    assert len(result.warnings) == 1
    assert "U+6F22" in result.warnings[0] and "U+1D11E" in result.warnings[0]
    text = normalized(" ".join(page.extract_text() for page in PdfReader(out).pages))
    assert "\ufffd\ufffd support \ufffd" in text  # replaced, visibly, not dropped
    assert money.format_money(view.pricing.total_minor, "EUR") in text


def test_configured_font_that_is_missing_is_a_clear_error(big_proposal, tmp_path):
    with pytest.raises(pdf.PdfError) as exc:
        pdf.render_proposal(big_proposal, tmp_path / "x.pdf", settings=Settings(pdf=PdfConfig(font="/nope/Font.ttf")))
    assert "/nope/Font.ttf" in str(exc.value) and "pdf.font" in str(exc.value)
    assert not (tmp_path / "x.pdf").exists()


def test_cli_pdf_writes_the_file_and_pdftoppm_reads_it(cli, big_proposal, tmp_path):
    out = tmp_path / "cli.pdf"
    result = cli("proposal", "pdf", big_proposal.number, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "3 pages" in result.stderr and result.stdout == ""
    text = normalized(" ".join(page.extract_text() for page in PdfReader(out).pages))
    shown = cli("proposal", "show", str(big_proposal.id), "--format", "json")
    import json

    total = json.loads(shown.stdout)["total"]
    assert money.format_money(money.parse_amount(total, "EUR"), "EUR") in text
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "30", str(out), str(tmp_path / "page")], check=True)
        assert sorted(p.name for p in tmp_path.glob("page-*.png")) == ["page-1.png", "page-2.png", "page-3.png"]
