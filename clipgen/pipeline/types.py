"""The typed values that pass between stages. Plain dataclasses, JSON-friendly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Aspect = Literal["9:16", "1:1", "16:9"]
CaptionStyle = Literal["off", "plain", "animated"]
Layout = Literal["auto", "speaker", "split", "fit"]

ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "9:16": (1080, 1920),
    "1:1": (1080, 1080),
    "16:9": (1920, 1080),
}

# A progress callback: (stage name, percent of that stage 0-100).
Progress = Callable[[str, float], None]


def no_progress(_stage: str, _percent: float) -> None:
    """The progress callback that reports nowhere."""


@dataclass(frozen=True)
class MediaInfo:
    """What probing found in the source file."""

    path: str
    duration: float
    width: int
    height: int
    fps: float
    rotation: int
    has_audio: bool
    video_codec: str
    audio_codec: str
    size_bytes: int

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as shown, after the rotation tag is applied."""
        if self.rotation % 180:
            return self.height, self.width
        return self.width, self.height


@dataclass(frozen=True)
class Word:
    """One spoken word with its times in seconds from the start of the source."""

    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    """A stretch of speech Whisper returned, usually a sentence or two."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...]


@dataclass(frozen=True)
class Transcript:
    language: str
    duration: float
    segments: tuple[Segment, ...]

    @property
    def words(self) -> list[Word]:
        return [word for segment in self.segments for word in segment.words]

    def text_between(self, start: float, end: float) -> str:
        """The words whose middle lies in [start, end], joined."""
        return " ".join(
            w.text.strip() for w in self.words if start <= (w.start + w.end) / 2 <= end
        ).strip()


@dataclass(frozen=True)
class Signals:
    """Per-time features of the source, sampled every `hop` seconds."""

    hop: float
    loudness_db: tuple[float, ...]
    energy_peaks: tuple[float, ...]
    silences: tuple[tuple[float, float], ...]
    scene_cuts: tuple[float, ...] = ()

    def mean_loudness(self, start: float, end: float) -> float:
        first, last = int(start / self.hop), max(int(start / self.hop) + 1, int(end / self.hop))
        window = self.loudness_db[first:last]
        return sum(window) / len(window) if window else -90.0


@dataclass(frozen=True)
class Candidate:
    """A window that could become a clip: starts and ends on speech boundaries."""

    start: float
    end: float
    text: str
    features: dict[str, float] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class RankedClip:
    """A chosen moment with what a ranker says about it."""

    start: float
    end: float
    title: str
    hook: str
    reason: str
    score: int  # 1-10
    transcript: str


@dataclass(frozen=True)
class RankingResult:
    """What a ranker returned, and how (fallbacks and costs are recorded)."""

    ranker: Literal["heuristic", "gemini"]
    clips: tuple[RankedClip, ...]
    fallback_reason: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class GenerateOptions:
    """What the user asked for."""

    clips: int = 5
    min_seconds: float = 30.0
    max_seconds: float = 60.0
    aspect: Aspect = "9:16"
    captions: CaptionStyle = "animated"
    language: str = "auto"
    prompt: str = ""
    layout: Layout = "auto"  # how two people are framed; older stored options lack it


@dataclass(frozen=True)
class RenderedClip:
    """The files made for one clip, and the clip's place in the ranking."""

    rank: int
    clip: RankedClip
    video: str
    srt: str
    vtt: str
    thumbnail: str


def to_json(value: Any) -> Any:
    """A dataclass tree as plain JSON-able data."""
    return asdict(value)
