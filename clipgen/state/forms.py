"""Reading what a browser sent: form fields, ids in events and in the address.

A browser can send any value in any event, so every handler reads its inputs through
these: anything that is not what it should be reads as empty (a field) or as 0 (an
id), which the services answer in words ("That campaign was not found.").
"""

from __future__ import annotations

import contextlib
import math
import re

from clipgen.services.errors import InvalidInput
from clipgen.services.money.amounts import parse_dollars

_ZERO_DOLLARS = re.compile(r"\$?\s*0+(?:\.0{1,2})?")

# The largest id a row can have (PostgreSQL's integer); a larger one is no row at all.
MAX_ROW_ID = 2**31 - 1
# More digits than any whole number a form needs (Python refuses int() of 4,300 or more).
_MAX_DIGITS = 18
# Long enough for the longest field (a campaign's brief); the services refuse what is
# too long for the field in words, so this only caps what a handler holds.
MAX_FIELD = 20_000


def field(form_data: object, name: str) -> str:
    """A text field of the submitted form; anything that is not text counts as empty."""
    value = form_data.get(name, "") if isinstance(form_data, dict) else ""
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def checked(form_data: object, name: str) -> bool:
    """Whether a checkbox of the form was ticked (a ticked box sends "on")."""
    value = form_data.get(name) if isinstance(form_data, dict) else None
    return value is True or (isinstance(value, str) and value.lower() in ("on", "true", "1"))


def row_id(value: object) -> int:
    """An id sent by the page, or 0 (which the services answer with "not found")."""
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= _MAX_DIGITS:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return value if 0 < value <= MAX_ROW_ID else 0


def route_id(path: str, prefix: str, suffix: str = "") -> int:
    """The id in an address `<prefix>/<id><suffix>` (`/campaigns/7`, `/campaigns/7/analytics`),
    or 0 for any other address."""
    path = path.rstrip("/")
    if not path.startswith(prefix.rstrip("/") + "/") or not path.endswith(suffix):
        return 0
    middle = path[len(prefix.rstrip("/")) + 1 : len(path) - len(suffix)]
    return row_id(middle) if middle.isdecimal() else 0


def whole_number(value: object, what: str) -> int:
    """A positive whole number typed or sent by the page (an id, a count), or a refusal.
    Up to 18 digits: an id beyond every row is then "not found" in the service's words."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    text = value.strip() if isinstance(value, str) else ""
    if text.isdecimal() and text.strip("0"):
        # Longer than any id: one number past every row (never parsed: a 5,000-digit
        # string would be refused by int() itself), which the services call not found.
        return int(text) if len(text) <= _MAX_DIGITS else 10**_MAX_DIGITS
    raise InvalidInput(f"Enter the {what} as a whole number, like 42.")


def number(value: object, what: str, example: str = "12.5") -> float:
    """A finite number typed or sent by the page (seconds, a length), or a refusal:
    "nan", "inf" and "-inf" parse as floats but compare false with every limit."""
    if isinstance(value, str):
        value = value.strip() if len(value) <= 64 else ""
    parsed = math.nan
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        with contextlib.suppress(ValueError, OverflowError):
            parsed = float(value)
    if not math.isfinite(parsed):
        raise InvalidInput(f"Enter {what} as a number, like {example}.")
    return parsed


def dollars(value: object, what: str = "The amount") -> int:
    """Cents from dollars typed in a form: only text is accepted, and only money-shaped text."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be in dollars and cents, like 25.00.")
    return parse_dollars(value, what)


def dollars_or_zero(value: object, what: str = "The amount") -> int:
    """Cents from dollars typed in a form where 0 means "off"; otherwise as `dollars`."""
    if isinstance(value, str) and _ZERO_DOLLARS.fullmatch(value.strip()):
        return 0
    return dollars(value, what)
