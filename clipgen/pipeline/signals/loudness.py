"""Audio arousal: loudness per short window, its peaks, and silences."""

from __future__ import annotations

import numpy as np

SILENCE_BELOW_DB = -42.0
MIN_SILENCE_SECONDS = 0.4


def loudness_curve(audio: np.ndarray, sample_rate: int, hop: float) -> np.ndarray:
    """RMS level in dBFS of each `hop`-second window."""
    size = max(1, int(sample_rate * hop))
    usable = audio[: audio.size - audio.size % size]
    if usable.size == 0:
        return np.array([-90.0])
    frames = usable.reshape(-1, size).astype(np.float64)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-5))


def energy_peaks(curve: np.ndarray, hop: float) -> list[float]:
    """Times of loudness peaks that stand well above the talk's usual level."""
    voiced = curve[curve > SILENCE_BELOW_DB]
    if voiced.size < 5:
        return []
    kernel = np.ones(5) / 5
    smooth = np.convolve(curve, kernel, mode="same")
    threshold = float(np.median(voiced) + 1.5 * np.std(voiced))
    peaks = []
    last = -10.0
    for i in range(1, smooth.size - 1):
        if smooth[i] >= threshold and smooth[i] >= smooth[i - 1] and smooth[i] > smooth[i + 1]:
            t = i * hop
            if t - last >= 1.0:  # one peak per second at most
                peaks.append(round(t, 2))
                last = t
    return peaks


def silences(curve: np.ndarray, hop: float) -> list[tuple[float, float]]:
    """Stretches of at least MIN_SILENCE_SECONDS below the silence level."""
    quiet = curve < SILENCE_BELOW_DB
    spans, start = [], None
    for i, is_quiet in enumerate(np.append(quiet, False)):
        if is_quiet and start is None:
            start = i
        elif not is_quiet and start is not None:
            if (i - start) * hop >= MIN_SILENCE_SECONDS:
                spans.append((round(start * hop, 2), round(i * hop, 2)))
            start = None
    return spans
