"""The private Mosquitto broker under ``var/mqtt``: its own config, port, persistence, log and users.

Nobody connects anonymously: the password and ACL files come from ``twin.services.broker_auth``,
and ``reload`` (SIGHUP) makes the running broker reread them after a credential changes.

The broker keeps QoS 1 messages for disconnected persistent sessions on disk, and its queue per
client is unbounded in count (bounded in bytes instead): Mosquitto's default of 1000 queued
messages silently drops the rest when a subscriber falls briefly behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from twin.errors import ServiceError
from twin.services.broker_auth import TWIN, TWIN_TOPICS, BrokerCredentials
from twin.services.system import accepts_connections, give_to, pid_alive, port_is_free, service_user

CONFIG = """\
# Written by the twin; edits are overwritten at the next start.
allow_anonymous false
password_file {password_file}
acl_file {acl_file}
listener {port} {host}
persistence true
persistence_location {data}/
autosave_interval 30
max_queued_messages 0
max_queued_bytes 536870912
max_inflight_messages 100
message_size_limit 2097152
persistent_client_expiration 14d
log_type error
log_type warning
log_type notice
log_timestamp_format %Y-%m-%dT%H:%M:%S
"""


def find_mosquitto() -> Path:
    """Return the mosquitto executable."""
    for candidate in ("/usr/sbin/mosquitto", shutil.which("mosquitto")):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    raise ServiceError(
        "the Mosquitto broker is not installed",
        "run scripts/setup-system (apt-get install mosquitto) or set TWIN_MQTT_URL",
    )


@dataclass(frozen=True)
class BrokerTls:
    """A TLS listener: the broker's certificate and the CA its clients' certificates must come from.

    Without a CA, clients log in with a password over TLS. With one, they must present a
    certificate from it, and its common name is their user name: the ACL of the device
    credential of that name applies, and no password is asked.
    """

    port: int
    ca_file: Path | None
    cert_file: Path
    key_file: Path
    require_client_certificate: bool = True

    def __post_init__(self) -> None:
        """Refuse to require client certificates without the CA that vouches for them."""
        if self.require_client_certificate and self.ca_file is None:
            raise ServiceError("the broker's TLS listener cannot require client certificates without their CA")

    def config(self, host: str) -> str:
        """Return the listener's lines of mosquitto.conf."""
        require = "true" if self.require_client_certificate else "false"
        lines = [f"listener {self.port} {host}"]
        if self.ca_file is not None:
            lines.append(f"cafile {self.ca_file.resolve()}")
        lines += [
            f"certfile {self.cert_file.resolve()}",
            f"keyfile {self.key_file.resolve()}",
            f"require_certificate {require}",
            f"use_identity_as_username {require}",
        ]
        return "\n".join(lines) + "\n"


@dataclass
class MosquittoBroker:
    """One private broker: a directory with config, persistence, log and pid file, and a port."""

    home: Path
    port: int
    host: str = "127.0.0.1"
    tls: BrokerTls | None = None
    reserved: tuple[str, ...] = TWIN_TOPICS
    """The twin's own topics, which no device nor the simulator may publish to."""
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    """Held so that the child is reaped by whoever started it, not left to the garbage collector."""

    @property
    def pid_file(self) -> Path:
        """The pid of the broker we started (Mosquitto's own pid_file needs root to write)."""
        return self.home / "mosquitto.pid"

    @property
    def log_file(self) -> Path:
        """The broker's log."""
        return self.home / "mosquitto.log"

    @property
    def credentials(self) -> BrokerCredentials:
        """Who may connect, and the files the broker reads that from."""
        owner = service_user("mosquitto") if os.geteuid() == 0 else None
        return BrokerCredentials(self.home, self.reserved, owner)

    @property
    def url(self) -> str:
        """Return the broker's URL as the settings spell it, with the twin's own credential."""
        login = self.credentials.login(TWIN)
        user = f"{login[0]}:{login[1]}@" if login else ""
        return f"mqtt://{user}{self.host}:{self.port}"

    def _pid(self) -> int | None:
        try:
            text = self.pid_file.read_text().strip()
        except FileNotFoundError:
            return None
        return int(text) if text.isdigit() else None

    def running(self) -> bool:
        """Tell whether the broker we started is alive."""
        pid = self._pid()
        return pid is not None and pid_alive(pid)

    def start(self) -> None:
        """Start the broker in the background and wait until it accepts connections.

        A broker still running from before authentication existed (its config lets anonymous
        clients in) is restarted with its password and ACL files, not left open.
        """
        if self.running():
            if "allow_anonymous false" in (self.home / "mosquitto.conf").read_text(errors="replace"):
                return
            self.stop()
        if self.pid_file.exists():
            self.pid_file.unlink()
        if not port_is_free(self.host, self.port):
            raise ServiceError(
                f"port {self.port} on {self.host} is taken by another program, so the embedded Mosquitto cannot listen",
                "stop that program or choose another port with TWIN_MQTT_PORT",
            )
        exe = find_mosquitto()
        data = self.home / "data"
        data.mkdir(parents=True, exist_ok=True)
        conf = self.home / "mosquitto.conf"
        credentials = self.credentials
        credentials.ensure_internal()
        text = CONFIG.format(
            port=self.port,
            host=self.host,
            data=data.resolve(),
            password_file=credentials.password_file.resolve(),
            acl_file=credentials.acl_file.resolve(),
        )
        if self.tls is not None:
            text += self.tls.config(self.host)
        conf.write_text(text)
        give_to(service_user("mosquitto") if os.geteuid() == 0 else None, data)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                [str(exe), "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._process = proc
        self.pid_file.write_text(f"{proc.pid}\n")
        deadline = time.monotonic() + 15
        while not accepts_connections(self.host, self.port):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log_file.read_text(errors="replace").strip().splitlines()[-2:]
                self.pid_file.unlink(missing_ok=True)
                raise ServiceError(f"Mosquitto did not start: {' | '.join(tail)}", f"see {self.log_file}")
            time.sleep(0.05)

    def reload(self) -> bool:
        """Make the running broker reread its password and ACL files; tell whether one was running.

        Mosquitto also drops connected clients whose credential is gone.
        """
        pid = self._pid()
        if pid is None or not pid_alive(pid):
            return False
        os.kill(pid, signal.SIGHUP)
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker; it saves its persistent sessions on SIGTERM."""
        self._signal(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """Kill the broker without letting it save (reliability tests: a crash, not a shutdown)."""
        self._signal(signal.SIGKILL, 10.0)

    def _signal(self, signum: int, timeout: float) -> None:
        pid = self._pid()
        if pid is not None and pid_alive(pid):
            os.kill(pid, signum)
            deadline = time.monotonic() + timeout
            while pid_alive(pid) and time.monotonic() < deadline:
                _reap(pid)
                time.sleep(0.02)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
            _reap(pid)
        if self._process is not None:
            self._process.wait()
            self._process = None
        self.pid_file.unlink(missing_ok=True)

    def status(self) -> dict[str, object]:
        """Return what ``twin services status`` prints."""
        running = self.running()
        healthy = running and accepts_connections(self.host, self.port)
        return {
            "service": "mosquitto",
            "data": str(self.home),
            "port": self.port,
            "running": running,
            "healthy": healthy,
        }


def _reap(pid: int) -> None:
    """Collect a child we started ourselves so it does not linger as a zombie that looks alive."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return
