"""The client address behind a Reflex event (resolved by `services/client_address.py`).

ClipGen resolves the address itself from `TRUSTED_PROXY_HOPS` and takes the
socket peer from Reflex, so Reflex's own `REFLEX_TRUSTED_PROXY_HOPS` must stay
unset (0).
"""

from __future__ import annotations

from reflex.istate.data import RouterData

from clipgen.config import get_settings
from clipgen.services.client_address import client_address

__all__ = ["client_address", "request_client_address"]


def request_client_address(router: RouterData) -> str:
    """The address of the browser behind this Reflex event, for lockouts and the audit log."""
    return client_address(
        router.session.client_ip,
        router.headers.raw_headers.get("x-forwarded-for", ""),
        get_settings().trusted_proxy_hops or 0,
    )
