"""The choices a user has when making clips: defined once, read by pages, state and CLI.

`check_options` (pipeline/run.py) enforces these limits; the Generate page and
`python -m clipgen generate` offer exactly these values.
"""

from __future__ import annotations

MIN_CLIPS = 1
MAX_CLIPS = 20
DEFAULT_CLIPS = 5
MIN_CLIP_SECONDS = 5.0
MAX_CLIP_SECONDS = 180.0
MIN_LENGTH_SPREAD_S = 5.0
MAX_PROMPT_LENGTH = 500

# value -> label, in the order they are offered. The first is the default.
ASPECTS: dict[str, str] = {"9:16": "9:16 vertical", "1:1": "1:1 square", "16:9": "16:9 wide"}
CAPTION_STYLES: dict[str, str] = {
    "animated": "Animated word highlight",
    "plain": "Plain",
    "off": "Off",
}
# How a shot with two people is framed (one person is always followed).
LAYOUTS: dict[str, str] = {
    "auto": "Auto",
    "speaker": "Follow the speaker",
    "split": "Both, stacked",
    "fit": "Whole frame",
}
# Length presets: value -> (shortest s, longest s, label); "custom" takes two numbers.
LENGTH_PRESETS: dict[str, tuple[float, float, str]] = {
    "15-30": (15.0, 30.0, "15-30 s"),
    "30-60": (30.0, 60.0, "30-60 s"),
    "60-90": (60.0, 90.0, "60-90 s"),
}
CUSTOM_LENGTH = "custom"
DEFAULT_LENGTH = "30-60"
DEFAULT_ASPECT = next(iter(ASPECTS))
DEFAULT_CAPTIONS = next(iter(CAPTION_STYLES))
DEFAULT_LAYOUT = next(iter(LAYOUTS))


def length_choices() -> list[tuple[str, str]]:
    """(value, label) of every length choice, the presets then custom."""
    return [(key, label) for key, (_low, _high, label) in LENGTH_PRESETS.items()] + [
        (CUSTOM_LENGTH, "Custom")
    ]
