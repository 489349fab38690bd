"""The one way ClipGen writes CSV: every cell of every export goes through `safe_cell`, so
text that users typed (a name, an email, a title, a reason) never runs as a spreadsheet
formula when an admin, a client or a clipper opens the download."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

# A spreadsheet runs a cell starting with one of these as a formula (or a DDE command).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# A plain decimal number such as "-12.50" is a figure, not a formula: it stays as it is.
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def safe_cell(value: object) -> object:
    """A cell a spreadsheet shows as written: numbers as numbers, and text that would start
    a formula behind a leading apostrophe (which spreadsheets hide)."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """Rows (the header first) as CSV text for a download, every cell through `safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
