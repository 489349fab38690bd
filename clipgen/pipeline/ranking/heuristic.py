"""The offline ranker: deterministic scores from every signal and the prompt."""

from __future__ import annotations

import re

from clipgen.pipeline.ranking.base import clamp_score, overlaps
from clipgen.pipeline.signals.cues import prompt_relevance
from clipgen.pipeline.types import (
    Candidate,
    GenerateOptions,
    RankedClip,
    RankingResult,
    Signals,
    Transcript,
)

# How much each feature moves the score; tuned on talk-show style speech.
WEIGHTS = {
    "loudness_gain_db": 0.35,  # per dB above the talk's usual level
    "peaks_per_min": 0.08,
    "speech_rate": 0.6,  # per word/second above 2.5
    "hook": 2.5,
    "exclamations": 0.12,
    "questions": 0.05,
    "laughter": 0.6,
    "numbers": 0.04,
    "strong_words": 0.18,
    "ends_cleanly": 0.8,
    "silence_share": -4.0,
    "prompt": 12.0,  # the user asked for this topic: it outweighs delivery
}
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def candidate_score(candidate: Candidate, prompt: str = "") -> float:
    """A raw, unbounded score: higher is more likely to hold a viewer."""
    f = candidate.features
    score = 0.0
    for name, weight in WEIGHTS.items():
        if name == "prompt":
            value = prompt_relevance(prompt, candidate.text) if prompt else 0.0
        elif name == "speech_rate":
            value = f.get(name, 0.0) - 2.5
        else:
            value = f.get(name, 0.0)
        score += weight * value
    return score


def _first_sentence(text: str) -> str:
    return _SENTENCE.split(text.strip(), maxsplit=1)[0]


def _title(text: str) -> str:
    sentence = _first_sentence(text).rstrip(".!?,;:")
    words = sentence.split()
    short = " ".join(words[:9]) + ("…" if len(words) > 9 else "")
    return short[:1].upper() + short[1:]


def _reason(candidate: Candidate, prompt: str) -> str:
    f = candidate.features
    parts = []
    if f.get("loudness_gain_db", 0) >= 2:
        parts.append(f"energetic delivery ({f['loudness_gain_db']:+.0f} dB above the usual level)")
    if f.get("hook", 0) >= 0.5:
        parts.append("opens with a strong hook")
    if f.get("laughter", 0) > 0:
        parts.append("laughter")
    if f.get("exclamations", 0) > 0 or f.get("strong_words", 0) >= 2:
        parts.append("emotional, emphatic language")
    if f.get("speech_rate", 0) >= 3.2:
        parts.append("fast, lively pace")
    if f.get("numbers", 0) >= 3:
        parts.append("concrete numbers")
    if prompt and prompt_relevance(prompt, candidate.text) > 0:
        parts.append(f"matches “{prompt.strip()}”")
    if f.get("ends_cleanly"):
        parts.append("ends on a complete sentence")
    if not parts:
        return "A self-contained stretch of speech."
    return (
        parts[0][:1].upper()
        + parts[0][1:]
        + (", " + ", ".join(parts[1:]) if parts[1:] else "")
        + "."
    )


class HeuristicRanker:
    """Scores every candidate from its signals and picks the best non-overlapping ones."""

    name = "heuristic"

    def rank(
        self,
        *,
        transcript: Transcript,
        signals: Signals,
        candidates: list[Candidate],
        options: GenerateOptions,
    ) -> RankingResult:
        scored = sorted(
            ((candidate_score(c, options.prompt), c) for c in candidates),
            key=lambda pair: (-pair[0], pair[1].start),
        )
        chosen: list[tuple[float, Candidate]] = []
        for score, candidate in scored:
            if len(chosen) >= options.clips:
                break
            if any(overlaps(candidate.start, candidate.end, c.start, c.end) for _, c in chosen):
                continue
            chosen.append((score, candidate))
        if not chosen:
            return RankingResult(ranker="heuristic", clips=())
        all_scores = [s for s, _ in scored]
        low, high = min(all_scores), max(all_scores)
        spread = max(high - low, 1e-6)
        clips = tuple(
            RankedClip(
                start=c.start,
                end=c.end,
                title=_title(c.text),
                hook=_first_sentence(c.text),
                reason=_reason(c, options.prompt),
                # The best of a flat talk is not a 10: blend rank position with absolute level.
                score=clamp_score(1 + 6 * (s - low) / spread + min(3.0, max(0.0, s) / 2)),
                transcript=c.text,
            )
            for s, c in chosen
        )
        return RankingResult(ranker="heuristic", clips=clips)
