"""Clean cuts: move each clip's start and end into measured silence.

Whisper's word edges (tiny.en especially) are often 100-200 ms off, so a clip cut at
them starts on the first phoneme or clips the last word's tail. The soundtrack tells
where the speech really is:

- `rms_envelope` keeps the RMS level of every 10 ms frame of the 16 kHz mono audio
  (small: 6,000 values a minute), computed while the samples are loaded.
- `clean_bounds` searches, for the start, the gap between the previous word's end and
  the first word's start, widened by `WIDEN_S` into both words (the edges are unreliable)
  but never past a word's middle. It finds the quiet run there (level smoothed over
  `SMOOTH_S`; quiet means below the run's floor plus 15 % of the way up to the speech
  level), measures the speech onset as the run's end, and cuts `LEAD_S` before it, or
  at the run's quietest point when the run is too short for that. The end is the mirror
  image, `LEAD_S` after the measured speech offset. Cuts never go inside speech, before
  0 or past the duration, and never push the clip more than `LENGTH_SLACK_S` outside its
  length range (the leads shrink or grow first; failing that the bounds stay as given).
- `cut_is_clean` / `clean_cut_share` measure the result: a cut is clean when the RMS over
  the frames within +-`CLEAN_WINDOW_S` (60 ms) of it is below `CLEAN_SHARE` (30 %) of the
  speech RMS, the median frame RMS inside the words.

A cut at the very start (end) of a source that opens (closes) on speech cannot be
clean: there is nothing to leave out, so it stays at 0 (the duration), and
`clean_cut_share(..., skip_source_edges=True)` leaves such cuts out of the count.

`run.generate_clips` keeps the envelope (`envelope.npy` in the work folder) before it
drops the samples and calls `clean_bounds` on every clip after `_snap_to_scene_cuts`.
Captions are made from the words and the clip's bounds (`captions.clip_words`), so they
follow the moved cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clipgen.pipeline.audio import SAMPLE_RATE, load_audio
from clipgen.pipeline.types import Word

HOP_S = 0.01  # one envelope frame
SMOOTH_S = 0.04  # the window the quietest point is measured over
WIDEN_S = 0.25  # how far into the neighbouring words the gap is searched
REACH_S = 1.0  # how far before the first (after the last) word to look with no neighbour
LEAD_S = 0.2  # air before the speech onset and after the speech offset
MAX_LEAD_S = 0.35  # at most this much air, even to keep a caption word whole
MIN_LEAD_S = 0.06  # never closer to speech than this where the gap allows
QUIET_RISE = 0.15  # quiet: within this share of the way from the floor up to speech
LENGTH_SLACK_S = 0.5  # how far past its length range a moved clip may go
CLEAN_WINDOW_S = 0.06
CLEAN_SHARE = 0.3


@dataclass(frozen=True)
class Envelope:
    """RMS level (linear, full scale 1.0) of each `hop`-second frame of a soundtrack."""

    rms: np.ndarray
    hop: float = HOP_S
    duration: float = 0.0

    def index(self, t: float) -> int:
        """The frame that holds time `t`, clamped to the envelope."""
        return int(min(max(t / self.hop, 0), self.rms.size - 1))

    def window_rms(self, t: float, half: float) -> float:
        """The RMS over the frames that overlap [t - half, t + half]."""
        first = max(0, int(np.floor((t - half) / self.hop + 1e-9)))
        last = min(self.rms.size, int(np.ceil((t + half) / self.hop - 1e-9)))
        if last <= first:
            return 0.0
        window = self.rms[first:last].astype(np.float64)
        return float(np.sqrt(np.mean(window * window)))

    def smoothed(self) -> np.ndarray:
        """Each frame's RMS over the `SMOOTH_S` window centred on it."""
        size = max(1, round(SMOOTH_S / self.hop))
        power = self.rms.astype(np.float64) ** 2
        return np.sqrt(np.convolve(power, np.ones(size) / size, mode="same"))


def rms_envelope(samples: np.ndarray, rate: int = SAMPLE_RATE, hop: float = HOP_S) -> Envelope:
    """The RMS envelope of mono samples in [-1, 1], one value per `hop` seconds."""
    size = max(1, int(round(rate * hop)))
    padded = np.zeros(-(-samples.size // size) * size, dtype=np.float32)
    padded[: samples.size] = samples
    frames = padded.reshape(-1, size).astype(np.float64)
    rms = np.sqrt(np.mean(frames * frames, axis=1)).astype(np.float32)
    return Envelope(rms=rms, hop=size / rate, duration=samples.size / rate)


def speech_rms(envelope: Envelope, words: Sequence[Word]) -> float:
    """The median frame RMS inside the words: how loud this talk's speech is."""
    centres = (np.arange(envelope.rms.size) + 0.5) * envelope.hop
    inside = np.zeros(envelope.rms.size, dtype=bool)
    for word in words:
        first, last = np.searchsorted(centres, [word.start, word.end])
        inside[first:last] = True
    if not inside.any():
        return float(np.median(envelope.rms)) if envelope.rms.size else 0.0
    return float(np.median(envelope.rms[inside]))


def cut_is_clean(envelope: Envelope, t: float, speech: float) -> bool:
    """Whether the audio within +-60 ms of `t` is below 30 % of the speech RMS."""
    return envelope.window_rms(t, CLEAN_WINDOW_S) < CLEAN_SHARE * speech


def clean_cut_share(
    wav_or_samples: str | Path | np.ndarray,
    clips: Iterable[Any],
    words: Sequence[Word | Mapping[str, Any]],
    rate: int = SAMPLE_RATE,
    *,
    skip_source_edges: bool = False,
) -> float:
    """The share of clip starts and ends (objects or manifest dicts with `start`/`end`)
    that are clean cuts in the audio (a WAV path or 16 kHz samples); 1.0 with no clips.

    A clip that starts at 0 or ends at the source's end on speech has nothing to leave
    out there; `skip_source_edges` leaves such cuts out of the count."""
    samples = (
        wav_or_samples if isinstance(wav_or_samples, np.ndarray) else load_audio(wav_or_samples)
    )
    envelope = rms_envelope(samples, rate)
    spoken = [w if isinstance(w, Word) else Word(**w) for w in words]
    speech = speech_rms(envelope, spoken)
    cuts = [
        float(c[key] if isinstance(c, Mapping) else getattr(c, key))
        for c in clips
        for key in ("start", "end")
    ]
    if skip_source_edges:
        cuts = [t for t in cuts if 0.0 < t < envelope.duration - envelope.hop]
    if not cuts:
        return 1.0
    return sum(cut_is_clean(envelope, t, speech) for t in cuts) / len(cuts)


@dataclass(frozen=True)
class _Gap:
    """Where one cut may go: `low`..`high` is clean, `preferred` leaves the lead."""

    low: float
    high: float
    preferred: float


def clean_bounds(
    start: float,
    end: float,
    words: Sequence[Word],
    envelope: Envelope,
    *,
    min_seconds: float | None = None,
    max_seconds: float | None = None,
    duration: float | None = None,
    speech: float | None = None,
    scene_cuts: Sequence[float] = (),
) -> tuple[float, float]:
    """The clip's (start, end) moved into the silence around its first and last words.

    The clip's words are those whose middle lies in [start, end] (as in the captions).
    `speech` is the speech RMS (`speech_rms`), computed from the words when omitted. A
    picture cut (`scene_cuts`) inside the clean part of a gap is taken over the lead.
    """
    spoken = [w for w in words if w.text.strip()]
    inside = [i for i, w in enumerate(spoken) if start <= (w.start + w.end) / 2 <= end]
    if not inside or envelope.rms.size < 2:
        return start, end
    limit = envelope.duration if duration is None else duration
    limit = limit if limit > 0 else envelope.rms.size * envelope.hop
    level = speech_rms(envelope, spoken) if speech is None else speech
    smooth = envelope.smoothed()
    first, last = inside[0], inside[-1]
    before = spoken[first - 1] if first > 0 else None
    after = spoken[last + 1] if last + 1 < len(spoken) else None
    head = _start_gap(spoken[first], before, smooth, envelope.hop, level, limit)
    tail = _end_gap(spoken[last], after, smooth, envelope.hop, level, limit)
    if head is None or tail is None:
        return start, end
    new_start, new_end = _on_scene_cut(head, scene_cuts), _on_scene_cut(tail, scene_cuts)
    if max_seconds is not None and new_end - new_start > max_seconds + LENGTH_SLACK_S:
        excess = new_end - new_start - (max_seconds + LENGTH_SLACK_S)
        shift = min(excess, max(0.0, head.high - new_start))
        new_start += shift
        new_end -= min(excess - shift, max(0.0, new_end - tail.low))
    if min_seconds is not None and new_end - new_start < min_seconds - LENGTH_SLACK_S:
        shortfall = min_seconds - LENGTH_SLACK_S - (new_end - new_start)
        shift = min(shortfall, max(0.0, new_start - head.low))
        new_start -= shift
        new_end += min(shortfall - shift, max(0.0, tail.high - new_end))
    length = new_end - new_start
    if (max_seconds is not None and length > max_seconds + LENGTH_SLACK_S + 1e-6) or (
        min_seconds is not None and length < min_seconds - LENGTH_SLACK_S - 1e-6
    ):
        return start, end
    return round(new_start, 3), round(new_end, 3)


def _quiet_run(
    smooth: np.ndarray, hop: float, low: float, high: float, level: float, near: float
) -> tuple[int, int] | None:
    """The frames [first, last] of the quiet run in [low, high]: the longest one, the one
    nearest `near` on a tie. None when the range holds no frame."""
    lo = max(0, int(low / hop))
    hi = min(smooth.size - 1, int(high / hop))
    if hi < lo:
        return None
    segment = smooth[lo : hi + 1]
    floor = float(segment.min())
    threshold = floor + QUIET_RISE * max(level - floor, 0.0)
    quiet = np.append(segment <= threshold, False)
    runs, begin = [], None
    for i, is_quiet in enumerate(quiet):
        if is_quiet and begin is None:
            begin = i
        elif not is_quiet and begin is not None:
            runs.append((lo + begin, lo + i - 1))
            begin = None
    centre = near / hop
    return max(runs, key=lambda r: (r[1] - r[0], -abs((r[0] + r[1]) / 2 - centre)))


def _quietest(smooth: np.ndarray, hop: float, run: tuple[int, int]) -> float:
    """The quietest moment of a run, the one nearest its middle among equals."""
    first, last = run
    segment = smooth[first : last + 1]
    middle = (last - first) / 2
    score = segment - segment.min() + 1e-9 * np.abs(np.arange(segment.size) - middle)
    return (first + int(np.argmin(score)) + 0.5) * hop


def _start_gap(
    word: Word, before: Word | None, smooth: np.ndarray, hop: float, level: float, limit: float
) -> _Gap | None:
    """Where a clip that opens on `word` may start."""
    if before is not None:
        low = max(before.end - WIDEN_S, (before.start + before.end) / 2)
    else:
        low = max(0.0, word.start - REACH_S)
    high = min(word.start + WIDEN_S, (word.start + word.end) / 2)
    run = _quiet_run(smooth, hop, low, high, level, word.start)
    if run is None:
        return None
    offset = run[0] * hop  # the end of the speech before (or the search's edge)
    onset = (run[1] + 1) * hop  # the speech onset of the first word
    clean_low = offset + (CLEAN_WINDOW_S if offset > 0 else 0.0)
    clean_high = onset - MIN_LEAD_S
    if clean_high < clean_low:
        cut = _quietest(smooth, hop, run)
        if low == 0.0 and smooth[run[0] : run[1] + 1].min() >= CLEAN_SHARE * level:
            cut = 0.0  # the source opens on speech: nothing before it to leave out
        return _clamped(_Gap(cut, cut, cut), limit)
    wanted = max(min(word.start, onset - LEAD_S), onset - MAX_LEAD_S)
    return _clamped(_Gap(clean_low, clean_high, min(max(wanted, clean_low), clean_high)), limit)


def _end_gap(
    word: Word, after: Word | None, smooth: np.ndarray, hop: float, level: float, limit: float
) -> _Gap | None:
    """Where a clip that closes on `word` may end."""
    low = max(word.end - WIDEN_S, (word.start + word.end) / 2)
    if after is not None:
        high = min(after.start + WIDEN_S, (after.start + after.end) / 2)
    else:
        high = min(limit, word.end + REACH_S)
    run = _quiet_run(smooth, hop, low, high, level, word.end)
    if run is None:
        return None
    offset = run[0] * hop  # the speech offset of the last word
    onset = (run[1] + 1) * hop  # the next speech (or the search's edge)
    clean_low = offset + MIN_LEAD_S
    clean_high = onset - (CLEAN_WINDOW_S if after is not None else 0.0)
    if clean_high < clean_low:
        cut = _quietest(smooth, hop, run)
        if high >= limit and smooth[run[0] : run[1] + 1].min() >= CLEAN_SHARE * level:
            cut = limit  # the source closes on speech: nothing after it to leave out
        return _clamped(_Gap(cut, cut, cut), limit)
    wanted = min(max(word.end, offset + LEAD_S), offset + MAX_LEAD_S)
    return _clamped(_Gap(clean_low, clean_high, min(max(wanted, clean_low), clean_high)), limit)


def _on_scene_cut(gap: _Gap, scene_cuts: Sequence[float]) -> float:
    """The picture cut in the gap's clean part nearest its preferred cut, else that."""
    inside = [c for c in scene_cuts if gap.low <= c <= gap.high]
    return min(inside, key=lambda c: abs(c - gap.preferred), default=gap.preferred)


def _clamped(gap: _Gap, limit: float) -> _Gap:
    """The gap kept inside [0, limit]."""

    def inside(t: float) -> float:
        return min(max(t, 0.0), limit)

    return _Gap(inside(gap.low), inside(gap.high), inside(gap.preferred))
