"""The audit log's seal: a key the database never holds, a MAC on every entry, checkpoints outside the database.

The threat: someone with the database owner's (or a superuser's) SQL — a leaked migration
credential, a restored backup, a careless administrator — rewrites an entry and recomputes every
later hash, or deletes the newest entries. A bare hash chain cannot tell either from the truth.
The seal can: each entry's position and hash are MACed (HMAC-SHA256) with a key kept in the
server's home like the personal-data key, so a rewritten entry has no valid MAC; and after each
transaction that appended entries, a MACed checkpoint of the chain's length and head is appended
to a JSON-lines file in the home, so a chain shorter than its latest checkpoint is found out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from twin.errors import TwinError

KEY_BYTES = 32


@dataclass(frozen=True)
class Checkpoint:
    """The chain of one database at one moment: its length (the head's ``seq``), the head's id and hash."""

    database: str
    """The database's oid: one checkpoint file may serve several databases (tests, a restored copy)."""
    seq: int
    id: int
    head: str
    legacy_until: int
    """How many entries predate the key; MACed here so the database cannot move the line later."""
    at: str


class CheckpointFileAltered(TwinError):
    """A line of the checkpoint file is not a checkpoint, or its MAC does not hold."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"audit checkpoint file, line {line}: {reason}")
        self.line = line


class AuditSeal:
    """The audit key and the checkpoint file it signs."""

    def __init__(self, key: bytes, checkpoints: Path) -> None:
        if len(key) != KEY_BYTES:
            raise TwinError(f"the audit key must be {KEY_BYTES} bytes")
        self._key = key
        self.checkpoints = checkpoints

    @classmethod
    def from_files(cls, key_file: Path, checkpoints: Path) -> AuditSeal:
        """Load the key, creating it (mode 600) on first use, as the personal-data key is."""
        if not key_file.exists():
            # Written aside and linked into place: a server and a CLI starting together agree on one key,
            # and neither reads a key half written.
            key_file.parent.mkdir(parents=True, exist_ok=True)
            draft = key_file.with_name(f".{key_file.name}.{os.getpid()}")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(KEY_BYTES))
            try:
                os.link(draft, key_file)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return cls(key_file.read_bytes(), checkpoints)

    def mac(self, seq: int, digest: str) -> str:
        """Return the MAC of an entry: its position in the chain and its hash (which covers its content)."""
        return self._sign(f"entry:{seq}:{digest}")

    def entry_holds(self, seq: int, digest: str, mac: str) -> bool:
        """Tell whether an entry's MAC is the one the key gives it."""
        return hmac.compare_digest(self.mac(seq, digest), mac)

    def write_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Append one MACed line to the checkpoint file (one write, so concurrent writers never interleave)."""
        body = asdict(checkpoint)
        line = json.dumps({**body, "mac": self._sign(_canonical(body))}, sort_keys=True) + "\n"
        self.checkpoints.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.checkpoints, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def latest(self, database: str) -> Checkpoint | None:
        """Return the longest checkpoint of a database; raise ``CheckpointFileAltered`` at a line that does not hold.

        Every line is checked, not only the database's: a line whose MAC fails may be the one that
        named this database before someone edited it.
        """
        if not self.checkpoints.exists():
            return None
        best: Checkpoint | None = None
        with self.checkpoints.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                checkpoint = self._parse(number, line)
                if checkpoint.database == database and (best is None or checkpoint.seq > best.seq):
                    best = checkpoint
        return best

    def _parse(self, number: int, line: str) -> Checkpoint:
        try:
            body = json.loads(line)
            mac = body.pop("mac")
            checkpoint = Checkpoint(**body)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CheckpointFileAltered(number, "not a checkpoint") from exc
        if not hmac.compare_digest(self._sign(_canonical(asdict(checkpoint))), str(mac)):
            raise CheckpointFileAltered(number, "its MAC does not match (edited, or signed with another key)")
        return checkpoint

    def _sign(self, message: str) -> str:
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()


def _canonical(body: dict[str, object]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))
