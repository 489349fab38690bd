"""Titles from the heuristic ranker: short, readable, the same on every run, never repeated."""

from __future__ import annotations

import re

from clipgen.pipeline.candidates import find_candidates
from clipgen.pipeline.ranking.heuristic import HeuristicRanker, distinct_titles
from clipgen.pipeline.run import analyse_source
from clipgen.pipeline.types import (
    Candidate,
    GenerateOptions,
    Segment,
    Signals,
    Transcript,
    Word,
)

OPENER = "So let me tell you about the time we almost lost everything."
BODIES = [
    "We had three weeks of runway and a product nobody was buying.",
    "Customers told us the onboarding was confusing, so we rebuilt it.",
    "Our revenue doubled in one quarter after we raised the price!",
    "The spreadsheet had forty columns and nobody understood half of them.",
    "Why did it take eleven tries before the first version actually worked?",
]
NO_SIGNALS = Signals(hop=0.1, loudness_db=(), energy_peaks=(), silences=())
NUMBERED = re.compile(r"\(\d+\)|#\d+|\b(part|take|no\.?)\s*\d+\b", re.I)


def _transcript(sentences: list[str], *, word_seconds: float = 0.3) -> Transcript:
    segments, t = [], 0.0
    for sentence in sentences:
        words = []
        for text in sentence.split():
            words.append(Word(start=round(t, 3), end=round(t + word_seconds * 0.8, 3), text=text))
            t += word_seconds
        segments.append(Segment(words[0].start, words[-1].end, sentence, tuple(words)))
        t += 0.5
    return Transcript(language="en", duration=t, segments=tuple(segments))


def _windows_sharing_their_opener() -> tuple[Transcript, list[Candidate]]:
    """Five separate stretches of one talk that all open with the same line."""
    sentences = [s for body in BODIES for s in (OPENER, body)]
    transcript = _transcript(sentences)
    segments = transcript.segments
    windows = [
        Candidate(
            start=segments[i].start,
            end=segments[i + 1].end,
            text=f"{segments[i].text} {segments[i + 1].text}",
        )
        for i in range(0, len(segments), 2)
    ]
    return transcript, windows


def _rank(transcript: Transcript, windows: list[Candidate]) -> list[str]:
    result = HeuristicRanker().rank(
        transcript=transcript,
        signals=NO_SIGNALS,
        candidates=windows,
        options=GenerateOptions(clips=len(windows)),
    )
    return [clip.title for clip in result.clips]


def _same_to_a_reader(title: str) -> str:
    return " ".join(re.findall(r"\w+", title.lower()))


def test_windows_that_open_on_the_same_sentence_get_different_titles() -> None:
    transcript, windows = _windows_sharing_their_opener()
    titles = _rank(transcript, windows)
    assert len(titles) == len(BODIES)
    assert len({_same_to_a_reader(t) for t in titles}) == len(titles), titles
    assert not any(NUMBERED.search(t) for t in titles), titles


def test_titles_are_the_same_on_every_run() -> None:
    transcript, windows = _windows_sharing_their_opener()
    assert _rank(transcript, windows) == _rank(transcript, list(windows))


def test_titles_are_short_and_end_cleanly() -> None:
    long_opener = (
        "Honestly the thing that surprised me most about the whole launch was how quiet "
        "the first week turned out to be for everyone involved."
    )
    transcript, windows = _windows_sharing_their_opener()
    windows.append(Candidate(start=900.0, end=940.0, text=f"{long_opener} {BODIES[0]}"))
    for title in _rank(transcript, windows):
        assert len(title) <= 100 and len(title.rstrip("…").split()) <= 8, title
        assert title[0].isupper(), title
        assert not re.search(r"[\s.,;:!-]…?$", title) and not title.endswith(" …"), title


def test_a_question_keeps_its_question_mark() -> None:
    transcript = _transcript(["Why do most people fail at this?", "It is simpler than you think."])
    window = Candidate(start=0.0, end=5.0, text=" ".join(s.text for s in transcript.segments))
    assert distinct_titles([window], transcript.words) == ["Why do most people fail at this?"]


def test_a_long_sentence_is_cut_where_a_phrase_can_stop() -> None:
    sentence = "Ask yourself what you would do if you could not fail."
    window = Candidate(start=0.0, end=5.0, text=sentence)
    assert distinct_titles([window], _transcript([sentence]).words) == [
        "Ask yourself what you would do…"
    ]


def test_an_opener_misheard_differently_is_not_reused_as_a_title() -> None:
    heard = [
        "The biggest mistake I ever made cost me a fortune.",
        "Customers told us the onboarding was confusing.",
        "The biggest mistake I have remained cost me a fortune.",
        "Our revenue doubled in one quarter after we raised the price.",
    ]
    transcript = _transcript(heard)
    first, second = (
        Candidate(start=0.0, end=10.0, text=f"{heard[0]} {heard[1]}"),
        Candidate(start=20.0, end=30.0, text=f"{heard[2]} {heard[3]}"),
    )
    titles = distinct_titles([first, second], transcript.words)
    assert titles[0].startswith("The biggest mistake")
    assert titles[1].startswith("Our revenue doubled"), titles


def test_a_word_the_speech_model_was_unsure_of_keeps_its_sentence_out_of_titles() -> None:
    sentences = ["So here is where it all started.", "I remember who knoveled the budget."]
    transcript = _transcript(sentences)
    unsure = [
        Word(w.start, w.end, w.text, probability=0.35 if w.text == "knoveled" else 0.95)
        for w in transcript.words
    ]
    window = Candidate(start=0.0, end=10.0, text=" ".join(sentences))
    assert distinct_titles([window], unsure) == ["So here is where it all started"]


def test_windows_with_the_same_words_still_get_distinct_unnumbered_titles() -> None:
    text = f"{OPENER} {BODIES[0]} {BODIES[1]}"
    talk = _transcript([OPENER, BODIES[0], BODIES[1]] * 3).words
    windows = [Candidate(start=60.0 * i, end=60.0 * i + 40, text=text) for i in range(6)]
    titles = distinct_titles(windows, talk)
    assert len({_same_to_a_reader(t) for t in titles}) == len(titles), titles
    assert not any(NUMBERED.search(t) for t in titles), titles
    assert titles == distinct_titles(windows, talk)


def test_the_talk_fixture_gets_one_title_per_clip(talk, tmp_path) -> None:
    analysis = analyse_source(talk[0], tmp_path / "work")
    options = GenerateOptions(clips=3, min_seconds=5, max_seconds=12)
    candidates = find_candidates(
        analysis.transcript, analysis.signals, min_seconds=5, max_seconds=12
    )
    result = HeuristicRanker().rank(
        transcript=analysis.transcript,
        signals=analysis.signals,
        candidates=candidates,
        options=options,
    )
    titles = [clip.title for clip in result.clips]
    assert len(titles) >= 2
    assert len({_same_to_a_reader(t) for t in titles}) == len(titles), titles
    assert all(t and len(t) <= 100 for t in titles), titles
