"""A real ``twin serve`` in a subprocess, for the tests that need the whole server: its log, its socket."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from twin.services.system import accepts_connections, free_port


@contextmanager
def served(env: dict[str, str], log: Path, timeout: float = 60.0) -> Iterator[int]:
    """Run ``twin serve`` with ``env``, its output appended to ``log``; yield its port once it listens.

    The server is stopped (SIGTERM, as an operator would) when the block ends, whatever happened in it.
    """
    port = free_port()
    with log.open("ab") as out:
        command = [sys.executable, "-m", "twin.cli", "serve", "--port", str(port)]
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while not accepts_connections("127.0.0.1", port):
            assert server.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
