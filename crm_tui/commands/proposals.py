"""`crm proposal ...` and `crm product ...`: proposals with line items, templates, revisions, PDF.

Only Typer at import time; the services (and SQLAlchemy) load inside each command.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from crm_tui.commands._common import FORMAT_HELP, Format, RecordId, State, actor, fail, info, plural, session, settings
from crm_tui.commands._output import emit, emit_one, emit_record, output_options

ID_HELP = "The proposal's id or number (e.g. 12 or PRO-2026-0001)"
WRITE_FORMAT_HELP = ("What to print: ids (the proposal's id, default) or the proposal as table, json, "
                     "csv or ndjson (its lines)")
VERSION_HELP = "Refuse if the proposal is no longer at this version (another edit came first)"


proposal_app = typer.Typer(help="Proposals: line items, templates, revisions, statuses and the PDF. "
                                "`crm proposal` alone lists them.", no_args_is_help=False)
template_app = typer.Typer(help="Proposal templates: a named set of lines, terms, validity and tax.",
                           no_args_is_help=False)
proposal_app.add_typer(template_app, name="template")


def _pid(s, value: str) -> int:
    from crm_tui.services.quotes import proposals

    return proposals.resolve_id(session=s, value=value, actor=State.actor())


def _show_view(view, fmt: Format) -> None:
    summary = view.summary()
    if fmt == Format.table:
        emit_record(summary, fmt)
        emit(view.line_rows(), fmt, table_columns=("position", "sku", "description", "quantity", "unit_price",
                                                    "discount", "total"),
             title=f"{view.number} revision {view.revision} lines ({view.currency})")
        return
    if fmt == Format.json:
        import json

        from crm_tui.commands._output import _plain

        payload = {k: _plain(v) for k, v in summary.items()}
        payload["line_items"] = view.line_rows()
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    if fmt == Format.ids:
        typer.echo(view.id)
        return
    from crm_tui.services.quotes.proposals import LINE_ROW_KEYS

    emit(view.line_rows(), fmt, header=LINE_ROW_KEYS)  # csv / ndjson: the lines, one per row


@proposal_app.callback(invoke_without_command=True)
def proposal_default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        proposal_list(Format.table, None, False, False, None, None, None, None)


@proposal_app.command("list")
@output_options()
def proposal_list(
    fmt: Format = Format.table,
    status: Optional[str] = typer.Option(None, "--status", help="Only this status: draft, sent, accepted, "
                                                                "rejected or expired"),
    pending: bool = typer.Option(False, "--pending", help="Only sent proposals awaiting a response"),
    overdue: bool = typer.Option(False, "--overdue", help="Only sent proposals with no response after 3 days "
                                                          "(follow-up due)"),
    owner: Optional[str] = typer.Option(None, "--owner", help="Only this owner's (username, or 'me')"),
    opp: Optional[int] = typer.Option(None, "--opp", help="Only this opportunity's (id)",
                                      parser=RecordId("opportunity", "opp")),
    search: Optional[str] = typer.Option(None, "--search", help="Only proposals whose number, title or account "
                                                                "contains every word"),
    limit: Optional[int] = typer.Option(None, "--limit", min=0, help="At most this many rows"),
) -> None:
    """List proposals, newest first. (Follow-up tasks are made by `crm jobs run`, not here.)"""
    from crm_tui.services.quotes import proposals

    with session() as s:
        rows = proposals.list_proposals(session=s, status=status, pending=pending, overdue_followup=overdue,
                                        owner=owner, opportunity_id=opp, search=search, limit=limit or None,
                                        actor=State.actor())
    n = emit(rows, fmt, table_columns=proposals.LIST_COLUMNS, header=proposals.ROW_KEYS)
    if n == 0 and fmt == Format.table:
        info("no proposals")


@proposal_app.command("show")
@output_options(help=FORMAT_HELP + " (csv/ndjson: the lines)")
def proposal_show(
    proposal: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    revision: Optional[int] = typer.Option(None, "--revision", help="Show this earlier revision"),
    fmt: Format = Format.table,
) -> None:
    """Show a proposal: header, totals and lines."""
    from crm_tui.services.quotes import proposals

    with session() as s:
        view = proposals.get_proposal(session=s, proposal_id=_pid(s, proposal), revision=revision,
                                      actor=State.actor())
    _show_view(view, fmt)


@proposal_app.command("new")
@output_options(default=Format.ids, help="What to print: ids (the id, default) or the new proposal as table, json "
                                         "(header, totals and lines), csv or ndjson (its lines)")
def proposal_new(
    opp: int = typer.Option(..., "--opp", help="The opportunity's id",
                            parser=RecordId("opportunity", "opp")),
    template: Optional[str] = typer.Option(None, "--template", help="Start from this template (name or id)"),
    title: Optional[str] = typer.Option(None, "--title", help="Title (default: the opportunity's name)"),
    currency: Optional[str] = typer.Option(None, "--currency", help="Must be the opportunity's currency"),
    valid_until: Optional[str] = typer.Option(None, "--valid-until",
                                              help="YYYY-MM-DD or today+30d (default: template or 30 days)"),
    tax_rate: Optional[str] = typer.Option(None, "--tax-rate", help="Tax rate in percent, e.g. 19 or 8.25"),
    terms: Optional[str] = typer.Option(None, "--terms", help="Terms and conditions"),
    notes: Optional[str] = typer.Option(None, "--notes", help="Notes shown on the proposal"),
    fmt: Format = Format.ids,
) -> None:
    """Create a draft proposal from an opportunity; prints its id."""
    from crm_tui.services.quotes import proposals

    with session() as s:
        view = proposals.new_proposal(session=s, opportunity_id=opp, actor=actor(), template=template, title=title,
                                      currency=currency, valid_until=valid_until, tax_rate=tax_rate, terms=terms,
                                      notes=notes)
    info(f"created proposal {view.number} for opportunity {opp} ({plural(len(view.pricing.lines), 'line')}, "
         f"total {view.pricing.fmt(view.pricing.total_minor)})")
    _show_view(view, fmt)


def _line_data(product, description, quantity, price, discount) -> dict:
    return {k: v for k, v in {"product": product, "description": description, "quantity": quantity,
                              "unit_price": price, "discount": discount}.items() if v is not None}


def _report(saved, what: str, fmt: Format) -> None:
    view = saved.view
    extra = f"; started revision {view.revision} (the sent one is kept)" if saved.new_revision else ""
    info(f"{what} on {view.number} rev {view.revision}: total {view.pricing.fmt(view.pricing.total_minor)} "
         f"(version {view.version}){extra}")
    _show_view(view, fmt)


@proposal_app.command("add-line")
@output_options(default=Format.ids, help=WRITE_FORMAT_HELP)
def proposal_add_line(
    proposal: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    product: Optional[str] = typer.Option(None, "--product", help="Product id or SKU (fills description and price)"),
    description: Optional[str] = typer.Option(None, "--description", help="What the line is for"),
    quantity: Optional[str] = typer.Option(None, "--quantity", help="Quantity, up to 3 decimals (default 1)"),
    price: Optional[str] = typer.Option(None, "--price", help="Unit price in the proposal's currency"),
    discount: Optional[str] = typer.Option(None, "--discount", help="Discount in percent, 0-100"),
    position: Optional[int] = typer.Option(None, "--position", help="Insert at this line number (default: last)"),
    if_version: Optional[int] = typer.Option(None, "--if-version", help=VERSION_HELP),
    fmt: Format = Format.ids,
) -> None:
    """Add a line. Editing a sent proposal starts a new revision."""
    from crm_tui.services.quotes import proposals

    with session() as s:
        saved = proposals.add_line(session=s, proposal_id=_pid(s, proposal), actor=actor(), position=position,
                                   data=_line_data(product, description, quantity, price, discount),
                                   expected_version=if_version)
    _report(saved, "added a line", fmt)


@proposal_app.command("update-line")
@output_options(default=Format.ids, help=WRITE_FORMAT_HELP)
def proposal_update_line(
    proposal: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    line: int = typer.Argument(..., metavar="LINE", help="The line number (see `crm proposal show`)"),
    product: Optional[str] = typer.Option(None, "--product", help="Product id or SKU"),
    description: Optional[str] = typer.Option(None, "--description", help="What the line is for"),
    quantity: Optional[str] = typer.Option(None, "--quantity", help="Quantity, up to 3 decimals"),
    price: Optional[str] = typer.Option(None, "--price", help="Unit price in the proposal's currency"),
    discount: Optional[str] = typer.Option(None, "--discount", help="Discount in percent, 0-100"),
    if_version: Optional[int] = typer.Option(None, "--if-version", help=VERSION_HELP),
    fmt: Format = Format.ids,
) -> None:
    """Change a line. Editing a sent proposal starts a new revision."""
    from crm_tui.services.quotes import proposals

    data = _line_data(product, description, quantity, price, discount)
    if not data:
        raise fail("nothing to change: give --price, --quantity, --discount, --description or --product")
    with session() as s:
        saved = proposals.update_line(session=s, proposal_id=_pid(s, proposal), actor=actor(), position=line,
                                      data=data, expected_version=if_version)
    _report(saved, f"changed line {line}", fmt)


@proposal_app.command("remove-line")
@output_options(default=Format.ids, help=WRITE_FORMAT_HELP)
def proposal_remove_line(
    proposal: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    line: int = typer.Argument(..., metavar="LINE", help="The line number (see `crm proposal show`)"),
    if_version: Optional[int] = typer.Option(None, "--if-version", help=VERSION_HELP),
    fmt: Format = Format.ids,
) -> None:
    """Remove a line. Editing a sent proposal starts a new revision."""
    from crm_tui.services.quotes import proposals

    with session() as s:
        saved = proposals.remove_line(session=s, proposal_id=_pid(s, proposal), actor=actor(), position=line,
                                      expected_version=if_version)
    _report(saved, f"removed line {line}", fmt)


@proposal_app.command("update")
@output_options(default=Format.ids, help=WRITE_FORMAT_HELP)
def proposal_update(
    proposal: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    title: Optional[str] = typer.Option(None, "--title", help="Title"),
    valid_until: Optional[str] = typer.Option(None, "--valid-until", help="YYYY-MM-DD or today+30d"),
    tax_rate: Optional[str] = typer.Option(None, "--tax-rate", help="Tax rate in percent"),
    terms: Optional[str] = typer.Option(None, "--terms", help="Terms and conditions"),
    notes: Optional[str] = typer.Option(None, "--notes", help="Notes"),
    contact: Optional[str] = typer.Option(None, "--contact", help="Contact id the proposal is addressed to"),
    if_version: Optional[int] = typer.Option(None, "--if-version", help=VERSION_HELP),
    fmt: Format = Format.ids,
) -> None:
    """Change header fields (title, validity, tax, terms, notes, contact)."""
    from crm_tui.services.quotes import proposals

    header = {k: v for k, v in {"title": title, "valid_until": valid_until, "tax_rate": tax_rate, "terms": terms,
                                "notes": notes, "contact": contact}.items() if v is not None}
    if not header:
        raise fail("nothing to change: give --title, --valid-until, --tax-rate, --terms, --notes or --contact")
    with session() as s:
        saved = proposals.save_proposal(session=s, proposal_id=_pid(s, proposal), actor=actor(),
                                        expected_version=if_version, header=header)
    _report(saved, "updated", fmt)


@proposal_app.command("send")
@output_options(default=Format.ids, help=WRITE_FORMAT_HELP)
def proposal_send(
    proposal: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    if_version: Optional[int] = typer.Option(None, "--if-version", help=VERSION_HELP),
    fmt: Format = Format.ids,
) -> None:
    """Mark a draft as sent (records when; a follow-up task follows after 3 days without response)."""
    from crm_tui.services.quotes import proposals

    with session() as s:
        view = proposals.send_proposal(session=s, proposal_id=_pid(s, proposal), actor=actor(),
                                       expected_version=if_version)
    info(f"sent {view.number} rev {view.revision} ({view.pricing.fmt(view.pricing.total_minor)})")
    _show_view(view, fmt)


@proposal_app.command("accept")
@output_options(default=Format.ids, help=WRITE_FORMAT_HELP)
def proposal_accept(
    proposal: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    won: Optional[bool] = typer.Option(None, "--won/--no-won",
                                       help="Also move the opportunity to Won with the proposal's total as its "
                                            "amount (asked when not given and run in a terminal)"),
    if_version: Optional[int] = typer.Option(None, "--if-version", help=VERSION_HELP),
    fmt: Format = Format.ids,
) -> None:
    """Record that the customer accepted; offers to move the opportunity to Won."""
    from crm_tui.services.quotes import proposals

    if won is None:
        won = sys.stdin.isatty() and typer.confirm(
            "Move the opportunity to Won with this proposal's total as its amount?", default=True, err=True)
    with session() as s:
        result = proposals.accept_proposal(session=s, proposal_id=_pid(s, proposal), actor=actor(),
                                           move_to_won=won, expected_version=if_version)
    view = result.view
    message = f"accepted {view.number} rev {view.revision} ({view.pricing.fmt(view.pricing.total_minor)})"
    if won:
        message += (f"; opportunity {view.opportunity_id} moved to {result.stage}" if result.moved_to_won
                    else f"; opportunity {view.opportunity_id} was already {result.stage}")
        message += f" with amount {view.pricing.fmt(view.pricing.total_minor)}"
    info(message)
    _show_view(view, fmt)


@proposal_app.command("reject")
@output_options(default=Format.ids, help=WRITE_FORMAT_HELP)
def proposal_reject(
    proposal: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    if_version: Optional[int] = typer.Option(None, "--if-version", help=VERSION_HELP),
    fmt: Format = Format.ids,
) -> None:
    """Record that the customer rejected it (revise it to try again)."""
    from crm_tui.services.quotes import proposals

    with session() as s:
        view = proposals.reject_proposal(session=s, proposal_id=_pid(s, proposal), actor=actor(),
                                         expected_version=if_version)
    info(f"rejected {view.number} rev {view.revision}")
    _show_view(view, fmt)


@proposal_app.command("revise")
@output_options(default=Format.ids, help=WRITE_FORMAT_HELP)
def proposal_revise(
    proposal: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    if_version: Optional[int] = typer.Option(None, "--if-version", help=VERSION_HELP),
    fmt: Format = Format.ids,
) -> None:
    """Start the next revision of a sent, rejected or expired proposal (a draft with the same lines)."""
    from crm_tui.services.quotes import proposals

    with session() as s:
        saved = proposals.revise_proposal(session=s, proposal_id=_pid(s, proposal), actor=actor(),
                                          expected_version=if_version)
    info(f"{saved.view.number} is now at revision {saved.view.revision} (draft)")
    _show_view(saved.view, fmt)


@proposal_app.command("diff")
@output_options(formats=(Format.table, Format.csv, Format.json, Format.ndjson))
def proposal_diff(
    proposal: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    from_rev: int = typer.Option(..., "--from", help="The earlier revision"),
    to_rev: int = typer.Option(..., "--to", help="The later revision"),
    fmt: Format = Format.table,
) -> None:
    """Which lines and totals changed between two revisions."""
    from crm_tui.services.quotes import proposals

    with session() as s:
        diff = proposals.diff_revisions(session=s, proposal_id=_pid(s, proposal), from_revision=from_rev,
                                        to_revision=to_rev, actor=State.actor())
    rows = diff.rows()
    n = emit(rows, fmt, title=f"{diff.number}: revision {diff.from_revision} → {diff.to_revision} ({diff.currency})")
    if n == 0 and fmt == Format.table:
        info(f"revisions {diff.from_revision} and {diff.to_revision} are the same")


@proposal_app.command("pdf")
def proposal_pdf(
    proposal: str = typer.Argument(..., metavar="ID", help=ID_HELP),
    output: Path = typer.Option(..., "-o", "--output", help="The PDF file to write"),
    revision: Optional[int] = typer.Option(None, "--revision", help="Render this earlier revision"),
) -> None:
    """Render the proposal as a PDF (seller header and fonts from the config's `seller` and `pdf`)."""
    from crm_tui.integrations import pdf
    from crm_tui.services.quotes import proposals

    with session() as s:
        view = proposals.get_proposal(session=s, proposal_id=_pid(s, proposal), revision=revision,
                                      actor=State.actor())
    try:
        result = pdf.render_proposal(view, output, settings=settings())
    except pdf.PdfError as exc:
        raise fail(str(exc)) from None
    for warning in result.warnings:
        info(f"warning: {warning}")
    info(f"wrote {output} ({plural(result.pages, 'page')}, {view.number} rev {view.revision})")


@template_app.callback(invoke_without_command=True)
def template_default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        template_list(Format.table)


@template_app.command("list")
@output_options()
def template_list(fmt: Format = Format.table) -> None:
    """List proposal templates."""
    from crm_tui.services.quotes import proposals

    with session() as s:
        rows = [_template_row(t) for t in proposals.list_templates(session=s)]
    if emit(rows, fmt) == 0 and fmt == Format.table:
        info("no templates; add one with `crm proposal template add NAME --product SKU:QTY`")


def _template_row(t) -> dict:
    from crm_tui import money

    return {"id": t.id, "name": t.name, "title": t.title, "lines": t.lines, "valid_days": t.valid_days,
            "tax_rate": money.format_percent(t.tax_rate_bp)}


@template_app.command("add")
@output_options(default=Format.ids)
def template_add(
    name: str = typer.Argument(..., help="Template name, e.g. Starter"),
    product: Optional[list[str]] = typer.Option(None, "--product",
                                                help="A line from a product: SKU or SKU:QUANTITY (repeatable)"),
    from_proposal: Optional[str] = typer.Option(None, "--from-proposal",
                                                help="Copy the lines, tax and terms of this proposal"),
    title: Optional[str] = typer.Option(None, "--title", help="Title prefix for proposals made from it"),
    terms: Optional[str] = typer.Option(None, "--terms", help="Terms and conditions"),
    valid_days: int = typer.Option(30, "--valid-days", help="Days a proposal made from it stays valid"),
    tax_rate: Optional[str] = typer.Option(None, "--tax-rate", help="Tax rate in percent"),
    fmt: Format = Format.ids,
) -> None:
    """Add a template from products and/or an existing proposal; prints its id."""
    from crm_tui.services.quotes import proposals

    lines = []
    for item in product or []:
        sku, _, qty = item.partition(":")
        lines.append({"product": sku, "quantity": qty or "1"})
    with session() as s:
        pid = _pid(s, from_proposal) if from_proposal else None
        tpl = proposals.create_template(session=s, name=name, actor=actor(), lines=lines, title=title, terms=terms,
                                        valid_days=valid_days, tax_rate=tax_rate, from_proposal=pid)
    info(f"added template {tpl.name} ({plural(tpl.lines, 'line')})")
    emit_one(_template_row(tpl), fmt)
