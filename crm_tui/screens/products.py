"""The Products area: the catalog proposals start from. Search by SKU, name or description;
n adds a product, e (or Enter) edits one, a shows only active products."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding

from crm_tui.screens.record_form import RecordFormScreen
from crm_tui.screens.record_list import RecordListScreen
from crm_tui.services import fields


class ProductFormScreen(RecordFormScreen):
    """Every field in ``fields.PRODUCT_FIELDS``: SKU, name, unit price and currency, description, active."""

    ENTITY = "product"
    SPECS = fields.PRODUCT_FIELDS
    LABELS: ClassVar[dict[str, str]] = {"sku": "SKU", "unit_price": "Unit price"}
    PLACEHOLDERS: ClassVar[dict[str, str]] = {"sku": "e.g. CRM-SEAT", "name": "e.g. CRM licence (per user / year)",
                                              "unit_price": "e.g. 49.90", "currency": "USD"}
    WIDE = frozenset({"description"})
    TEXT_AREAS = frozenset({"description"})
    FIRST_FIELD = "sku"
    PALETTE_GROUP = "Product form"

    def on_mount(self) -> None:
        super().on_mount()
        if self.is_new:
            self._set("active", "yes")  # a new product is offered unless said otherwise


class ProductsScreen(RecordListScreen):
    TITLE = "Products"
    DEFAULT_ORDER = "sorted by SKU"
    ENTITY = "product"
    COLUMNS = ("sku", "name", "unit_price", "currency", "active")
    PALETTE_GROUP = "Products"
    PALETTE_NAMES: ClassVar[dict[str, str]] = {"new_product": "new product", "edit_product": "edit product",
                                               "active_only": "only active products", "focus_search": "filter",
                                               "cycle_sort": "sort by next column",
                                               "reverse_sort": "reverse sort order", "reload": "refresh"}

    BINDINGS = [
        Binding("n", "new_product", "New", id="products.new", tooltip="Add a product to the catalog"),
        Binding("e", "edit_product", "Edit", id="products.edit", tooltip="Edit the product under the cursor"),
        Binding("a", "active_only", "Active", id="products.active",
                tooltip="Only active products (again: every product)"),
    ]

    def action_active_only(self) -> None:
        if self.query_state.filters.get("active"):
            self.query_state.filters.pop("active")
        else:
            self.query_state.filters["active"] = "yes"
        self.reload()

    def open_record(self, record_id: int) -> None:
        self.app.push_screen(ProductFormScreen(record_id), self._saved)

    def action_new_product(self) -> None:
        self.app.push_screen(ProductFormScreen(), self._saved)

    def action_edit_product(self) -> None:
        product_id = self.selected_id()
        if product_id is None:
            self.notify("No product under the cursor: press n to add one.", severity="warning")
            return
        self.open_record(product_id)

    def _saved(self, row: dict | None) -> None:
        if row:
            self.reload()
