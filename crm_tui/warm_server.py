"""The warm server (see crm_tui.warm): imports the commands once, then forks a child per command.

It runs in its own session with no terminal, started by crm_tui.warm.spawn. Only one server runs per
socket (a lock file); it binds the socket once its imports are done, so a client never waits on a
half-started server. It exits after `CRM_WARM_IDLE` seconds without a command, on SIGTERM, or when its
socket is replaced or removed. A child never shares anything with the server but the imported code:
no database connection is opened before the fork.
"""

from __future__ import annotations

import atexit
import fcntl
import gc
import importlib
import io
import json
import os
import pkgutil
import random
import select
import signal
import socket
import struct
import sys
import time
import traceback

from crm_tui import warm

# Imported before any fork: the command layer and everything below it a scripting command uses (every
# module of these packages; the migrations only when a database needs them). None of them reads the
# environment when imported: a command's environment is read while it runs (tests/test_warm.py).
PACKAGES = ("crm_tui.commands", "crm_tui.services", "crm_tui.store")
SKIP = ("crm_tui.store.migrations",)
MODULES = ("crm_tui.cli", "crm_tui.settings", "crm_tui.locations", "crm_tui.spreadsheet", "crm_tui.text",
           "crm_tui.formatting", "crm_tui.money", "crm_tui.errors",
           # what the commands import as they run: settings' folders, the driver, tables, prompts
           "platformdirs", "sqlite3", "getpass", "termios", "colorsys", "rich.console", "rich.table",
           "typer._adapters", "typer._click.decorators")
# The database drivers (SQLAlchemy's dialect modules load on first use otherwise).
OPTIONAL = ("sqlalchemy.dialects.sqlite.pysqlite", "psycopg", "sqlalchemy.dialects.postgresql.psycopg")
MAX_REQUEST = 16 * 1024 * 1024


def preload() -> None:
    for name in MODULES:
        importlib.import_module(name)
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, package_name + "."):
            if not info.name.startswith(SKIP):
                importlib.import_module(info.name)
    for name in OPTIONAL:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    from crm_tui.store.db import warm_up

    warm_up()


def serve(path: str) -> None:
    base = path.removesuffix(".sock")
    lock = open(base + ".lock", "a")  # noqa: SIM115 - held for the server's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another server for this code is starting or running
    try:
        preload()
    except BaseException:  # noqa: BLE001 - recorded so clients stop starting servers that cannot start
        with open(base + ".failed", "w") as handle:
            traceback.print_exc(file=handle)
        return
    gc.collect()
    gc.freeze()  # children do not copy the pages of these objects just to collect them
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    temporary = f"{base}.{os.getpid()}.tmp"
    listener.bind(temporary)
    os.chmod(temporary, 0o600)
    listener.listen(64)
    os.rename(temporary, path)
    inode = os.stat(path).st_ino
    status = {"pid": os.getpid(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "served": 0, "last": None}
    _write_status(base, status)
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    idle = warm.idle_seconds()
    last = time.monotonic()
    try:
        while not stopping:
            ready, _, _ = select.select([listener], [], [], 1.0)
            try:
                if os.stat(path).st_ino != inode:
                    break  # replaced by another server, or removed: this one is no longer reachable
            except OSError:
                break
            if not ready:
                if time.monotonic() - last >= idle:
                    break
                continue
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            last = time.monotonic()
            if _handle(conn, listener, lock):
                status["served"] += 1
                status["last"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
                _write_status(base, status)
    finally:
        try:
            os.unlink(base + ".pid")
        except OSError:
            pass
        try:
            if os.stat(path).st_ino == inode:
                os.unlink(path)
        except OSError:
            pass
        listener.close()


def _write_status(base: str, status: dict) -> None:
    """<key>.pid: what `crm warm status` shows (written whole, then renamed over the old one)."""
    temporary = f"{base}.pid.tmp"
    with open(temporary, "w") as handle:
        json.dump(status, handle)
    os.replace(temporary, base + ".pid")


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _handle(conn: socket.socket, listener: socket.socket, lock) -> bool:
    """Take one request: check the caller, read it and its three fds, fork the child. True when forked."""
    fds: list[int] = []
    try:
        if _peer_uid(conn) != os.getuid():
            return False
        conn.settimeout(5)
        conn.sendall(b"+")  # alive: the client sends its request and its streams only after this
        data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 3)
        if len(fds) != 3 or len(data) < warm.HEADER.size:
            return False
        (size,) = warm.HEADER.unpack_from(data)
        if size > MAX_REQUEST:
            return False
        body = bytearray(data[warm.HEADER.size:])
        while len(body) < size:
            chunk = conn.recv(min(65536, size - len(body)))
            if not chunk:
                return False
            body.extend(chunk)
        request = json.loads(body.decode("utf-8", "surrogateescape"))
        conn.settimeout(None)
        pid = os.fork()
        if pid == 0:
            try:
                listener.close()
                lock.close()
                _child(conn, request, fds)
            except BaseException:  # noqa: BLE001 - before the command started: the client runs it cold
                if os.environ.get(warm.DEBUG_ENV):
                    traceback.print_exc()
            finally:
                os._exit(70)  # never back into the server's loop
        return True
    except (OSError, ValueError, KeyError, TypeError):
        if os.environ.get(warm.DEBUG_ENV):
            traceback.print_exc()
        return False
    finally:
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        conn.close()


def _stream(fd: int, spec: dict, writing: bool):
    try:
        tty = os.isatty(fd)
    except OSError:
        tty = False
    raw = io.open(fd, "wb" if writing else "rb", closefd=False)  # noqa: SIM115 - the process's own stream
    # As Python sets them up: stdout line-buffered on a terminal, stderr always.
    return io.TextIOWrapper(raw, encoding=spec["encoding"], errors=spec["errors"],
                            line_buffering=writing and (tty or fd == 2))


def _child(conn: socket.socket, request: dict, fds: list[int]) -> None:
    """Become the client's command: its fds, folder, umask, environment and argv; run; report the code."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    fds.clear()
    streams = request["streams"]
    sys.stdin = sys.__stdin__ = _stream(0, streams[0], False)
    sys.stdout = sys.__stdout__ = _stream(1, streams[1], True)
    sys.stderr = sys.__stderr__ = _stream(2, streams[2], True)
    conn.sendall(f"pid {os.getpid()}\n".encode())
    if conn.recv(1) != b"g":
        os._exit(70)  # the client gave up before the command started (ctrl+c, no answer in time): it runs nothing
    code = 1
    try:
        os.chdir(request["cwd"])
        os.umask(request["umask"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        random.seed()  # every child would otherwise draw the same numbers
        sys.argv = [request["argv0"], *request["argv"]]
        sys.modules["__main__"].__package__ = request.get("main_package")  # how Click names the program
        code = _run()
    except BaseException:  # noqa: BLE001 - as an uncaught exception ends a cold `crm`
        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()
        except BaseException:  # noqa: BLE001, S110 - it is exiting either way
            pass
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        try:
            conn.sendall(f"exit {code}\n".encode())
        except OSError:
            pass
        os._exit(code)


def _run() -> int:
    from crm_tui.cli import main

    try:
        main()
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code & 0xFF
        print(exc.code, file=sys.stderr)
        return 1
    return 0
