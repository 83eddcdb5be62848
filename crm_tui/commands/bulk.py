"""Bulk writes from the shell: `crm tag add|remove`, `crm update`, `crm delete`, `crm undo`.

Each selects records with --where (the filter language) or --ids FILE|-,
can be previewed with --dry-run, runs in one transaction, and prints its batch
id on stderr so `crm undo BATCH` can put everything back.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from crm_tui.commands._common import WHERE_HELP, Format, State, counted, fail, info, session, unit_of_work
from crm_tui.commands._output import output_options
from crm_tui.commands._progress import Bar
from crm_tui.services.registry import ENTITY_HELP

IDS_HELP = "Read record ids from FILE, or - for stdin (one per line, e.g. from `--format ids`)"

tag_app = typer.Typer(help="Add or remove a tag on many records at once.", no_args_is_help=True)


def _read_ids(source: str | None) -> list[int] | None:
    if source is None:
        return None
    from crm_tui.errors import ValidationError
    from crm_tui.services.data.bulk import parse_ids

    try:
        if source == "-":
            return parse_ids(sys.stdin)
        with open(source, encoding="utf-8-sig") as fh:
            return parse_ids(fh)
    except OSError as exc:
        raise fail(f"ids: cannot read {source}: {exc.strerror}") from None
    except ValidationError as exc:
        raise fail(str(exc)) from None


def _check_selection(where: str | None, ids: str | None) -> None:
    if (where is None) == (ids is None):
        raise fail("give exactly one of --where EXPR or --ids FILE|-")


def _report(result, verb: str) -> None:
    from crm_tui.commands._common import Format
    from crm_tui.commands._output import emit
    from crm_tui.services.registry import BY_NAME

    entry = BY_NAME[result.entity]
    plural = entry.plural
    if getattr(result, "skipped", 0):
        info(f"skipped {counted(result.skipped, result.entity)} your role may not {result.right} (crm role show)")
    if result.dry_run:
        change = ", ".join(f"{k}={v}" for k, v in result.changes.items())
        info(f"dry run: would {verb} {result.affected:,} of {result.matched:,} selected {plural}"
             + (f" ({change})" if change else "") + "; nothing written")
        if result.sample:
            info(f"first {len(result.sample)}:")
            emit(result.sample, Format.table, table_columns=entry.summary_columns, out=sys.stderr)
        return
    if result.batch_id is None:
        info(f"nothing to {verb}: {counted(result.matched, result.entity)} selected, none would change")
        return
    info(f"{verb}: {counted(result.affected, result.entity)} (of {result.matched:,} selected); "
         f"batch {result.batch_id} — undo with: crm undo {result.batch_id}")


def _tag(tag: str, entity: str, where, ids, dry_run: bool, add: bool) -> None:
    from crm_tui.services.data import bulk
    from crm_tui.services.registry import entity_for

    _check_selection(where, ids)
    id_list = _read_ids(ids)
    def work(s):
        result = bulk.tag(entity_for(entity), session=s, tag=tag, add=add, actor=State.actor(), where=where,
                          ids=id_list, dry_run=dry_run, progress=bar.step)
        if dry_run:
            s.rollback()
        return result

    with Bar("working") as bar:
        result = unit_of_work(work)
    _report(result, f"tag {tag}" if add else f"untag {tag}")


@tag_app.command("list")
@output_options()
def tag_list(
    fmt: Format = Format.table,
    entity: Optional[str] = typer.Option(None, "--entity", help="Only this entity's tags: " + ENTITY_HELP),
) -> None:
    """The tags in use and how many records carry each (only records you may read count)."""
    from crm_tui.commands._output import emit
    from crm_tui.services.data import bulk
    from crm_tui.services.registry import entity_for

    with session() as s:
        counts = bulk.tag_counts(session=s, actor=State.actor(), entity=entity_for(entity) if entity else None)
    rows = [{"tag": c.tag, "entity": c.entity, "records": c.count} for c in counts]
    if not emit(rows, fmt, header=("tag", "entity", "records")) and fmt == Format.table:
        info("no tags yet; add one with: crm tag add TAG --entity opp --where ...")


@tag_app.command("add")
def tag_add(
    tag: str = typer.Argument(..., help="The tag, e.g. q1_priority"),
    entity: str = typer.Option(..., "--entity", help=ENTITY_HELP),
    where: Optional[str] = typer.Option(None, "--where", help=WHERE_HELP),
    ids: Optional[str] = typer.Option(None, "--ids", help=IDS_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show how many records and a sample; write nothing"),
) -> None:
    """Tag every selected record (one transaction; prints the batch id for `crm undo`)."""
    _tag(tag, entity, where, ids, dry_run, add=True)


@tag_app.command("remove")
def tag_remove(
    tag: str = typer.Argument(..., help="The tag to remove"),
    entity: str = typer.Option(..., "--entity", help=ENTITY_HELP),
    where: Optional[str] = typer.Option(None, "--where", help=WHERE_HELP),
    ids: Optional[str] = typer.Option(None, "--ids", help=IDS_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show how many records and a sample; write nothing"),
) -> None:
    """Remove a tag from every selected record (one transaction; undoable)."""
    _tag(tag, entity, where, ids, dry_run, add=False)


def update(
    entity: str = typer.Argument(..., help=ENTITY_HELP),
    sets: list[str] = typer.Option(..., "--set", help="field=value to set on every record (repeatable; - clears)"),
    where: Optional[str] = typer.Option(None, "--where", help=WHERE_HELP),
    ids: Optional[str] = typer.Option(None, "--ids", help=IDS_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show how many records, a sample and the changes"),
) -> None:
    """Set fields on every selected record in one transaction, with history and a batch id for `crm undo`."""
    from crm_tui.errors import ValidationError
    from crm_tui.services.data import bulk
    from crm_tui.services.registry import entity_for

    _check_selection(where, ids)
    try:
        data = bulk.parse_sets(sets)
    except ValidationError as exc:
        raise fail(str(exc)) from None
    id_list = _read_ids(ids)
    def work(s):
        result = bulk.update_where(entity_for(entity), session=s, data=data, actor=State.actor(), where=where,
                                   ids=id_list, dry_run=dry_run, progress=bar.step)
        if dry_run:
            s.rollback()
        return result

    with Bar("working") as bar:
        result = unit_of_work(work)
    _report(result, "update")


def delete(
    entity: str = typer.Argument(..., help=ENTITY_HELP),
    where: Optional[str] = typer.Option(None, "--where", help=WHERE_HELP),
    ids: Optional[str] = typer.Option(None, "--ids", help=IDS_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show how many records and a sample; delete nothing"),
    yes: bool = typer.Option(False, "--yes", help="Really delete (required unless --dry-run)"),
) -> None:
    """Delete every selected record in one transaction (undoable with `crm undo`)."""
    from crm_tui.services.data import bulk
    from crm_tui.services.registry import entity_for

    _check_selection(where, ids)
    if not dry_run and not yes:
        raise fail("bulk delete needs --yes (or preview it with --dry-run)")
    id_list = _read_ids(ids)
    def work(s):
        result = bulk.delete_where(entity_for(entity), session=s, actor=State.actor(), where=where, ids=id_list,
                                   dry_run=dry_run, progress=bar.step)
        if dry_run:
            s.rollback()
        return result

    with Bar("working") as bar:
        result = unit_of_work(work)
    _report(result, "delete")


def undo(
    batch: str = typer.Argument(..., help="The batch id a bulk command printed"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the batch can be undone; change nothing"),
) -> None:
    """Put back exactly what one batch changed (refuses if its records changed since)."""
    from crm_tui.services.data import bulk

    def work(s):
        result = bulk.undo(session=s, batch_id=batch, actor=State.actor(), dry_run=dry_run)
        if dry_run:
            s.rollback()
        return result

    result = unit_of_work(work)
    if dry_run:
        info(f"dry run: batch {batch} can be undone ({counted(result.records, result.entity)})")
    else:
        restored = result.records - result.removed
        done = ([f"removed the {counted(result.removed, result.entity)} it created"] if result.removed else []) + (
            [f"restored {counted(restored, result.entity)}"] if restored or not result.removed else [])
        info(f"undid batch {batch}: {', '.join(done)}; batch {result.undo_batch_id}")
