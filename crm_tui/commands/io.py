"""`crm export` (stream records to CSV, JSON or NDJSON) and `crm import` (CSV in, validated)."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from crm_tui.commands._common import WHERE_HELP, Format, State, actor, counted, fail, info, plural, session
from crm_tui.commands._output import output_options
from crm_tui.services.registry import ENTITY_HELP


@output_options(default=Format.csv, formats=(Format.csv, Format.json, Format.ndjson), columns=True)
def export(
    entity: str = typer.Argument(..., help=ENTITY_HELP),
    where: Optional[str] = typer.Option(None, "--where", help=WHERE_HELP),
    view: Optional[str] = typer.Option(None, "--view", help="Use a saved view's filter, sort and columns"),
    ids: Optional[str] = typer.Option(None, "--ids", help="Only the records whose ids are in FILE, or - for stdin "
                                                          "(one per line, e.g. from `--format ids`)"),
    sort: Optional[str] = typer.Option(None, "--sort", help="Column to sort by; prefix with - for descending "
                                                            "(default: the view's, else id)"),
    columns: Optional[str] = None,
    fmt: Format = Format.csv,
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout"),
    raw: bool = False,
    excel: bool = typer.Option(False, "--excel", help="Start the file with a UTF-8 BOM for spreadsheets"),
) -> None:
    """Export records, streamed: ISO dates, money as decimals with a currency column, formula cells made inert."""
    from crm_tui.commands.bulk import _read_ids
    from crm_tui.services.data import io
    from crm_tui.services.registry import entity_for

    out = None
    id_list = _read_ids(ids)
    try:
        with session() as s:
            ent = entity_for(entity)
            if view:
                from crm_tui.services import views

                where, sort, columns = views.apply_view(session=s, name=view, entity=ent.name, where=where,
                                                        sort=sort, columns=columns)
            cols = [c.strip() for c in columns.split(",")] if columns else None
            io.export_columns(ent, cols)
            if output:
                try:
                    out = open(output, "w", encoding="utf-8-sig" if excel else "utf-8", newline="")
                except OSError as exc:
                    raise fail(f"output: cannot write {output}: {exc.strerror}") from None
            else:
                out = sys.stdout
                if excel:
                    out.write("\ufeff")
            from crm_tui.commands._progress import Bar

            total = None
            if Bar.wanted():  # the bar needs the total: one COUNT, only when someone is watching
                from crm_tui.services import records

                total = (len(id_list) if id_list is not None and where is None
                         else records.count_records(ent, session=s, where=where, actor=State.actor()))
            with Bar(f"exporting {ent.plural}", total=total, unit=ent.plural) as bar:
                n = io.export(ent, session=s, out=out, fmt=fmt.value, where=where, columns=cols, sort=sort, raw=raw,
                              actor=State.actor(), progress=bar.update, ids=id_list)
    finally:
        if out is not None and out is not sys.stdout:
            out.close()
    info(f"exported {counted(n, ent.name)}" + (f" to {output}" if output else ""))


def import_(
    entity: str = typer.Argument(..., help=ENTITY_HELP),
    source: str = typer.Argument(..., help="CSV file to read, or - for stdin"),
    maps: Optional[list[str]] = typer.Option(None, "--map", help="'Source Column=field' (repeat); 'Column=' skips it"),
    preset: Optional[str] = typer.Option(None, "--preset", help="Column names of another CRM: hubspot or salesforce "
                                         "(found from the columns when not given), or none"),
    match: Optional[str] = typer.Option(None, "--match",
                                        help="Update records with the same id, email or name instead of adding"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row and report; write nothing"),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Write the good rows; bad ones go to --rejects"),
    rejects: Optional[str] = typer.Option(None, "--rejects", help="With --skip-invalid: write bad rows here, "
                                                                  "with an error column"),
    create_users: bool = typer.Option(False, "--create-users", help="Add owners that are not users yet"),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="The file's encoding (default: detected)"),
) -> None:
    """Import records from CSV: validated like the forms, all or nothing unless --skip-invalid; undoable."""
    from crm_tui.commands._progress import Bar
    from crm_tui.services.data import importing
    from crm_tui.services.registry import entity_for

    if rejects and not skip_invalid:
        raise fail("rejects: only with --skip-invalid (without it, nothing is written when a row is bad)")
    try:
        stream = sys.stdin.buffer if source == "-" else open(source, "rb")
    except OSError as exc:
        raise fail(f"file: cannot read {source}: {exc.strerror}") from None
    try:
        with session() as s:
            ent = entity_for(entity)
            try:
                with Bar(f"importing {ent.plural}") as bar:
                    result = importing.import_csv(ent, stream, session=s, actor=actor(), preset=preset, maps=maps,
                                                  match=match, dry_run=dry_run, skip_invalid=skip_invalid,
                                                  create_users=create_users, encoding=encoding, progress=bar.step)
            except importing.ImportRefused as exc:
                _report_errors(exc.result)
                raise fail(str(exc)) from None  # the session rolls back: nothing written
            except OSError as exc:  # a read error part way through the file
                raise fail(f"file: cannot read {source}: {exc.strerror}") from None
            if dry_run:
                s.rollback()
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if rejects and result.rejects:
        try:
            with open(rejects, "w", encoding="utf-8", newline="") as out:
                importing.rejects_csv(result, out)
        except OSError as exc:
            info(f"warning: cannot write rejects to {rejects}: {exc.strerror}")
    detail = (f"{result.rows:,} rows ({result.encoding}, delimiter {result.delimiter!r}); "
              f"columns: {', '.join(f'{c}->{f}' for c, f in result.mapping.items())}"
              + (f"; ignored: {', '.join(result.ignored)}" if result.ignored else ""))
    if result.preset_detected and result.preset:
        info(f"the columns look like a {importing.PRESET_NAMES.get(result.preset, result.preset)} export: "
             f"read as --preset {result.preset} reads them (--preset none: by our field names only)")
    info(detail)
    if result.users_created:
        info(f"{'would add' if dry_run else 'added'} {plural(len(result.users_created), 'user')}: "
             f"{', '.join(result.users_created[:10])}"
             + (" ..." if len(result.users_created) > 10 else ""))
    if result.lost_reasons_defaulted:
        info(f"{result.lost_reasons_defaulted:,} lost deals had no lost reason: "
             f"set to {importing.LOST_REASON_DEFAULT!r}")
    if result.errors:
        for e in result.errors[:importing.MAX_ERRORS_SHOWN]:
            info(f"skipped {e}")
        info(f"skipped {len(result.rejects):,} invalid rows" + (f"; written to {rejects}" if rejects else ""))
    verb = "would import" if dry_run else "imported"
    info(f"{verb}: {counted(result.created, ent.name, 'new')}, {result.updated:,} updated, {result.unchanged:,} unchanged"
         + ("; nothing written (dry run)" if dry_run else "")
         + (f"; batch {result.batch_id} (crm undo {result.batch_id})" if result.batch_id else ""))


def _report_errors(result) -> None:
    from crm_tui.services.data import importing

    errors = result.errors
    if len(errors) > 1:
        for e in errors[:importing.MAX_ERRORS_SHOWN]:
            info(f"  {e}")
        if len(errors) > importing.MAX_ERRORS_SHOWN:
            info(f"  ... and {len(errors) - importing.MAX_ERRORS_SHOWN} more (--skip-invalid --rejects FILE lists all)")
