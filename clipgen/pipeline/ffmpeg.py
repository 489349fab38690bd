"""Finding and running the ffmpeg binary, never for longer than its media warrants.

Every ffmpeg run has a time limit that grows with the media it works on (see
`timeout_for`), so a hung ffmpeg cannot stall a job forever while a legitimate
4-hour source is never cut short. ffmpeg runs in its own process group, and a run
that times out or is interrupted is killed with everything it started.

Failures become `PipelineError`s whose message is a plain sentence for the user;
ffmpeg's output, the exit status and the input file go in `error.detail` and the log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from clipgen.config import get_settings
from clipgen.pipeline.errors import PipelineError

log = logging.getLogger(__name__)

# The time limits, in one place (tests shorten them). A run may take
#   TIMEOUT_FLOOR_S
#   + TIMEOUT_PER_MEDIA_SECOND[work] * seconds of media it processes
#   + TIMEOUT_PER_SEEK_SECOND * seconds into the source it seeks first
# Each factor is a wide margin over the speed measured on a 2-core machine, for slow
# disks, 4K/HEVC/60 fps sources and several jobs sharing the CPU.
TIMEOUT_FLOOR_S = 300.0  # starting up, opening and probing even a huge or badly indexed file
TIMEOUT_PER_MEDIA_SECOND = {
    "audio": 0.5,  # demux a whole file, decode only its sound: ~500x real time measured
    "render": 10.0,  # decode, reframe, caption, encode 1080x1920: ~2x real time measured
    "faces": 10.0,  # decode small grey frames while faces are detected in them
    "scenes": 10.0,  # decode 160 px frames for scene cut detection
}
TIMEOUT_PER_SEEK_SECOND = 0.05  # a file without an index is read up to the seek point
# How much of ffmpeg's output to keep as an error's detail.
DETAIL_LINES = 12
DETAIL_CHARS = 2000
# How long to wait for a killed ffmpeg's pipes to close.
KILL_GRACE_S = 5.0

FAILED = (
    "Could not {what}. The video may be damaged or in a format ClipGen cannot process; "
    "try again, or try another file."
)
TOO_SLOW = (
    "Processing the video took too long, so ClipGen stopped trying to {what}. "
    "Try again later, or try a shorter video."
)
NOT_STARTED = (
    "Could not {what}: ClipGen's video tool could not be started. Try again later; "
    "if it keeps happening, tell the site's administrators."
)


@lru_cache(maxsize=1)
def ffmpeg_binary() -> str:
    """`FFMPEG_BINARY`, or the static ffmpeg that imageio-ffmpeg ships."""
    configured = get_settings().ffmpeg_binary
    if configured:
        return configured
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def timeout_for(work: str, media_seconds: float, *, seek_seconds: float = 0.0) -> float:
    """Seconds an ffmpeg run doing `work` on `media_seconds` of media may take."""
    return (
        TIMEOUT_FLOOR_S
        + TIMEOUT_PER_MEDIA_SECOND[work] * max(0.0, media_seconds)
        + TIMEOUT_PER_SEEK_SECOND * max(0.0, seek_seconds)
    )


def run_ffmpeg(
    args: list[str],
    *,
    what: str,
    timeout: float,
    loglevel: str = "error",
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg quietly for at most `timeout` seconds.

    `what` completes "Could not ..." in the user's words. A failure (when `check`), a
    timeout or a binary that will not start becomes a PipelineError; a timed-out ffmpeg
    is killed with its whole process group before this returns.
    """
    command = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", loglevel, "-y", *args]
    process = start_ffmpeg(command, what=what, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_process_group(process)
            stderr = b""
            with contextlib.suppress(subprocess.TimeoutExpired):
                _, stderr = process.communicate(timeout=KILL_GRACE_S)
            raise timed_out(what, timeout, command, stderr) from None
        except BaseException:
            kill_process_group(process)
            raise
    if check and process.returncode != 0:
        raise failed(what, command, process.returncode, stderr)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def start_ffmpeg(command: list[str], *, what: str, **popen: Any) -> subprocess.Popen:
    """Start `command` in its own process group, without a stdin."""
    try:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True, **popen)
    except OSError as error:
        detail = f"could not start {command[0]!r}: {error}"
        log.error("Could not %s: %s", what, detail)
        raise PipelineError(NOT_STARTED.format(what=what), detail=detail) from error


def kill_process_group(process: subprocess.Popen) -> None:
    """Kill `process` and everything it started (it leads its own process group)."""
    # Only while it is unreaped: until then its pid, and so its group id, cannot be reused.
    if process.returncode is None and hasattr(os, "killpg"):
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        process.kill()


class Watchdog:
    """Kills a process's group if it is still running `timeout` seconds after entering.

    For a process whose output is read as it comes (a pipe the caller reads with
    blocking reads, which no timeout argument can bound). `expired` says whether it fired.
    """

    def __init__(self, process: subprocess.Popen, timeout: float) -> None:
        self.process = process
        self.timeout = timeout
        self.expired = threading.Event()
        self._timer = threading.Timer(timeout, self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.expired.set()
        kill_process_group(self.process)

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()


def failed(what: str, command: Sequence[str], returncode: int, stderr: bytes) -> PipelineError:
    """The error for an ffmpeg run that exited with `returncode`, logged."""
    detail = f"ffmpeg exited with status {returncode}{_inputs(command)}: {output_tail(stderr)}"
    log.warning("Could not %s: %s", what, detail)
    return PipelineError(FAILED.format(what=what), detail=detail)


def timed_out(what: str, timeout: float, command: Sequence[str], stderr: bytes) -> PipelineError:
    """The error for an ffmpeg run killed after `timeout` seconds, logged."""
    detail = f"ffmpeg was killed after its {timeout:g} s time limit{_inputs(command)}"
    tail = output_tail(stderr, empty="")
    if tail:
        detail += f": {tail}"
    log.warning("Timed out trying to %s: %s", what, detail)
    return PipelineError(TOO_SLOW.format(what=what), detail=detail)


def output_tail(output: bytes | str, *, empty: str = "no output") -> str:
    """The last lines of ffmpeg's output, short enough to keep with an error."""
    text = output.decode(errors="replace") if isinstance(output, bytes) else output
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    tail = " | ".join(lines[-DETAIL_LINES:])
    if len(tail) > DETAIL_CHARS:
        tail = "…" + tail[-(DETAIL_CHARS - 1) :]
    return tail or empty


def _inputs(command: Sequence[str]) -> str:
    """' (input: a.mp4)' for the files `command` reads, or ''."""
    files = [
        command[i + 1]
        for i, arg in enumerate(command[:-1])
        if arg == "-i" and list(command[max(0, i - 2) : i]) != ["-f", "lavfi"]
    ]
    return f" (input: {', '.join(files)})" if files else ""
