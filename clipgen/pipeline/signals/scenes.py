"""Scene cuts, looked for only near the moments that matter (never a full decode)."""

from __future__ import annotations

import re
import subprocess

from clipgen.pipeline.ffmpeg import ffmpeg_binary

_SCENE_TIME = re.compile(r"lavfi\.scd\.time:\s*([0-9.]+)")


def detect_scene_cuts(
    source: str, ranges: list[tuple[float, float]], *, threshold: float = 12.0
) -> list[float]:
    """Times (in the source) of picture cuts inside the given ranges, at low resolution."""
    cuts: set[float] = set()
    for start, end in ranges:
        if end <= start:
            continue
        command = [
            ffmpeg_binary(),
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "info",
            "-ss",
            f"{max(0.0, start):.3f}",
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
        ]
        done = subprocess.run(command, capture_output=True, text=True, errors="replace")
        for match in _SCENE_TIME.finditer(done.stderr):
            cuts.add(round(max(0.0, start) + float(match.group(1)), 2))
    return sorted(cuts)
