"""Signed access and refresh tokens (JWT, HS256) with an audience, an issuer and a short life.

Access tokens live 15 minutes and carry no permission: the server takes the user's grants from
the store, or from principals it forgets at any change of them, so disabling a user or revoking a
grant takes effect at once. Refresh tokens carry
an id recorded in the store, so they can be revoked and are rotated on use. Both carry their
session's id and their account's token version, which end them early (``twin.auth.sessions``).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from twin.errors import TwinError

ISSUER = "twin"
AUDIENCE = "twin-api"
ACCESS_SECONDS = 15 * 60
REFRESH_SECONDS = 14 * 24 * 3600
ALGORITHM = "HS256"

Kind = Literal["access", "refresh", "emergency"]


class TokenError(TwinError):
    """A token that is missing, expired, tampered with, or meant for something else."""


@dataclass(frozen=True)
class Claims:
    """What a verified token says."""

    subject: str
    kind: Kind
    token_id: str
    expires: int
    extra: dict[str, Any]


class VerifiedAccessTokens:
    """Access tokens already verified, remembered until they expire.

    Verifying a token (decode, HMAC, the claims) took a fifth of a millisecond, at every request
    of the same client with the same token. A token's signature cannot change, so only its expiry
    needs checking again; nothing else about it is remembered (who it names is read elsewhere).
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._claims: dict[str, Claims] = {}

    def verify(self, key: str, token: str) -> Claims:
        """Return the claims of a valid access token, or raise TokenError as :func:`verify` does."""
        claims = self._claims.get(token)
        if claims is not None and time.time() < claims.expires:
            return claims
        claims = verify(key, token, "access")
        if len(self._claims) >= self.size:
            self._claims.clear()
        self._claims[token] = claims
        return claims


def issue(key: str, subject: str, kind: Kind, seconds: int, **extra: Any) -> tuple[str, Claims]:
    """Sign a token for a subject; return it and its claims."""
    now = int(time.time())
    claims = Claims(subject, kind, secrets.token_urlsafe(16), now + seconds, extra)
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "typ": kind,
        "jti": claims.token_id,
        "iat": now,
        "exp": claims.expires,
        **extra,
    }
    return jwt.encode(payload, key, algorithm=ALGORITHM), claims


def verify(key: str, token: str, kind: Kind) -> Claims:
    """Check a token's signature, audience, issuer, expiry and kind, or say which check failed."""
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "aud", "iss", "typ", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("token expired", "log in again or refresh") from exc
    except jwt.InvalidAudienceError as exc:
        raise TokenError("token is for another audience") from exc
    except jwt.PyJWTError as exc:
        raise TokenError("invalid token") from exc
    if payload["typ"] != kind:
        raise TokenError(f"a {payload['typ']} token cannot be used as a {kind} token")
    extra = {k: v for k, v in payload.items() if k not in {"iss", "aud", "sub", "typ", "jti", "iat", "exp"}}
    return Claims(str(payload["sub"]), kind, str(payload["jti"]), int(payload["exp"]), extra)
