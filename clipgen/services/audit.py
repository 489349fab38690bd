"""The append-only audit log of security- and money-relevant actions."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from clipgen.models import AuditLog


def record_audit(
    *,
    session: Session,
    action: str,
    actor_id: int | None,
    target_type: str = "",
    target_id: int | None = None,
    client_ip: str = "",
    **details: Any,
) -> None:
    """Add one audit row to the caller's transaction."""
    session.add(
        AuditLog(
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            client_ip=client_ip[:64],
            details=details,
        )
    )
