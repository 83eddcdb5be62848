"""`crm assign ...` and `crm notification ...`: giving leads and deals to people, and what they are told."""

from __future__ import annotations

from typing import Optional

import typer

from crm_tui.commands._common import Format, RecordId, State, fail, info, session, settings
from crm_tui.commands._output import emit, emit_one, output_options

assign_app = typer.Typer(no_args_is_help=True,
                         help="Give a lead or a deal to a user (`crm assign lead 12 --to jessica`), and the rules "
                              "that assign new ones (`crm assign rule add|list|remove`).")
rule_app = typer.Typer(no_args_is_help=False, help="Assignment rules for new leads and deals. `crm assign rule` "
                                                   "alone lists them.")
notification_app = typer.Typer(no_args_is_help=False, help="Your notifications. `crm notification` alone lists them.")


def _assign_command(entity: str, noun: str, hidden: bool) -> None:
    @assign_app.command(noun, hidden=hidden)
    @output_options(default=Format.ids)
    def assign_cmd(
        record_id: int = typer.Argument(..., metavar="ID", help=f"The {entity}'s id", parser=RecordId(entity)),
        to: str = typer.Option(..., "--to", help="The user to give it to (username)"),
        fmt: Format = Format.ids,
    ) -> None:
        from crm_tui.services.assignment import assign

        with session() as s:
            row = assign(session=s, entity=entity, record_id=record_id, to_user=to, actor=State.actor())
        info(f"assigned {entity} {record_id} to {row['owner']}")
        emit_one(row, fmt)

    assign_cmd.__doc__ = f"Give {'an' if entity[0] in 'aeiou' else 'a'} {entity} to a user (needs the assign " \
                         "right); they are notified."


def _build_assign() -> None:
    from crm_tui.services.registry import BY_NAME

    for name in ("lead", "opportunity"):
        entry = BY_NAME[name]
        _assign_command(name, entry.noun, hidden=False)
        for other in entry.nouns:
            if other != entry.noun:
                _assign_command(name, other, hidden=True)


_build_assign()
assign_app.add_typer(rule_app, name="rule")


@rule_app.callback(invoke_without_command=True)
def _rule_default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        rule_list(None, Format.table)


@rule_app.command("list")
@output_options()
def rule_list(entity: Optional[str] = typer.Option(None, "--entity", help="lead or opportunity"),
              fmt: Format = Format.table) -> None:
    """The assignment rules in the order they are tried (the first that matches decides)."""
    from crm_tui.services.assignment import RULE_COLUMNS, list_rules

    with session() as s:
        rows = list_rules(session=s, entity=entity)
    emit(rows, fmt, header=RULE_COLUMNS)


@rule_app.command("add")
@output_options(default=Format.ids)
def rule_add(
    entity: str = typer.Argument(..., help="lead or opportunity"),
    kind: str = typer.Argument(..., help="round_robin (take turns in a team) or field (to one user when a "
                                         "field equals a value)"),
    team: Optional[str] = typer.Option(None, "--team", help="round_robin: the team whose active members take turns"),
    field: Optional[str] = typer.Option(None, "--field", help="state, industry, source or country (a deal's "
                                                              "state, industry, country are its account's)"),
    value: Optional[str] = typer.Option(None, "--value", help="The value the field must equal (any case)"),
    user: Optional[str] = typer.Option(None, "--user", help="field: the user who gets the record"),
    position: Optional[int] = typer.Option(None, "--position", help="Where it goes in the order (default last)"),
    fmt: Format = Format.ids,
) -> None:
    """Add an assignment rule (admins): `crm assign rule add lead round_robin --team West`,
    `crm assign rule add lead field --field state --value CA --user jessica`."""
    from crm_tui.services.assignment import add_rule

    with session() as s:
        row = add_rule(session=s, actor=State.actor(), entity=entity, kind=kind, team=team, field=field, value=value,
                       user=user, position=position)
    info(f"added assignment rule {row['id']}")
    emit_one(row, fmt)


@rule_app.command("remove")
@output_options(default=Format.ids)
def rule_remove(rule_id: int = typer.Argument(..., metavar="ID", help="The rule's id (crm assign rule list)",
                                              parser=RecordId("rule")),
                fmt: Format = Format.ids) -> None:
    """Remove an assignment rule (admins); prints its id (or the rule as it was)."""
    from crm_tui.services.assignment import remove_rule

    with session() as s:
        row = remove_rule(session=s, actor=State.actor(), rule_id=rule_id)
    info(f"removed assignment rule {rule_id}")
    emit_one(row, fmt)


# ---------------------------------------------------------------- notifications


@notification_app.callback(invoke_without_command=True)
def _notification_default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        notification_list(False, 50, Format.table)


@notification_app.command("list")
@output_options()
def notification_list(
    unread: bool = typer.Option(False, "--unread", help="Only those not read yet"),
    limit: int = typer.Option(50, "--limit", min=0, help="At most this many, newest first (0 = all)"),
    fmt: Format = Format.table,
) -> None:
    """Your notifications, newest first."""
    from crm_tui.services import notifications

    with session() as s:
        rows = notifications.list_for(session=s, actor=State.actor(), unread=unread, limit=limit or None)
    emit(rows, fmt, table_columns=notifications.LIST_COLUMNS, header=notifications.ROW_KEYS)
    if not rows and fmt == Format.table:
        info("no unread notifications" if unread else "no notifications")


@notification_app.command("read")
@output_options(default=Format.ids)
def notification_read(
    notification_id: Optional[int] = typer.Argument(None, metavar="[ID]", help="The notification's id",
                                                    parser=RecordId("notification")),
    all_: bool = typer.Option(False, "--all", help="Mark every unread notification read"),
    fmt: Format = Format.ids,
) -> None:
    """Mark one notification read (ID) or all of them (--all)."""
    from crm_tui.services import notifications

    if (notification_id is None) == (not all_):
        raise fail("give a notification ID or --all (one of them)")
    with session() as s:
        if all_:
            n = notifications.mark_all_read(session=s, actor=State.actor())
            info(f"marked {n} notification{'' if n == 1 else 's'} read")
            return
        row = notifications.mark_read(session=s, actor=State.actor(), notification_id=notification_id)
    info(f"notification {notification_id} read")
    emit_one(row, fmt)


@notification_app.command("prefs")
@output_options()
def notification_prefs(
    email: Optional[list[str]] = typer.Option(None, "--email", metavar="KIND",
                                              help="Also e-mail me notifications of this kind (or all); repeatable"),
    no_email: Optional[list[str]] = typer.Option(None, "--no-email", metavar="KIND",
                                                 help="Stop e-mailing this kind (or all); repeatable"),
    fmt: Format = Format.table,
) -> None:
    """Which kinds of notification you also get by e-mail (sent by `crm jobs run` from the outbox)."""
    from crm_tui.services import notifications

    with session() as s:
        if email or no_email:
            rows = notifications.set_prefs(session=s, actor=State.actor(), email=email, no_email=no_email)
        else:
            rows = notifications.prefs(session=s, actor=State.actor())
    emit(rows, fmt)
    if email and not settings().smtp.host:
        info('warning: no SMTP server is configured ("smtp" in the config): e-mails wait in the outbox until one is')
