"""Clips start and end in measured silence, with the captions following the cut."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pysubs2
import pytest

from clipgen.pipeline.audio import SAMPLE_RATE, extract_audio, load_audio
from clipgen.pipeline.candidates import find_candidates
from clipgen.pipeline.captions import LINGER, clip_words
from clipgen.pipeline.cuts import (
    CLEAN_WINDOW_S,
    clean_bounds,
    clean_cut_share,
    cut_is_clean,
    rms_envelope,
    speech_rms,
)
from clipgen.pipeline.run import _load_signals, _load_transcript, generate_clips
from clipgen.pipeline.types import GenerateOptions, Word

RATE = SAMPLE_RATE
LATE = 0.15  # how far after the real onset and offset Whisper puts a word's edges


def _speech(seconds: float, spans: list[tuple[float, float]], noise: float = 0.0) -> np.ndarray:
    """Voice-like bursts (a 200 Hz buzz at 0.3 RMS) over the spans, over white noise."""
    rng = np.random.default_rng(7)
    samples = noise * rng.standard_normal(int(seconds * RATE)).astype(np.float32)
    t = np.arange(samples.size) / RATE
    buzz = (0.3 * np.sqrt(2) * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    for start, end in spans:
        inside = (t >= start) & (t < end)
        samples[inside] += buzz[inside]
    return samples


def _late_words(spans: list[tuple[float, float]]) -> list[Word]:
    """One word per span with Whisper-like edges, both `LATE` seconds late."""
    return [Word(s + LATE, e + LATE, f"w{i}") for i, (s, e) in enumerate(spans)]


SPANS = [(1.0, 2.0), (2.5, 3.5), (4.0, 5.0)]


def test_the_envelope_holds_one_rms_value_per_10_ms() -> None:
    envelope = rms_envelope(_speech(1.0, [(0.0, 1.0)]), RATE)
    assert envelope.rms.size == 100 and envelope.hop == pytest.approx(0.01)
    assert envelope.duration == pytest.approx(1.0)
    assert np.allclose(envelope.rms, 0.3, atol=0.01)


def test_cuts_at_late_whisper_edges_are_in_speech_and_the_moved_cuts_are_not() -> None:
    samples = _speech(6.0, SPANS)
    words = _late_words(SPANS)
    envelope = rms_envelope(samples, RATE)
    speech = speech_rms(envelope, words)
    # What the candidates did: 0.12 s before the first word, 0.35 s after the last.
    old_start, old_end = words[1].start - 0.12, min(words[1].end + 0.35, words[2].start)
    assert not cut_is_clean(envelope, old_start, speech)
    assert not cut_is_clean(envelope, old_end, speech)

    start, end = clean_bounds(old_start, old_end, words, envelope)

    assert cut_is_clean(envelope, start, speech) and cut_is_clean(envelope, end, speech)
    assert 2.5 - 0.3 <= start <= 2.5 - 0.15  # a short lead-in before the real onset
    assert 3.5 + 0.15 <= end <= 3.5 + 0.35  # and a lead-out after the real offset
    assert start <= words[1].start and end >= words[1].end  # the caption word stays whole


def test_a_noise_floor_does_not_hide_the_gap() -> None:
    samples = _speech(6.0, SPANS, noise=0.03)
    words = _late_words(SPANS)
    envelope = rms_envelope(samples, RATE)
    speech = speech_rms(envelope, words)

    start, end = clean_bounds(words[1].start - 0.12, words[1].end + 0.35, words, envelope)

    assert cut_is_clean(envelope, start, speech) and cut_is_clean(envelope, end, speech)
    assert 2.2 <= start <= 2.35 and 3.65 <= end <= 3.85


def test_without_a_gap_the_cut_goes_to_the_quietest_point() -> None:
    # Speech runs on from 1.0 s to 5.0 s with only a 50 ms dip at 2.0 s between the words.
    samples = _speech(6.0, [(1.0, 2.0), (2.05, 3.0), (3.5, 5.0)])
    samples[int(2.0 * RATE) : int(2.05 * RATE)] *= 0.05
    words = [Word(1.1, 2.1, "one"), Word(2.15, 3.1, "two"), Word(3.6, 5.0, "three")]
    envelope = rms_envelope(samples, RATE)

    start, _end = clean_bounds(2.03, 3.45, words, envelope)

    assert 2.0 <= start <= 2.05


def test_a_gap_too_short_for_the_lead_is_cut_in_its_middle() -> None:
    samples = _speech(6.0, [(1.0, 2.0), (2.16, 3.0), (3.5, 5.0)])
    words = [Word(1.1, 2.1, "one"), Word(2.26, 3.1, "two"), Word(3.6, 5.0, "three")]
    envelope = rms_envelope(samples, RATE)
    speech = speech_rms(envelope, words)

    start, _end = clean_bounds(2.14, 3.45, words, envelope)

    assert 2.04 <= start <= 2.12 and cut_is_clean(envelope, start, speech)


def test_cuts_stay_inside_the_source_when_speech_touches_its_edges() -> None:
    samples = _speech(4.0, [(0.0, 1.5), (2.0, 4.0)])
    words = [Word(0.0, 1.6, "first"), Word(2.1, 4.0, "last")]
    envelope = rms_envelope(samples, RATE)

    assert clean_bounds(0.0, 4.0, words, envelope) == (0.0, 4.0)
    start, end = clean_bounds(0.0, 1.9, words, envelope)
    assert start == 0.0 and 1.65 <= end <= 1.85


def test_a_short_silence_at_the_source_edges_is_kept_whole() -> None:
    samples = _speech(3.0, [(0.1, 1.0), (1.5, 2.9)])
    words = [Word(0.2, 1.1, "first"), Word(1.6, 3.0, "last")]
    envelope = rms_envelope(samples, RATE)

    start, end = clean_bounds(0.08, 3.0, words, envelope, duration=3.0)

    assert start == pytest.approx(0.0, abs=0.02) and end == pytest.approx(3.0, abs=0.02)


def test_the_leads_shrink_before_a_clip_grows_past_its_longest_length() -> None:
    samples = _speech(8.0, [(1.0, 2.0), (3.0, 5.0), (6.0, 7.0)])
    words = [Word(1.0, 2.0, "a"), Word(3.0, 5.0, "b"), Word(6.0, 7.0, "c")]
    envelope = rms_envelope(samples, RATE)
    speech = speech_rms(envelope, words)

    start, end = clean_bounds(3.0, 5.0, words, envelope, min_seconds=1.0, max_seconds=1.7)

    assert end - start <= 1.7 + 0.5 + 1e-6
    assert start <= 3.0 and end >= 5.0
    assert cut_is_clean(envelope, start, speech) and cut_is_clean(envelope, end, speech)


def test_a_picture_cut_in_the_silence_is_taken_but_not_one_on_the_onset() -> None:
    samples = _speech(6.0, SPANS)
    words = _late_words(SPANS)
    envelope = rms_envelope(samples, RATE)
    old_start, old_end = words[1].start - 0.12, words[1].end + 0.35

    in_silence = clean_bounds(old_start, old_end, words, envelope, scene_cuts=[2.1, 3.9])
    on_onset = clean_bounds(old_start, old_end, words, envelope, scene_cuts=[2.5, 4.0])

    assert in_silence == (2.1, 3.9)
    assert on_onset == clean_bounds(old_start, old_end, words, envelope)


def test_the_clean_cut_share_reads_a_wav_and_manifest_clips(tmp_path: Path) -> None:
    samples = _speech(6.0, SPANS)
    wav = tmp_path / "a.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    words = [{"start": s, "end": e, "text": "w"} for s, e in SPANS]
    clips = [{"start": 0.8, "end": 2.25}, {"start": 2.55, "end": 3.8}]

    assert clean_cut_share(wav, clips, words) == pytest.approx(0.75)
    assert clean_cut_share(samples, [], words) == 1.0
    opening_on_speech = [{"start": 0.0, "end": 2.25}]
    assert clean_cut_share(_speech(3.0, [(0.0, 2.0)]), opening_on_speech, words) == 0.5
    assert (
        clean_cut_share(
            _speech(3.0, [(0.0, 2.0)]), opening_on_speech, words, skip_source_edges=True
        )
        == 1.0
    )


SHORT = GenerateOptions(clips=3, min_seconds=5, max_seconds=12, aspect="1:1", captions="plain")


@pytest.fixture(scope="module")
def made(talk, tmp_path_factory):
    """The real pipeline over the talk, with its transcript, signals and source audio."""
    root = tmp_path_factory.mktemp("clean-cuts")
    manifest = generate_clips(talk[0], root / "out", SHORT, work_dir=root / "work")
    transcript = _load_transcript(json.loads((root / "work" / "transcribe.json").read_text()))
    signals = _load_signals(json.loads((root / "work" / "signals.json").read_text()))
    samples = load_audio(extract_audio(talk[0], root / "source.wav"))
    return manifest, transcript, signals, samples


def _at_source_edge(t: float, duration: float) -> bool:
    return t <= 0.0 or t >= duration - 0.01


def test_every_clip_of_the_talk_starts_and_ends_in_silence(made) -> None:
    manifest, transcript, _signals, samples = made
    envelope = rms_envelope(samples, RATE)
    speech = speech_rms(envelope, transcript.words)
    assert len(manifest["clips"]) == SHORT.clips
    for clip in manifest["clips"]:
        for t in (clip["start"], clip["end"]):
            if _at_source_edge(t, manifest["duration"]):
                continue  # nothing lies beyond the source to leave out
            level = envelope.window_rms(t, CLEAN_WINDOW_S)
            assert level < 0.3 * speech, (clip["rank"], t, level / speech)


def test_no_caption_word_is_cut_short(made) -> None:
    manifest, transcript, _signals, _samples = made
    for clip in manifest["clips"]:
        start, end = clip["start"], clip["end"]
        length_ms = round((end - start) * 1000)
        spoken = clip_words(transcript.words, start, end)
        cues = pysubs2.load(clip["srt"])
        assert " ".join(c.plaintext for c in cues).split() == [w.text for w in spoken]
        inside = [w for w in transcript.words if start <= (w.start + w.end) / 2 <= end]
        # The first and last words keep their whole timing, re-timed from the moved cut.
        assert inside[0].start >= start and inside[-1].end <= end, (clip["rank"], inside)
        assert cues[0].start == round((inside[0].start - start) * 1000) >= 0
        assert [(w.start, w.end) for w in spoken] == [
            pytest.approx((w.start - start, w.end - start), abs=1e-6) for w in inside
        ]
        # The last line lingers after its word (captions.LINGER), at most that long, and
        # never past the clip's end.
        assert cues[-1].end <= round((inside[-1].end - start + LINGER) * 1000) + 1
        assert all(0 <= c.start < c.end <= length_ms for c in cues)


def test_the_moved_cuts_are_cleaner_than_the_word_edge_cuts(made) -> None:
    _manifest, transcript, signals, samples = made
    words = transcript.words
    envelope = rms_envelope(samples, RATE)
    duration = samples.size / RATE
    candidates = find_candidates(transcript, signals, min_seconds=5, max_seconds=12)
    inner = [c for c in candidates if not _at_source_edge(c.start, duration)]
    moved = [
        clean_bounds(c.start, c.end, words, envelope, min_seconds=5, max_seconds=12) for c in inner
    ]

    before = clean_cut_share(samples, inner, words)
    after = clean_cut_share(samples, [{"start": s, "end": e} for s, e in moved], words)

    assert before <= 0.6 and after == 1.0, (before, after)
