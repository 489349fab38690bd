"""Pipeline benchmark: `make bench`. Prints JSON figures; asserts nothing.

Builds (once, cached in .bench/) a 10-minute 1080p30 talk with varied
espeak-ng speech, scene changes and a face that moves between shots, runs the
whole pipeline for 5 animated-caption 9:16 clips of 30-60 s, and reports
per-stage seconds, the real-time factor, peak memory, the time to the first
(best-ranked) clip and the share of clean cuts, each beside its target. It then
renders the same cuts the way the original prototype did (MoviePy: subclip,
centre crop, resize, TextClip captions, write_videofile) and prints our render
time over theirs, measured in the same run: first like for like (MoviePy given
our x264 preset, CRF and audio settings), then, for reference, at MoviePy's
default x264 preset (`medium`) as the prototype ran it. `--no-moviepy` skips
both; `--no-moviepy-default` skips only the reference.
"""

from __future__ import annotations

import json
import os
import random
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from clipgen.config import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / ".bench"
SOURCE = BENCH_DIR / "talk-10min-1080p30.mp4"
# The targets, printed beside the figures they judge.
TARGET_REAL_TIME_FACTOR = 0.20
TARGET_PEAK_MEMORY_MB = 2048
TARGET_FIRST_CLIP_S = 40.0
# Our renderer's AAC bitrate and rate (clipgen/pipeline/render.py passes them to ffmpeg).
OUR_AUDIO_BITRATE = "128k"
OUR_AUDIO_RATE = 48000
MOVIEPY_DEFAULT_PRESET = "medium"

_OPENERS = [
    "So let me tell you about the time we almost lost everything.",
    "Here is the thing nobody tells you about starting a company!",
    "Why do most people fail at this? It is simpler than you think.",
    "I want to talk about habits, and how small ones add up over a year.",
    "The biggest mistake I ever made cost me two hundred thousand dollars!",
    "Let us go back to the beginning of the story for a moment.",
]
_BODY = [
    "We had three weeks of runway and a product nobody was buying.",
    "Every morning I wrote down the one thing that would move the needle.",
    "The team met on Mondays to review the numbers and plan the week.",
    "Customers told us the onboarding was confusing, so we rebuilt it.",
    "It took eleven tries before the first version actually worked.",
    "Most advice online is written by people who never shipped anything.",
    "You do not need more motivation. You need a system that runs without it.",
    "Our revenue doubled in one quarter after we raised the price!",
    "Honestly, I was terrified. I thought we were finished.",
    "The weather was grey and the office smelled like old coffee.",
    "We moved the meeting to Thursday because of the holiday.",
    "The spreadsheet had forty columns and nobody understood half of them.",
    "Then a single email changed everything for us.",
    "Ask yourself what you would do if you could not fail.",
    "That is insane, right? Nobody believed us at first!",
    "The lesson is simple: talk to your users every single week.",
]


def build_source() -> Path:
    """The 10-minute talk, made once and reused."""
    from tests.support.media import Line, make_talk

    if SOURCE.exists():
        return SOURCE
    BENCH_DIR.mkdir(exist_ok=True)
    rng = random.Random(7)
    lines: list[Line] = []
    seconds = 0.0
    while seconds < 600:
        scene_x = rng.choice([0.2, 0.5, 0.8])
        text = rng.choice(_OPENERS) + " " + " ".join(rng.sample(_BODY, 3))
        excited = "!" in text and rng.random() < 0.6
        line = Line(
            text,
            speed=rng.randint(150, 185) + (25 if excited else 0),
            pitch=rng.randint(35, 60) + (20 if excited else 0),
            gain_db=6.0 if excited else rng.uniform(-2, 2),
            pause_after=rng.choice([0.3, 0.5, 0.8, 1.2]),
            face_x=scene_x,
        )
        lines.append(line)
        seconds += len(text.split()) / (line.speed / 60) + line.pause_after
    partial = SOURCE.with_suffix(".part.mp4")
    make_talk(lines, partial, size=(1920, 1080), fps=30, preset="veryfast")
    partial.replace(SOURCE)
    return SOURCE


class TreeMemory:
    """Samples the resident memory of this process plus its children (ffmpeg) together."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss_kb(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            tasks = Path(f"/proc/{pid}/task").iterdir()
            found = []
            for task in tasks:
                found += [int(c) for c in (task / "children").read_text().split()]
            return found
        except OSError:
            return []

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            pids, total = [me], 0
            while pids:
                pid = pids.pop()
                total += self._rss_kb(pid)
                pids += self._children(pid)
            self.peak_kb = max(self.peak_kb, total)
            time.sleep(self.interval)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def moviepy_settings(*, like_ours: bool) -> dict:
    """The `write_videofile` encoder arguments: ours (x264 preset and CRF, ffmpeg's own
    thread count as our renderer leaves it, AAC 128k at 48 kHz) or the prototype's
    (MoviePy's default preset and audio, 2 threads)."""
    from clipgen.pipeline.render import VIDEO_CRF, VIDEO_PRESET

    if not like_ours:
        return {"preset": MOVIEPY_DEFAULT_PRESET, "threads": 2}
    return {
        "preset": VIDEO_PRESET,
        "ffmpeg_params": ["-crf", str(VIDEO_CRF), "-profile:v", "high"],
        "threads": None,
        "audio_bitrate": OUR_AUDIO_BITRATE,
        "audio_fps": OUR_AUDIO_RATE,
    }


def moviepy_render(source: Path, clips: list[dict], out_dir: Path, settings: dict) -> float:
    """Seconds MoviePy takes to render the same cuts, prototype style, with `settings`."""
    from moviepy import CompositeVideoClip, TextClip, VideoFileClip

    from clipgen.pipeline.captions import caption_lines
    from clipgen.pipeline.types import Word

    font = str(PROJECT_ROOT / "assets" / "fonts" / "Montserrat-ExtraBold.ttf")
    began = time.perf_counter()
    for clip in clips:
        with VideoFileClip(str(source)) as video:
            cut = video.subclipped(clip["start"], clip["end"])
            width, height = cut.size
            crop_w = int(height * 9 / 16) // 2 * 2
            framed = cut.cropped(x_center=width / 2, width=crop_w, height=height).resized(
                (1080, 1920)
            )
            words = [Word(**w) for w in clip["words"]]
            captions = [
                TextClip(
                    font=font,
                    text=" ".join(w.text for w in line),
                    font_size=80,
                    color="white",
                    stroke_color="black",
                    stroke_width=4,
                    size=(1000, None),
                    method="caption",
                )
                .with_start(line[0].start)
                .with_end(line[-1].end)
                .with_position(("center", 1250))
                for line in caption_lines(words)
            ]
            CompositeVideoClip([framed, *captions]).write_videofile(
                str(out_dir / f"moviepy_{clip['rank']:02d}.mp4"),
                codec="libx264",
                audio_codec="aac",
                temp_audiofile=str(out_dir / f"moviepy_{clip['rank']:02d}_audio.m4a"),
                logger=None,
                **settings,
            )
    return time.perf_counter() - began


def clean_cut_share_figure(work: Path, manifest: dict) -> float | None:
    """The share of clip starts and ends that land in measured silence, from the run's
    16 kHz soundtrack and transcript (None when the work folder kept neither)."""
    from clipgen.pipeline.cuts import clean_cut_share

    wav, transcript = work / "audio.wav", work / "transcribe.json"
    if not wav.is_file() or not transcript.is_file():
        return None
    words = [w for s in json.loads(transcript.read_text())["segments"] for w in s["words"]]
    return round(clean_cut_share(wav, manifest["clips"], words), 3)


def main() -> int:
    from clipgen.pipeline.captions import clip_words
    from clipgen.pipeline.run import generate_clips
    from clipgen.pipeline.types import GenerateOptions

    build_began = time.perf_counter()
    source = build_source()
    build_seconds = time.perf_counter() - build_began
    options = GenerateOptions(
        clips=5, min_seconds=30, max_seconds=60, aspect="9:16", captions="animated"
    )
    with tempfile.TemporaryDirectory(prefix="clipgen-bench-") as tmp:
        work = Path(tmp) / "work"
        with TreeMemory() as memory:
            began = time.perf_counter()
            manifest = generate_clips(source, Path(tmp) / "clips", options, work_dir=work)
            total = time.perf_counter() - began
        figures = {
            "source": {
                "path": str(source),
                "duration_s": manifest["duration"],
                "size": "1920x1080",
                "fps": 30,
                "built_now_s": round(build_seconds, 1) if build_seconds > 5 else 0,
            },
            "clips": [
                {
                    "rank": c["rank"],
                    "start": c["start"],
                    "end": c["end"],
                    "score": c["score"],
                    "title": c["title"],
                }
                for c in manifest["clips"]
            ],
            "timings_s": manifest["timings"],
            "total_s": round(total, 2),
            "real_time_factor": round(total / manifest["duration"], 3),
            "real_time_factor_target_max": TARGET_REAL_TIME_FACTOR,
            "peak_memory_mb": {
                "process_tree": round(memory.peak_kb / 1024, 1),
                "python_alone": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            },
            "peak_memory_mb_target_max": TARGET_PEAK_MEMORY_MB,
            "time_to_first_clip_s": manifest["timings"].get("first_clip"),
            "time_to_first_clip_s_target_max": TARGET_FIRST_CLIP_S,
            "clean_cut_share": clean_cut_share_figure(work, manifest),
        }
        print(json.dumps(figures, indent=2), flush=True)
        if "--no-moviepy" not in sys.argv:
            transcript = json.loads((work / "transcribe.json").read_text())
            words = [w for s in transcript["segments"] for w in s["words"]]
            from clipgen.pipeline.types import Word

            all_words = [Word(**w) for w in words]
            for clip in manifest["clips"]:
                clip["words"] = [vars(w) for w in clip_words(all_words, clip["start"], clip["end"])]
            ours = manifest["timings"]["render"]
            preset = moviepy_settings(like_ours=True)["preset"]
            runs = {
                "moviepy_like_for_like": (
                    True,
                    "MoviePy given our x264 preset, CRF, threads and audio settings",
                ),
                "moviepy_default_preset_reference_only": (
                    False,
                    f"the prototype's MoviePy at its default x264 preset "
                    f"({MOVIEPY_DEFAULT_PRESET}) against ours at {preset}: not like for like",
                ),
            }
            if "--no-moviepy-default" in sys.argv:
                del runs["moviepy_default_preset_reference_only"]
            for name, (like_ours, what) in runs.items():
                settings = moviepy_settings(like_ours=like_ours)
                theirs = moviepy_render(source, manifest["clips"], Path(tmp), settings)
                comparison = {
                    "what": what,
                    "moviepy_settings": settings,
                    "render_s": {"clipgen": ours, "moviepy": round(theirs, 2)},
                    "clipgen_over_moviepy": round(ours / theirs, 3),
                }
                print(json.dumps({name: comparison}, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
