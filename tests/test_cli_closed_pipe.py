"""`crm ... | head -1` and `crm ... | true`: a reader that goes away ends the command quietly with exit 0,
whatever it prints (Rich tables too), as real processes in a real shell pipeline."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEARCH = ("search", "a*", "--limit", "0")
FORECAST = ("forecast", "--from", "2000-01-01", "--to", "2040-12-31", "--by", "month,stage,owner")
LIST = ("account", "list", "--limit", "0")
# Rich tables, and the streamed csv (json and ndjson stream the same way); each output is 40 KiB to 1.5 MiB.
CASES = [(SEARCH, "table"), (SEARCH, "csv"), (FORECAST, "table"), (FORECAST, "csv"), (LIST, "table")]


@pytest.fixture(scope="module")
def big_db(tmp_path_factory) -> str:
    """Demo data big enough that every listed output is far larger than a pipe's buffer."""
    path = tmp_path_factory.mktemp("pipes") / "crm.db"
    done = subprocess.run(crm(str(path), "demo", "--size", "medium"), capture_output=True, text=True,
                          env=_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    return str(path)


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), CRM_USER="tester")
    env.pop("CRM_DEBUG", None)
    return env


def crm(db: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "crm_tui", "--db", db, *args]


def pipeline(db: str, args: tuple[str, ...], reader: str) -> tuple[int, str, str]:
    """Run `crm ARGS | READER` in bash; the exit code of crm, the reader's output and crm's stderr."""
    script = f"{shlex.join(crm(db, *args))} 2>crm.err | {reader}; echo \"exit=${{PIPESTATUS[0]}}\" >&2"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=_env(), timeout=120,
                          cwd=Path(db).parent)
    code = int(done.stderr.strip().rsplit("exit=", 1)[1])
    return code, done.stdout, (Path(db).parent / "crm.err").read_text()


@pytest.mark.parametrize(("args", "fmt"), CASES, ids=[f"{a[0]}-{f}" for a, f in CASES])
def test_a_closed_pipe_exits_zero_quietly(big_db, args, fmt):
    for reader in ("head -1", "true"):  # head goes after the first line, true before crm writes anything
        code, out, err = pipeline(big_db, (*args, "--format", fmt), reader)
        assert code == 0, (reader, err)
        assert "Traceback" not in err and "error" not in err.lower(), err
        if reader == "head -1":
            assert out.strip() and len(out.splitlines()) == 1
