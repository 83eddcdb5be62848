"""Long runs show a progress bar on stderr when it is a terminal, and nothing extra when it is a pipe."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo-terminal")


def _crm(db: str, *args: str, tty: bool) -> tuple[int, str]:
    """Run `crm`; stderr goes to a pseudo-terminal (tty=True) or a pipe. Returns (exit code, stderr)."""
    cmd = [sys.executable, "-m", "crm_tui", "--db", db, *args]
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    if not tty:
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              env=env, timeout=120)
        return proc.returncode, proc.stderr.decode()
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("progress") / "crm.db"
    subprocess.run([sys.executable, "-m", "crm_tui", "--db", str(path), "demo", "--size", "small"], check=True,
                   capture_output=True, timeout=300)
    return str(path)


def test_export_shows_a_bar_on_a_terminal_and_nothing_extra_in_a_pipe(demo_db, tmp_path):
    out = tmp_path / "opps.csv"
    code, seen = _crm(demo_db, "export", "opp", "-o", str(out), tty=True)
    assert code == 0
    total = sum(1 for _ in open(out, encoding="utf-8")) - 1
    assert "exporting opportunities" in seen and f"{total}/{total}" in seen and "━" in seen
    assert f"exported {total:,} opportunities" in seen
    code, piped = _crm(demo_db, "export", "opp", "-o", str(out), tty=False)
    assert code == 0
    assert piped == f"exported {total:,} opportunities to {out}\n"  # only the summary line


def test_bulk_tag_shows_its_steps_on_a_terminal_only(demo_db):
    code, seen = _crm(demo_db, "tag", "add", "tty_tag", "--entity", "opp", "--where", "id<=50", tty=True)
    assert code == 0
    assert "━" in seen and "tag tty_tag: 50 opportunities" in seen
    code, piped = _crm(demo_db, "tag", "remove", "tty_tag", "--entity", "opp", "--where", "id<=50", tty=False)
    assert code == 0
    assert piped.count("\n") == 1 and piped.startswith("untag tty_tag: 50 opportunities")
    assert "\x1b[" not in piped and "━" not in piped
