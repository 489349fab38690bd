"""Audio stage: extract the soundtrack once, as 16 kHz mono, and load it."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from clipgen.config import get_settings
from clipgen.pipeline.errors import InvalidVideo
from clipgen.pipeline.ffmpeg import run_ffmpeg, timeout_for

SAMPLE_RATE = 16_000


def extract_audio(
    source: str | Path, wav_path: str | Path, *, duration: float | None = None
) -> Path:
    """Write the source's first audio track as 16 kHz mono 16-bit WAV.

    `duration` (seconds, from the probe) sets ffmpeg's time limit; without it the limit
    is that of the longest video the pipeline accepts.
    """
    wav = Path(wav_path)
    if duration is None:
        duration = get_settings().max_video_minutes * 60.0
    partial = wav.with_suffix(".part.wav")
    run_ffmpeg(
        [
            "-i",
            str(source),
            "-map",
            "0:a:0",
            "-vn",
            "-ac",
            "1",
            "-ar",
            str(SAMPLE_RATE),
            "-c:a",
            "pcm_s16le",
            str(partial),
        ],
        what="read the sound of the video",
        timeout=timeout_for("audio", duration),
    )
    partial.replace(wav)
    return wav


def load_audio(wav_path: str | Path) -> np.ndarray:
    """The WAV's samples as float32 in [-1, 1]."""
    with wave.open(str(wav_path), "rb") as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    if samples.size == 0:
        raise InvalidVideo("The audio track is empty.")
    return samples.astype(np.float32) / 32768.0
