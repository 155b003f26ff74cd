"""Password hashing with argon2id; a hash from older parameters is re-hashed at the next login."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from twin.errors import ValidationError

_hasher = PasswordHasher()
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    """Hash a new password, refusing one too short to resist guessing."""
    if len(password) < MIN_LENGTH:
        raise ValidationError("password", f"must be at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Tell whether a password matches its stored hash, in constant time."""
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Tell whether a stored hash uses weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored)


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_nobody(password: str) -> bool:
    """Spend on a login of no account (unknown, disabled, machine) the time a real one takes, and fail.

    An unknown name answered in 2–3 ms and a known one in 400–700 ms: that told which names exist.
    """
    verify_password(_dummy_hash(), password)
    return False
