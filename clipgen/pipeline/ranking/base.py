"""The one interface every ranker implements."""

from __future__ import annotations

from typing import Protocol

from clipgen.pipeline.types import (
    Candidate,
    GenerateOptions,
    RankingResult,
    Signals,
    Transcript,
)


class Ranker(Protocol):
    """Chooses up to `options.clips` non-overlapping moments, best first."""

    name: str

    def rank(
        self,
        *,
        transcript: Transcript,
        signals: Signals,
        candidates: list[Candidate],
        options: GenerateOptions,
    ) -> RankingResult: ...


def clamp_score(value: float) -> int:
    """A virality score as an integer from 1 to 10."""
    return max(1, min(10, round(value)))


def overlaps(a_start: float, a_end: float, b_start: float, b_end: float) -> bool:
    return a_start < b_end and b_start < a_end
