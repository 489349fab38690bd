"""Candidates stage: windows that start and end on sentence boundaries or pauses."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from clipgen.pipeline.signals.cues import hook_strength, speech_rate, text_cues
from clipgen.pipeline.types import Candidate, Signals, Transcript, Word

SENTENCE_END = (".", "!", "?")
PAUSE_SECONDS = 0.6
LEAD_IN = 0.12  # a little air before the first word
TAIL = 0.35  # and after the last one, so it is not cut off


@dataclass(frozen=True)
class Unit:
    """A sentence, or a run of words between pauses: the building block of a window."""

    words: tuple[Word, ...]

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def speech_units(words: list[Word]) -> list[Unit]:
    """Split the words at sentence ends and at pauses."""
    units, current = [], []
    for i, word in enumerate(words):
        current.append(word)
        next_word = words[i + 1] if i + 1 < len(words) else None
        ends_sentence = word.text.endswith(SENTENCE_END)
        pause = next_word is not None and next_word.start - word.end >= PAUSE_SECONDS
        if next_word is None or ends_sentence or pause:
            units.append(Unit(tuple(current)))
            current = []
    return units


def _features(window: list[Unit], signals: Signals, speech_loudness: float) -> dict[str, float]:
    words = [w for unit in window for w in unit.words]
    text = " ".join(unit.text for unit in window)
    start, end = window[0].start, window[-1].end
    peaks = bisect_right(signals.energy_peaks, end) - bisect_left(signals.energy_peaks, start)
    silent = sum(min(e, end) - max(s, start) for s, e in signals.silences if s < end and e > start)
    features = {
        "loudness_gain_db": round(signals.mean_loudness(start, end) - speech_loudness, 2),
        "peaks_per_min": round(peaks * 60 / max(end - start, 1e-6), 2),
        "silence_share": round(silent / max(end - start, 1e-6), 3),
        "speech_rate": round(speech_rate(words), 2),
        "hook": round(hook_strength(window[0].text), 2),
        "ends_cleanly": 1.0 if window[-1].text.endswith(SENTENCE_END) else 0.0,
    }
    features.update({k: round(v, 2) for k, v in text_cues(text).items()})
    return features


def find_candidates(
    transcript: Transcript, signals: Signals, *, min_seconds: float, max_seconds: float
) -> list[Candidate]:
    """Every window of whole units whose length is inside the bounds."""
    words = transcript.words
    units = speech_units(words)
    voiced = [v for v in signals.loudness_db if v > -42.0]
    speech_loudness = sorted(voiced)[len(voiced) // 2] if voiced else -30.0
    found: list[Candidate] = []
    for i in range(len(units)):
        previous_end = units[i - 1].end if i > 0 else 0.0
        start = max(previous_end, units[i].start - LEAD_IN, 0.0)
        for j in range(i, len(units)):
            following_start = units[j + 1].start if j + 1 < len(units) else transcript.duration
            end = min(units[j].end + TAIL, following_start, transcript.duration)
            length = end - start
            if length > max_seconds:
                break
            if length >= min_seconds:
                window = units[i : j + 1]
                found.append(
                    Candidate(
                        start=round(start, 3),
                        end=round(end, 3),
                        text=" ".join(u.text for u in window),
                        features=_features(window, signals, speech_loudness),
                    )
                )
    return found
