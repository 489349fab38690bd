"""Scene cuts, looked for only near the moments that matter (never a full decode)."""

from __future__ import annotations

import re

from clipgen.pipeline.ffmpeg import run_ffmpeg, timeout_for

_SCENE_TIME = re.compile(r"lavfi\.scd\.time:\s*([0-9.]+)")


def detect_scene_cuts(
    source: str, ranges: list[tuple[float, float]], *, threshold: float = 12.0
) -> list[float]:
    """Times (in the source) of picture cuts inside the given ranges, at low resolution.

    A range ffmpeg cannot read has no cuts; one that takes too long raises PipelineError.
    """
    cuts: set[float] = set()
    for start, end in ranges:
        if end <= start:
            continue
        begin = max(0.0, start)
        done = run_ffmpeg(
            [
                "-ss",
                f"{begin:.3f}",
                "-t",
                f"{end - start:.3f}",
                "-i",
                source,
                "-an",
                "-vf",
                f"scale=160:-2,scdet=threshold={threshold}",
                "-f",
                "null",
                "-",
            ],
            what="look for scene changes in the video",
            timeout=timeout_for("scenes", end - begin, seek_seconds=begin),
            loglevel="info",
            check=False,
        )
        for match in _SCENE_TIME.finditer(done.stderr.decode(errors="replace")):
            cuts.add(round(begin + float(match.group(1)), 2))
    return sorted(cuts)
