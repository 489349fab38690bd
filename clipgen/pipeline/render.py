"""Rendering one clip: a single ffmpeg encode that reframes, captions and normalises."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from fractions import Fraction
from pathlib import Path

from clipgen.config import PROJECT_ROOT
from clipgen.pipeline.captions import clip_words, write_ass, write_srt, write_vtt
from clipgen.pipeline.errors import PipelineError
from clipgen.pipeline.ffmpeg import run_ffmpeg, timeout_for
from clipgen.pipeline.reframe import crop_filter, plan_crop
from clipgen.pipeline.types import (
    ASPECT_SIZES,
    GenerateOptions,
    MediaInfo,
    RankedClip,
    RenderedClip,
    Word,
)

log = logging.getLogger(__name__)

FONTS_DIR = PROJECT_ROOT / "assets" / "fonts"
# Render time is what users wait for, and the platforms re-encode uploads anyway: the
# fastest preset's bigger files cost little. (1080x1920 on 2 cores: ultrafast ~70 fps,
# superfast ~50, veryfast ~43.)
VIDEO_PRESET = "ultrafast"
VIDEO_CRF = 23
AUDIO_FILTER = "loudnorm=I=-14:TP=-1.5:LRA=11,aresample=48000"
THUMBNAIL_AT = 1.0  # seconds into the clip, or its middle when shorter
MIN_CLIP_SECONDS = 0.1
KNOWN_RATES = (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001))


def render_clip(
    *,
    source: str,
    info: MediaInfo,
    clip: RankedClip,
    words: list[Word],
    options: GenerateOptions,
    out_dir: Path,
    rank: int,
    scene_cuts: list[float] | tuple[float, ...] = (),
    fonts_dir: Path | None = None,
) -> RenderedClip:
    """Render `clip` of `source` to clip_NN.mp4 with its captions and thumbnail in `out_dir`."""
    out_dir = Path(out_dir).resolve()
    stem = f"clip_{rank:02d}"
    video, srt, vtt, thumbnail = (out_dir / f"{stem}.{ext}" for ext in ("mp4", "srt", "vtt", "jpg"))
    partial = out_dir / f"{stem}.part.mp4"
    made = (video, srt, vtt, thumbnail, partial)
    start = max(0.0, clip.start)
    end = min(clip.end, info.duration) if info.duration > 0 else clip.end
    if end - start < MIN_CLIP_SECONDS:
        raise PipelineError(f"Clip {rank} is empty ({clip.start:.2f}s to {clip.end:.2f}s).")
    if options.aspect not in ASPECT_SIZES:
        raise PipelineError(f"Unknown aspect ratio {options.aspect!r}.")
    width, height = ASPECT_SIZES[options.aspect]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        plan = plan_crop(source, info, start, end, options.aspect, list(scene_cuts), options.layout)
        spoken = clip_words(words, start, end)
        write_srt(spoken, srt, until=end - start)
        write_vtt(spoken, vtt, until=end - start)
        with tempfile.TemporaryDirectory(prefix="clipgen-render-") as scratch:
            captions = None
            if options.captions != "off" and spoken:
                captions = Path(scratch) / "captions.ass"
                write_ass(
                    spoken,
                    captions,
                    style=options.captions,
                    width=width,
                    height=height,
                    until=end - start,
                )
            graph = _filter_graph(
                crop_filter(plan),
                _frame_rate(info.fps),
                captions,
                Path(fonts_dir or FONTS_DIR).resolve(),
                thumbnail_frame=_thumbnail_frame(end - start, info.fps),
                has_audio=info.has_audio,
            )
            run_ffmpeg(
                _arguments(source, start, end - start, graph, info.has_audio, partial, thumbnail),
                what=f"render clip {rank}",
                timeout=timeout_for("render", end - start, seek_seconds=start),
            )
        if not thumbnail.is_file() or not partial.is_file() or partial.stat().st_size == 0:
            detail = f"ffmpeg succeeded but wrote no video or thumbnail in {out_dir}"
            log.warning("Could not render clip %s: %s", rank, detail)
            raise PipelineError(
                f"Could not render clip {rank}. The video may be damaged or in a format "
                "ClipGen cannot process; try again, or try another file.",
                detail=detail,
            )
        partial.replace(video)
    except OSError as error:
        _remove(made)
        detail = f"{type(error).__name__}: {error}"
        log.warning("Could not save clip %s: %s", rank, detail)
        raise PipelineError(
            f"Could not save clip {rank}: the server could not write its files. Try again later.",
            detail=detail,
        ) from error
    except BaseException:
        _remove(made)
        raise
    return RenderedClip(
        rank=rank, clip=clip, video=str(video), srt=str(srt), vtt=str(vtt), thumbnail=str(thumbnail)
    )


def _arguments(
    source: str,
    start: float,
    duration: float,
    graph: str,
    has_audio: bool,
    video: Path,
    thumbnail: Path,
) -> list[str]:
    """The ffmpeg command line (after the binary) for one clip."""
    # -ss before -i seeks to the keyframe before `start` and decodes from there, so with
    # re-encoding the first frame is the one at `start`, and filter time starts at 0.
    inputs = ["-ss", f"{start:.3f}", "-i", source]
    if not has_audio:
        inputs += ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"]
    return [
        *inputs,
        "-filter_complex",
        graph,
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-t",
        f"{duration:.3f}",
        "-c:v",
        "libx264",
        "-preset",
        VIDEO_PRESET,
        "-crf",
        str(VIDEO_CRF),
        "-profile:v",
        "high",
        "-pix_fmt",
        "yuv420p",
        "-fps_mode",
        "cfr",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-ar",
        "48000",
        "-ac",
        "2",
        "-movflags",
        "+faststart",
        "-map_metadata",
        "-1",
        "-f",
        "mp4",
        str(video),
        "-map",
        "[thumb]",
        "-frames:v",
        "1",
        "-q:v",
        "3",
        "-update",
        "1",
        str(thumbnail),
    ]


def _filter_graph(
    framing: str,
    rate: str,
    captions: Path | None,
    fonts_dir: Path,
    *,
    thumbnail_frame: int,
    has_audio: bool,
) -> str:
    """The filtergraph: constant rate, reframe, split off a thumbnail, burn captions, audio."""
    burn = ""
    if captions is not None:
        burn = f"ass=filename={_option(captions)}:fontsdir={_option(fonts_dir)},"
    audio = f"[0:a:0]{AUDIO_FILTER}[a]" if has_audio else "[1:a]anull[a]"
    return ";".join(
        [
            f"[0:v:0]fps={rate},{framing},split=2[rf_main][rf_thumb]",
            f"[rf_main]{burn}format=yuv420p[v]",
            # The JPEG's full-range pixels would otherwise be negotiated back through the
            # split and flag the whole video as full range.
            f"[rf_thumb]select='eq(n,{thumbnail_frame})',scale=out_range=full[thumb]",
            audio,
        ]
    )


def _option(path: Path) -> str:
    """A path escaped to be a filter option value inside a filtergraph."""
    value = str(path)
    for char in "\\':":
        value = value.replace(char, "\\" + char)
    for char in "\\'[],;":
        value = value.replace(char, "\\" + char)
    return value


def _frame_rate(fps: float) -> str:
    """The output frame rate: the source's when sane, else a standard one."""
    if not 10.0 <= fps <= 60.5:
        fps = fps / 2 if 60.5 < fps <= 121.0 else 30.0
    for known in KNOWN_RATES:
        if abs(fps - float(known)) < 0.01:
            return f"{known.numerator}/{known.denominator}"
    rate = Fraction(fps).limit_denominator(1001)
    return f"{rate.numerator}/{rate.denominator}"


def _thumbnail_frame(duration: float, fps: float) -> int:
    """The frame number the thumbnail is taken from."""
    rate = Fraction(_frame_rate(fps))
    return int(min(THUMBNAIL_AT, duration / 2) * rate)


def _remove(paths: tuple[Path, ...]) -> None:
    """Delete what a failed render may have left."""
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
