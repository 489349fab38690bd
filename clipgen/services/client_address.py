"""The address a request came from, as far as the trusted proxies vouch for it.

Sign-in lockouts count failures per client address, so the address must be one
the client cannot choose. Behind reverse proxies the socket peer is the last
proxy; each proxy appends the address it received the request from to
X-Forwarded-For. Entries left of those our own proxies wrote were sent by the
client and prove nothing.

The Reflex handlers (`state/client.py`) and the HTTP routes (`api.py`) both
resolve it here, from `TRUSTED_PROXY_HOPS`.
"""

from __future__ import annotations

import ipaddress


def _normalized_ip(value: str) -> str | None:
    """`value` as a canonical IP address (ports and brackets dropped), or None."""
    text = value.strip()
    if text.startswith("["):  # [2001:db8::1]:443
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # 203.0.113.9:51234
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def client_address(peer: str, forwarded_for: str, trusted_hops: int) -> str:
    """The client's address: the `trusted_hops`-th X-Forwarded-For entry from the right.

    `peer` is the socket peer; `forwarded_for` the X-Forwarded-For header (repeated
    headers joined with commas, in order). With 0 hops the header is ignored. When
    the header holds fewer entries than there are trusted proxies, or the entry is
    not an IP address, the request did not come through every proxy as configured,
    so the socket peer is used: never an address the client wrote.
    """
    fallback = _normalized_ip(peer) or peer.strip()
    if trusted_hops <= 0:
        return fallback
    entries = [entry for entry in (forwarded_for or "").split(",") if entry.strip()]
    if len(entries) < trusted_hops:
        return fallback
    return _normalized_ip(entries[-trusted_hops]) or fallback
