"""The Products area: the catalog list with its filter, the product form (new and edit), and a bad
price refused under its field with nothing written."""

from __future__ import annotations

from sqlalchemy import func, select
from ui_helpers import make, settle, wait_until

from crm_tui.app import own_actions
from crm_tui.screens.products import ProductFormScreen, ProductsScreen
from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import session_scope
from crm_tui.store.models import Product

SIZE = (160, 48)


def seed(engine) -> None:
    with session_scope(engine) as s:
        for sku, name, price in (("CRM-SEAT", "CRM seat (per user / year)", "360.00"),
                                 ("SUP-GOLD", "Gold support", "4800.00"),
                                 ("HW-OLD", "Retired scanner", "99.00")):
            records.create_record(ENTITIES["product"], session=s, actor="tester",
                                  data={"sku": sku, "name": name, "unit_price": price,
                                        "active": "no" if sku == "HW-OLD" else "yes"})


def product(engine, sku: str) -> Product | None:
    with session_scope(engine) as s:
        return s.execute(select(Product).where(Product.sku == sku)).scalar_one_or_none()


def product_count(engine) -> int:
    with session_scope(engine) as s:
        return s.execute(select(func.count()).select_from(Product)).scalar_one()


def skus(screen) -> list[str]:
    table = screen.query_one("#list-table")
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def form_loaded(pilot) -> bool:
    screen = pilot.app.screen
    return isinstance(screen, ProductFormScreen) and (screen.is_new or screen.version is not None)


async def test_products_area_lists_filters_and_is_in_the_palette(engine):
    seed(engine)
    async with make(engine, mode="dashboard").run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ProductsScreen)
                         and len(skus(pilot.app.screen)) == 3, what="the catalog")
        screen = pilot.app.screen
        assert skus(screen) == ["CRM-SEAT", "HW-OLD", "SUP-GOLD"]  # by SKU
        assert str(screen.query_one("#list-table").get_row_at(0)[2]) == "360.00"
        names = {c.name: c.action for c in pilot.app.palette_commands(screen)}
        assert {"Products: new product", "Products: edit product", "App: go to products"} <= set(names)
        assert own_actions(screen) <= set(names.values())
        await pilot.press("a")  # only active
        await wait_until(pilot, lambda: skus(screen) == ["CRM-SEAT", "SUP-GOLD"], what="active only")
        await pilot.press("a", "slash", *"gold")
        await wait_until(pilot, lambda: skus(screen) == ["SUP-GOLD"], what="the filtered catalog")


async def test_new_and_edited_product_are_saved(engine):
    seed(engine)
    async with make(engine, mode="products").run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(skus(pilot.app.screen)) == 3, what="the catalog")
        await pilot.press("n")
        await wait_until(pilot, lambda: form_loaded(pilot), what="the new product form")
        form = pilot.app.screen
        assert pilot.app.focused.id == "input-sku"
        await pilot.press(*"TRAIN-DAY")
        form.query_one("#input-name").value = "Training day"
        form.query_one("#input-unit_price").value = "950.50"
        form.query_one("#input-currency").value = "EUR"
        form.query_one("#input-description").text = "Up to 12 people, on site."
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ProductsScreen)
                         and "TRAIN-DAY" in skus(pilot.app.screen), what="the list with the new product")
        made = product(engine, "TRAIN-DAY")
        assert (made.name, made.unit_price_minor, made.currency, made.active, made.description) == (
            "Training day", 95050, "EUR", True, "Up to 12 people, on site.")

        # Edit it: open from the list (Enter), change the price and retire it.
        screen = pilot.app.screen
        table = screen.query_one("#list-table")
        table.move_cursor(row=skus(screen).index("TRAIN-DAY"))
        await pilot.press("e")
        await wait_until(pilot, lambda: form_loaded(pilot), what="the loaded form")
        form = pilot.app.screen
        assert form.query_one("#input-unit_price").value == "950.50"
        form.query_one("#input-unit_price").value = "1,000.00"
        form.query_one("#input-active").value = "no"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ProductsScreen), what="back on the list")
        await settle(pilot)
    edited = product(engine, "TRAIN-DAY")
    assert (edited.unit_price_minor, edited.active, edited.version) == (100000, False, 2)


async def test_a_bad_price_is_refused_under_its_field_and_nothing_is_written(engine):
    seed(engine)
    before = product_count(engine)
    seat = product(engine, "CRM-SEAT")
    async with make(engine, mode="products").run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(skus(pilot.app.screen)) == 3, what="the catalog")
        await pilot.press("n")
        await wait_until(pilot, lambda: form_loaded(pilot), what="the new product form")
        form = pilot.app.screen
        form.query_one("#input-sku").value = "BAD-1"
        form.query_one("#input-name").value = "Bad price"
        form.query_one("#input-unit_price").value = "12.345"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: str(form.query_one("#error-unit_price").render()).strip(),
                         what="the price error")
        error = str(form.query_one("#error-unit_price").render())
        assert "unit_price" in error and "12.345" in error, error
        assert pilot.app.screen is form
        assert product(engine, "BAD-1") is None and product_count(engine) == before

        # The same on an edit: the stored price stays.
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ProductsScreen), what="the list")
        await pilot.press("enter")  # the cursor is on CRM-SEAT
        await wait_until(pilot, lambda: form_loaded(pilot) and not pilot.app.screen.is_new, what="the edit form")
        form = pilot.app.screen
        form.query_one("#input-unit_price").value = "-5"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: str(form.query_one("#error-unit_price").render()).strip(),
                         what="the price error")
        assert "-5" in str(form.query_one("#error-unit_price").render())
    after = product(engine, "CRM-SEAT")
    assert (after.unit_price_minor, after.version) == (seat.unit_price_minor, seat.version) == (36000, 1)
