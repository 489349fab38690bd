"""Money as people type and read it: "$1,234.50" <-> 123450 cents."""

from __future__ import annotations

import re

from clipgen.services.errors import InvalidInput

MAX_CENTS = 10**12  # ten billion dollars: far above any real amount, far below overflow
_AMOUNT = re.compile(r"\$?\s*(\d{1,13})(?:\.(\d{1,2}))?")


def parse_dollars(text: str, what: str = "The amount") -> int:
    """Cents from a dollar amount such as "12", "12.5", "$1,250.00"; a refusal otherwise."""
    cleaned = str(text or "").strip().replace(",", "")
    match = _AMOUNT.fullmatch(cleaned)
    if not match:
        raise InvalidInput(f"{what} must be in dollars and cents, like 25.00.")
    cents = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if cents <= 0:
        raise InvalidInput(f"{what} must be more than zero.")
    if cents > MAX_CENTS:
        raise InvalidInput(f"{what} is too large.")
    return cents


def format_cents(cents: int) -> str:
    """ "$1,234.50" (negative amounts as "-$1.00")."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(int(cents)), 100)
    return f"{sign}${dollars:,}.{rest:02d}"
