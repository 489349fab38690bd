"""Signals stage: what in the audio and the words makes a moment stand out."""

from __future__ import annotations

import numpy as np

from clipgen.pipeline.signals.loudness import energy_peaks, loudness_curve, silences
from clipgen.pipeline.types import Signals

HOP_SECONDS = 0.1


def compute_signals(audio: np.ndarray, sample_rate: int) -> Signals:
    """Loudness over time, its peaks, and the silences, from the whole soundtrack."""
    curve = loudness_curve(audio, sample_rate, HOP_SECONDS)
    return Signals(
        hop=HOP_SECONDS,
        loudness_db=tuple(round(float(v), 2) for v in curve),
        energy_peaks=tuple(energy_peaks(curve, HOP_SECONDS)),
        silences=tuple(silences(curve, HOP_SECONDS)),
    )
