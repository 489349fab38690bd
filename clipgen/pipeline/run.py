"""The whole pipeline, stage by stage, resumable from the last finished stage.

Each stage is a function with typed inputs and outputs (see the modules it
imports); `generate_clips` runs them in order, saves each stage's output as
JSON in a work folder, and on a second call with the same work folder skips
the stages that already finished. Outputs appear in the output folder only
when every clip is done: a failure or a cancel leaves nothing half-written.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, is_dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from clipgen.config import PROJECT_ROOT
from clipgen.pipeline.audio import SAMPLE_RATE, extract_audio, load_audio
from clipgen.pipeline.candidates import find_candidates
from clipgen.pipeline.cuts import HOP_S, Envelope, clean_bounds, rms_envelope, speech_rms
from clipgen.pipeline.errors import Cancelled, InvalidVideo, PipelineError
from clipgen.pipeline.options import (
    ASPECTS,
    CAPTION_STYLES,
    MAX_CLIP_SECONDS,
    MAX_CLIPS,
    MAX_PROMPT_LENGTH,
    MIN_CLIP_SECONDS,
    MIN_CLIPS,
    MIN_LENGTH_SPREAD_S,
)
from clipgen.pipeline.probe import probe
from clipgen.pipeline.ranking.base import Ranker
from clipgen.pipeline.ranking.heuristic import HeuristicRanker
from clipgen.pipeline.signals import compute_signals
from clipgen.pipeline.signals.scenes import detect_scene_cuts
from clipgen.pipeline.transcribe import transcribe
from clipgen.pipeline.types import (
    Candidate,
    GenerateOptions,
    MediaInfo,
    Progress,
    RankedClip,
    RankingResult,
    Segment,
    Signals,
    Transcript,
    Word,
    no_progress,
)

FONTS_DIR = PROJECT_ROOT / "assets" / "fonts"
# Share of the whole run each stage takes, for one overall percentage.
STAGE_WEIGHTS = {
    "probe": 1,
    "audio": 3,
    "transcribe": 40,
    "signals": 2,
    "candidates": 2,
    "rank": 2,
    "plan": 1,
    "render": 50,
}
STAGES = tuple(STAGE_WEIGHTS)


def overall_percent(stage: str, stage_percent: float) -> int:
    """The run's overall percentage when `stage` is `stage_percent` done."""
    done = 0.0
    for name, weight in STAGE_WEIGHTS.items():
        if name == stage:
            done += weight * max(0.0, min(100.0, stage_percent)) / 100
            break
        done += weight
    return int(100 * done / sum(STAGE_WEIGHTS.values()))


def check_options(options: GenerateOptions) -> None:
    """Refuse options that cannot make clips, saying which and why."""
    if not isinstance(options.clips, int) or isinstance(options.clips, bool):
        raise PipelineError(f"Ask for between {MIN_CLIPS} and {MAX_CLIPS} clips.")
    # NaN passes every comparison below (all false) and PostgreSQL refuses it in JSON.
    if not (_is_real(options.min_seconds) and _is_real(options.max_seconds)):
        raise PipelineError("Enter the clip lengths as numbers of seconds, like 30.")
    if not MIN_CLIPS <= options.clips <= MAX_CLIPS:
        raise PipelineError(f"Ask for between {MIN_CLIPS} and {MAX_CLIPS} clips.")
    if options.min_seconds < MIN_CLIP_SECONDS:
        raise PipelineError(f"Clips must be at least {MIN_CLIP_SECONDS:.0f} seconds long.")
    if options.max_seconds > MAX_CLIP_SECONDS:
        raise PipelineError(f"Clips can be at most {MAX_CLIP_SECONDS:.0f} seconds long.")
    if options.max_seconds - options.min_seconds < MIN_LENGTH_SPREAD_S:
        raise PipelineError(
            f"Leave at least {MIN_LENGTH_SPREAD_S:.0f} seconds between the shortest and the "
            "longest clip length."
        )
    if options.aspect not in ASPECTS:
        raise PipelineError(f"Choose an aspect of {_one_of(ASPECTS)}.")
    if options.captions not in CAPTION_STYLES:
        raise PipelineError(f"Choose captions {_one_of(CAPTION_STYLES)}.")
    from clipgen.pipeline.options import LAYOUTS

    if options.layout not in LAYOUTS:
        raise PipelineError(f"Choose a layout of {_one_of(LAYOUTS)}.")
    if len(options.prompt) > MAX_PROMPT_LENGTH:
        raise PipelineError(f"Keep the prompt to {MAX_PROMPT_LENGTH} characters.")


def _is_real(value: object) -> bool:
    """A finite int or float (not a bool, NaN or an infinity)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _one_of(choices: dict[str, str]) -> str:
    values = list(choices)
    return ", ".join(values[:-1]) + " or " + values[-1]


def _load_transcript(data: dict[str, Any]) -> Transcript:
    return Transcript(
        language=data["language"],
        duration=data["duration"],
        segments=tuple(
            Segment(
                start=s["start"],
                end=s["end"],
                text=s["text"],
                words=tuple(Word(**w) for w in s["words"]),
            )
            for s in data["segments"]
        ),
    )


def _load_signals(data: dict[str, Any]) -> Signals:
    return Signals(
        hop=data["hop"],
        loudness_db=tuple(data["loudness_db"]),
        energy_peaks=tuple(data["energy_peaks"]),
        silences=tuple(tuple(s) for s in data["silences"]),
        scene_cuts=tuple(data.get("scene_cuts", ())),
    )


def _load_ranking(data: dict[str, Any]) -> RankingResult:
    return RankingResult(**{**data, "clips": tuple(RankedClip(**c) for c in data["clips"])})


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return asdict(value) if is_dataclass(value) else value


class _Stages:
    """Runs a stage once per work folder, keeping its output as JSON."""

    def __init__(self, work_dir: Path, progress: Progress, should_cancel: Callable[[], bool]):
        self.work_dir = work_dir
        self.progress = progress
        self.should_cancel = should_cancel
        self.timings: dict[str, float] = {}

    def run(self, stage: str, compute: Callable[[], Any], load: Callable[[dict], Any]) -> Any:
        if self.should_cancel():
            raise Cancelled()
        saved = self.work_dir / f"{stage}.json"
        if saved.exists():
            self.progress(stage, 100.0)
            return load(json.loads(saved.read_text()))
        self.progress(stage, 0.0)
        began = time.perf_counter()
        value = compute()
        self.timings[stage] = round(time.perf_counter() - began, 3)
        partial = saved.with_suffix(".tmp")
        partial.write_text(json.dumps(_jsonable(value)))
        partial.replace(saved)
        self.progress(stage, 100.0)
        return value


def _snap_to_scene_cuts(clip: RankedClip, cuts: list[float], words: list[Word]) -> RankedClip:
    """Start or end a clip on a nearby picture cut when the cut falls in a pause."""

    def in_pause(t: float) -> bool:
        return not any(w.start - 0.05 < t < w.end + 0.05 for w in words)

    start, end = clip.start, clip.end
    for cut in cuts:
        if start < cut <= start + 1.0 and in_pause(cut):
            start = cut
        if end - 1.0 <= cut < end and in_pause(cut):
            end = cut
    if (start, end) == (clip.start, clip.end) or end - start < 1.0:
        return clip
    return RankedClip(**{**asdict(clip), "start": round(start, 3), "end": round(end, 3)})


def _cut_in_silence(
    clips: list[RankedClip],
    words: list[Word],
    envelope: Envelope,
    options: GenerateOptions,
    duration: float,
    scene_cuts: list[float],
) -> list[RankedClip]:
    """Each clip's start and end moved into the measured silence around its words."""
    speech = speech_rms(envelope, words)
    moved = []
    for clip in clips:
        start, end = clean_bounds(
            clip.start,
            clip.end,
            words,
            envelope,
            min_seconds=options.min_seconds,
            max_seconds=options.max_seconds,
            duration=duration,
            speech=speech,
            scene_cuts=scene_cuts,
        )
        moved.append(RankedClip(**{**asdict(clip), "start": start, "end": end}))
    return moved


def default_ranker() -> Ranker:
    """Gemini when `GEMINI_API_KEY` is set (heuristic as its fallback), else heuristic."""
    from clipgen.config import get_settings

    settings = get_settings()
    heuristic = HeuristicRanker()
    key = settings.gemini_api_key.get_secret_value()
    if not key:
        return heuristic
    from clipgen.pipeline.ranking.gemini import GeminiRanker

    return GeminiRanker(api_key=key, model=settings.gemini_model, fallback=heuristic)


class _SourceStages:
    """The stages that depend only on the source (and on the speech model and language):
    probe, audio, transcribe and signals. `generate_clips` and `analyse_source` share them,
    so a work folder one of them filled is picked up by the other."""

    def __init__(
        self,
        stages: _Stages,
        video: str | Path,
        *,
        language: str,
        whisper_model: str | None,
        max_duration_s: float | None,
    ) -> None:
        from clipgen.config import get_settings

        self.stages = stages
        self.video = video
        self.language = language
        self.whisper_model = (
            get_settings().whisper_model if whisper_model is None else whisper_model
        )
        self.max_duration_s = max_duration_s
        self.wav = stages.work_dir / "audio.wav"
        self._samples = None

    def probe(self) -> MediaInfo:
        return self.stages.run(
            "probe",
            lambda: probe(self.video, max_duration_s=self.max_duration_s),
            lambda d: MediaInfo(**d),
        )

    def audio(self, info: MediaInfo) -> None:
        """Extract the soundtrack once (skipped when later stages need no samples)."""
        self.stages.run(
            "audio",
            lambda: {"wav": str(extract_audio(info.path, self.wav, duration=info.duration))},
            lambda d: d,
        )

    def samples(self):
        """The soundtrack's samples, read from the WAV only when a stage must compute."""
        if self._samples is None:
            self._samples = load_audio(self.wav)
        return self._samples

    def transcribe(self) -> Transcript:
        return self.stages.run(
            "transcribe",
            lambda: transcribe(
                self.samples(),
                model_name=self.whisper_model,
                language=self.language,
                progress=self.stages.progress,
                should_cancel=self.stages.should_cancel,
            ),
            _load_transcript,
        )

    def signals(self) -> Signals:
        return self.stages.run(
            "signals", lambda: compute_signals(self.samples(), SAMPLE_RATE), _load_signals
        )

    def envelope(self, info: MediaInfo) -> Envelope:
        """The soundtrack's RMS envelope, kept in the work folder; the WAV is extracted
        again when a reused analysis left none."""
        saved = self.stages.work_dir / ENVELOPE_FILE
        if saved.exists():
            rms = np.load(saved)
            return Envelope(rms=rms, duration=rms.size * HOP_S)
        began = time.perf_counter()
        if self._samples is None and not self.wav.exists():
            extract_audio(info.path, self.wav, duration=info.duration)
        envelope = rms_envelope(self.samples(), SAMPLE_RATE)
        partial = saved.with_suffix(".part.npy")
        np.save(partial, envelope.rms)
        partial.replace(saved)
        self.stages.timings["envelope"] = round(time.perf_counter() - began, 3)
        return envelope

    def drop_audio(self) -> None:
        self._samples = None


@dataclass(frozen=True)
class SourceAnalysis:
    """What `analyse_source` found: the same values its stage files hold."""

    info: MediaInfo
    transcript: Transcript
    signals: Signals
    timings: dict[str, float]


# The stages `analyse_source` runs, and of those the files another work folder can reuse
# (audio.json only names the WAV, which the later stages no longer need; the soundtrack's
# envelope, ENVELOPE_FILE, is shared beside them).
ANALYSIS_STAGES = ("probe", "audio", "transcribe", "signals")
SHARED_STAGES = ("probe", "transcribe", "signals")
ENVELOPE_FILE = "envelope.npy"


def analyse_source(
    video: str | Path,
    work_dir: str | Path,
    *,
    language: str = "auto",
    whisper_model: str | None = None,
    progress: Progress = no_progress,
    should_cancel: Callable[[], bool] = lambda: False,
    max_duration_s: float | None = None,
) -> SourceAnalysis:
    """Run only the stages that depend on the source (probe, audio, transcribe, signals)
    into `work_dir`, exactly as `generate_clips` runs them; finished stages are skipped.

    A `generate_clips` call given the same work folder (and the same language and speech
    model) then goes straight to finding candidates.
    """
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    stages = _Stages(work, progress, should_cancel)
    source = _SourceStages(
        stages,
        video,
        language=language,
        whisper_model=whisper_model,
        max_duration_s=max_duration_s,
    )
    info = source.probe()
    source.audio(info)
    transcript = source.transcribe()
    signals = source.signals()
    source.envelope(info)  # kept as envelope.npy, shared with the source's other jobs
    source.drop_audio()
    return SourceAnalysis(info, transcript, signals, dict(stages.timings))


@dataclass(frozen=True)
class PlannedClip:
    """One chosen clip, ready to render anywhere: its final bounds (cut in silence), the
    picture cuts inside it and the words it speaks. JSON-friendly (`asdict` / `of`)."""

    rank: int
    clip: RankedClip
    scene_cuts: tuple[float, ...]
    words: tuple[Word, ...]

    @classmethod
    def of(cls, data: dict[str, Any]) -> PlannedClip:
        return cls(
            rank=int(data["rank"]),
            clip=RankedClip(**data["clip"]),
            scene_cuts=tuple(float(c) for c in data["scene_cuts"]),
            words=tuple(Word(**w) for w in data["words"]),
        )


@dataclass(frozen=True)
class ClipPlan:
    """What every stage before rendering decided: the source, the clips best first, and
    how they were ranked. Each clip renders on its own (`render_planned`), so the clips of
    one video can be rendered one after another or by several workers at once."""

    info: MediaInfo
    clips: tuple[PlannedClip, ...]
    ranker: str
    fallback_reason: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    language: str

    @classmethod
    def of(cls, data: dict[str, Any]) -> ClipPlan:
        return cls(
            **{
                **data,
                "info": MediaInfo(**data["info"]),
                "clips": tuple(PlannedClip.of(c) for c in data["clips"]),
            }
        )


def plan_clips(
    video: str | Path,
    work_dir: str | Path,
    options: GenerateOptions = GenerateOptions(),
    *,
    ranker: Ranker | None = None,
    progress: Progress = no_progress,
    should_cancel: Callable[[], bool] = lambda: False,
    max_duration_s: float | None = None,
    whisper_model: str | None = None,
    timings: dict[str, float] | None = None,
) -> ClipPlan:
    """Run every stage before rendering in `work_dir` (finished stages are skipped) and
    decide the clips: ranked moments, snapped to picture cuts, cut in measured silence.

    `timings`, when given, receives the seconds each stage that ran here took.
    """
    check_options(options)
    ranker = ranker or default_ranker()
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    stages = _Stages(work, progress, should_cancel)
    if timings is not None:
        stages.timings = timings
    source = _SourceStages(
        stages,
        video,
        language=options.language,
        whisper_model=whisper_model,
        max_duration_s=max_duration_s,
    )
    info = source.probe()
    if info.duration < options.min_seconds:
        raise InvalidVideo(
            f"The video is {info.duration:.0f} seconds long, shorter than the shortest "
            f"clip asked for ({options.min_seconds:.0f} s)."
        )
    source.audio(info)
    transcript = source.transcribe()
    if not transcript.words:
        raise InvalidVideo("No speech was found in the video, so there is nothing to clip.")
    signals = source.signals()
    envelope = source.envelope(info)
    source.drop_audio()  # free the samples before rendering
    candidates: list[Candidate] = stages.run(
        "candidates",
        lambda: find_candidates(
            transcript,
            signals,
            min_seconds=options.min_seconds,
            max_seconds=options.max_seconds,
        ),
        lambda data: [Candidate(**c) for c in data],
    )
    if not candidates:
        raise PipelineError(
            f"Could not find {options.min_seconds:.0f}-{options.max_seconds:.0f} s of "
            "continuous speech that starts and ends on a sentence. Try a wider length range."
        )
    ranking: RankingResult = stages.run(
        "rank",
        lambda: ranker.rank(
            transcript=transcript, signals=signals, candidates=candidates, options=options
        ),
        _load_ranking,
    )

    def decide() -> ClipPlan:
        words = transcript.words
        cuts = detect_scene_cuts(
            info.path,
            [
                r
                for c in ranking.clips
                for r in ((c.start - 0.2, c.start + 1.2), (c.end - 1.2, c.end + 0.2))
            ],
        )
        clips = [_snap_to_scene_cuts(c, cuts, words) for c in ranking.clips]
        clips = _cut_in_silence(clips, words, envelope, options, info.duration, cuts)
        return ClipPlan(
            info=info,
            clips=tuple(
                PlannedClip(
                    rank=rank,
                    clip=clip,
                    scene_cuts=tuple(c for c in cuts if clip.start < c < clip.end),
                    words=tuple(w for w in words if w.end > clip.start and w.start < clip.end),
                )
                for rank, clip in enumerate(clips, start=1)
            ),
            ranker=ranking.ranker,
            fallback_reason=ranking.fallback_reason,
            tokens_in=ranking.tokens_in,
            tokens_out=ranking.tokens_out,
            cost_usd=ranking.cost_usd,
            language=transcript.language,
        )

    plan: ClipPlan = stages.run("plan", decide, ClipPlan.of)
    # probe.json may name another copy of the source (a shared analysis): this run's own.
    return replace(plan, info=replace(plan.info, path=info.path))


def render_planned(
    item: PlannedClip, info: MediaInfo, options: GenerateOptions, out_dir: str | Path
):
    """Render one planned clip of the source `info.path` into `out_dir` (clip_NN.*)."""
    from clipgen.pipeline.render import render_clip

    return render_clip(
        source=info.path,
        info=info,
        clip=item.clip,
        words=list(item.words),
        options=options,
        out_dir=Path(out_dir),
        rank=item.rank,
        scene_cuts=list(item.scene_cuts),
        fonts_dir=FONTS_DIR,
    )


def generate_clips(
    video: str | Path,
    out_dir: str | Path,
    options: GenerateOptions = GenerateOptions(),
    *,
    ranker: Ranker | None = None,
    work_dir: str | Path | None = None,
    progress: Progress = no_progress,
    should_cancel: Callable[[], bool] = lambda: False,
    max_duration_s: float | None = None,
    whisper_model: str | None = None,
) -> dict[str, Any]:
    """Turn a long video into ranked, captioned clips; returns the manifest.

    The clips are rendered best first, one after another; outputs move into `out_dir`
    only when every clip is done.
    """
    check_options(options)
    out = Path(out_dir).resolve()
    own_work_dir = work_dir is None
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="clipgen-work-"))
    work.mkdir(parents=True, exist_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-partial-", dir=out.parent))
    timings: dict[str, float] = {}
    began = time.perf_counter()
    try:
        plan = plan_clips(
            video,
            work,
            options,
            ranker=ranker,
            progress=progress,
            should_cancel=should_cancel,
            max_duration_s=max_duration_s,
            whisper_model=whisper_model,
            timings=timings,
        )
        render_began = time.perf_counter()
        rendered = []
        for item in plan.clips:
            if should_cancel():
                raise Cancelled()
            rendered.append(render_planned(item, plan.info, options, staging))
            if item.rank == 1:  # what a user waits for before the best clip can be shown
                timings["first_clip"] = round(time.perf_counter() - began, 3)
            progress("render", 100.0 * item.rank / len(plan.clips))
        timings["render"] = round(time.perf_counter() - render_began, 3)
        timings["total"] = round(time.perf_counter() - began, 3)

        out.mkdir(parents=True, exist_ok=True)
        manifest_clips = []
        for item in rendered:
            paths = {}
            for key in ("video", "srt", "vtt", "thumbnail"):
                target = out / Path(getattr(item, key)).name
                os.replace(getattr(item, key), target)
                paths[key] = str(target)
            manifest_clips.append({"rank": item.rank, **asdict(item.clip), **paths})
        manifest = {
            "source": plan.info.path,
            "duration": plan.info.duration,
            "ranker": plan.ranker,
            "fallback_reason": plan.fallback_reason,
            "tokens": {"input": plan.tokens_in, "output": plan.tokens_out},
            "cost_usd": plan.cost_usd,
            "language": plan.language,
            "options": asdict(options),
            "clips": manifest_clips,
            "timings": timings,
        }
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if own_work_dir:
            shutil.rmtree(work, ignore_errors=True)
