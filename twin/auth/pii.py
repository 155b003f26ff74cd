"""Residents' personal data: encrypted at rest (AES-256-GCM) and masked for whoever needs no more.

Masks follow what Chinese property systems print: 张*三 for names, 138****1234 for phones,
110101********1234 for ID numbers, so staff can recognise a resident without reading the data.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from twin.errors import TwinError

NONCE = 12


class PiiKey:
    """The key that encrypts personal data; losing it loses the data, so it is kept apart."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise TwinError("the personal-data key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_file(cls, path: Path) -> PiiKey:
        """Load the key, creating it (mode 600) on first use."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(secrets.token_bytes(32))
            path.chmod(0o600)
        return cls(path.read_bytes())

    def encrypt(self, text: str) -> bytes:
        """Encrypt a value; each call uses a fresh nonce, so equal values look different."""
        nonce = os.urandom(NONCE)
        return nonce + bytes(self._aead.encrypt(nonce, text.encode(), b"twin-pii"))

    def decrypt(self, blob: bytes) -> str:
        """Decrypt a value, refusing one that was altered."""
        try:
            return bytes(self._aead.decrypt(blob[:NONCE], blob[NONCE:], b"twin-pii")).decode()
        except InvalidTag as exc:
            raise TwinError("personal data failed its integrity check (wrong key or altered row)") from exc


def mask_name(name: str) -> str:
    """Mask a name: 张三 → 张*, 张三丰 → 张*丰, 欧阳娜娜 → 欧**娜."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    """Mask a phone number: 13812341234 → 138****1234."""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(number: str) -> str:
    """Mask a resident ID number: keep the region code and the last four characters."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
