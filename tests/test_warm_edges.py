"""The warm server (crm_tui.warm) at the edges a script or a terminal reaches: what a command leaves on
disk when it ends, a command started in the background of a terminal, a working folder that was removed.
Each compares the warm command with the same command run cold (CRM_WARM=0), with real processes.
"""

from __future__ import annotations

import os
import pty
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_warm import Warm, read_terminal, until

# Runs ARGV in a process group of its own that is not the terminal's foreground group (as `crm ... &` in
# an interactive shell), waits until it exits or stops, then reads what is left of the typed line.
BACKGROUND = r"""
import os, select, signal, sys
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    os.execv(sys.argv[1], sys.argv[1:])
try:
    os.setpgid(pid, pid)
except OSError:
    pass
_, status = os.waitpid(pid, os.WUNTRACED)
if os.WIFSTOPPED(status):
    outcome = "stopped " + signal.Signals(os.WSTOPSIG(status)).name
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
else:
    outcome = "exited %d" % os.waitstatus_to_exitcode(status)
left = os.read(0, 1000) if select.select([0], [], [], 3)[0] else b""
print("outcome:", outcome, repr(left), flush=True)
"""


@pytest.fixture
def e(tmp_path):
    env = Warm(tmp_path)
    yield env
    env.stop()


def _sockets(env: Warm) -> int:
    return len(list(env.folder().glob("*.sock"))) if env.folder().exists() else 0


def test_a_warm_write_is_in_the_database_file_when_the_command_ends(e):
    """SQLite in WAL mode: a cold command's last connection closes and folds the log into the file.
    A warm one must too, or a copy of the file alone (a backup, an e-mail attachment) misses the write."""
    e.start()
    before = e.served()
    for on in (False, True):
        db = e.tmp / f"fresh-{on}.db"
        added = e.run("--db", str(db), "account", "add", "Checkpointed", db=False, warm_on=on)
        assert added.returncode == 0, added.stderr
        assert sorted(path.name for path in e.tmp.glob(f"fresh-{on}.db-*")) == []  # no -wal, no -shm
        copy = e.tmp / f"copy-{on}.db"
        shutil.copyfile(db, copy)
        listed = e.run("--db", str(copy), "account", "list", "--format", "csv", db=False, warm_on=False)
        assert listed.returncode == 0, listed.stderr
        assert [line.split(",")[1] for line in listed.stdout.decode().splitlines()[1:]] == ["Checkpointed"]
    assert e.served() == before + 1


def _in_the_background(env: Warm, warm_on: bool) -> str:
    """`crm batch -` started in the background of a terminal where the user has typed a line for the shell."""
    pid, fd = pty.fork()
    if pid == 0:
        environ = dict(env.env, CRM_WARM="1" if warm_on else "0", TERM="xterm-256color")
        os.chdir(env.tmp)
        os.execve(sys.executable, [sys.executable, "-c", BACKGROUND, *env.argv("batch", "-")], environ)
    os.write(fd, b"echo typed for the shell\n")
    data = read_terminal(fd, lambda data: b"outcome:" in data and data.endswith(b"\n"))
    os.waitpid(pid, 0)
    os.close(fd)
    return next(line for line in data.decode().splitlines() if line.startswith("outcome:"))


def test_a_command_in_the_background_of_a_terminal_never_takes_what_the_user_types(e):
    """Cold, a background job that reads the terminal is stopped (SIGTTIN) and the typed line stays for
    the shell; a warm command's process is not in the terminal's session, so it would read it away."""
    e.start()
    expected = "outcome: stopped SIGTTIN b'echo typed for the shell\\n'"
    assert _in_the_background(e, warm_on=False) == expected
    assert _in_the_background(e, warm_on=True) == expected


def test_a_command_in_a_removed_folder_runs_as_it_does_cold(e):
    # `python -c` (unlike `python -m`) puts no folder on sys.path: one server for any folder.
    crm = [sys.executable, "-c", "from crm_tui.launch import main; main()", "--db", e.db, "stage", "list",
           "--format", "ids"]
    first = subprocess.run(crm, capture_output=True, env=e.env, cwd=e.tmp, timeout=120)
    assert first.returncode == 0, first.stderr
    until(lambda: _sockets(e) == 1)
    argv = ["bash", "-c", 'mkdir gone && cd gone && rmdir ../gone && exec "$@"', "-", *crm]
    results = []
    for on in ("0", "1"):
        done = subprocess.run(argv, capture_output=True, env=dict(e.env, CRM_WARM=on), cwd=e.tmp, timeout=120)
        results.append((done.returncode, done.stdout, done.stderr))
    assert results[0][0] == 0 and results[0][1].split() == [b"1", b"2", b"3", b"4", b"5", b"6"]
    assert results[1] == results[0]


def _waiting_in_select(pid: int) -> bool:
    try:
        channel = Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False
    return any(word in channel for word in ("poll", "select", "unix_stream"))  # waiting on the server


def _names(env: Warm, search: str) -> list[str]:
    listed = env.run("account", "list", "--search", search, "--format", "csv", warm_on=False)
    assert listed.returncode == 0, listed.stderr
    return [line.split(",")[1] for line in listed.stdout.decode().splitlines()[1:]]


def test_a_server_that_does_not_answer_never_runs_a_command_twice(e):
    """A stopped (or swamped) server: the command runs cold after a while, and when the server wakes up
    the process it forks for that request starts nothing."""
    server = e.start()["pid"]
    before = e.served()
    os.kill(server, signal.SIGSTOP)
    try:
        added = e.run("account", "add", "Only Once")  # (its pipes close when it ends: `$(crm ...)` goes on)
    finally:
        os.kill(server, signal.SIGCONT)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip().isdigit()
    _after_the_server_woke(e, before)
    assert _names(e, "Only Once") == ["Only Once"]


def _after_the_server_woke(env: Warm, before: int) -> None:
    """A warm command after the server went on: it takes its callers in turn, so it has dealt with the
    one that gave up by then; and it forked nothing for it."""
    done = env.run("stage", "list", "--format", "ids")
    assert done.returncode == 0, done.stderr
    assert env.served() == before + 1


def test_ctrl_c_before_the_command_starts_runs_nothing(e):
    server = e.start()["pid"]
    before = e.served()
    os.kill(server, signal.SIGSTOP)
    try:
        proc = subprocess.Popen(e.argv("account", "add", "Never Added"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=e.env, cwd=e.tmp)
        until(lambda: _waiting_in_select(proc.pid))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        os.kill(server, signal.SIGCONT)
    assert (proc.returncode, out, err) == (130, b"", b"")
    _after_the_server_woke(e, before)
    assert _names(e, "Never Added") == []


@pytest.mark.parametrize("closed", [">&-", "<&-", "2>&-"])
def test_a_command_with_a_closed_standard_stream_runs_as_with_dev_null(e, closed):
    """`crm ... >&-`: what goes to a closed stream is dropped (as Python drops it), never a traceback, and
    the command does its work, cold and warm alike; the server gets /dev/null in its place."""
    e.start()
    before = e.served()
    results = []
    for on in ("0", "1"):
        script = f'"$@" {closed}; echo "exit=$?"'
        argv = ["bash", "-c", script, "-", *e.argv("account", "add", f"Closed {on}")]
        done = subprocess.run(argv, capture_output=True, env=dict(e.env, CRM_WARM=on), cwd=e.tmp, timeout=120)
        results.append(tuple(re.sub(r"account \d+|^\d+$", "ID", text.decode(), flags=re.M)
                             for text in (done.stdout, done.stderr)))  # the new record's id
    assert results[0] == results[1]
    assert results[1][0].splitlines()[-1] == "exit=0"
    assert "Traceback" not in results[1][1] and "error" not in results[1][1]
    assert _names(e, "Closed") == ["Closed 0", "Closed 1"]
    assert e.served() == before + 1
