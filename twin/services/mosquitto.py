"""The private Mosquitto broker under ``var/mqtt``: its own config, port, persistence and log.

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
from twin.services.system import accepts_connections, give_to, pid_alive, port_is_free, service_user

CONFIG = """\
# Written by the twin; edits are overwritten at the next start.
listener {port} {host}
allow_anonymous true
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
    """A TLS listener: the broker's certificate and the CA its clients' certificates must come from."""

    port: int
    ca_file: Path
    cert_file: Path
    key_file: Path
    require_client_certificate: bool = True


TLS_LISTENER = """\
listener {port} {host}
cafile {ca}
certfile {cert}
keyfile {key}
require_certificate {require}
use_identity_as_username {require}
"""


@dataclass
class MosquittoBroker:
    """One private broker: a directory with config, persistence, log and pid file, and a port."""

    home: Path
    port: int
    host: str = "127.0.0.1"
    tls: BrokerTls | None = None
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
    def url(self) -> str:
        """Return the broker's URL as the settings spell it."""
        return f"mqtt://{self.host}:{self.port}"

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
        """Start the broker in the background and wait until it accepts connections."""
        if self.running():
            return
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
        text = CONFIG.format(port=self.port, host=self.host, data=data.resolve())
        if self.tls is not None:
            require = "true" if self.tls.require_client_certificate else "false"
            text += TLS_LISTENER.format(
                port=self.tls.port,
                host=self.host,
                ca=self.tls.ca_file.resolve(),
                cert=self.tls.cert_file.resolve(),
                key=self.tls.key_file.resolve(),
                require=require,
            )
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
