"""Operating-system details the embedded services share: ports, pids and the unprivileged user.

PostgreSQL refuses to run as root and Mosquitto drops root by itself, so when the twin runs as
root (CI, containers) each service runs as its Debian system user and owns its data directory.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from twin.errors import ServiceError


def port_is_free(host: str, port: int) -> bool:
    """Tell whether nothing listens on host:port, by binding it the way the service would."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """Return a port the kernel just said was free (tests use it for throw-away services)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def accepts_connections(host: str, port: int, timeout: float = 0.5) -> bool:
    """Tell whether a TCP connection to host:port succeeds now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    """Tell whether a process with this pid exists (a stale pid file names a dead one)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def service_user(name: str) -> str | None:
    """Return the system user to run a service as when we are root, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(name)
    except KeyError as exc:
        raise ServiceError(
            f"running as root, but the system user {name!r} that the service runs as does not exist",
            "install the Debian package (scripts/setup-system) or run as an ordinary user",
        ) from exc
    return name


def give_to(user: str | None, path: Path) -> None:
    """Hand a directory tree to the service user, and make its parents traversable for it."""
    if user is None:
        return
    shutil.chown(path, user, user)
    for child in path.rglob("*"):
        shutil.chown(child, user, user)
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            raise ServiceError(
                f"{parent} is not traversable by the {user!r} user that runs the embedded service",
                f"chmod o+x {parent}, or set TWIN_HOME to a folder outside it",
            )


def run(cmd: Sequence[str], *, user: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command (as ``user`` when given), capturing its output for the error message."""
    full = ["runuser", "-u", user, "--", *cmd] if user else list(cmd)
    proc = subprocess.run(full, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise ServiceError(f"{Path(cmd[0]).name} failed: {detail[-1] if detail else f'exit {proc.returncode}'}")
    return proc
