"""Every `crm` command taking a record id reads it with the shared id type (commands._common.RecordId):
text that is no id is one error line naming the parameter and the value, exit 1, never Typer's usage box."""

from __future__ import annotations

import pytest
import typer
from support import CLI, one_line_error, sqlite_url

from crm_tui.cli import app
from crm_tui.commands._common import RecordId

# Whole numbers that are not record ids: counts, positions, versions, a proposal's revisions and line numbers.
NOT_IDS = {"limit", "if_version", "position", "seed", "days", "valid_days", "revision", "from_rev", "to_rev", "line"}


def _walk(command, path: tuple[str, ...] = ()):
    yield path, command
    if hasattr(command, "list_commands"):
        ctx = typer.Context(command)
        for name in command.list_commands(ctx):
            yield from _walk(command.get_command(ctx, name), path + (name,))


def _parser(param):
    descriptor = param.type_descriptor
    return None if descriptor is None else getattr(descriptor.parameter_info, "parser", None)


ID_ARGUMENTS = [(path, param) for path, command in _walk(typer.main.get_command(app))
                for param in getattr(command, "params", []) if isinstance(_parser(param), RecordId)]


def test_every_whole_number_parameter_that_names_a_record_reads_it_as_an_id():
    plain = sorted(f"{' '.join(path)} {param.name}" for path, command in _walk(typer.main.get_command(app))
                   for param in getattr(command, "params", [])
                   if param.bare_type() == "int" and param.name not in NOT_IDS and _parser(param) is None)
    assert plain == []
    assert len(ID_ARGUMENTS) > 40


def _argv(path: tuple[str, ...], command, bad) -> list[str]:
    """``path`` with ``abc`` for the id parameter ``bad`` and a plausible value for the other arguments."""
    argv = list(path)
    for param in command.params:
        if param.name == bad.name:
            argv += [*(param.opts[:1] if param.param_type_name == "option" else []), "abc"]
        elif param.param_type_name == "argument" and param.required:
            argv.append("1")
    return argv


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    return CLI(sqlite_url(tmp_path_factory.mktemp("ids") / "crm.db"))


@pytest.mark.parametrize("path,param", ID_ARGUMENTS, ids=[f"{' '.join(p)}-{q.name}" for p, q in ID_ARGUMENTS])
def test_text_for_an_id_is_one_line_naming_it(cli, path, param):
    command = typer.main.get_command(app)
    for name in path:
        command = command.get_command(typer.Context(command), name)
    line = one_line_error(cli(*_argv(path, command, param)))
    assert "'abc' is not a" in line and line.startswith("error: "), line


def test_a_notification_read_with_text_names_it(cli):
    result = cli("notification", "read", "abc")
    assert result.exit_code == 1 and "Usage" not in result.stderr
    assert result.stderr.strip() == "error: id: 'abc' is not a notification id"
