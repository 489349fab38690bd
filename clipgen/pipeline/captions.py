"""Caption files for a clip: SRT and VTT to ship, ASS to burn in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pysubs2

from clipgen.pipeline.types import Word

FONT_NAME = "Montserrat ExtraBold"
SENTENCE_END = (".", "!", "?", "…")
CLAUSE_END = (",", ";", ":", "—")
CLOSERS = "\"'”’)]»"
# How long a line stays up after its last word when nothing follows soon.
LINGER = 0.4

WHITE = pysubs2.Color(255, 255, 255)
BLACK = pysubs2.Color(0, 0, 0)
SHADOW = pysubs2.Color(0, 0, 0, 128)
HIGHLIGHT = "&H00E6FF&"  # #FFE600, a warm yellow, in ASS's BGR order


@dataclass(frozen=True)
class _Layout:
    """Font size, margins and line limits for one frame shape."""

    font_size: int
    outline: float
    shadow: float
    margin_h: int
    margin_v: int
    max_words: int
    max_chars: int


def clip_words(words: list[Word], start: float, end: float) -> list[Word]:
    """The words whose middle lies in [start, end], timed from `start`."""
    length = max(0.0, end - start)
    chosen: list[Word] = []
    for word in words:
        text = word.text.strip()
        if not text or not start <= (word.start + word.end) / 2 <= end:
            continue
        word_start = min(max(word.start - start, 0.0), length)
        word_end = min(max(word.end - start, word_start), length)
        chosen.append(Word(word_start, word_end, text, word.probability))
    return chosen


def caption_lines(
    words: list[Word], max_chars: int = 32, max_words: int = 6, max_gap: float = 0.6
) -> list[list[Word]]:
    """Words grouped into the lines a caption shows one at a time."""
    lines: list[list[Word]] = []
    line: list[Word] = []
    for word in words:
        text = word.text.strip()
        if not text:
            continue
        if line:
            length = sum(len(w.text.strip()) + 1 for w in line) + len(text)
            if word.start - line[-1].end > max_gap or len(line) >= max_words or length > max_chars:
                lines.append(line)
                line = []
        line.append(word)
        tail = text.rstrip(CLOSERS)
        if tail.endswith(SENTENCE_END) or (
            tail.endswith(CLAUSE_END) and len(line) >= max(2, max_words // 2)
        ):
            lines.append(line)
            line = []
    if line:
        lines.append(line)
    return lines


def write_srt(words: list[Word], path: str | Path, *, until: float | None = None) -> None:
    """Write the words as SubRip captions, one caption line per cue (none past `until`,
    the clip's length)."""
    _plain_file(words, until).save(str(path), format_="srt")


def write_vtt(words: list[Word], path: str | Path, *, until: float | None = None) -> None:
    """Write the words as WebVTT captions, one caption line per cue (none past `until`)."""
    _plain_file(words, until).save(str(path), format_="vtt")


def write_ass(
    words: list[Word],
    path: str | Path,
    *,
    style: Literal["plain", "animated"],
    width: int,
    height: int,
    until: float | None = None,
) -> None:
    """Write an ASS script that burns the words into a `width` x `height` frame (no line
    lingers past `until`, the clip's length)."""
    layout = _layout(width, height, style)
    subs = pysubs2.SSAFile()
    subs.info.update(
        {
            "PlayResX": str(width),
            "PlayResY": str(height),
            "WrapStyle": "0",
            "ScaledBorderAndShadow": "yes",
        }
    )
    subs.styles = {
        "Default": pysubs2.SSAStyle(
            fontname=FONT_NAME,
            fontsize=layout.font_size,
            primarycolor=WHITE,
            secondarycolor=WHITE,
            outlinecolor=BLACK,
            backcolor=SHADOW,
            bold=True,
            borderstyle=1,
            outline=layout.outline,
            shadow=layout.shadow,
            alignment=pysubs2.Alignment.BOTTOM_CENTER,
            marginl=layout.margin_h,
            marginr=layout.margin_h,
            marginv=layout.margin_v,
        )
    }
    lines = caption_lines(words, max_chars=layout.max_chars, max_words=layout.max_words)
    for index, line in enumerate(lines):
        following = lines[index + 1][0].start if index + 1 < len(lines) else until
        line_start, line_end = _line_span(line, following)
        texts = [_escape(w.text) for w in line]
        if style == "animated":
            texts = [text.upper() for text in texts]
        tags = _placement(texts, layout, width, height, uppercase=style == "animated")
        if style == "plain":
            subs.append(_event(line_start, line_end, tags + " ".join(texts)))
            continue
        for position, word in enumerate(line):
            start = line_start if position == 0 else max(word.start, line_start)
            end = line[position + 1].start if position + 1 < len(line) else line_end
            shown = [
                f"{{\\c{HIGHLIGHT}}}{text}{{\\c}}" if i == position else text
                for i, text in enumerate(texts)
            ]
            subs.append(_event(start, max(end, start), tags + " ".join(shown)))
    subs.save(str(path), format_="ass")


def _layout(width: int, height: int, style: str) -> _Layout:
    """Caption sizes for the frame: big and high up on 9:16, smaller on wider frames."""
    animated = style == "animated"
    if height > width * 1.2:
        # Keep the text above the bottom fifth, where TikTok/Shorts/Reels draw their UI.
        font_size, margin_v = height * 0.05, height * 0.25
        max_words, max_chars = (3, 16) if animated else (5, 24)
    elif width > height * 1.2:
        font_size, margin_v = height * 0.06, height * 0.08
        max_words, max_chars = (5, 28) if animated else (7, 42)
    else:
        font_size, margin_v = height * 0.065, height * 0.12
        max_words, max_chars = (4, 20) if animated else (6, 30)
    return _Layout(
        font_size=round(font_size),
        outline=round(font_size * 0.08, 1),
        shadow=round(font_size * 0.04, 1),
        margin_h=round(width * 0.06),
        margin_v=round(margin_v),
        max_words=max_words,
        max_chars=max_chars,
    )


def _placement(texts: list[str], layout: _Layout, width: int, height: int, uppercase: bool) -> str:
    """Override tags pinning a line in place, shrunk when one word is too long to fit."""
    # An explicit position keeps libass from shifting an event that touches another.
    tags = f"\\an2\\pos({width // 2},{height - layout.margin_v})"
    # A rough glyph width for Montserrat ExtraBold, on the generous side.
    em = 0.55 if uppercase else 0.45
    longest = max((len(text) for text in texts), default=0) * em * layout.font_size
    room = width - 2 * layout.margin_h
    if longest > room:
        scale = int(100 * room / longest)
        tags += f"\\fscx{scale}\\fscy{scale}"
    return "{" + tags + "}"


def _line_span(line: list[Word], following: float | None) -> tuple[float, float]:
    """When a line appears and goes: it lingers briefly, never into the next line (or,
    for the last, past the clip's end)."""
    start, end = line[0].start, max(w.end for w in line)
    end += LINGER
    if following is not None:
        end = min(end, following)
    return start, max(end, line[-1].start)


def _plain_file(words: list[Word], until: float | None = None) -> pysubs2.SSAFile:
    """The caption lines as plain events, for the text formats."""
    subs = pysubs2.SSAFile()
    lines = caption_lines(words)
    for index, line in enumerate(lines):
        following = lines[index + 1][0].start if index + 1 < len(lines) else until
        start, end = _line_span(line, following)
        subs.append(_event(start, end, " ".join(_escape(w.text) for w in line)))
    return subs


def _event(start: float, end: float, text: str) -> pysubs2.SSAEvent:
    """A caption event from times in seconds."""
    return pysubs2.SSAEvent(start=round(start * 1000), end=round(end * 1000), text=text)


def _escape(text: str) -> str:
    """Word text with the characters ASS treats as markup made harmless."""
    return text.strip().replace("\\", "/").replace("{", "(").replace("}", ")").replace("\n", " ")
