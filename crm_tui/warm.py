"""A warm `crm`: one resident process per user and code version that has SQLAlchemy, SQLModel, the models
and the commands imported, and forks a child for each command.

Python spends about half a second importing those before any command can run; a shell loop calling
`crm` a hundred times would spend a minute there. The first scripting command run cold starts a server
in the background (and runs as before); later ones connect to its Unix socket and hand over their
arguments, environment, working directory, umask and their standard input, output and error (the file
descriptors themselves, over SCM_RIGHTS). The server forks; the child takes all of that over and runs
the command exactly as `crm` would, then reports its exit code, and the client exits with it. Ctrl-C
and other signals the client gets are passed on to the child.

- It never changes what a command does: same code, same environment, same files. The socket's name
  holds a fingerprint of the interpreter, sys.path, the environment variables read at import time and
  every crm_tui source file's mtime and size, so a changed install or checkout gets a new server (the
  old one exits when idle).
- The socket lives in a folder only its user can enter ($XDG_RUNTIME_DIR/crm-tui, else
  /tmp/crm-tui-UID, mode 0700), and the server checks each caller's uid (SO_PEERCRED).
- The TUI (`crm` alone), `crm serve`, `crm user` (password prompts) and `crm warm` always run cold.
- `CRM_WARM=0` turns it off; `CRM_WARM_IDLE` is the idle time in seconds before the server exits
  (default 600). `crm warm status` lists servers, `crm warm stop` ends them.

This module is the client side and imports only the standard library: it runs before anything else.
The server is crm_tui.warm_server.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import sys

SWITCH_ENV = "CRM_WARM"
IDLE_ENV = "CRM_WARM_IDLE"
DEBUG_ENV = "CRM_WARM_DEBUG"  # the server's errors go to a .log file beside its socket
DEFAULT_IDLE = 600.0
# Never through the warm server: the TUI needs the terminal as its controlling terminal, `serve` runs
# for hours, `user` may prompt for a password on /dev/tty, `warm` manages the servers themselves.
COLD_COMMANDS = frozenset({"user", "users", "serve", "warm"})
# Read by our dependencies when they are imported, not when they run: part of the server's identity.
IMPORT_TIME_ENV = ("TYPER_USE_RICH", "TERMINAL_WIDTH", "_TYPER_FORCE_DISABLE_TERMINAL", "LANG", "LC_ALL",
                   "LC_CTYPE", "TZ")
HEADER = struct.Struct("!I")
START_TIMEOUT = 10.0  # seconds for the server to start the command before it runs here instead
PACKAGE = os.path.dirname(os.path.abspath(__file__))


def enabled(environ=None) -> bool:
    """On unless CRM_WARM=0 (off/no/false); never where there is no fork or no Unix socket (Windows)."""
    environ = os.environ if environ is None else environ
    if not (hasattr(os, "fork") and hasattr(socket, "AF_UNIX") and hasattr(socket, "send_fds")):
        return False
    return environ.get(SWITCH_ENV, "1").strip().lower() not in ("0", "off", "no", "false")


def command_of(argv: list[str]) -> str | None:
    """The command word of `crm ARGV` (after --db), or None when it opens the TUI or asks for --version/--help."""
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        if token == "--db":
            skip = True
            continue
        if token.startswith("--db="):
            continue
        if token.startswith("-"):
            return None
        return token
    return None


def eligible(argv: list[str], environ=None) -> bool:
    if not enabled(environ):
        return False
    command = command_of(argv)
    return command is not None and command not in COLD_COMMANDS


def runtime_dir(environ=None, create: bool = True) -> str | None:
    """The folder of the sockets, made 0700; None when it exists but someone else could enter it."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_RUNTIME_DIR")
    path = (os.path.join(base, "crm-tui") if base
            else os.path.join(environ.get("TMPDIR") or "/tmp", f"crm-tui-{os.getuid()}"))
    if create:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        except OSError:
            return None
    try:
        st = os.lstat(path)
    except OSError:
        return None
    import stat

    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return path


def fingerprint(environ=None) -> str:
    """What the server's imports depend on: interpreter, sys.path, import-time environment, our sources."""
    import hashlib

    environ = os.environ if environ is None else environ
    digest = hashlib.blake2b(digest_size=8)
    env = sorted((k, v) for k, v in environ.items() if k.startswith("PYTHON") or k in IMPORT_TIME_ENV)
    flags = (sys.flags, sys.warnoptions, getattr(sys, "_xoptions", {}))  # -O, -W, -X ...: the server gets them too
    digest.update(repr((sys.executable, sys.version, sys.path, env, flags, os.getuid())).encode("utf-8", "replace"))
    for entry in sys.path:  # a package installed, upgraded or removed changes its folder's mtime
        if os.path.basename(entry) in ("site-packages", "dist-packages"):
            try:
                digest.update(str(os.stat(entry).st_mtime_ns).encode())
            except OSError:
                pass
    for root, dirs, files in os.walk(PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(root, name))
                digest.update(f"{root}/{name}:{st.st_mtime_ns}:{st.st_size}".encode("utf-8", "replace"))
    return digest.hexdigest()


def socket_path(environ=None) -> str | None:
    folder = runtime_dir(environ)
    if folder is None:
        return None
    path = os.path.join(folder, f"{fingerprint(environ)}.sock")
    return path if len(path.encode()) < 100 else None  # sun_path holds 108 bytes


def _streams() -> list[dict] | None:
    out = []
    for fd, stream in ((0, sys.stdin), (1, sys.stdout), (2, sys.stderr)):
        try:
            os.fstat(fd)
        except OSError:
            return None  # a closed standard stream: run cold, as before
        out.append({"encoding": getattr(stream, "encoding", None) or "utf-8",
                    "errors": getattr(stream, "errors", None) or "strict"})
    return out


def _background_at_terminal() -> bool:
    """True when a standard stream is this process's terminal and its group is not the one in front
    (`crm ... &`). The kernel stops such a process when it reads there (and when it writes, with
    `stty tostop`), which keeps it from taking what the user types to the shell; a warm command's
    process is in no terminal's session and would not be stopped. So it runs cold, here."""
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd) and os.tcgetpgrp(fd) != os.getpgrp():
                return True
        except OSError:
            continue  # a terminal that is not this process's own: nothing stops it there
    return False


def run(argv: list[str]) -> int | None:
    """Run `crm ARGV` in the warm server and return its exit code; None when it has to run cold here
    (no server yet: one is started in the background for the next command)."""
    try:
        cwd = os.getcwd()
    except OSError:
        return None  # the folder was removed (or cannot be named): only this process is still in it
    if _background_at_terminal():
        return None
    path = socket_path()
    streams = _streams()
    if path is None or streams is None:
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        spawn(path)
        return None
    umask = os.umask(0)
    os.umask(umask)
    main_package = getattr(sys.modules.get("__main__"), "__package__", None)  # `python -m crm_tui` in usage lines
    request = json.dumps({"argv": argv, "argv0": sys.argv[0], "main_package": main_package,
                          "cwd": cwd, "env": dict(os.environ),
                          "umask": umask, "streams": streams}).encode("utf-8", "surrogateescape")
    relay = _Relay()
    try:
        relay.install()  # from before the command exists: a ctrl+c or ctrl+z from now on reaches it
        # The server greets each caller it accepts. One that does not (stopped, swamped) never gets
        # the request: its standard streams would be held open in its queue (a `$(crm ...)` waits
        # for the end of its pipe), and the command runs cold here.
        if not select.select([conn], [], [], START_TIMEOUT)[0] or conn.recv(1) != b"+":
            raise _Cancelled
        socket.send_fds(conn, [HEADER.pack(len(request)) + request], [0, 1, 2])
        if not select.select([conn], [], [], START_TIMEOUT)[0]:
            raise _Cancelled
        reader = conn.makefile("rb")
        first = reader.readline()
        if not first.startswith(b"pid "):
            raise _Cancelled  # the server went away before it started anything
        relay.attach(int(first.split()[1]))
        conn.sendall(b"g")  # the command's process waits for this before it starts the command
    except (_Cancelled, OSError):
        # Nothing ran, nor will: the command's process, if there is one, reads the end of the
        # connection instead of the go-ahead and exits. What the signals would have done, they do here.
        conn.close()
        relay.held += relay.forwarded
        relay.give_back()
        return None
    return _wait(relay, reader)


class _Cancelled(Exception):
    pass


FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")


class _Relay:
    """Passes the signals this process gets on to the command's process. One that comes before its
    pid is known cancels the request (_Cancelled, raised where this process is): the command does not
    start, and the signal acts here as it would have without a server."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.held: list[int] = []
        self.forwarded: list[int] = []
        self.previous: dict = {}

    def install(self) -> None:
        self.previous = {signum: signal.getsignal(signum) for signum in self._signals()}
        for name in FORWARDED:
            signal.signal(getattr(signal, name), self.forward)
        signal.signal(signal.SIGTSTP, self.suspend)
        signal.signal(signal.SIGCONT, self.resume)

    @staticmethod
    def _signals() -> list[int]:
        return [getattr(signal, name) for name in FORWARDED] + [signal.SIGTSTP, signal.SIGCONT]

    def attach(self, pid: int) -> None:
        self.pid = pid

    def give_back(self) -> None:
        """Nothing ran: the handlers as they were, and what came meanwhile acts here: ctrl+c ends this
        process as it ends a cold command (exit 130), ctrl+z stops it (it runs cold on `fg`)."""
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        held, self.held = self.held, []
        for signum in held:
            if signum == signal.SIGINT:
                sys.exit(130)
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            signal.signal(signum, self.previous.get(signum, signal.SIG_DFL))

    def _send(self, signum: int) -> None:
        try:
            os.kill(self.pid, signum)  # type: ignore[arg-type]
        except OSError:
            pass

    def forward(self, signum, _frame) -> None:
        if self.pid is None:
            self.held.append(signum)
            raise _Cancelled
        self.forwarded.append(signum)
        self._send(signum)

    def suspend(self, signum, _frame) -> None:  # ctrl+z: stop the command too, and go on together on `fg`
        if self.pid is None:
            self.held.append(signum)
            raise _Cancelled
        self._send(signal.SIGSTOP)
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)  # stops here until SIGCONT

    def resume(self, _signum, _frame) -> None:
        signal.signal(signal.SIGTSTP, self.suspend)
        if self.pid is not None:
            self._send(signal.SIGCONT)


def _wait(relay: _Relay, reader) -> int:
    while True:
        try:
            line = reader.readline()
            break
        except InterruptedError:
            continue
    if line.startswith(b"exit "):
        return int(line.split()[1])
    # The child ended without an exit code: killed by a signal.
    if relay.forwarded:
        signum = relay.forwarded[-1]
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    sys.stderr.write("error: the command's process ended without an exit code (killed?)\n")
    return 1


def spawn(path: str) -> None:
    """Start a server for PATH in the background, in its own session, with this process's environment
    and sys.path; it binds the socket only once its imports are done."""
    if os.path.exists(path + ".failed"):
        return  # it could not start with this code: no use trying on every command
    import subprocess

    code = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
            "from crm_tui.warm_server import serve; serve(sys.argv[2])")
    log = path.removesuffix(".sock") + ".log" if os.environ.get(DEBUG_ENV) else os.devnull
    try:
        with open(log, "ab") as errors:
            flags = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]
            subprocess.Popen([sys.executable, *flags, "-c", code, json.dumps(sys.path), path],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                             start_new_session=True, close_fds=True, cwd="/")
    except OSError:
        pass


def idle_seconds(environ=None) -> float:
    environ = os.environ if environ is None else environ
    try:
        value = float(environ.get(IDLE_ENV, DEFAULT_IDLE))
    except ValueError:
        return DEFAULT_IDLE
    return value if value > 0 else DEFAULT_IDLE


def servers(environ=None) -> list[dict]:
    """The servers of this user: pid, socket, whether it serves the code installed now, since when."""
    folder = runtime_dir(environ, create=False)
    if folder is None:
        return []
    current = fingerprint(environ)
    found = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".pid"):
            continue
        key = name[:-4]
        try:
            with open(os.path.join(folder, name)) as handle:
                info = json.load(handle)
            pid = int(info["pid"])
            os.kill(pid, 0)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        found.append({"pid": pid, "socket": os.path.join(folder, f"{key}.sock"), "current": key == current,
                      "started": info.get("started"), "served": info.get("served", 0), "last": info.get("last")})
    return found


def stop(environ=None) -> list[int]:
    """Ask every server of this user to exit (SIGTERM); running commands finish first. The pids."""
    stopped = []
    for server in servers(environ):
        try:
            os.kill(server["pid"], signal.SIGTERM)
            stopped.append(server["pid"])
        except OSError:
            pass
    return stopped
