"""Finding and running the ffmpeg binary."""

from __future__ import annotations

import subprocess
from functools import lru_cache

from clipgen.config import get_settings
from clipgen.pipeline.errors import PipelineError


@lru_cache(maxsize=1)
def ffmpeg_binary() -> str:
    """`FFMPEG_BINARY`, or the static ffmpeg that imageio-ffmpeg ships."""
    configured = get_settings().ffmpeg_binary
    if configured:
        return configured
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: list[str], *, what: str) -> subprocess.CompletedProcess:
    """Run ffmpeg quietly; a failure becomes a PipelineError naming `what`."""
    command = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    done = subprocess.run(command, capture_output=True)
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise PipelineError(f"Could not {what}: {' '.join(detail) or 'ffmpeg failed'}")
    return done
