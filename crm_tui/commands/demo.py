"""`crm demo`: fill the database with realistic, deterministic demo data."""

from __future__ import annotations

import time

import typer

from crm_tui.commands._common import State, actor, fail, info


def demo(
    size: str = typer.Option("small", "--size", help="small (500 deals), medium (20,000), large (1,000,000) "
                                                     "or a number of opportunities such as 250000"),
    seed: int = typer.Option(42, "--seed", help="Random seed: the same seed writes the same data"),
    replace: bool = typer.Option(False, "--replace", help="Delete every existing record first"),
    if_empty: bool = typer.Option(False, "--if-empty",
                                  help="Write demo data only into an empty database; otherwise leave it as it is"),
) -> None:
    """Write demo data: users, accounts, contacts, leads, deals in every stage and activities."""
    from crm_tui.errors import CRMError
    from crm_tui.services.data import demo as demo_service

    try:
        n = demo_service.parse_size(size)
        engine = State.engine()
        if if_empty and not replace and not demo_service.is_empty(engine):
            info("the database already has data; leaving it as it is")
            return
        started = time.perf_counter()
        counts = demo_service.generate(
            engine, opportunities=n, seed=seed, me=actor(), replace=replace,
            progress=lambda name, k: info(f"  wrote {k:,} {name}"),
        )
    except CRMError as exc:
        raise fail(str(exc)) from None
    info(f"demo data written in {time.perf_counter() - started:.1f}s: {counts.accounts:,} accounts, "
         f"{counts.contacts:,} contacts, {counts.leads:,} leads, {counts.opportunities:,} opportunities, "
         f"{counts.activities:,} activities, {counts.products:,} products, {counts.templates:,} proposal templates, "
         f"{counts.proposals:,} proposals")
