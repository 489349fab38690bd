"""Talk videos made once per run from espeak-ng speech and lavfi pictures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.media import Line, make_talk

FLAT = [
    Line(
        "Welcome back to the program. Today we look at the history of road maintenance "
        "in small towns.",
        face_x=0.7,
    ),
    Line(
        "The committee meets on the second Tuesday of each month to review the schedule.",
        face_x=0.7,
    ),
    Line("Gravel is delivered by truck and spread across the surface in thin layers.", face_x=0.7),
]
HYPE = Line(
    "Here is the secret nobody tells you! I doubled my money in one week, and it was "
    "absolutely insane!",
    speed=205,
    pitch=75,
    gain_db=9.0,
    face_x=0.7,
)
TAIL = [
    Line("The next item on the agenda concerns the parking permits near the library.", face_x=0.7),
    Line("Permits are renewed annually and the fee is paid at the town office.", face_x=0.7),
]


@pytest.fixture(scope="session")
def talk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[float, float]]]:
    """A 30-second talk: flat lines, one loud emotional hook, flat lines again."""
    path = tmp_path_factory.mktemp("media") / "talk.mp4"
    spans = make_talk([*FLAT, HYPE, *TAIL], path)
    return path, spans
