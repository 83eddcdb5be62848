"""The warm server (crm_tui.warm): real `crm` processes against a real server in a private runtime folder.

Every test that runs a command warm proves it ran warm: the server's status file counts the commands it
forked, and each test checks that count. A command run warm must be indistinguishable from the same
command run cold (CRM_WARM=0): stdout, stderr, exit code, what it wrote, where and with which umask.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crm_tui import warm

ROOT = Path(__file__).resolve().parent.parent


class Warm:
    """`crm` processes with the warm server on, in a runtime folder of this test's own."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.run_dir = tmp / "run"
        self.run_dir.mkdir(mode=0o700)
        self.db = str(tmp / "crm.db")
        self.env = dict(os.environ, PYTHONPATH=str(ROOT), CRM_WARM="1", CRM_WARM_IDLE="60",
                        XDG_RUNTIME_DIR=str(self.run_dir), COLUMNS="120", CRM_USER="tester")
        self.env.pop("CRM_DEBUG", None)

    def argv(self, *args: str, db: bool = True) -> list[str]:
        return [sys.executable, "-m", "crm_tui", *(("--db", self.db) if db else ()), *args]

    def run(self, *args: str, warm_on: bool = True, input: bytes | None = None, cwd=None, env=None,
            db: bool = True) -> subprocess.CompletedProcess:
        environ = dict(self.env, **(env or {}))
        if not warm_on:
            environ["CRM_WARM"] = "0"
        return subprocess.run(self.argv(*args, db=db), input=input, capture_output=True, env=environ,
                              cwd=cwd or self.tmp, timeout=120)

    def folder(self) -> Path:
        return self.run_dir / "crm-tui"

    def status(self) -> dict:
        files = list(self.folder().glob("*.pid")) if self.folder().exists() else []
        assert len(files) == 1, files
        return json.loads(files[0].read_text())

    def served(self) -> int:
        return self.status()["served"]

    def start(self) -> dict:
        """Start the server the way a user does (a first command, run cold) and wait until it listens."""
        first = self.run("stage", "list")
        assert first.returncode == 0, first.stderr
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.folder().exists() and list(self.folder().glob("*.sock")) and list(self.folder().glob("*.pid")):
                return self.status()
            time.sleep(0.05)
        raise AssertionError(f"no warm server started: {sorted(os.listdir(self.folder()))}")

    def stop(self) -> None:
        for server in warm.servers({"XDG_RUNTIME_DIR": str(self.run_dir)}):
            os.kill(server["pid"], signal.SIGTERM)
            _wait_gone(server["pid"])


def _wait_gone(pid: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still runs")


@pytest.fixture
def w(tmp_path):
    env = Warm(tmp_path)
    demo = env.run("demo", "--size", "small", warm_on=False)
    assert demo.returncode == 0, demo.stderr
    yield env
    env.stop()


# Each as a user would type it; outputs of every kind: tables, csv, json, errors (exit 1), usage (exit 2).
SAME = [
    ("account", "list", "--limit", "5"),
    ("account", "list", "--format", "csv", "--sort", "id"),
    ("accounts", "list", "--limit", "3", "--format", "json"),
    ("opp", "list", "--limit", "1", "--sort", "id", "--format", "ids"),
    ("opp", "show", "1"),
    ("opp", "show", "abc"),
    ("opp", "show", "999999"),
    ("opp", "list", "--nope"),
    ("opp", "--help"),
    ("search", "a*", "--limit", "5", "--format", "csv"),
    ("forecast", "--from", "2000-01-01", "--to", "2040-12-31", "--by", "quarter"),
    ("lint", "--format", "csv"),
    ("nosuchcommand",),
]


def test_a_warm_command_prints_and_exits_exactly_as_a_cold_one(w):
    w.start()
    before = w.served()
    for args in SAME:
        cold = w.run(*args, warm_on=False)
        hot = w.run(*args)
        assert (hot.returncode, hot.stdout, hot.stderr) == (cold.returncode, cold.stdout, cold.stderr), args
        assert b"Traceback" not in hot.stderr
    assert w.served() == before + len(SAME)  # every one of them ran in the server's child
    codes = {w.run(*args, warm_on=False).returncode for args in SAME}
    assert codes == {0, 1, 2}


def test_writes_go_where_the_caller_is_with_its_user_umask_and_arguments(w):
    w.start()
    before = w.served()
    elsewhere = w.tmp / "elsewhere"
    elsewhere.mkdir()
    # A relative --db is the caller's folder; the new file gets the caller's umask (0077 -> 0600).
    env = {"CRM_USER": "alice"}
    # (The server runs in /; `python -m crm_tui` has the caller's folder on sys.path, so a server per folder.)
    made = subprocess.run(["bash", "-c", 'umask 077; exec "$@"', "-", sys.executable, "-m", "crm_tui",
                           "--db", "elsewhere/rel.db", "account", "add", "Zoë Ärzte GmbH"],
                          capture_output=True, env=dict(w.env, **env), cwd=w.tmp, timeout=120)
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE((elsewhere / "rel.db").stat().st_mode) == 0o600
    shown = w.run("--db", "elsewhere/rel.db", "account", "list", "--format", "json", db=False, env=env)
    assert [row["name"] for row in json.loads(shown.stdout)] == ["Zoë Ärzte GmbH"]
    # The acting user is the caller's CRM_USER, per command.
    for user in ("alice", "bob"):
        added = w.run("account", "add", f"Made by {user}", env={"CRM_USER": user})
        assert added.returncode == 0, added.stderr
        record = added.stdout.decode().strip()
        assert w.run("account", "update", record, "--industry", "Retail", env={"CRM_USER": user}).returncode == 0
        history = w.run("account", "history", record, "--format", "json", env={"CRM_USER": user})
        assert history.returncode == 0, history.stderr
        assert [(row["actor"], row["new_value"]) for row in json.loads(history.stdout)] == [(user, "Retail")]
    # An argument that is not UTF-8 reaches the command byte for byte (and is refused as cold refuses it).
    bad = [b"account", b"add", b"Bad\xff"]
    results = [subprocess.run([sys.executable.encode(), b"-m", b"crm_tui", b"--db", w.db.encode(), *bad],
                              capture_output=True, env=dict(w.env, CRM_WARM=on), cwd=w.tmp, timeout=120)
               for on in ("0", "1")]
    assert [(r.returncode, r.stdout, r.stderr) for r in results][0] == [(r.returncode, r.stdout, r.stderr)
                                                                          for r in results][1]
    assert results[1].returncode == 1 and results[1].stderr.count(b"\n") == 1
    assert w.served() == before + 9


def test_standard_input_reaches_the_command(w):
    w.start()
    before = w.served()
    csv = "name,industry\nPiped One,Retail\nPiped Two,Energy\n".encode()
    done = w.run("import", "account", "-", input=csv)
    assert done.returncode == 0, done.stderr
    batch = w.run("batch", "-", input=b"account list --search Piped --format ids --sort name\nstage list --format ids\n")
    assert batch.returncode == 0, batch.stderr
    found = w.run("account", "list", "--search", "Piped", "--format", "json", "--sort", "name")
    assert [row["name"] for row in json.loads(found.stdout)] == ["Piped One", "Piped Two"]
    assert w.served() == before + 3


def test_a_closed_pipe_ends_quietly_with_exit_zero(w):
    w.start()
    before = w.served()
    script = f"{' '.join(w.argv('account', 'list', '--limit', '0', '--format', 'csv'))} 2>err | head -1; " \
             "echo \"exit=${PIPESTATUS[0]}\""
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=w.env, cwd=w.tmp, timeout=120)
    assert done.stdout.splitlines()[-1] == "exit=0"
    assert done.stdout.splitlines()[0].startswith("id,")
    assert (w.tmp / "err").read_text() == ""
    assert w.served() == before + 1


def _server_children(server_pid: int) -> list[int]:
    """The processes whose parent is the server (its forked commands), from /proc/PID/stat."""
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server_pid:
            kids.append(int(entry.name))
    return kids


def test_ctrl_c_reaches_the_command_and_the_client_exits_as_cold_does(w):
    server = w.start()["pid"]
    outcomes = []
    for on in ("0", "1"):
        # `crm batch -` waits for its commands on stdin: a command that runs until interrupted.
        proc = subprocess.Popen(w.argv("batch", "-"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=dict(w.env, CRM_WARM=on), cwd=w.tmp)
        deadline = time.monotonic() + 30
        child = None
        while time.monotonic() < deadline:
            kids = _server_children(server)
            if on == "1" and kids:
                child = kids[0]
                break
            if on == "0" and time.monotonic() > deadline - 28:
                break
            time.sleep(0.05)
        if on == "1":
            assert child is not None, "the warm command never started in the server"
        time.sleep(0.5)  # let it reach the read (the cold one must be past its imports)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        proc.stdin.close()
        outcomes.append((proc.returncode, out, err))
        if child is not None:
            _wait_gone(child)
    assert outcomes[0][0] == outcomes[1][0] != 0
    assert b"Traceback" not in outcomes[1][2]
    assert outcomes[1][2] == outcomes[0][2]


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def until(check, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def read_terminal(fd: int, done=lambda data: False, seconds: float = 60) -> bytes:
    """What a process writes to the pseudo-terminal FD, until it closes, DONE(data) holds or SECONDS pass
    without output."""
    data = b""
    while not done(data):
        ready, _, _ = select.select([fd], [], [], seconds)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the other side closed (EIO on Linux)
            break
        if not chunk:
            break
        data += chunk
    return data


def test_ctrl_z_stops_the_command_too_and_fg_resumes_both(w):
    server = w.start()["pid"]
    proc = subprocess.Popen(w.argv("batch", "-"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=w.env, cwd=w.tmp)
    until(lambda: bool(_server_children(server)))
    child = _server_children(server)[0]
    proc.send_signal(signal.SIGTSTP)
    until(lambda: _state(proc.pid) == "T" and _state(child) == "T")
    proc.send_signal(signal.SIGCONT)
    until(lambda: _state(proc.pid) != "T" and _state(child) != "T")
    out, err = proc.communicate(input=b"stage list --format ids\n", timeout=60)
    assert proc.returncode == 0, err
    assert out.split()[:1] == [b"1"]


def test_a_command_killed_by_a_signal_is_reported_in_one_line(w):
    server = w.start()["pid"]
    proc = subprocess.Popen(w.argv("batch", "-"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=w.env, cwd=w.tmp)
    deadline = time.monotonic() + 30
    while not _server_children(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = _server_children(server)[0]
    os.kill(child, signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert err.decode().splitlines() == ["error: the command's process ended without an exit code (killed?)"]


def test_a_terminal_is_a_terminal_for_the_warm_command(w):
    """In a pseudo-terminal (100 columns) the table is drawn for that terminal, byte for byte as cold."""
    w.start()
    before = w.served()
    outputs = []
    for on in ("0", "1"):
        pid, fd = pty.fork()
        if pid == 0:  # the child: the terminal is its stdin, stdout and stderr
            import fcntl
            import struct
            import termios

            fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
            env = dict(w.env, CRM_WARM=on, TERM="xterm-256color")
            env.pop("COLUMNS", None)
            env.pop("NO_COLOR", None)
            os.chdir(w.tmp)
            os.execve(sys.executable, w.argv("account", "list", "--limit", "3"), env)
        data = read_terminal(fd)
        _, status = os.waitpid(pid, 0)
        outputs.append((os.waitstatus_to_exitcode(status), data))
    assert outputs[0] == outputs[1]
    assert outputs[1][0] == 0
    assert b"\x1b[" in outputs[1][1]  # styled: Rich saw a terminal
    assert max(len(line) for line in _plain(outputs[1][1]).splitlines()) <= 100
    assert w.served() == before + 1


def _plain(data: bytes) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", data.decode("utf-8", "replace")).replace("\r", "")


def test_concurrent_warm_writers_all_land(w):
    w.start()
    before = w.served()
    procs = [subprocess.Popen(w.argv("account", "add", f"Parallel {i}"), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=w.env, cwd=w.tmp) for i in range(8)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    found = w.run("account", "list", "--search", "Parallel", "--format", "json", warm_on=False)
    assert sorted(row["name"] for row in json.loads(found.stdout)) == [f"Parallel {i}" for i in range(8)]
    assert w.served() == before + 8


def test_status_and_stop(w):
    server = w.start()["pid"]
    shown = w.run("warm", "status", "--format", "json", db=False)
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert [row["pid"] for row in rows] == [server]
    assert rows[0]["commands"] >= 0 and rows[0]["socket"].startswith(str(w.folder()))
    stopped = w.run("warm", "stop", db=False)
    assert stopped.returncode == 0
    assert stopped.stderr.decode().strip() == f"stopped 1 warm process ({server})"
    _wait_gone(server)
    assert not list(w.folder().glob("*.sock")) and not list(w.folder().glob("*.pid"))
    none = w.run("warm", "status", db=False)
    assert none.returncode == 1
    assert "no warm process is running" in none.stderr.decode()


def test_an_idle_server_exits_and_removes_its_socket(w):
    w.env["CRM_WARM_IDLE"] = "1"
    server = w.start()["pid"]
    _wait_gone(server, seconds=20)
    assert not list(w.folder().glob("*.sock"))
    again = w.run("stage", "list")  # cold again, and it starts the next server
    assert again.returncode == 0


def test_clients_racing_to_start_a_server_start_one(w):
    procs = [subprocess.Popen(w.argv("stage", "list", "--format", "ids"), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=w.env, cwd=w.tmp) for _ in range(5)]
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(w.folder().glob("*.sock")):
        time.sleep(0.05)
    time.sleep(1)  # any second server would have bound by now
    running = warm.servers({"XDG_RUNTIME_DIR": str(w.run_dir)})
    assert len(running) == 1
    assert len(list(w.folder().glob("*.sock"))) == 1


def test_a_folder_others_can_enter_is_never_used(tmp_path):
    folder = tmp_path / "crm-tui"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    env = {"XDG_RUNTIME_DIR": str(tmp_path)}
    assert warm.runtime_dir(env) is None
    assert warm.socket_path(env) is None
    folder.chmod(0o700)
    assert warm.runtime_dir(env) == str(folder)
    if os.getuid() == 0:
        os.chown(folder, 65534, 65534)  # someone else's folder
        assert warm.runtime_dir(env) is None


@pytest.fixture
def w_open():
    """As `w`, in a folder outside pytest's (which only root may enter), for a test as another user."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="crm-warm-"))
    folder.chmod(0o711)
    env = Warm(folder)
    yield env
    env.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
def test_another_user_is_turned_away(w_open):
    w = w_open
    server = w.start()["pid"]
    before = w.served()
    sock = next(w.folder().glob("*.sock"))
    w.run_dir.chmod(0o755)
    w.folder().chmod(0o755)
    sock.chmod(0o777)
    try:
        pid = os.fork()
        if pid == 0:  # as nobody: connect and ask, as a client would
            try:
                import socket

                os.setgid(65534)
                os.setuid(65534)
                conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                conn.connect(str(sock))
                body = json.dumps({"argv": ["stage", "list"], "argv0": "crm", "cwd": "/", "env": {}, "umask": 0,
                                   "streams": [{"encoding": "utf-8", "errors": "strict"}] * 3}).encode()
                try:
                    socket.send_fds(conn, [warm.HEADER.pack(len(body)) + body], [0, 1, 2])
                    answer = conn.recv(100)
                except (BrokenPipeError, ConnectionResetError):  # closed on it at once
                    answer = b""
                os._exit(0 if answer == b"" else 3)
            except BaseException:
                import traceback

                traceback.print_exc()
                os._exit(4)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0  # closed without starting anything
    finally:
        w.folder().chmod(0o700)
        w.run_dir.chmod(0o700)
    assert w.served() == before
    os.kill(server, 0)  # and the server still serves its own user


def test_changed_code_gets_a_new_server(tmp_path, monkeypatch):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "sub" / "b.py").write_text("y = 1\n")
    monkeypatch.setattr(warm, "PACKAGE", str(package))
    env = {"XDG_RUNTIME_DIR": str(tmp_path)}
    first = warm.fingerprint(env)
    assert warm.fingerprint(env) == first
    (package / "sub" / "b.py").write_text("y = 22\n")  # an edit (size and mtime change)
    second = warm.fingerprint(env)
    assert second != first
    assert warm.fingerprint(dict(env, PYTHONPATH="/elsewhere")) != second  # what imports would find
    assert warm.fingerprint(dict(env, CRM_USER="someone")) == second  # read when commands run, not at import


@pytest.mark.parametrize(("argv", "expected"), [
    ([], False),  # the TUI
    (["--db", "x.db"], False),  # the TUI on that file
    (["--version"], False),
    (["--help"], False),
    (["user", "add", "kim"], False),  # may prompt for a password on the terminal
    (["users", "list"], False),
    (["warm", "stop"], False),
    (["serve"], False),
    (["opp", "list"], True),
    (["--db", "x.db", "opp", "list"], True),
    (["--db=x.db", "tag", "add", "vip"], True),
])
def test_which_commands_go_warm(argv, expected):
    assert warm.eligible(argv, {}) is expected
    assert warm.eligible(argv, {"CRM_WARM": "0"}) is False


def test_the_lock_timeout_is_read_when_a_database_opens_not_at_import(monkeypatch):
    from crm_tui.store import db

    monkeypatch.setenv("CRM_LOCK_TIMEOUT", "2.5")
    assert db.sqlite_busy_timeout_ms() == 2500 and db.lock_timeout_ms() == 2500
    monkeypatch.setenv("CRM_LOCK_TIMEOUT", "7")
    assert db.sqlite_busy_timeout_ms() == 7000 and db.lock_timeout_ms() == 7000


def _reads_environment(node) -> bool:
    """Does this code read the environment (os.environ, os.getenv, environ.get)?"""
    import ast

    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in ("environ", "getenv"):
            return True
        if isinstance(sub, ast.Name) and sub.id in ("environ", "getenv"):
            return True
    return False


def test_nothing_the_warm_server_imports_reads_the_environment_at_import():
    """The server imports these modules once, for commands run with different environments: a value read
    from the environment at import would be the first caller's for everyone (CRM_LOCK_TIMEOUT was)."""
    import ast
    import importlib
    import pkgutil

    from crm_tui import warm_server

    names = {*warm_server.MODULES}
    for package_name in warm_server.PACKAGES:
        package = importlib.import_module(package_name)
        names |= {info.name for info in pkgutil.walk_packages(package.__path__, package_name + ".")
                  if not info.name.startswith(warm_server.SKIP)}
    offenders = []
    checked = 0
    for name in sorted(n for n in names if n.startswith("crm_tui")):
        spec = importlib.util.find_spec(name)
        tree = ast.parse(Path(spec.origin).read_text())
        functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        checked += 1
        for statement in tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                                      ast.ImportFrom)):
                continue
            called = {c.func.id for c in ast.walk(statement) if isinstance(c, ast.Call)
                      and isinstance(c.func, ast.Name)}
            if _reads_environment(statement) or any(_reads_environment(functions[c]) for c in called
                                                    if c in functions):
                offenders.append(f"{name}:{statement.lineno}")
    assert checked > 50
    assert offenders == []
