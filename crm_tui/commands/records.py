"""list / show / add / update / delete for one noun, built from its field specs.

Options come from ``crm_tui.services.fields`` so the CLI, the TUI forms and the
services agree on what each field is called and means.
"""

from __future__ import annotations

import inspect
import sys
from typing import Optional

import typer

from crm_tui.commands._common import WHERE_HELP, Format, RecordId, State, actor, fail, info, session
from crm_tui.commands._output import emit, emit_one, emit_record, output_options
from crm_tui.services.validate import FieldSpec


def _a(noun: str) -> str:
    """The noun with its indefinite article: "an account", "a lead"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _option_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _field_params(specs: dict[str, FieldSpec], *, for_add: bool) -> list[inspect.Parameter]:
    params = []
    for spec in specs.values():
        if for_add and spec.extra.get("argument"):
            default = typer.Argument(..., help=spec.help, show_default=False)
        else:
            default = typer.Option(None, _option_name(spec.name), help=spec.help, show_default=False)
        params.append(inspect.Parameter(spec.name, inspect.Parameter.KEYWORD_ONLY,
                                        default=default, annotation=Optional[str]))
    return params


def _set_signature(func, params: list[inspect.Parameter]):
    func.__signature__ = inspect.Signature(params)
    return func


def _id_param(label: str) -> inspect.Parameter:
    return inspect.Parameter("record_id", inspect.Parameter.KEYWORD_ONLY,
                             default=typer.Argument(..., metavar="ID", help=f"The {label}'s id",
                                                     parser=RecordId(label)), annotation=int)


def build(noun: str, entity_name: str, specs: dict[str, FieldSpec], filters: dict[str, str],
          summary: tuple[str, ...], plural: str, after_add=None, show_extra=None) -> typer.Typer:
    """``after_add(session, row)`` may return warning lines printed to stderr after an add;
    ``show_extra(session, row)`` fields `show` prints after the record's own (a deal's buying group)."""
    app = typer.Typer(
        help=f"List, show, add, update and delete {plural}. `crm {noun}` alone lists them.",
        no_args_is_help=False,
    )

    def entity():
        from crm_tui.services.registry import ENTITIES

        return ENTITIES[entity_name]

    def run_list(fmt: Format, search, sort, limit, columns, filter_values: dict, where=None, view=None) -> None:
        from crm_tui.services import records

        flt = {k: v for k, v in filter_values.items() if v is not None}  # owner "me": the service resolves it
        with session() as s:
            acting = State.actor()
            ent = entity()
            if view:
                from crm_tui.services import views

                where, sort, columns = views.apply_view(session=s, name=view, entity=ent.name,
                                                        where=where, sort=sort, columns=columns)
            cols = [c.strip() for c in columns.split(",")] if columns else None
            if fmt == Format.table:
                shown = 100 if limit is None else limit
                total = records.count_records(ent, session=s, search=search, filters=flt, where=where,
                                              actor=acting)
                rows = records.list_records(ent, session=s, search=search, filters=flt, sort=sort,
                                            limit=shown or None, where=where, actor=acting)
                n = emit(rows, fmt, columns=cols, table_columns=summary)
                if n < total:
                    info(f"showing {n} of {total} {plural}; use --limit 0 for all, or --format csv")
                elif n == 0:
                    info(f"no {plural}")
            else:
                emit(records.iter_records(ent, session=s, search=search, filters=flt, sort=sort, limit=limit or None,
                                          where=where, actor=acting),
                     fmt, columns=cols, header=records.row_keys(ent))

    @app.callback(invoke_without_command=True)
    def default(ctx: typer.Context) -> None:
        if ctx.invoked_subcommand is None:
            run_list(Format.table, None, None, None, None, {})

    def list_cmd(**kw) -> None:
        flt = {name: kw.pop(name) for name in filters}
        run_list(kw["fmt"], kw["search"], kw["sort"], kw["limit"], kw["columns"], flt, kw["where"], kw["view"])

    list_params = [
        inspect.Parameter("search", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
                          default=typer.Option(None, "--search", help="Only rows containing every word of this text")),
        inspect.Parameter("where", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
                          default=typer.Option(None, "--where", help=WHERE_HELP)),
        inspect.Parameter("view", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
                          default=typer.Option(None, "--view", help="Use a saved view's filter, sort and columns")),
        inspect.Parameter("sort", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
                          default=typer.Option(None, "--sort", help="Column to sort by; prefix with - for descending")),
        inspect.Parameter("limit", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[int],
                          default=typer.Option(None, "--limit", min=0,
                                               help="At most this many rows (table default 100; 0 = all)")),
    ] + [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
                          default=typer.Option(None, _option_name(name), help=help_text))
        for name, help_text in filters.items()
    ]
    list_cmd.__doc__ = f"List {plural}."
    app.command("list")(output_options(columns=True)(_set_signature(list_cmd, list_params)))

    def show_cmd(**kw) -> None:
        from crm_tui.services import records

        with session() as s:
            row = records.get_record(entity(), session=s, record_id=kw["record_id"], actor=State.actor())
            if show_extra is not None:
                row = {**row, **show_extra(s, row)}
        emit_record(row, kw["fmt"])

    show_cmd.__doc__ = f"Show one {entity_name} with every field."
    app.command("show")(output_options()(_set_signature(show_cmd, [_id_param(entity_name)])))

    def add_cmd(**kw) -> None:
        from crm_tui.services import records

        fmt = kw.pop("fmt")
        data = {k: v for k, v in kw.items() if v is not None}
        with session() as s:
            row = records.create_record(entity(), session=s, data=data, actor=actor())
            warnings = after_add(s, row) if after_add else []
        given = row.get("owner") if "owner" not in data else None  # the rules gave it someone else: say whom
        whom = f", assigned to {given} by a rule" if given and given.lower() != actor().lower() else ""
        _after_write(row, fmt, f"added {entity_name} {row['id']}{whom}")
        for line in warnings:
            info(f"warning: {line}")

    add_cmd.__doc__ = f"Add {_a(entity_name)}; prints its id."
    app.command("add")(output_options(default=Format.ids)(
        _set_signature(add_cmd, _field_params(specs, for_add=True))))

    def update_cmd(**kw) -> None:
        from crm_tui.services import records

        record_id = kw.pop("record_id")
        fmt = kw.pop("fmt")
        expected = kw.pop("if_version")
        data = {k: ("" if v == "-" else v) for k, v in kw.items() if v is not None}
        if not data:
            raise fail(f"nothing to update: give at least one field, e.g. {_option_name(next(iter(specs)))}")
        with session() as s:
            row = records.update_record(entity(), session=s, record_id=record_id, data=data, actor=State.actor(),
                                        expected_version=expected)
            renamed = entity_name in SAME_VALUE_WARNED and {"name", "email"} & set(data)
            warnings = same_value_warning(entity_name)(s, row) if renamed else []
        _after_write(row, fmt, f"updated {entity_name} {record_id} (version {row['version']})")
        for line in warnings:
            info(f"warning: {line}")

    update_cmd.__doc__ = (f"Change fields of {_a(entity_name)}. Only the options given change; "
                          "pass '-' to clear a field. Every change is kept in the history.")
    app.command("update")(output_options(default=Format.ids)(_set_signature(
        update_cmd, [_id_param(entity_name)] + _field_params(specs, for_add=False) + [
            inspect.Parameter("if_version", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[int],
                              default=typer.Option(None, "--if-version",
                                                   help="Refuse if the record is no longer at this version")),
        ])))

    def delete_cmd(**kw) -> None:
        from crm_tui.services import records

        record_id = kw["record_id"]
        with session() as s:
            row = records.get_record(entity(), session=s, record_id=record_id, actor=State.actor())
            label = entity().label(row)
            if not kw["yes"]:
                if not sys.stdin.isatty():
                    raise fail(f"refusing to delete {entity_name} {record_id} ({label}) without --yes")
                if not typer.confirm(f"Delete {entity_name} {record_id} ({label})?", err=True):
                    raise typer.Exit(1)
            records.delete_record(entity(), session=s, record_id=record_id, actor=State.actor())
        info(f"deleted {entity_name} {record_id} ({label})")

    delete_cmd.__doc__ = f"Delete {_a(entity_name)} (asks first unless --yes)."
    app.command("delete")(_set_signature(delete_cmd, [
        _id_param(entity_name),
        inspect.Parameter("yes", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                          default=typer.Option(False, "--yes", "-y", help="Do not ask for confirmation")),
    ]))

    def history_cmd(**kw) -> None:
        from crm_tui.services import records

        with session() as s:
            records.get_record(entity(), session=s, record_id=kw["record_id"], actor=State.actor())
            rows = records.history(session=s, entity=entity_name, record_id=kw["record_id"])
            if kw["fmt"] == Format.table:  # for people: one sentence per change, names instead of ids
                from crm_tui.services.engagement.changes import describe_changes, when_text

                texts = describe_changes(session=s, rows=rows, actor=State.actor())
                rows = [{"when": when_text(r["changed_at"]), "who": r["actor"], "change": text}
                        for r, text in zip(rows, texts) if text]
            elif entity().describe_changes:
                rows = entity().describe_changes(s, rows)
        emit(rows, kw["fmt"], table_columns=("when", "who", "change") if kw["fmt"] == Format.table else None,
             header=records.history_keys())

    history_cmd.__doc__ = f"Show every recorded change to {_a(entity_name)}, newest first."
    app.command("history")(output_options()(_set_signature(history_cmd, [_id_param(entity_name)])))
    return app


def _after_write(row: dict, fmt: Format, message: str) -> None:
    info(message)
    emit_one(row, fmt)


# Entities whose add warns when another record has the same value (crm_tui.services.sales.duplicates).
SAME_VALUE_WARNED = ("account", "contact")


def same_value_warning(name: str):
    """An ``after_add`` for ``name``: one warning line naming an existing record with the same account
    name or contact e-mail, and the command that opens it (the add itself stands)."""
    def check(s, row: dict) -> list[str]:
        from crm_tui.services.sales.duplicates import existing_same

        found = existing_same(session=s, entity=name, values=row, exclude_id=row["id"], actor=State.actor())
        return [found.warning()] if found else []

    return check


def build_for(name: str, after_add=None, show_extra=None) -> typer.Typer:
    """``build`` for one entity of the registry: its noun, fields, list filters, table columns and plural."""
    from crm_tui.services.registry import BY_NAME

    entry = BY_NAME[name]
    if after_add is None and name in SAME_VALUE_WARNED:
        after_add = same_value_warning(name)
    return build(entry.noun, entry.name, entry.specs, entry.filters, entry.summary_columns, entry.plural,
                 after_add=after_add, show_extra=show_extra)
