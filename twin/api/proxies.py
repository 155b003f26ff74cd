"""The real client's address behind trusted reverse proxies, for the login throttles and the audit log.

Without it every request behind a proxy came from the proxy: one address for all clients, so one
guesser's failures throttled everyone. ``X-Forwarded-For`` is read only when the peer is a trusted
proxy (``trusted_proxies``: addresses or networks), since anyone else may write what they like in
it. Its entries are read from the right, past every trusted proxy: the first address not trusted
is the client, and what it wrote to the left of itself is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(entries: Sequence[str]) -> tuple[Network, ...]:
    """Parse trusted proxies (``10.0.0.1``, ``10.0.0.0/8``, ``::1``), or raise ValueError naming the bad one."""
    parsed = []
    for entry in entries:
        try:
            parsed.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"trusted_proxies: {entry!r} is not an address or a network") from exc
    return tuple(parsed)


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(peer: str, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """Return the client's address: the peer, or if the peer is a trusted proxy, the first untrusted hop."""
    if not forwarded_for or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop[:64]
    return hops[0][:64] if hops else peer


class TrustedProxies:
    """ASGI middleware that puts the real client's address in the scope, for every route and the live socket."""

    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its client replaced by the one the trusted proxies name."""
        client = scope.get("client")
        if scope["type"] in {"http", "websocket"} and client:
            forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
            address = client_address(client[0], ", ".join(forwarded) or None, self.trusted)
            if address != client[0]:
                scope = {**scope, "client": (address, client[1])}
        await self.app(scope, receive, send)
