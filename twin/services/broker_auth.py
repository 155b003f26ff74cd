"""Who may connect to the embedded Mosquitto and what each may publish: its password and ACL files.

Nobody connects anonymously. Three kinds of credential exist. The twin's own reads every topic
and alone publishes commands and its relay between instances. The simulator's publishes device
topics (and reads its own ``sim/``), never commands nor the twin's own. A device's (or gateway's)
publishes only the topics it was given, and still never a command. ``credentials.json`` (mode
0600) is the record: names, kinds, topics and password hashes; the ``passwd`` and ``acl`` files
Mosquitto reads are rendered from it, and the broker rereads them on SIGHUP. Only the two
internal passwords are kept in clear (``twin.secret``, ``simulator.secret``, 0600, like the token
signing key), because the twin's own processes must read them; a device's is printed once and
only its hash stays.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from twin.errors import ServiceError


class CredentialKind(StrEnum):
    """What a credential is for; its kind decides its ACL."""

    TWIN = "twin"
    SIMULATOR = "simulator"
    DEVICE = "device"


TWIN = "twin"
"""The user name of the twin's own processes (server, ingest, hub relay)."""
SIMULATOR = "simulator"
"""The user name of ``twin simulate`` and ``twin demo``'s simulator."""
SIMULATOR_OWN = "sim/#"
"""Where simulators tell each other who publishes a scene and hand scenarios over
(``realtime.simulator.coexist``): the simulator reads there, besides writing device topics."""

COMMAND_TOPICS: tuple[str, ...] = (
    "cmnd/#",
    "zigbee2mqtt/+/set",
    "zigbee2mqtt/+/set/#",
    "zigbee2mqtt/+/get",
    "zigbee2mqtt/+/get/#",
    "zigbee2mqtt/bridge/request/#",
    "gw/+/down",
    "gw/+/down/#",
)
"""Topics that command devices (Tasmota, zigbee2mqtt, the batch gateway's downlink): the twin's alone."""

TWIN_TOPICS: tuple[str, ...] = ("twin/#",)
"""The twin's own topics (the relay between instances lives under ``twin/hub``): nobody else publishes there."""

HASH_ITERATIONS = 101
"""Mosquitto's own default for its PBKDF2-SHA512 (``$7$``) hashes.

Every password here is 24 random bytes that no dictionary holds, so more stretching would add
nothing but broker CPU when a whole fleet reconnects after a restart.
"""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Credential:
    """One user of the broker: its name, kind, the topics it may publish and read (devices) and its hash.

    ``commands`` are the command topics a device subscribes to, where the twin tells it what to do
    (a Tasmota plug's ``cmnd/plug-1/#``, a gateway's downlink): it may read them, never write them.
    """

    name: str
    kind: CredentialKind
    topics: tuple[str, ...]
    hash: str
    commands: tuple[str, ...] = ()


def hash_password(password: str, salt: bytes | None = None, iterations: int = HASH_ITERATIONS) -> str:
    """Return Mosquitto 2's PBKDF2-SHA512 hash of ``password`` (what ``mosquitto_passwd`` writes)."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_name(name: str) -> None:
    """Refuse a user name Mosquitto's files could not hold unambiguously."""
    if not _NAME.match(name):
        raise ServiceError(
            f"the credential name {name!r} is not 1-64 letters, digits, '.', '_' or '-' starting with a letter or digit"
        )


def _check_filter(pattern: str) -> list[str]:
    """Refuse a malformed MQTT filter, or one that does not start with a literal level; return its levels."""
    where = f"the topic {pattern!r}"
    if not pattern or any(ch.isspace() or ch == "\0" for ch in pattern):
        raise ServiceError(f"{where} is empty or holds a space or NUL", "give an MQTT filter such as gw/GW-3/#")
    levels = pattern.split("/")
    for index, level in enumerate(levels):
        if ("#" in level and (level != "#" or index != len(levels) - 1)) or ("+" in level and level != "+"):
            raise ServiceError(f"{where}: '+' must fill a level and '#' must be the whole last level")
    if levels[0] in ("+", "#", "") or levels[0].startswith("$"):
        raise ServiceError(
            f"{where} must start with a literal level: a device publishes under its own prefix, not everywhere",
            "name the device's prefix, e.g. tele/plug-7/# or gw/GW-3/#",
        )
    return levels


def check_device_topic(pattern: str, reserved: tuple[str, ...]) -> None:
    """Refuse a filter a device would publish to that is malformed or reaches beyond the device itself.

    A device's own prefix may hold its own command topic (a gateway's ``gw/GW-3/#`` holds
    ``gw/GW-3/down``): writing there commands nothing but itself. What it may never do is reach the
    twin's topics, or another device's commands, which a wildcard where a command topic names its
    device would (``gw/+/#``, ``zigbee2mqtt/#``).
    """
    levels = _check_filter(pattern)
    where = f"the topic {pattern!r}"
    for own in reserved:
        if _overlaps(pattern, own):
            raise ServiceError(f"{where} reaches into {own}, which only the twin publishes")
    for command in COMMAND_TOPICS:
        if not _overlaps(pattern, command):
            continue
        if _inside(pattern, command):
            raise ServiceError(
                f"{where} is a command topic, which only the twin publishes", "give it with --command to read it"
            )
        named = [i for i, level in enumerate(command.split("/")) if level == "+"]
        if any(i >= len(levels) or levels[i] in ("+", "#") for i in named):
            raise ServiceError(
                f"{where} reaches other devices' commands ({command})",
                "name the device where the command topic does, e.g. zigbee2mqtt/+ and zigbee2mqtt/bridge/#",
            )


def check_command_topic(pattern: str) -> None:
    """Refuse a filter a device would read its commands from that is malformed or no command topic."""
    _check_filter(pattern)
    if not any(_inside(pattern, command) for command in COMMAND_TOPICS):
        raise ServiceError(
            f"the command topic {pattern!r} is not under any command topic ({', '.join(COMMAND_TOPICS)})",
            "a device reads only its commands, e.g. cmnd/plug-7/# or gw/GW-3/down",
        )


def _inside(a: str, b: str) -> bool:
    """Tell whether every topic MQTT filter ``a`` matches is matched by filter ``b``."""
    left, right = a.split("/"), b.split("/")
    for index, x in enumerate(left):
        if index >= len(right):
            return False
        y = right[index]
        if y == "#":
            return True
        if x == "#" or (y != "+" and x != y):
            return False
    return len(left) == len(right) or right[len(left) :] == ["#"]


def _overlaps(a: str, b: str) -> bool:
    """Tell whether two MQTT filters can match a common topic."""
    left, right = a.split("/"), b.split("/")
    for x, y in zip(left, right, strict=False):
        if "#" in (x, y):
            return True
        if x != y and "+" not in (x, y):
            return False
    return len(left) == len(right) or "#" in (left[len(right) :] + right[len(left) :])[:1]


class BrokerCredentials:
    """The credentials of one embedded broker, in its folder, and the files Mosquitto reads."""

    def __init__(self, folder: Path, reserved: tuple[str, ...] = TWIN_TOPICS, owner: str | None = None) -> None:
        """Manage ``folder``; ``reserved`` are the twin's own topics, ``owner`` the broker's system user."""
        self.folder = folder
        self.reserved = reserved
        self.owner = owner

    @property
    def record(self) -> Path:
        """The record of every credential (the source of the two files below)."""
        return self.folder / "credentials.json"

    @property
    def password_file(self) -> Path:
        """Mosquitto's ``password_file``."""
        return self.folder / "auth" / "passwd"

    @property
    def acl_file(self) -> Path:
        """Mosquitto's ``acl_file``."""
        return self.folder / "auth" / "acl"

    def login_file(self, name: str) -> Path:
        """Where the clear password of an internal credential is kept (mode 0600)."""
        return self.folder / f"{name}.secret"

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Credential]]:
        """Hold the record exclusively (two CLI runs must not both issue), yield it, then save it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "credentials.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries = self._load()
            before = dict(entries)
            yield entries
            if entries != before:
                _write_private(self.record, json.dumps([_jsonable(c) for c in entries.values()], indent=2) + "\n")
            self._render(entries)

    def _load(self) -> dict[str, Credential]:
        try:
            raw = json.loads(self.record.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise ServiceError(f"{self.record} is not valid JSON: {exc}", "restore it from a backup") from exc
        return {
            item["name"]: Credential(
                item["name"],
                CredentialKind(item["kind"]),
                tuple(item["topics"]),
                item["hash"],
                tuple(item.get("commands", ())),
            )
            for item in raw
        }

    def ensure_internal(self) -> None:
        """Create the twin's and the simulator's credentials when missing, and render the files."""
        with self._locked() as entries:
            for name, kind in ((TWIN, CredentialKind.TWIN), (SIMULATOR, CredentialKind.SIMULATOR)):
                secret = self.login_file(name)
                if name in entries and secret.exists():
                    continue
                password = secrets.token_urlsafe(24)
                _write_private(secret, password + "\n")
                entries[name] = Credential(name, kind, (), hash_password(password))

    def login(self, name: str) -> tuple[str, str] | None:
        """Return the user name and password of an internal credential, or None before the first start."""
        try:
            return name, self.login_file(name).read_text().strip()
        except FileNotFoundError:
            return None

    def entries(self) -> list[Credential]:
        """Return every credential, by name."""
        return sorted(self._load().values(), key=lambda c: c.name)

    def issue(
        self, name: str, topics: list[str], *, commands: list[str] | None = None, rotate: bool = False
    ) -> tuple[Credential, str]:
        """Create (or with ``rotate`` replace the password of) a device credential; return it and its password.

        ``commands`` (the command topics it reads) are kept on a rotation unless given anew.
        """
        check_name(name)
        with self._locked() as entries:
            existing = entries.get(name)
            if existing is not None and existing.kind is not CredentialKind.DEVICE:
                raise ServiceError(f"{name!r} is the {existing.kind.value}'s own credential, not a device's")
            if existing is not None and not rotate:
                raise ServiceError(
                    f"the device credential {name!r} exists", "pass --rotate for a new password or --revoke"
                )
            if existing is None and rotate:
                raise ServiceError(f"there is no device credential {name!r} to rotate")
            chosen = tuple(topics) or (existing.topics if existing else ())
            if not chosen:
                raise ServiceError(f"the device credential {name!r} needs at least one --topic it may publish")
            reads = tuple(commands) if commands else (existing.commands if existing else ())
            for pattern in chosen:
                check_device_topic(pattern, self.reserved)
            for pattern in reads:
                check_command_topic(pattern)
            password = secrets.token_urlsafe(24)
            issued = entries[name] = Credential(name, CredentialKind.DEVICE, chosen, hash_password(password), reads)
        return issued, password

    def revoke(self, name: str) -> Credential:
        """Remove a device credential; the broker refuses it once reloaded."""
        with self._locked() as entries:
            existing = entries.get(name)
            if existing is None or existing.kind is not CredentialKind.DEVICE:
                raise ServiceError(f"there is no device credential {name!r}", "see `twin device credentials-list`")
            del entries[name]
        return existing

    def _render(self, entries: dict[str, Credential]) -> None:
        """Write Mosquitto's password and ACL files from the record."""
        self.password_file.parent.mkdir(parents=True, exist_ok=True)
        users = sorted(entries.values(), key=lambda c: c.name)
        _write_private(self.password_file, "".join(f"{c.name}:{c.hash}\n" for c in users))
        blocks = ["# Written by the twin from credentials.json; edits are overwritten.\n"]
        for c in users:
            blocks.append(f"\nuser {c.name}\n" + "".join(f"topic {line}\n" for line in self._rules(c)))
        _write_private(self.acl_file, "".join(blocks))
        if self.owner is not None:
            for path in (self.password_file.parent, self.password_file, self.acl_file):
                shutil.chown(path, self.owner, self.owner)

    def _rules(self, credential: Credential) -> list[str]:
        """Return one user's ACL lines: denials first (Mosquitto checks them first anyway), then grants."""
        if credential.kind is CredentialKind.TWIN:
            return ["readwrite #"]
        if credential.kind is CredentialKind.SIMULATOR:
            return [
                *(f"deny {topic}" for topic in (*COMMAND_TOPICS, *self.reserved)),
                "write #",
                f"read {SIMULATOR_OWN}",
            ]
        # No blanket denial for a device: Mosquitto's deny also refuses reads, and a device must read
        # its commands. Its grants alone bound it, checked when issued (check_device_topic).
        return [*(f"write {topic}" for topic in credential.topics), *(f"read {topic}" for topic in credential.commands)]


def _jsonable(credential: Credential) -> dict[str, object]:
    data = asdict(credential)
    data["kind"] = credential.kind.value
    data["topics"] = list(credential.topics)
    return data


def _write_private(path: Path, text: str) -> None:
    """Replace a file atomically, readable by its owner only."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)
