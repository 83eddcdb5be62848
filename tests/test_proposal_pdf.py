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


# ---------------------------------------------------------------- what the customer reads


def pdftotext(path) -> str:
    """The page as a reader sees it, in reading order (poppler's pdftotext -layout)."""
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


FULL_SELLER = Settings.model_validate({"seller": {
    "name": "Nordlicht Software GmbH", "address": ["Müllerstraße 12", "80469 München", "Germany"],
    "email": "sales@nordlicht.example", "phone": "+49 89 1234567", "website": "nordlicht.example",
    "tax_id": "DE123456789"}})


def customer_proposal(engine, *, country="United States", city="Portland", state="OR", postal_code="48491",
                      proposal_contact=True, sent=False):
    """Keystone Robotics' deal "Keystone Robotics – Data platform" with a proposal; the billing contact
    Dana Whitfield (CFO) is the deal's contact and the account's primary contact."""
    with session_scope(engine) as s:
        acc = records.create_record(ACCOUNT, session=s, actor="alice", data={
            "name": "Keystone Robotics", "street": "18 Harbor Way", "city": city, "state": state,
            "postal_code": postal_code, "country": country})
        records.create_record(CONTACT, session=s, actor="alice", data={
            "first_name": "Lee", "last_name": "Other", "account": acc["id"]})
        con = records.create_record(CONTACT, session=s, actor="alice", data={
            "first_name": "Dana", "last_name": "Whitfield", "title": "Chief Financial Officer",
            "email": "dana@keystone.example", "account": acc["id"], "is_primary": "yes"})
        opp = records.create_record(OPP, session=s, actor="alice", data={
            "name": "Keystone Robotics – Data platform", "account": acc["id"], "stage": "Proposal",
            **({"contact": con["id"]} if proposal_contact else {})})
        view = P.new_proposal(session=s, opportunity_id=opp["id"], actor="alice")
        view = P.save_proposal(session=s, proposal_id=view.id, actor="alice", expected_version=view.version,
                               lines=[{"description": "Data platform licence", "quantity": "1",
                                       "unit_price": "40000"}]).view
        if sent:
            view = P.send_proposal(session=s, proposal_id=view.id, actor="alice", expected_version=view.version)
    return view


def test_customer_reads_seller_block_title_addressee_and_no_status(engine, tmp_path):
    view = customer_proposal(engine, sent=True)
    assert view.status == "sent"
    out = tmp_path / "customer.pdf"
    pdf.render_proposal(view, out, settings=FULL_SELLER)
    text = pdftotext(out)
    flat = normalized(text)
    for part in ("Nordlicht Software GmbH", "Müllerstraße 12", "80469 München", "+49 89 1234567",
                 "sales@nordlicht.example", "nordlicht.example", "Tax ID DE123456789"):
        assert part in flat, part
    assert f"Proposal {view.number}" in flat
    assert "Data platform" in flat
    assert "Keystone Robotics – Data platform" not in flat  # the internal deal name is never the title
    assert "Status" not in flat and "sent" not in flat.lower().split() and "draft" not in flat.lower()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    start = lines.index("Prepared for")
    assert lines[start + 1:start + 7] == ["Dana Whitfield", "Chief Financial Officer", "Keystone Robotics",
                                          "18 Harbor Way", "Portland, OR 48491", "United States"]
    assert "dana@keystone.example" in flat
    assert "40,000.00 USD" in flat


def test_without_a_proposal_contact_the_account_primary_contact_is_addressed(engine, tmp_path):
    view = customer_proposal(engine, proposal_contact=False)
    assert view.contact == "Dana Whitfield" and view.contact_title == "Chief Financial Officer"


@pytest.mark.parametrize(("country", "city", "state", "code", "expected"), [
    ("United Kingdom", "London", None, "ec1a 1bb", ["London", "EC1A 1BB", "United Kingdom"]),
    ("Germany", "München", "Bayern", "80469", ["80469 München", "Bayern", "Germany"]),
    ("FR", "Paris", None, "75008", ["75008 Paris", "FR"]),
    ("Australia", "Sydney", "NSW", "2000", ["Sydney NSW 2000", "Australia"]),
    ("Canada", "Toronto", "ON", "M5H 2N2", ["Toronto, ON M5H 2N2", "Canada"]),
])
def test_the_address_is_written_the_way_its_country_writes_it(engine, tmp_path, country, city, state, code,
                                                                 expected):
    view = customer_proposal(engine, country=country, city=city, state=state, postal_code=code)
    assert view.account_address == ["18 Harbor Way", *expected]
    out = tmp_path / "addr.pdf"
    pdf.render_proposal(view, out, settings=FULL_SELLER)
    lines = [ln.strip() for ln in pdftotext(out).splitlines() if ln.strip()]
    at = lines.index("18 Harbor Way")
    assert lines[at + 1:at + 1 + len(expected)] == expected


def test_a_title_that_is_not_the_deal_name_stays_as_written(engine, tmp_path):
    view = customer_proposal(engine)
    with session_scope(engine) as s:
        view = P.save_proposal(session=s, proposal_id=view.id, actor="alice", expected_version=view.version,
                               header={"title": "Data platform: phase one"}).view
    assert pdf.customer_title(view) == "Data platform: phase one"
