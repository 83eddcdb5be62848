"""Who the seller is: the name, address and contact details printed at the top of every proposal PDF.

Asked once, from the proposal editor, when the settings have no seller name yet; saved to the config
file with ``settings.save_settings`` (the file's other keys stay as they are). Dismisses with the
settings now in effect, or None when cancelled.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from crm_tui.errors import ConfigError
from crm_tui.settings import SellerConfig, Settings, save_settings
from crm_tui.widgets.cells import ControlPictures

# (input id, label, placeholder)
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("name", "Company name", "required, e.g. Nordlicht Software GmbH"),
    ("address1", "Address", "street, e.g. 18 Harbor Way"),
    ("address2", "", "town and postcode, e.g. Portland, OR 97201"),
    ("address3", "", "country (optional)"),
    ("email", "E-mail", "e.g. sales@example.com"),
    ("phone", "Phone", "optional"),
    ("website", "Website", "optional"),
    ("tax_id", "Tax ID", "VAT or tax number (optional)"),
    ("logo", "Logo file", "PNG or JPEG path (optional)"),
)


class SellerFormScreen(ModalScreen[Settings | None]):
    """The seller block of proposal PDFs, saved to the config file."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel", id="seller.cancel"),
                          Binding("ctrl+s", "save", "Save", id="seller.save")]

    def __init__(self, seller: SellerConfig, *, why: str = "") -> None:
        super().__init__()
        self.seller = seller
        self.why = why

    def compose(self) -> ComposeResult:
        s = self.seller
        values = {"name": s.name, "email": s.email, "phone": s.phone, "website": s.website, "tax_id": s.tax_id,
                  "logo": s.logo}
        for i, line in enumerate(list(s.address)[:3], start=1):
            values[f"address{i}"] = line
        with Vertical(classes="dialog seller-dialog"):
            yield Label("Your company on proposals", classes="dialog-title")
            yield Static(self.why or "Heads every proposal PDF; saved in the config file, asked once.",
                         classes="seller-why")
            with VerticalScroll(classes="seller-fields"):
                for key, label, placeholder in FIELDS:
                    with Horizontal(classes="seller-row"):
                        yield Label(label, classes="seller-label")
                        yield Input(value=values.get(key) or "", placeholder=placeholder, id=f"seller-{key}",
                                    compact=True, highlighter=ControlPictures())
            yield Static("", id="seller-error", classes="lf-error")
            with Horizontal(classes="dialog-buttons buttons"):
                yield Button("Save", id="seller-save", variant="primary")
                yield Button("Cancel", id="seller-cancel")

    def on_mount(self) -> None:
        self.query_one("#seller-name", Input).focus()

    def value(self, key: str) -> str:
        return self.query_one(f"#seller-{key}", Input).value.strip()

    @on(Button.Pressed, "#seller-save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        name = self.value("name")
        if not name:
            self.query_one("#seller-error", Static).update("The company name is needed: it heads every proposal.")
            self.query_one("#seller-name", Input).focus()
            return
        seller = {"name": name, "address": [self.value(f"address{i}") for i in (1, 2, 3) if self.value(f"address{i}")]}
        for key in ("email", "phone", "website", "tax_id", "logo"):
            seller[key] = self.value(key) or None
        try:
            settings = save_settings({"seller": seller})
        except ConfigError as exc:
            self.query_one("#seller-error", Static).update(str(exc))
            return
        self.dismiss(settings)

    @on(Button.Pressed, "#seller-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
