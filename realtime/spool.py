"""Readings spilled to disk while PostgreSQL is slow or away, written back when it returns.

A spilled chunk is durable before its messages are acknowledged to the broker: it is written
to a temporary name, flushed to the disk (fsync), then renamed, so a crash leaves either a whole
chunk or a temporary file whose messages were never acknowledged (the broker sends them again).
Chunks are replayed oldest first; a replayed chunk that was partly written already is harmless,
since history writes ignore rows they already hold. The spool is bounded in bytes: when it is
full, the ingest stops taking messages and the broker keeps them.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

log = logging.getLogger(__name__)

Row = tuple[int, str, datetime, float | None, str | None]
"""A history row: device id, quantity, time, number (booleans as 0/1), text."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
SUFFIX = ".spool"


def encode(rows: list[Row]) -> bytes:
    """Serialise rows exactly (times as integer microseconds, so a replay matches the original)."""
    return orjson.dumps([(d, q, (t - _EPOCH) // _MICROSECOND, v, s) for d, q, t, v, s in rows])


def decode(data: bytes) -> list[Row]:
    """Read rows written by ``encode``."""
    return [(int(d), str(q), _EPOCH + timedelta(microseconds=us), v, s) for d, q, us, v, s in orjson.loads(data)]


class Spool:
    """A directory of chunks, oldest first, bounded in bytes."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        """Use ``directory`` (created if needed); drop temporary files a crash left behind."""
        self.directory = directory
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True)
        for stray in directory.glob("*.tmp"):
            stray.unlink()  # never acknowledged: the broker redelivers those messages
        self._seq = itertools.count()
        self.bytes = sum(path.stat().st_size for path in self.chunks())

    @property
    def full(self) -> bool:
        """Tell whether another chunk would exceed the bound."""
        return self.bytes >= self.max_bytes

    def chunks(self) -> list[Path]:
        """Return the chunks waiting, oldest first."""
        return sorted(self.directory.glob(f"*{SUFFIX}"))

    def put(self, rows: list[Row]) -> Path:
        """Write rows as one durable chunk (blocking: call it off the event loop)."""
        data = encode(rows)
        name = f"{time.time_ns():020d}-{next(self._seq):06d}"
        tmp = self.directory / f"{name}.tmp"
        final = self.directory / f"{name}{SUFFIX}"
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.rename(final)
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self.bytes += len(data)
        return final

    def read(self, path: Path) -> list[Row] | None:
        """Return a chunk's rows; a chunk that cannot be read is set aside (never deleted) and None returned."""
        try:
            return decode(path.read_bytes())
        except (OSError, ValueError, TypeError) as exc:
            log.error("spool chunk %s is unreadable (%s)", path.name, exc)
            self.set_aside(path)
            return None

    def set_aside(self, path: Path) -> None:
        """Move a chunk that cannot be replayed to ``unreadable/``, where a person can look at it."""
        aside = self.directory / "unreadable"
        aside.mkdir(exist_ok=True)
        size = path.stat().st_size
        path.rename(aside / path.name)
        self.bytes = max(0, self.bytes - size)
        log.error("spool chunk %s moved to %s", path.name, aside)

    def done(self, path: Path) -> None:
        """Delete a chunk whose rows are in the database now."""
        size = path.stat().st_size
        path.unlink()
        self.bytes = max(0, self.bytes - size)
