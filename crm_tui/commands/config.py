"""`crm config path|show`: where the config file is and the settings in effect."""

from __future__ import annotations

import json

import typer

from crm_tui.commands._common import Format, fail, info
from crm_tui.commands._output import output_options

config_app = typer.Typer(no_args_is_help=True)


@config_app.command("path")
def config_path() -> None:
    """Print the config file's path (CRM_CONFIG, else the platform config folder); says on stderr
    whether it exists. Works even when the file is broken, so `$EDITOR "$(crm config path)"` can fix it."""
    from crm_tui.errors import ConfigError
    from crm_tui.locations import config_path as path_of
    from crm_tui.settings import load_settings

    path = path_of()
    typer.echo(str(path))
    if not path.exists():
        info("does not exist: the defaults apply (see `crm config show`)")
        return
    try:
        load_settings(path=path)
    except ConfigError as exc:
        info(f"exists, but is invalid: {exc}")
        return
    info("exists")


def _flat(data: dict, prefix: str = "") -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and key != "keymap":
            out.extend(_flat(value, name + "."))
        else:
            out.append((name, value))
    return out


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@config_app.command("show")
@output_options(formats=(Format.table, Format.json),
                help="table (key, value and where it came from) or json (the effective file)")
def config_show(fmt: Format = Format.table) -> None:
    """Show the settings in effect: the config file with the CRM_* environment applied and the
    defaults filled in. Secrets (smtp.password, a password in database_url) are shown as ***."""
    from crm_tui.commands._output import emit
    from crm_tui.errors import ConfigError
    from crm_tui.settings import load_settings_with_sources

    try:
        settings, loaded = load_settings_with_sources()
    except ConfigError as exc:
        raise fail(str(exc)) from None
    data = settings.masked()
    if fmt == Format.json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    rows = [{"key": key, "value": _text(value), "from": loaded.source(tuple(key.split(".")))}
            for key, value in _flat(data)]
    where = loaded.path if loaded.exists else f"{loaded.path} (not there: defaults)"
    emit(rows, Format.table, title=f"config {where}")
