"""A Typer root whose sub-commands are imported only when they run.

`crm --help` lists every command from the short help kept here, without
importing the modules behind them; `crm account list` imports only what the
account commands need. Each entry names a factory returning a Typer app (a
command group) or a plain function (a single command).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import typer
from typer.core import TyperCommand, TyperGroup

# name -> ("module:factory", short help). Order is the order `crm --help` lists them.
LAZY: dict[str, tuple[str, str]] = {}

# Other names commands answer to (`crm accounts` for `crm account`): each function maps a name to a
# command's name, or None. Asked only for a name that is no command, so `crm --help` never loads them.
ALIASES: list[Callable[[str], str | None]] = []


def _load(name: str) -> typer.Typer | Callable:
    target, _help = LAZY[name]
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)()


class LazyGroup(TyperGroup):
    """The root group: commands in LAZY are built on first use."""

    _listing = False

    def list_commands(self, ctx) -> list[str]:
        return list(self.commands) + [n for n in LAZY if n not in self.commands]

    def get_command(self, ctx, cmd_name: str):
        if cmd_name not in self.commands and cmd_name not in LAZY:
            cmd_name = next((target for resolve in ALIASES if (target := resolve(cmd_name))), cmd_name)
        if cmd_name in self.commands or cmd_name not in LAZY:
            return super().get_command(ctx, cmd_name)
        if self._listing:  # `crm --help`: the short help is enough
            return TyperCommand(cmd_name, help=LAZY[cmd_name][1])
        command = build_command(cmd_name)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx, formatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def build_command(name: str):
    """The click command for one lazy entry, exactly as `app.add_typer` / `app.command` would make it."""
    obj = _load(name)
    holder = typer.Typer(add_completion=False, context_settings={"help_option_names": ["-h", "--help"]})
    if isinstance(obj, typer.Typer):
        holder.add_typer(obj, name=name, help=LAZY[name][1])
    else:
        holder.command(name)(obj)
        holder.callback()(lambda: None)  # keep the holder a group, so the command keeps its name
    group = typer.main.get_command(holder)
    return group.commands[name]  # type: ignore[attr-defined]  # a TyperGroup: the holder has a callback
