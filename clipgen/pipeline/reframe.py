"""Reframing a clip to a new aspect: find the main face, plan a calm crop path."""

from __future__ import annotations

import logging
import math
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

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
from clipgen.pipeline.types import ASPECT_SIZES, MediaInfo

log = logging.getLogger(__name__)

CropMode = Literal["fit", "track", "center", "blur"]
Box = tuple[float, float, float, float]  # x, y, w, h in source pixels

SAMPLE_FPS = 2.0
# Frames are shrunk to about this many pixels for detection: 640x360 for 16:9, so a
# face of 7% of the frame height (a wide two-shot) is still above Haar's 24 px minimum.
SAMPLE_AREA = 640 * 360
# Below this share of samples with the main face, the clip is treated as faceless.
MIN_FACE_SHARE = 0.4
LOST_SAMPLES = 3  # samples without the main face before another face stands in
# A crop keeping less than this fraction of the frame's width (or height) loses too
# much of a faceless shot: show the whole frame over a blurred copy instead.
MIN_KEPT_FOR_CENTER = 0.6
DEAD_ZONE = 0.07  # of the crop size: face moves smaller than this do not move the crop
EASE = 0.5  # share of the remaining distance the crop covers per sample (0.5 s)
HEADROOM = 0.38  # where the face centre sits from the top when the crop moves vertically
MIN_STEP_PX = 4.0  # keyframes closer than this to the straight path are dropped
MIN_KEYFRAME_GAP = 1.0  # seconds
CUT_EPSILON = 0.001


@dataclass(frozen=True)
class CropPlan:
    """How a clip is framed: a crop window path in source pixels, and the output size.

    `keyframes` are (seconds from the clip start, crop left, crop top); the crop moves
    linearly between them and holds before the first and after the last. Sizes are
    of the displayed (rotated) source. `face_share` is the share of samples where a face
    was framed.
    """

    mode: CropMode
    width: int
    height: int
    keyframes: tuple[tuple[float, int, int], ...]
    out_width: int
    out_height: int
    source_width: int
    source_height: int
    face_share: float = 0.0

    def position_at(self, t: float) -> tuple[float, float]:
        """The crop's top-left corner at `t` seconds into the clip."""
        if not self.keyframes:
            return 0.0, 0.0
        x, y = float(self.keyframes[0][1]), float(self.keyframes[0][2])
        for (t0, x0, y0), (t1, x1, y1) in zip(self.keyframes, self.keyframes[1:], strict=False):
            share = min(max((t - t0) / (t1 - t0), 0.0), 1.0) if t1 > t0 else float(t >= t1)
            x += (x1 - x0) * share
            y += (y1 - y0) * share
        return x, y

    def centre_at(self, t: float) -> tuple[float, float]:
        """The crop's centre at `t` seconds into the clip."""
        x, y = self.position_at(t)
        return x + self.width / 2, y + self.height / 2


def plan_crop(
    source: str,
    info: MediaInfo,
    start: float,
    end: float,
    aspect: str,
    scene_cuts: list[float] | tuple[float, ...] = (),
) -> CropPlan:
    """Plan the framing of [start, end] of `source` for `aspect`, following the main face.

    `scene_cuts` are source times; the crop jumps at those inside the clip instead of sliding.
    """
    if aspect not in ASPECT_SIZES:
        raise PipelineError(f"Unknown aspect ratio {aspect!r}.")
    out_width, out_height = ASPECT_SIZES[aspect]
    source_width, source_height = info.display_size
    if source_width < 2 or source_height < 2:
        raise PipelineError("The video has no picture to frame.")
    target, current = out_width / out_height, source_width / source_height
    base = {
        "out_width": out_width,
        "out_height": out_height,
        "source_width": source_width,
        "source_height": source_height,
    }
    if abs(current - target) <= 0.02 * target:
        return CropPlan("fit", source_width, source_height, ((0.0, 0, 0),), **base)
    if current > target:
        crop_height = _even(source_height)
        crop_width = min(_even(source_width), _even(crop_height * target))
    else:
        crop_width = _even(source_width)
        crop_height = min(_even(source_height), _even(crop_width / target))
    length = max(end - start, 0.0)
    times, detections = _sample_faces(source, start, length, source_width, source_height)
    cuts = sorted(c - start for c in scene_cuts if 0.0 < c - start < length)
    faces = _main_faces(times, detections, cuts)
    found = [face for face in faces if face is not None]
    share = len(found) / len(faces) if faces else 0.0
    if share < MIN_FACE_SHARE:
        kept = min(crop_width / source_width, crop_height / source_height)
        if kept < MIN_KEPT_FOR_CENTER:
            return CropPlan(
                "blur", source_width, source_height, ((0.0, 0, 0),), face_share=share, **base
            )
        left, top = (source_width - crop_width) // 2, (source_height - crop_height) // 2
        return CropPlan(
            "center", crop_width, crop_height, ((0.0, left, top),), face_share=share, **base
        )
    keyframes = _crop_path(
        times, faces, cuts, (crop_width, crop_height), (source_width, source_height)
    )
    return CropPlan("track", crop_width, crop_height, keyframes, face_share=share, **base)


def crop_filter(plan: CropPlan) -> str:
    """The ffmpeg filtergraph (one input, one output) that frames a clip by `plan`."""
    width, height = plan.out_width, plan.out_height
    if plan.mode == "fit":
        return (
            f"scale={width}:{height}:force_original_aspect_ratio=increase,"
            f"crop={width}:{height},setsar=1"
        )
    if plan.mode == "blur":
        # Blur a tiny copy and scale it up: as soft as a big blur at a fraction of the cost.
        small_w, small_h = _even(width / 8), _even(height / 8)
        return (
            "split=2[rf_bg][rf_fg];"
            f"[rf_bg]scale={small_w}:{small_h}:force_original_aspect_ratio=increase,"
            f"crop={small_w}:{small_h},boxblur=6:2,eq=brightness=-0.08,"
            f"scale={width}:{height}:flags=bilinear[rf_soft];"
            f"[rf_fg]scale={width}:{height}:force_original_aspect_ratio=decrease"
            ":force_divisible_by=2[rf_sharp];"
            "[rf_soft][rf_sharp]overlay=(W-w)/2:(H-h)/2,setsar=1"
        )
    x = _interpolation([(t, px) for t, px, _ in plan.keyframes])
    y = _interpolation([(t, py) for t, _, py in plan.keyframes])
    return (
        f"crop={plan.width}:{plan.height}:x='{x}':y='{y}',"
        f"scale={width}:{height}:flags=bicubic,setsar=1"
    )


def _interpolation(points: list[tuple[float, int]]) -> str:
    """A flat ffmpeg expression in `t` through `points`, linear between them."""
    if not points:
        return "0"
    expression = str(points[0][1])
    for (t0, v0), (t1, v1) in zip(points, points[1:], strict=False):
        if v1 == v0:
            continue
        step = f"clip((t-{t0:.3f})/{max(t1 - t0, CUT_EPSILON):.3f},0,1)"
        expression += f"{'+' if v1 > v0 else '-'}{abs(v1 - v0)}*{step}"
    return expression


def _even(value: float) -> int:
    """`value` rounded down to an even pixel count (yuv420p needs even sizes)."""
    return max(2, int(value) // 2 * 2)


@lru_cache(maxsize=1)
def _cascade() -> cv2.CascadeClassifier:
    """OpenCV's frontal-face Haar cascade, loaded once."""
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    if cascade.empty():
        raise PipelineError("The face detector could not be loaded.")
    return cascade


def _sample_faces(
    source: str, start: float, length: float, width: int, height: int
) -> tuple[list[float], list[list[Box]]]:
    """Faces found in small grey frames taken SAMPLE_FPS times a second from the range."""
    scale = min(1.0, math.sqrt(SAMPLE_AREA / (width * height)))
    small_w, small_h = _even(width * scale), _even(height * scale)
    back_x, back_y = width / small_w, height / small_h
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
        f"fps={SAMPLE_FPS}:round=up,scale={small_w}:{small_h}:flags=area",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "gray",
        "-",
    ]
    frame_size = small_w * small_h
    cascade = _cascade()
    min_face = max(24, round(min(small_w, small_h) * 0.05))
    times: list[float] = []
    detections: list[list[Box]] = []
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
                    found = cascade.detectMultiScale(
                        frame, scaleFactor=1.15, minNeighbors=4, minSize=(min_face, min_face)
                    )
                    times.append(len(times) / SAMPLE_FPS)
                    detections.append(
                        [(x * back_x, y * back_y, w * back_x, h * back_y) for x, y, w, h in found]
                    )
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
    if code != 0 or not times:
        detail = (
            f"ffmpeg exited with status {code} after {len(times)} frames "
            f"(input: {source}, {start:.3f}s + {length:.3f}s): "
            f"{output_tail(output, empty='no frames could be decoded')}"
        )
        log.warning("Could not %s: %s", what, detail)
        raise PipelineError(
            "Could not read the video to find faces in it. The video may be damaged or in "
            "a format ClipGen cannot process; try again, or try another file.",
            detail=detail,
        )
    return times, detections


@dataclass
class _Track:
    """Detections of one face across a shot: a running centre and width, box per sample."""

    x: float
    y: float
    width: float
    boxes: dict[int, Box] = field(default_factory=dict)

    def distance(self, box: Box) -> float:
        """How far the centre of `box` is from the track's centre."""
        return math.hypot(box[0] + box[2] / 2 - self.x, box[1] + box[3] / 2 - self.y)

    def add(self, index: int, box: Box) -> None:
        """Count `box` (seen in sample `index`) as this face."""
        n = len(self.boxes)
        self.x = (self.x * n + box[0] + box[2] / 2) / (n + 1)
        self.y = (self.y * n + box[1] + box[3] / 2) / (n + 1)
        self.width = (self.width * n + box[2]) / (n + 1)
        if index not in self.boxes or box[2] > self.boxes[index][2]:
            self.boxes[index] = box

    @property
    def score(self) -> float:
        """How main a face this is: seen often, and big."""
        return len(self.boxes) * self.width


def _main_faces(
    times: list[float], detections: list[list[Box]], cuts: list[float]
) -> list[Box | None]:
    """Per sample, the box of the shot's main face (most persistent, then largest), or None.

    When the main face is gone for LOST_SAMPLES samples or more, another face seen in the
    shot stands in for it.
    """
    chosen: list[Box | None] = [None] * len(times)
    for first, last, _ in _segments(times, cuts):
        tracks: list[_Track] = []
        for index in range(first, last):
            for box in detections[index]:
                near = [t for t in tracks if t.distance(box) < 0.75 * max(box[2], t.width)]
                if near:
                    track = min(near, key=lambda t: t.distance(box))
                else:
                    track = _Track(box[0] + box[2] / 2, box[1] + box[3] / 2, box[2])
                    tracks.append(track)
                track.add(index, box)
        # A face seen in one sample only is usually a false detection.
        tracks = [t for t in tracks if len(t.boxes) >= min(2, last - first)]
        tracks.sort(key=lambda t: t.score, reverse=True)
        if not tracks:
            continue
        main = tracks[0]
        missing: list[int] = []
        for index in [*range(first, last), None]:
            if index is not None and index not in main.boxes:
                missing.append(index)
                continue
            if len(missing) >= LOST_SAMPLES:
                for gap in missing:
                    chosen[gap] = next((t.boxes[gap] for t in tracks if gap in t.boxes), None)
            missing = []
            if index is not None:
                chosen[index] = main.boxes[index]
    return chosen


def _segments(times: list[float], cuts: list[float]) -> list[tuple[int, int, float]]:
    """Sample index ranges [first, last) between scene cuts, with the time each begins."""
    bounds = [(0, 0.0)]
    for cut in cuts:
        index = next((i for i, t in enumerate(times) if t >= cut), len(times))
        if bounds[-1][0] < index < len(times):
            bounds.append((index, cut))
    ends = [index for index, _ in bounds[1:]] + [len(times)]
    return [(first, last, begin) for (first, begin), last in zip(bounds, ends, strict=True)]


def _crop_path(
    times: list[float],
    faces: list[Box | None],
    cuts: list[float],
    crop: tuple[int, int],
    source: tuple[int, int],
) -> tuple[tuple[float, int, int], ...]:
    """Keyframes of a crop that keeps the main face framed without chasing every twitch."""
    crop_w, crop_h = crop
    max_x, max_y = source[0] - crop_w, source[1] - crop_h

    def goal(face: Box) -> tuple[float, float]:
        x = face[0] + face[2] / 2 - crop_w / 2
        y = face[1] + face[3] / 2 - HEADROOM * crop_h
        return min(max(x, 0.0), max_x), min(max(y, 0.0), max_y)

    known = [goal(face) for face in faces if face is not None]
    fallback = (statistics.median(p[0] for p in known), statistics.median(p[1] for p in known))
    # Shots: (begin time, sample times, goals). Scene cuts start one, and so does a sudden
    # leap of the face (an unlisted cut, or another speaker), which no pan should bridge.
    shots: list[tuple[float, list[float], list[tuple[float, float]]]] = []
    for first, last, begin in _segments(times, cuts):
        raw = [goal(face) if face is not None else None for face in faces[first:last]]
        seen = [p for p in raw if p is not None] or [fallback]
        # Hold the last position through losses; start where the face first shows.
        held = seen[0]
        for i, p in enumerate(raw):
            held = p if p is not None else held
            raw[i] = held
        xs, ys = _median3([p[0] for p in raw]), _median3([p[1] for p in raw])
        goals = list(zip(xs, ys, strict=True))
        segment_times = times[first:last]
        shot_first = 0
        for i in range(1, len(goals)):
            (x0, y0), (x1, y1) = goals[i - 1], goals[i]
            if abs(x1 - x0) > crop_w / 2 or abs(y1 - y0) > crop_h / 2:
                shots.append((begin, segment_times[shot_first:i], goals[shot_first:i]))
                begin, shot_first = (segment_times[i - 1] + segment_times[i]) / 2, i
        shots.append((begin, segment_times[shot_first:], goals[shot_first:]))
    points: list[tuple[float, float, float]] = []
    for begin, shot_times, goals in shots:
        xs = _follow([g[0] for g in goals], DEAD_ZONE * crop_w)
        ys = _follow([g[1] for g in goals], DEAD_ZONE * crop_h)
        path = list(zip(shot_times, xs, ys, strict=True))
        if points:
            # A hard cut: hold the old framing up to the cut, then jump.
            path[0] = (begin, *path[0][1:])
            before = max(begin - CUT_EPSILON, points[-1][0] + CUT_EPSILON / 10)
            points.append((before, points[-1][1], points[-1][2]))
        points.extend(_simplify(path))
    return tuple((round(t, 3), round(x), round(y)) for t, x, y in points)


def _median3(values: list[float]) -> list[float]:
    """A running median over three samples: drops one-sample detector glitches."""
    if len(values) < 3:
        return list(values)
    inner = [statistics.median(values[i - 1 : i + 2]) for i in range(1, len(values) - 1)]
    return [values[0], *inner, values[-1]]


def _follow(values: list[float], dead_zone: float) -> list[float]:
    """A camera that re-centres only when the target leaves the dead zone, and eases there."""
    camera = goal = values[0]
    path = []
    for value in values:
        if abs(value - goal) > dead_zone:
            goal = value
        camera += EASE * (goal - camera)
        path.append(camera)
    return path


def _simplify(points: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Keep only the keyframes the path needs: bends over MIN_STEP_PX, at most ~1/second."""
    if len(points) <= 2:
        return points
    kept = _douglas_peucker(points, MIN_STEP_PX)
    spaced = [kept[0]]
    for point in kept[1:-1]:
        if point[0] - spaced[-1][0] >= MIN_KEYFRAME_GAP:
            spaced.append(point)
    if kept[-1][0] - spaced[-1][0] < MIN_KEYFRAME_GAP and len(spaced) > 1:
        spaced.pop()
    spaced.append(kept[-1])
    return spaced


def _douglas_peucker(
    points: list[tuple[float, float, float]], tolerance: float
) -> list[tuple[float, float, float]]:
    """Ramer-Douglas-Peucker over (t, x, y), measuring error in pixels at equal t."""
    first, last = points[0], points[-1]
    span = last[0] - first[0] or 1.0
    worst, worst_error = 0, 0.0
    for index in range(1, len(points) - 1):
        t, x, y = points[index]
        share = (t - first[0]) / span
        error = max(
            abs(x - (first[1] + (last[1] - first[1]) * share)),
            abs(y - (first[2] + (last[2] - first[2]) * share)),
        )
        if error > worst_error:
            worst, worst_error = index, error
    if worst_error <= tolerance:
        return [first, last]
    left = _douglas_peucker(points[: worst + 1], tolerance)
    return left[:-1] + _douglas_peucker(points[worst:], tolerance)
