"""One proposal: header fields, a line-item editor with live totals, send / respond / revise, diff, PDF.

Totals are recomputed on every keystroke with ``services.pricing.price_lines``
(the same rule that stores them), never a copy. Saving sends every line and the
header with the version the screen loaded: a proposal changed by someone else
meanwhile is refused, the edits stay on screen, and ctrl+l reloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from crm_tui import money
from crm_tui.errors import Conflict, CRMError, ValidationError, for_people
from crm_tui.screens.base import CRMScreenMixin
from crm_tui.services import pricing
from crm_tui.services.quotes import proposals as P
from crm_tui.settings import Settings
from crm_tui.widgets.cells import esc
from crm_tui.widgets.confirm import ConfirmScreen
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.text_table import TextTable
from crm_tui.widgets.worker import failure_text, run_db

LINE_INPUTS = ("description", "quantity", "unit_price", "discount")
HEADER_INPUTS = ("title", "valid_until", "tax_rate", "terms", "notes")


def open_command() -> str | None:
    """The program that opens a file with the desktop's viewer (xdg-open, macOS open), if any."""
    import shutil
    import sys

    for name in (("open",) if sys.platform == "darwin" else ("xdg-open",)):
        if shutil.which(name):
            return name
    return None


def default_pdf_path(number: str, revision: int, settings: Settings) -> Path:
    from crm_tui.locations import data_dir

    folder = settings.pdf_dir
    base = Path(folder).expanduser() if folder else data_dir(settings) / "proposals"
    return base / f"{number}-rev{revision}.pdf"


class RespondDialog(ModalScreen[str | None]):
    """The customer answered: accept (and offer Won), or reject."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, number: str, total: str) -> None:
        super().__init__()
        self.number = number
        self.total = total

    def compose(self) -> ComposeResult:
        with Vertical(id="respond-dialog", classes="dialog"):
            yield Label(f"Response to {self.number} ({self.total})", classes="dialog-title")
            yield Button(f"Accept and move the opportunity to Won at {self.total}", variant="success",
                         id="respond-won")
            yield Button("Accept only", id="respond-accept")
            yield Button("Rejected", variant="error", id="respond-reject")
            yield Button("Cancel", id="respond-cancel")

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss({"respond-won": "won", "respond-accept": "accept", "respond-reject": "reject"}.get(
            event.button.id or ""))

    def action_cancel(self) -> None:
        self.dismiss(None)


class DiffScreen(CRMScreenMixin, ModalScreen[None]):
    """Which lines and totals changed between two revisions."""

    BINDINGS = [Binding("escape", "close", "Close")]

    @dataclass
    class Loaded(Message):
        rows: list
        title: str

    def __init__(self, proposal_id: int, from_revision: int, to_revision: int) -> None:
        super().__init__()
        self.proposal_id = proposal_id
        self.from_revision = from_revision
        self.to_revision = to_revision

    def compose(self) -> ComposeResult:
        with Vertical(id="diff-dialog", classes="dialog"):
            yield Label("", id="diff-title", classes="dialog-title")
            yield TextTable(id="diff-table", cursor_type="row")
            yield Label("escape closes", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#diff-table", DataTable).add_columns("Kind", "Item", "From", "To", "Changed")
        self.load()

    def load(self) -> None:
        proposal_id, from_revision, to_revision = self.proposal_id, self.from_revision, self.to_revision

        def load(s: Any) -> DiffScreen.Loaded:
            diff = P.diff_revisions(session=s, proposal_id=proposal_id, from_revision=from_revision,
                                    to_revision=to_revision, actor=self.app.actor)
            title = f"{diff.number}: revision {diff.from_revision} → {diff.to_revision} ({diff.currency})"
            return self.Loaded(diff.rows(), title)

        # The reason it cannot be compared stands in the title.
        run_db(self, load, group="proposal-diff", notify_known=False,
               failed=lambda exc: self.on_diff_screen_loaded(self.Loaded([], failure_text(exc))))

    def on_diff_screen_loaded(self, message: Loaded) -> None:
        self.query_one("#diff-title", Label).update(message.title)
        table = self.query_one("#diff-table", DataTable)
        table.clear()
        for r in message.rows:
            table.add_row(r["kind"], r["item"], r["from"], r["to"], r["changed"])
        if not message.rows:
            table.add_row("", "no changes", "", "", "")

    def action_close(self) -> None:
        self.dismiss(None)


class ProposalEditorScreen(CRMScreenMixin, Screen[bool]):
    PALETTE_GROUP = "Proposal"
    PALETTE_NAMES: ClassVar[dict[str, str]] = {
        "save": "save", "new_line": "add a line", "remove_line": "remove the line", "move_line(-1)": "move line up",
        "move_line(1)": "move line down", "send": "mark as sent", "respond": "record the customer's response",
        "diff": "diff with the previous revision", "pdf": "write the PDF", "open_pdf": "open the PDF just written",
        "reload": "reload", "back": "back",
    }
    BINDINGS = [
        Binding("escape", "back", "Back", id="proposal.back"),
        Binding("ctrl+s", "save", "Save", id="proposal.save", tooltip="Save lines and header (a sent proposal "
                                                                       "gets a new revision)"),
        Binding("ctrl+n", "new_line", "New line", id="proposal.new_line", tooltip="Add a line at the end"),
        Binding("ctrl+r", "remove_line", "Remove line", id="proposal.remove_line",
                tooltip="Remove the line under the cursor"),
        Binding("alt+up", "move_line(-1)", "Line up", show=False, id="proposal.line_up",
                tooltip="Move the line under the cursor up"),
        Binding("alt+down", "move_line(1)", "Line down", show=False, id="proposal.line_down",
                tooltip="Move the line under the cursor down"),
        # F1-F12, ctrl+f, ctrl+p, ctrl+q are the app's everywhere (tests/ui/test_reserved_keys.py).
        Binding("ctrl+y", "send", "Send", id="proposal.send",
                tooltip="Mark the saved proposal as sent (asks first)"),
        Binding("ctrl+o", "respond", "Response", id="proposal.respond",
                tooltip="The customer accepted (optionally moving the deal to Won) or rejected"),
        Binding("alt+d", "diff", "Diff", id="proposal.diff", tooltip="What changed since the previous revision"),
        Binding("ctrl+g", "pdf", "PDF", id="proposal.pdf", tooltip="Write the PDF of the saved proposal"),
        Binding("alt+o", "open_pdf", "Open PDF", id="proposal.open_pdf",
                tooltip="Open the PDF just written (xdg-open), or show where it is"),
        Binding("ctrl+l", "reload", "Reload", show=False, id="proposal.reload",
                tooltip="Load the proposal again (drops unsaved edits)"),
    ]

    @dataclass
    class Loaded(Message):
        view: Any
        products: list

    @dataclass
    class Done(Message):
        message: str
        reload: bool = True

    @dataclass
    class Failed(Message):
        message: str

    @dataclass
    class PdfWritten(Message):
        path: Path
        pages: int
        warnings: list[str]

    def __init__(self, proposal_id: int) -> None:
        super().__init__()
        self.proposal_id = proposal_id
        self.view: P.ProposalView | None = None
        self.last_pdf: Path | None = None  # the PDF this screen wrote last (alt+o opens it)
        self.lines: list[dict] = []
        self.products: dict[int, dict] = {}
        self.current = 0
        self.dirty = False
        self.changed = False
        self.pricing: pricing.Pricing | None = None
        self.problem: str | None = None
        self.saved_lines: list[dict] = []
        self.saved_header: dict[str, str] = {}
        self._filling = False

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Static("Loading…", id="pe-heading")
        with Horizontal(id="pe-header"):
            for name, placeholder in (("title", "Title"), ("valid_until", "Valid until YYYY-MM-DD"),
                                      ("tax_rate", "Tax %")):
                with Vertical(classes="pe-field", id=f"pe-box-{name}"):
                    yield Label(name.replace("_", " "), classes="field-label")
                    yield Input(id=f"pe-{name}", placeholder=placeholder)
        with Horizontal(id="pe-texts"):
            for name in ("terms", "notes"):
                with Vertical(classes="pe-field"):
                    yield Label(name, classes="field-label")
                    yield Input(id=f"pe-{name}", placeholder=name.capitalize())
        yield TextTable(id="pe-lines", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="pe-line-form"):
            with Vertical(classes="pe-field", id="pe-box-product"):
                yield Label("product", classes="field-label")
                yield Select([], id="pe-product", allow_blank=True, prompt="(none)")
            for name, placeholder in (("description", "Description"), ("quantity", "Qty"),
                                      ("unit_price", "Unit price"), ("discount", "Disc %")):
                with Vertical(classes="pe-field", id=f"pe-box-{name}"):
                    yield Label(name.replace("_", " "), classes="field-label")
                    yield Input(id=f"pe-{name}", placeholder=placeholder)
        yield Static("", id="pe-totals")
        yield Static("", id="pe-problem")
        yield FitFooter()

    def on_mount(self) -> None:
        table = self.query_one("#pe-lines", DataTable)
        table.add_columns("#", "SKU", "Description", "Qty", "Unit price", "Disc %", "Amount")
        table.focus()
        self.load()

    # ---------------------------------------------------------------- loading

    def load(self) -> None:
        proposal_id = self.proposal_id

        def load(s: Any) -> ProposalEditorScreen.Loaded:
            from crm_tui.services import records
            from crm_tui.services.quotes.products import ENTITY as PRODUCT

            actor = self.actor
            view = P.get_proposal(session=s, proposal_id=proposal_id, actor=actor)
            products = records.list_records(PRODUCT, session=s, filters={"active": "yes"}, sort="sku", limit=500,
                                            actor=actor)
            return self.Loaded(view, products)

        run_db(self, load, group="proposal-load", title="Proposal")

    def on_proposal_editor_screen_loaded(self, message: Loaded) -> None:
        view = message.view
        self.view = view
        self.products = {p["id"]: p for p in message.products if p["currency"] == view.currency}
        self.lines = P.editable_lines(view)
        self.saved_lines = [dict(d) for d in self.lines]
        self.saved_header = self._view_header(view)
        self.dirty = False
        self._filling = True
        try:
            for name, value in self.saved_header.items():
                self.query_one(f"#pe-{name}", Input).value = value
            self.query_one("#pe-product", Select).set_options(
                [(f"{p['sku']} {self._price_text(p['unit_price'])}", pid) for pid, p in self.products.items()])
        finally:
            self._filling = False
        self.current = min(self.current, max(len(self.lines) - 1, 0))
        self._rebuild_table()
        self._fill_form()
        self.recompute()

    @staticmethod
    def _view_header(view) -> dict[str, str]:
        return {"title": view.title, "valid_until": view.valid_until.isoformat() if view.valid_until else "",
                "tax_rate": money.format_percent(view.pricing.tax_rate_bp), "terms": view.terms or "",
                "notes": view.notes or ""}

    def _update_dirty(self) -> None:
        self.dirty = self.view is not None and (self.lines != self.saved_lines
                                                or self._header_values() != self.saved_header)

    def _title_text(self) -> str:
        v = self.view
        if v is None:
            return ""
        parts = [f"[b]{esc(v.number)}[/b] rev {v.revision}", v.status, esc(v.account or "no account"),
                 esc(v.contact or "no contact"), v.currency, f"version {v.version}"]
        if v.revision > 1:
            parts.append(f"revisions {', '.join(map(str, v.revisions))}")
        if self.dirty:
            parts.append("[yellow]unsaved[/yellow]")
        return "  ·  ".join(parts)

    # ---------------------------------------------------------------- the lines table and form

    def _row_cells(self, i: int) -> list[str]:
        d = self.lines[i]
        amount = "?"
        if self.pricing is not None and i < len(self.pricing.lines):
            amount = money.format_money(self.pricing.lines[i].total_minor, self.view.currency, code=False)
        return [str(i + 1), d.get("sku") or "", d.get("description") or "", d.get("quantity") or "",
                self._price_text(d.get("unit_price")), d.get("discount") or "", amount]

    def _price_text(self, value: str | None) -> str:
        """A unit price as money (``1,400.00``); as typed when it is not a price (the line says why)."""
        if not value:
            return ""
        try:
            return money.format_money(money.parse_amount(value, self.view.currency), self.view.currency, code=False)
        except money.MoneyError:
            return value

    def _rebuild_table(self) -> None:
        table = self.query_one("#pe-lines", DataTable)
        table.clear()
        self._price()
        for i in range(len(self.lines)):
            table.add_row(*self._row_cells(i))
        if self.lines:
            table.move_cursor(row=self.current)

    def _fill_form(self) -> None:
        self._filling = True
        try:
            line = self.lines[self.current] if self.lines else {}
            for name in LINE_INPUTS:
                self.query_one(f"#pe-{name}", Input).value = str(line.get(name) or "")
            select = self.query_one("#pe-product", Select)
            pid = line.get("product_id")
            select.value = pid if pid in self.products else Select.NULL
            for name in LINE_INPUTS:
                self.query_one(f"#pe-{name}", Input).disabled = not self.lines
            select.disabled = not self.lines
        finally:
            self._filling = False

    @on(DataTable.RowHighlighted, "#pe-lines")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.lines) and event.cursor_row != self.current:
            self.current = event.cursor_row
            self._fill_form()

    @on(Input.Changed)
    def input_changed(self, event: Input.Changed) -> None:
        if self._filling or self.view is None:
            return
        # Read the form, not the event: values the screen fills in itself also arrive here, later,
        # and by then the form may show another line. The widgets always hold the current line.
        if self.lines and (event.input.id or "").removeprefix("pe-") in LINE_INPUTS:
            line = self.lines[self.current]
            for name in LINE_INPUTS:
                line[name] = self.query_one(f"#pe-{name}", Input).value
        self.recompute()

    @on(Select.Changed, "#pe-product")
    def product_changed(self, event: Select.Changed) -> None:
        # Only a person's choice counts: the screen's own fills arrive here later, for whichever
        # line was current then, and must not turn the current line into another product.
        if self._filling or not self.lines or event.value is Select.NULL or not event.select.has_focus:
            return
        product = self.products.get(event.value)
        if product is None:
            return
        line = self.lines[self.current]
        if line.get("product_id") == product["id"]:
            return
        line.update(product_id=product["id"], sku=product["sku"], description=product["name"],
                    unit_price=product["unit_price"])
        self.dirty = True
        self._fill_form()
        self.recompute()

    def _price(self) -> None:
        """Price the lines as typed, with the service's rule; remember the first problem."""
        self.problem = None
        self.pricing = None
        if self.view is None:
            return
        try:
            tax = pricing.clean_percent(self.query_one("#pe-tax_rate", Input).value, "tax_rate")
            inputs = []
            for i, d in enumerate(self.lines, start=1):
                try:
                    inputs.append(P.clean_line({k: v for k, v in d.items() if k != "product"},
                                               currency=self.view.currency))
                except ValidationError as exc:
                    raise ValidationError(f"line {i} {exc.field}", exc.value, exc.reason) from None
            self.pricing = pricing.price_lines(inputs, tax_rate_bp=tax, currency=self.view.currency)
        except ValidationError as exc:
            self.problem = str(exc)

    def recompute(self) -> None:
        self._update_dirty()
        self._price()
        table = self.query_one("#pe-lines", DataTable)
        if self.lines and self.current < table.row_count:
            for col, value in enumerate(self._row_cells(self.current)):
                table.update_cell_at(Coordinate(self.current, col), value)
        if self.pricing is not None:
            for i in range(min(len(self.lines), table.row_count)):
                table.update_cell_at(Coordinate(i, 6), self._row_cells(i)[6])
        self.query_one("#pe-heading", Static).update(self._title_text())
        self.query_one("#pe-totals", Static).update(self.totals_text())
        self.query_one("#pe-problem", Static).update(f"[red]{esc(self.problem)}[/red]" if self.problem else "")

    def totals_text(self) -> str:
        p = self.pricing
        if p is None:
            return "Totals: fix the problem below to see them"
        f = p.fmt
        parts = [f"Subtotal {f(p.subtotal_minor)}"]
        if p.discount_minor:
            parts.append(f"Discounts −{f(p.discount_minor)}")
        parts.append(f"Tax {money.format_percent(p.tax_rate_bp)}% {f(p.tax_minor)}")
        parts.append(f"[b]Total {f(p.total_minor)}[/b]")
        return "   ".join(parts)

    # ---------------------------------------------------------------- line actions

    def action_new_line(self) -> None:
        if self.view is None:
            return
        self.lines.append({"description": "", "quantity": "1", "unit_price": "0", "discount": "0"})
        self.current = len(self.lines) - 1
        self.dirty = True
        self._rebuild_table()
        self._fill_form()
        self.recompute()
        self.query_one("#pe-description", Input).focus()

    def action_remove_line(self) -> None:
        if not self.lines:
            return
        del self.lines[self.current]
        self.current = max(0, min(self.current, len(self.lines) - 1))
        self.dirty = True
        self._rebuild_table()
        self._fill_form()
        self.recompute()

    def action_move_line(self, step: int) -> None:
        j = self.current + step
        if not self.lines or not 0 <= j < len(self.lines):
            return
        self.lines[self.current], self.lines[j] = self.lines[j], self.lines[self.current]
        self.current = j
        self.dirty = True
        self._rebuild_table()
        self.recompute()

    # ---------------------------------------------------------------- saving and status

    def _header_values(self) -> dict[str, str]:
        return {name: self.query_one(f"#pe-{name}", Input).value for name in HEADER_INPUTS}

    def action_save(self) -> None:
        if self.view is None:
            return
        if self.problem:
            self.notify(self.problem, severity="error", title="Not saved")
            return
        self.save([dict(d) for d in self.lines], self._header_values(), self.view.version)

    def save(self, lines: list[dict], header: dict, version: int) -> None:
        proposal_id, user = self.proposal_id, self.user

        def save(s: Any) -> ProposalEditorScreen.Done:
            saved = P.save_proposal(session=s, proposal_id=proposal_id, actor=user, expected_version=version,
                                    lines=lines, header=header)
            v = saved.view
            note = f"; revision {v.revision} started, the sent one is kept" if saved.new_revision else ""
            return self.Done(f"saved {v.number} rev {v.revision}: {v.pricing.fmt(v.pricing.total_minor)}{note}")

        def failed(exc: BaseException) -> None:
            if isinstance(exc, Conflict):
                self.on_proposal_editor_screen_failed(
                    self.Failed(f"{for_people(exc)} (your edits are still here; ctrl+l reloads)"))
            elif isinstance(exc, CRMError):
                self.on_proposal_editor_screen_failed(self.Failed(for_people(exc)))

        run_db(self, save, group="proposal-save", failed=failed, notify_known=False)

    def _needs_saved(self) -> bool:
        if self.view is None:
            return True
        if self.dirty:
            self.notify("save your changes first (ctrl+s)", severity="warning")
            return True
        return False

    def action_send(self) -> None:
        if self._needs_saved():
            return
        view = self.view
        total = view.pricing.fmt(view.pricing.total_minor)

        def answered(yes: bool | None) -> None:
            if yes:
                self.status_change("send", view.version)

        self.app.push_screen(ConfirmScreen(f"Mark {view.number} rev {view.revision} ({total}) as sent?",
                                           yes="Mark as sent", no="Not yet",
                                           detail="A sent proposal is not edited in place: "
                                                  "saving it again makes a new revision."), answered)

    def action_respond(self) -> None:
        if self._needs_saved():
            return
        total = self.view.pricing.fmt(self.view.pricing.total_minor)
        self.app.push_screen(RespondDialog(self.view.number, total), self._responded)

    def _responded(self, choice: str | None) -> None:
        if choice:
            self.status_change(choice, self.view.version)

    def status_change(self, what: str, version: int) -> None:
        proposal_id, user = self.proposal_id, self.user

        def change(s: Any) -> ProposalEditorScreen.Done:
            if what == "send":
                v = P.send_proposal(session=s, proposal_id=proposal_id, actor=user, expected_version=version)
                message = f"{v.number} rev {v.revision} marked as sent"
            elif what == "reject":
                v = P.reject_proposal(session=s, proposal_id=proposal_id, actor=user, expected_version=version)
                message = f"{v.number} rejected"
            else:
                result = P.accept_proposal(session=s, proposal_id=proposal_id, actor=user,
                                           move_to_won=what == "won", expected_version=version)
                v = result.view
                message = f"{v.number} accepted"
                if what == "won":
                    message += f"; opportunity moved to {result.stage} at {v.pricing.fmt(v.pricing.total_minor)}"
            return self.Done(message)

        run_db(self, change, group="proposal-status", title="Proposal")

    def action_diff(self) -> None:
        if self.view is None:
            return
        if self.view.current_revision < 2:
            self.notify("only one revision so far: nothing to compare")
            return
        self.app.push_screen(DiffScreen(self.proposal_id, self.view.current_revision - 1, self.view.current_revision))

    def action_pdf(self) -> None:
        if self._needs_saved():
            return
        if not (self.settings.seller.name or "").strip():
            # A proposal goes to a customer: ask once who the seller is (saved to the config file).
            def saved(settings: Settings | None) -> None:
                if settings is None:
                    self.notify("PDF not written: it needs your company's name (ctrl+g asks again)",
                                severity="warning", title="Proposal")
                    return
                self.app.settings = settings  # type: ignore[attr-defined]
                if self.view is not None:
                    self.write_pdf(default_pdf_path(self.view.number, self.view.revision, settings))

            from crm_tui.screens.seller_form import SellerFormScreen

            self.app.push_screen(SellerFormScreen(self.settings.seller), saved)
            return
        self.write_pdf(default_pdf_path(self.view.number, self.view.revision, self.settings))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_pdf":
            return self.last_pdf is not None  # shown in the footer once a PDF has been written
        return True

    def action_open_pdf(self) -> None:
        path = self.last_pdf
        if path is None:
            self.notify("no PDF written yet: ctrl+g writes it", title="Proposal")
            return
        if not path.exists():
            self.notify(f"{path} is not there any more: ctrl+g writes it again", severity="warning",
                        title="Proposal")
            return
        opener = open_command()
        if opener is None:
            self.notify(f"{path} (nothing here opens PDFs: open it from your file manager)", title="PDF",
                        timeout=15)
            return
        import subprocess

        try:
            subprocess.Popen([opener, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            self.notify(f"{path} could not be opened ({exc.strerror or exc})", severity="warning", title="PDF",
                        timeout=15)
            return
        self.notify(f"opening {path}", title="PDF")

    def write_pdf(self, path: Path) -> None:
        proposal_id, settings = self.proposal_id, self.settings

        def write(s: Any) -> ProposalEditorScreen.PdfWritten | ProposalEditorScreen.Failed:
            from crm_tui.integrations import pdf

            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                view = P.get_proposal(session=s, proposal_id=proposal_id, actor=self.actor)
                result = pdf.render_proposal(view, path, settings=settings)
            except OSError as exc:  # the folder or the file cannot be written: the reason is enough
                return self.Failed(str(exc))
            return self.PdfWritten(result.path, result.pages, list(result.warnings))

        run_db(self, write, group="proposal-pdf", title="Proposal")

    def on_proposal_editor_screen_done(self, message: Done) -> None:
        self.changed = True
        self.notify(message.message, timeout=6)
        if message.reload:
            self.load()

    def on_proposal_editor_screen_pdf_written(self, message: PdfWritten) -> None:
        self.last_pdf = message.path
        self.refresh_bindings()
        pages = f"{message.pages} page{'' if message.pages == 1 else 's'}"
        warn = f"\n{'; '.join(message.warnings)}" if message.warnings else ""
        self.notify(f"PDF written to {message.path} ({pages}); alt+o opens it{warn}", title="Proposal", timeout=10)

    def on_proposal_editor_screen_failed(self, message: Failed) -> None:
        self.notify(message.message, severity="error", title="Proposal", timeout=10)

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        if self.dirty:
            self.notify("unsaved changes: ctrl+s saves, ctrl+l drops them", severity="warning")
            self.dirty = False  # a second escape leaves
            return
        self.dismiss(self.changed)
