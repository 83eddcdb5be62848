"""`crm warm`: the resident process that makes scripting commands start fast (crm_tui.warm)."""

from __future__ import annotations

import typer

from crm_tui.commands._common import Format, info
from crm_tui.commands._output import output_options

warm_app = typer.Typer(no_args_is_help=True, help=(
    "The warm process: the first scripting command starts one in the background, later commands fork "
    "from it instead of importing everything again. CRM_WARM=0 turns it off; CRM_WARM_IDLE is how many "
    "seconds it waits for a command before it exits (default 600)."))


@warm_app.command("status")
@output_options(formats=(Format.table, Format.json), help="table or json")
def warm_status(fmt: Format = Format.table) -> None:
    """List your warm processes: pid, since when, and whether it runs the code installed now (a stale
    one is never used again and exits when idle). Exits 1 when none runs."""
    from crm_tui import warm
    from crm_tui.commands._output import emit

    found = warm.servers()
    if not warm.enabled():
        info(f"off: {warm.SWITCH_ENV}=0 (commands start cold)")
    if not found:
        info("no warm process is running; the next scripting command starts one")
        raise typer.Exit(1)
    rows = [{"pid": s["pid"], "started": s["started"], "commands": s["served"], "last": s["last"],
             "code": "current" if s["current"] else "stale (not used)", "socket": s["socket"]} for s in found]
    emit(rows, fmt, columns=("pid", "started", "commands", "last", "code", "socket"))


@warm_app.command("stop")
def warm_stop() -> None:
    """Stop your warm processes (commands they are running finish first). The next scripting command
    starts cold and starts a new one."""
    from crm_tui import warm

    stopped = warm.stop()
    info(f"stopped {len(stopped)} warm process{'es' if len(stopped) != 1 else ''}"
         + (f" ({', '.join(map(str, stopped))})" if stopped else ""))
