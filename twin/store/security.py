"""Tables of the security layer.

Users and their scoped grants, API keys, refresh tokens, emergency links, the hash-chained audit
log and residents' encrypted personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from twin.store.base import Base, Timestamped


class UserRow(Timestamped, Base):
    """A person (or a machine account) who logs in."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    wall_display: Mapped[bool] = mapped_column(Boolean, default=False)
    """A wall-display account never sees personal data unmasked, whatever its role."""
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Signed into every token; raised to end every session at once (password, disable, grants)."""


class GrantRow(Base):
    """A role held on a subtree of the graph; a vendor's grant also names device kinds."""

    __tablename__ = "grants"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"))
    """None grants the role everywhere, present and future sites (the first administrator's grant)."""
    device_kinds: Mapped[list[str] | None] = mapped_column(ARRAY(String(32)))
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'operator', 'inspector', 'responder', 'finance', 'vendor', 'viewer')", name="role"
        ),
        CheckConstraint("role <> 'vendor' OR device_kinds IS NOT NULL", name="vendor_kinds"),
        Index("ix_grants_user", "user_id"),
    )


class ApiKeyRow(Base):
    """A key for a machine; it acts as its owner (a user, often a machine account), until revoked."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuthSessionRow(Base):
    """One login and the refresh tokens rotated from it (a family): ending it ends them all."""

    __tablename__ = "auth_sessions"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_why: Mapped[str | None] = mapped_column(String(32))
    __table_args__ = (Index("ix_auth_sessions_user", "user_id"),)


class RefreshTokenRow(Base):
    """An issued refresh token; using it retires it and issues the next of its session (rotation)."""

    __tablename__ = "refresh_tokens"
    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("auth_sessions.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginThrottleRow(Base):
    """Failed logins of one (account, address) pair or of one address across accounts, and until when it waits."""

    __tablename__ = "login_throttles"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    username: Mapped[str | None] = mapped_column(String(64))
    """None for an address's count across accounts."""
    address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer)
    first_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_login_throttles_username", "username"),)


class EmergencyLinkRow(Base):
    """A time-limited responder view of one site, for the fire brigade box."""

    __tablename__ = "emergency_links"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    uses: Mapped[int] = mapped_column(Integer, default=0)


class AuditRow(Base):
    """One change: who, when, from where, what, before and after; each row hashes the one before."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_kind: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    """The entry's position in the chain (1, 2, …): a checkpoint outside the database names the last one."""
    mac: Mapped[str | None] = mapped_column(String(64))
    """HMAC of ``seq`` and ``hash`` under the audit key (``twin.audit_seal``); none on entries before the key."""
    __table_args__ = (Index("ix_audit_object", "object_kind", "object_id"), Index("ix_audit_at", "at"))


class AuditChainRow(Base):
    """The chain's one line of history: how many entries were written before the audit key existed."""

    __tablename__ = "audit_chain"
    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    legacy_until: Mapped[int] = mapped_column(BigInteger)
    """Entries up to this ``seq`` carry no MAC and are verified by their hash links only."""
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)


class ResidentRow(Timestamped, Base):
    """A resident of a household unit; name, phone and ID number are encrypted at rest."""

    __tablename__ = "residents"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="RESTRICT"))
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    relation: Mapped[str] = mapped_column(String(16), default="owner")
    __table_args__ = (Index("ix_residents_unit", "unit_id"),)
