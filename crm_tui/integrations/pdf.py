"""Proposal PDFs with fpdf2, in a Unicode TrueType font.

The font is found in this order: the settings' ``pdf.font`` (a path to a .ttf,
also set by the environment variable ``CRM_PDF_FONT``; with optional
``pdf.font_bold`` and ``pdf.fallback_fonts``: a list of .ttf paths tried for
characters the main font lacks), then DejaVu Sans in the usual font folders (Debian's
fonts-dejavu-core puts it in /usr/share/fonts/truetype/dejavu/). Never the PDF
core fonts, which cannot show Greek, Cyrillic and most accented letters.

A character that neither the font nor a fallback font has is drawn as U+FFFD
(the replacement character "�") and reported in ``RenderResult.warnings``, so
nothing crashes and nothing vanishes silently.

The seller header comes from the settings' ``seller``: ``name``, ``address`` (a list
of lines or one text with newlines), ``email``, ``phone``, ``website``,
``tax_id`` and ``logo`` (a PNG/JPEG path).

Numbers are the proposal's stored figures formatted with ``crm_tui.formatting``:
the same as the TUI and the CLI; dates carry their year ("4 December 2026").

What the customer reads: the title is "Proposal {number}" with the proposal's own title under it
(a deal name in it loses its account prefix: ``customer_title``), the page is addressed to the
proposal's contact (else the deal's or the account's primary contact) with their job title, the
account and its address as its country writes it (crm_tui.addresses); no internal status.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_tui import formatting, money
from crm_tui.errors import CRMError
from crm_tui.settings import PdfConfig, SellerConfig, Settings
from crm_tui.text import visible

FONT_FOLDERS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/usr/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "~/Library/Fonts",
    "C:/Windows/Fonts",
)
REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"
REPLACEMENT = "\ufffd"


class PdfError(CRMError):
    """The PDF cannot be made (no usable font, an unwritable file); the message says what to do."""


@dataclass
class RenderResult:
    path: Path
    pages: int
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Fonts:
    regular: Path
    bold: Path | None
    fallbacks: tuple[Path, ...] = ()


def _find(name: str) -> Path | None:
    for folder in FONT_FOLDERS:
        base = Path(folder).expanduser()
        candidate = base / name
        if candidate.is_file():
            return candidate
    for folder in FONT_FOLDERS:  # one level deeper, e.g. /usr/share/fonts/<family>/
        base = Path(folder).expanduser()
        if base.is_dir():
            for candidate in base.glob(f"*/{name}"):
                return candidate
    return None


def find_fonts(pdf: PdfConfig | None = None) -> Fonts:
    """The fonts to use; PdfError naming the setting to change when there is none."""
    cfg = pdf if pdf is not None else PdfConfig()
    configured = cfg.font
    if configured:
        regular = Path(str(configured)).expanduser()
        if not regular.is_file():
            raise PdfError(f"pdf font {configured} (config pdf.font or CRM_PDF_FONT) is not a file")
        bold_cfg = cfg.font_bold
        bold = Path(str(bold_cfg)).expanduser() if bold_cfg else None
        if bold is not None and not bold.is_file():
            raise PdfError(f"pdf bold font {bold_cfg} (config pdf.font_bold) is not a file")
    else:
        regular = _find(REGULAR)
        if regular is None:
            raise PdfError("no Unicode TrueType font found: install DejaVu (Debian/Ubuntu: apt install "
                           "fonts-dejavu-core) or set \"pdf\": {\"font\": \"/path/to/font.ttf\"} in the config file")
        bold = regular.with_name(BOLD) if regular.with_name(BOLD).is_file() else _find(BOLD)
    fallbacks = []
    for item in cfg.fallback_fonts:
        path = Path(str(item)).expanduser()
        if not path.is_file():
            raise PdfError(f"pdf fallback font {item} (config pdf.fallback_fonts) is not a file")
        fallbacks.append(path)
    return Fonts(regular=regular, bold=bold, fallbacks=tuple(fallbacks))


def _seller(seller: SellerConfig) -> dict[str, Any]:
    return seller.model_dump()


def customer_title(view) -> str:
    """The proposal's own title as the customer reads it: a deal name in it ("Acme – Data platform")
    without the account's name in front ("Data platform")."""
    title = (view.title or "").strip()
    deal = (view.opportunity or "").strip()
    if deal and deal in title:
        own = formatting.deal_name(deal, view.account)
        if own != deal:
            return title.replace(deal, own)
    return title


def render_proposal(view, path: str | Path, *, settings: Settings | None = None) -> RenderResult:
    """Write ``view`` (a ``services.quotes.proposals.ProposalView``) as a PDF to ``path``.

    ``settings``: the fonts (``pdf``) and the seller header (``seller``); default none set.
    """
    settings = settings if settings is not None else Settings()
    fonts = find_fonts(settings.pdf)
    path = Path(path)
    if not path.parent.exists():
        raise PdfError(f"cannot write {path}: folder {path.parent} does not exist")
    seller = _seller(settings.seller)
    doc = _ProposalPDF(view, fonts, seller)
    doc.build()
    if doc.pages_count > 1:
        # Lay out again knowing the page count: "Page 2 of 3" is then measured (and right-aligned)
        # with its real width, which fpdf2's {nb} placeholder cannot do.
        total = doc.pages_count
        doc = _ProposalPDF(view, fonts, seller, total_pages=total)
        doc.build()
    # Write next to the target and rename, so a failed render never leaves half a file.
    fd, tmp = tempfile.mkstemp(prefix=".proposal-", suffix=".pdf", dir=str(path.parent))
    os.close(fd)
    try:
        doc.output(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PdfError(f"cannot write {path}: {exc.strerror or exc}") from None
    return RenderResult(path=path, pages=doc.pages_count, warnings=doc.warnings())


def _fpdf_class():
    from fpdf import FPDF

    return FPDF


class _ProposalPDF(_fpdf_class()):  # type: ignore[misc]
    FAMILY = "crm-main"

    def __init__(self, view, fonts: Fonts, seller: dict, total_pages: int = 1):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.total_pages = total_pages
        self.view = view
        self.seller = seller
        self.missing: dict[str, None] = {}
        self.notes: list[str] = []
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=20)
        self.add_font(self.FAMILY, "", str(fonts.regular))
        self.add_font(self.FAMILY, "B", str(fonts.bold or fonts.regular))
        self._covered = set(self.fonts[self.FAMILY.lower()].cmap)
        names = []
        for i, fb in enumerate(fonts.fallbacks):
            name = f"crm-fallback-{i}"
            self.add_font(name, "", str(fb))
            self.add_font(name, "B", str(fb))
            self._covered |= set(self.fonts[name].cmap)
            names.append(name)
        if names:
            self.set_fallback_fonts(names, exact_match=False)
        self.font_name = fonts.regular.name
        self.set_title(visible(f"Proposal {view.number} – {customer_title(view)}", one_line=True))
        self.set_author(visible(seller.get("name") or "", one_line=True))
        self.set_creator("crm-tui")

    # ---------------------------------------------------------------- text safety

    def t(self, text: Any) -> str:
        """Text with control characters spelled out (crm_tui.text.visible) and every character the
        fonts cannot draw replaced by "�" (and remembered)."""
        s = visible(text)  # control characters (ESC, CR, ...) spelled out: "\\x1b", "\\r"
        out = []
        for ch in s:
            if ch in "\n\t" or ord(ch) in self._covered:
                out.append(ch)
            else:
                self.missing[ch] = None
                out.append(REPLACEMENT if ord(REPLACEMENT) in self._covered else "?")
        return "".join(out)

    def warnings(self) -> list[str]:
        if not self.missing:
            return list(self.notes)
        chars = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in list(self.missing)[:10])
        more = f" and {len(self.missing) - 10} more" if len(self.missing) > 10 else ""
        return [f"font {self.font_name} has no glyph for {chars}{more}; drawn as {REPLACEMENT}. "
                "Add a font that has them to config pdf.fallback_fonts"] + list(self.notes)

    def money(self, minor: int) -> str:
        return formatting.money(minor, self.view.currency)

    # ---------------------------------------------------------------- page furniture

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(self.FAMILY, "", 8)
        self.set_text_color(110, 110, 110)
        seller = self.seller.get("name") or ""
        self.cell(0, 5, self.t(f"{seller}  ·  {self.view.number} rev {self.view.revision}".strip(" ·")),
                  new_x="LMARGIN", new_y="NEXT", align="R")
        self.set_text_color(0, 0, 0)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(self.FAMILY, "", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, self.t(f"{self.view.number} · revision {self.view.revision}"), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {max(self.total_pages, self.page_no())}", align="R")
        self.set_text_color(0, 0, 0)

    # ---------------------------------------------------------------- body

    def build(self) -> None:
        self.add_page()
        self._seller_block()
        self._title_block()
        self._customer_block()
        self.ln(4)
        self._lines_table()
        self._totals()
        self._texts()

    def _seller_block(self) -> None:
        s = self.seller
        top = self.get_y()
        logo = s.get("logo")
        x_text = self.l_margin
        if logo and Path(str(logo)).expanduser().is_file():
            try:
                self.image(str(Path(str(logo)).expanduser()), x=self.l_margin, y=top, h=16)
                x_text = self.l_margin + 30
            except Exception as exc:  # a broken image must not stop the proposal
                self.notes.append(f"seller logo {logo} could not be drawn ({exc}); left out")
        self.set_xy(x_text, top)
        self.set_font(self.FAMILY, "B", 13)
        self.cell(95, 6, self.t(s.get("name") or ""), new_x="LEFT", new_y="NEXT")
        self.set_font(self.FAMILY, "", 8.5)
        details = list(s.get("address") or [])
        contact = "  ·  ".join(str(s[k]) for k in ("phone", "email", "website") if s.get(k))
        if contact:
            details.append(contact)
        if s.get("tax_id"):
            details.append(f"Tax ID {s['tax_id']}")
        for line in details:
            self.set_x(x_text)
            self.cell(95, 4.2, self.t(line), new_x="LEFT", new_y="NEXT")
        left_bottom = max(self.get_y(), top + 16)
        # Right column: the document facts a customer needs (never the internal status).
        v = self.view
        self.set_xy(self.w - self.r_margin - 70, top)
        self.set_font(self.FAMILY, "", 9)
        facts = [("Proposal", v.number)]
        if v.revision > 1:
            facts.append(("Revision", str(v.revision)))
        facts.append(("Date", formatting.full_day(v.sent_at or v.updated_at or v.created_at)))
        if v.valid_until:
            facts.append(("Valid until", formatting.full_day(v.valid_until)))
        for label, value in facts:
            self.set_x(self.w - self.r_margin - 70)
            self.cell(30, 4.6, label, align="R")
            self.cell(40, 4.6, self.t(value), align="R", new_x="LEFT", new_y="NEXT")
        self.set_y(max(left_bottom, self.get_y()) + 4)
        self.set_draw_color(180, 180, 180)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(4)

    def _title_block(self) -> None:
        self.set_font(self.FAMILY, "B", 16)
        self.cell(0, 8, self.t(f"Proposal {self.view.number}"), new_x="LMARGIN", new_y="NEXT")
        subtitle = customer_title(self.view)
        if subtitle:
            self.set_font(self.FAMILY, "", 11.5)
            self.multi_cell(0, 6, self.t(subtitle), new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def _customer_block(self) -> None:
        v = self.view
        self.set_font(self.FAMILY, "", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 4.5, "Prepared for", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        if v.contact:
            self.set_font(self.FAMILY, "B", 10.5)
            self.multi_cell(0, 5.5, self.t(v.contact), new_x="LMARGIN", new_y="NEXT")
            self.set_font(self.FAMILY, "", 9)
            if v.contact_title:
                self.multi_cell(0, 4.5, self.t(v.contact_title), new_x="LMARGIN", new_y="NEXT")
            self.multi_cell(0, 4.5, self.t(v.account or ""), new_x="LMARGIN", new_y="NEXT")
        else:
            self.set_font(self.FAMILY, "B", 10.5)
            self.multi_cell(0, 5.5, self.t(v.account or "—"), new_x="LMARGIN", new_y="NEXT")
            self.set_font(self.FAMILY, "", 9)
        for line in v.account_address:
            self.cell(0, 4.5, self.t(line), new_x="LMARGIN", new_y="NEXT")
        if v.contact_email:
            self.cell(0, 4.5, self.t(v.contact_email), new_x="LMARGIN", new_y="NEXT")

    def _lines_table(self) -> None:
        from fpdf.fonts import FontFace

        v = self.view
        self.set_font(self.FAMILY, "", 8.5)
        self.set_draw_color(200, 200, 200)
        heading = FontFace(emphasis="BOLD", fill_color=(232, 236, 241))
        widths = (8, 76, 16, 26, 14, 34)
        aligns = ("RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")
        with self.table(col_widths=widths, text_align=aligns, headings_style=heading, line_height=5,
                        repeat_headings=1, borders_layout="HORIZONTAL_LINES", padding=(1.2, 1.2),
                        width=sum(widths)) as table:
            head = table.row()
            for label in ("#", "Description", "Qty", f"Unit price ({v.currency})", "Disc.", f"Amount ({v.currency})"):
                head.cell(label)
            cur = v.currency
            for ln in v.pricing.lines:
                row = table.row()
                desc = ln.description + (f"\n{ln.sku}" if ln.sku else "")
                row.cell(str(ln.position))
                row.cell(self.t(desc))
                row.cell(ln.quantity)
                row.cell(formatting.money(ln.unit_price_minor, cur, code=False))
                row.cell(f"{ln.discount}%" if ln.discount_bp else "")
                row.cell(formatting.money(ln.total_minor, cur, code=False))
            if not v.pricing.lines:
                row = table.row()
                row.cell("")
                row.cell("(no lines yet)")
                for _ in range(4):
                    row.cell("")

    def _totals(self) -> None:
        p = self.view.pricing
        rows = [("Subtotal", self.money(p.subtotal_minor))]
        if p.discount_minor:
            rows.append(("Discounts", "−" + self.money(p.discount_minor)))
            rows.append(("Net", self.money(p.net_minor)))
        rows.append((f"Tax ({money.format_percent(p.tax_rate_bp)}%)", self.money(p.tax_minor)))
        needed = 6 * len(rows) + 10
        if self.get_y() + needed > self.h - self.b_margin:
            self.add_page()
        self.ln(3)
        x = self.w - self.r_margin - 90
        self.set_font(self.FAMILY, "", 9.5)
        for label, value in rows:
            self.set_x(x)
            self.cell(50, 5.5, self.t(label), align="R")
            self.cell(40, 5.5, self.t(value), align="R", new_x="LMARGIN", new_y="NEXT")
        self.set_x(x)
        self.set_draw_color(60, 60, 60)
        self.line(x + 20, self.get_y() + 0.5, self.w - self.r_margin, self.get_y() + 0.5)
        self.ln(1.5)
        self.set_x(x)
        self.set_font(self.FAMILY, "B", 11)
        self.cell(50, 7, "Total", align="R")
        self.cell(40, 7, self.t(self.money(p.total_minor)), align="R", new_x="LMARGIN", new_y="NEXT")

    def _texts(self) -> None:
        v = self.view
        for heading, body in (("Terms and conditions", v.terms), ("Notes", v.notes)):
            if not body:
                continue
            self.ln(5)
            self.set_font(self.FAMILY, "B", 10)
            self.cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
            self.set_font(self.FAMILY, "", 9)
            self.multi_cell(0, 4.6, self.t(body), new_x="LMARGIN", new_y="NEXT")
