"""The client's address behind trusted proxies: read from the right, only from a trusted peer."""

from __future__ import annotations

import pytest

from twin.api.proxies import client_address, networks

TRUSTED = networks(["10.0.0.0/24", "2001:db8::1"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.0.0.5", "203.0.113.9", "203.0.113.9"),
        ("10.0.0.5", "198.51.100.1, 203.0.113.9, 10.0.0.7", "203.0.113.9"),  # past every trusted hop
        ("2001:db8::1", "203.0.113.9", "203.0.113.9"),
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # an untrusted peer cannot choose its address
        ("10.0.0.5", None, "10.0.0.5"),
        ("10.0.0.5", "10.0.0.7, 10.0.0.8", "10.0.0.7"),  # only proxies: the farthest one
        ("10.0.0.5", "not-an-address", "not-an-address"),
        ("testclient", "203.0.113.9", "testclient"),
    ],
)
def test_the_client_is_the_first_untrusted_hop_from_the_right(peer: str, forwarded: str | None, client: str) -> None:
    assert client_address(peer, forwarded, TRUSTED) == client


def test_a_bad_trusted_proxy_is_named() -> None:
    with pytest.raises(ValueError, match="'10.0.0.300' is not an address or a network"):
        networks(["10.0.0.0/8", "10.0.0.300"])
