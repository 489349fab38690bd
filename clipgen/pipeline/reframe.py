"""Reframing a clip to a new aspect: find the faces, plan a calm crop path.

One face is followed. In a shot with two people the crop follows whoever speaks
(speakers.py decides who), and shows both stacked when both talk or nobody is clearly
speaking; the `layout` option can ask for the speaker, the stack or the whole frame.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Literal

from clipgen.pipeline.errors import PipelineError
from clipgen.pipeline.faces import SAMPLE_FPS, Box, FaceSamples, sample_faces
from clipgen.pipeline.options import LAYOUTS
from clipgen.pipeline.speakers import Turn, followed, hold_turns, speaking, speech_energy
from clipgen.pipeline.types import ASPECT_SIZES, MediaInfo

CropMode = Literal["fit", "track", "center", "blur", "split"]

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
# A shot has two people when a second face is seen in this share of its samples, at
# least this big next to the first (smaller faces are the background, not a guest).
PAIR_SHARE = 0.5
PAIR_MIN_WIDTH = 0.5
SWITCH_EASE_S = 0.5  # how long the crop takes to pan from one speaker to the other
# In the stacked layout each half shows a window this many face heights tall, with the
# face centre this far down from its top.
SPLIT_FACE_HEIGHTS = 2.6
SPLIT_HEADROOM = 0.45


@dataclass(frozen=True)
class CropPlan:
    """How a clip is framed: a crop window path in source pixels, and the output size.

    `keyframes` are (seconds from the clip start, crop left, crop top); the crop moves
    linearly between them and holds before the first and after the last. Sizes are
    of the displayed (rotated) source. `face_share` is the share of samples where a face
    was framed.

    While `t` is inside one of `split_spans`, two windows of `split_size` are shown
    stacked instead (the left person on top); `split_keyframes` are (seconds, top left,
    top top, bottom left, bottom top), held between keyframes. Mode "split" is a clip
    stacked from start to end.
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
    split_spans: tuple[tuple[float, float], ...] = ()
    split_size: tuple[int, int] = (0, 0)
    split_keyframes: tuple[tuple[float, int, int, int, int], ...] = ()
    length: float = 0.0  # of the clip, in seconds

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

    def layout_at(self, t: float) -> Literal["single", "split"]:
        """Whether one window or the two stacked ones are shown at `t`."""
        if self.mode == "split" or any(a <= t < b for a, b in self.split_spans):
            return "split"
        return "single"

    def split_windows_at(self, t: float) -> tuple[Box, Box]:
        """The top and bottom windows (x, y, w, h) of the stacked layout at `t`."""
        w, h = self.split_size
        current = self.split_keyframes[0]
        for keyframe in self.split_keyframes:
            if keyframe[0] <= t:
                current = keyframe
        return (current[1], current[2], w, h), (current[3], current[4], w, h)


def plan_crop(
    source: str,
    info: MediaInfo,
    start: float,
    end: float,
    aspect: str,
    scene_cuts: list[float] | tuple[float, ...] = (),
    layout: str = "auto",
) -> CropPlan:
    """Plan the framing of [start, end] of `source` for `aspect` and `layout`.

    `scene_cuts` are source times; the crop jumps at those inside the clip instead of sliding.
    """
    if aspect not in ASPECT_SIZES:
        raise PipelineError(f"Unknown aspect ratio {aspect!r}.")
    if layout not in LAYOUTS:
        raise PipelineError(f"Unknown layout {layout!r}.")
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
    if layout == "fit":
        return CropPlan("blur", source_width, source_height, ((0.0, 0, 0),), **base)
    if current > target:
        crop_height = _even(source_height)
        crop_width = min(_even(source_width), _even(crop_height * target))
    else:
        crop_width = _even(source_width)
        crop_height = min(_even(source_height), _even(crop_width / target))
    length = max(end - start, 0.0)
    samples = sample_faces(source, start, length, source_width, source_height)
    times, detections = samples.times, samples.boxes
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
    crop, frame = (crop_width, crop_height), (source_width, source_height)
    # Two people side by side only matter when the crop is narrower than the frame.
    pairs = _pairs(times, detections, cuts) if current > target else {}
    if not pairs:
        keyframes = _crop_path(times, faces, cuts, crop, frame)
        return CropPlan("track", crop_width, crop_height, keyframes, face_share=share, **base)
    energy = [0.0] * len(times)
    if info.has_audio:
        energy = speech_energy(source, start, length, times, 1 / SAMPLE_FPS)
    shots = _shot_turns(times, cuts, samples, pairs, energy, layout)
    keyframes = _speaker_path(times, faces, shots, crop, frame)
    spans, size, split_keyframes = _split_plan(times, length, shots, (out_width, out_height), frame)
    whole = len(spans) == 1 and spans[0][0] == 0.0 and spans[0][1] >= length - CUT_EPSILON
    mode: CropMode = "split" if whole else "track"
    return CropPlan(
        mode,
        crop_width,
        crop_height,
        keyframes,
        face_share=share,
        split_spans=spans,
        split_size=size,
        split_keyframes=split_keyframes,
        length=length,
        **base,
    )


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
    if plan.mode == "split":
        return _stack_filter(plan, "rf") + ",setsar=1"
    x = _interpolation([(t, px) for t, px, _ in plan.keyframes])
    y = _interpolation([(t, py) for t, _, py in plan.keyframes])
    single = f"crop={plan.width}:{plan.height}:x='{x}':y='{y}',scale={width}:{height}:flags=bicubic"
    if not plan.split_spans:
        return f"{single},setsar=1"
    # One branch per stretch of one layout, trimmed to it and joined again: every frame
    # is cropped and scaled once, by the layout it is shown in.
    pieces = _layout_pieces(plan.split_spans, plan.length)
    chains = []
    for index, (begin, end, stacked) in enumerate(pieces):
        bounds = [f"start={begin:.3f}"] if begin > 0 else []
        bounds += [f"end={end:.3f}"] if end else []
        trim = f"trim={':'.join(bounds)}," if bounds else ""
        framing = _stack_filter(plan, f"rf{index}") if stacked else single
        chains.append(f"[rf_in{index}]{trim}{framing},setsar=1,setpts=PTS-STARTPTS[rf_out{index}]")
    inputs = "".join(f"[rf_in{index}]" for index in range(len(pieces)))
    outputs = "".join(f"[rf_out{index}]" for index in range(len(pieces)))
    return f"split={len(pieces)}{inputs};{';'.join(chains)};{outputs}concat=n={len(pieces)}:v=1:a=0"


def _layout_pieces(
    spans: tuple[tuple[float, float], ...], length: float
) -> list[tuple[float, float, bool]]:
    """The clip as consecutive (begin, end, stacked) stretches; the last one's end is 0
    (open: it runs to the clip's end)."""
    pieces: list[tuple[float, float, bool]] = []
    cursor = 0.0
    for begin, end in spans:
        if begin > cursor:
            pieces.append((cursor, begin, False))
        pieces.append((begin, end, True))
        cursor = end
    if cursor < length - CUT_EPSILON:
        pieces.append((cursor, 0.0, False))
    else:
        pieces[-1] = (pieces[-1][0], 0.0, True)
    return pieces


def _stack_filter(plan: CropPlan, prefix: str) -> str:
    """Two windows of the source scaled to half the output each, the top one first."""
    (w, h), half = plan.split_size, plan.out_height // 2
    chains = []
    for name, offset in ((f"{prefix}_top", 1), (f"{prefix}_bottom", 3)):
        x = _steps([(k[0], k[offset]) for k in plan.split_keyframes])
        y = _steps([(k[0], k[offset + 1]) for k in plan.split_keyframes])
        chains.append(
            f"[{name}_in]crop={w}:{h}:x='{x}':y='{y}',"
            f"scale={plan.out_width}:{half}:flags=bicubic[{name}]"
        )
    return (
        f"split=2[{prefix}_top_in][{prefix}_bottom_in];{';'.join(chains)};"
        f"[{prefix}_top][{prefix}_bottom]vstack=inputs=2"
    )


def _steps(points: list[tuple[float, int]]) -> str:
    """A flat ffmpeg expression in `t` that holds each value from its time to the next."""
    expression = str(points[0][1]) if points else "0"
    for (_t0, v0), (t1, v1) in zip(points, points[1:], strict=False):
        if v1 != v0:
            expression += f"{'+' if v1 > v0 else '-'}{abs(v1 - v0)}*gte(t,{t1:.3f})"
    return expression


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
        tracks = _shot_tracks(detections, first, last)
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


def _shot_tracks(detections: list[list[Box]], first: int, last: int) -> list[_Track]:
    """The faces of samples [first, last) of one shot, tracked, the most main first."""
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
    return tracks


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

    def goal(face: Box) -> tuple[float, float]:
        return _goal(face, crop, source)

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


@dataclass(frozen=True)
class _Shot:
    """Samples [first, last) between two scene cuts, from `begin` seconds.

    `pair` (left, right) is set when two people share the shot, and `turns` then say who
    is framed over which samples: runs [first, last) of "left", "right" or "split".
    """

    first: int
    last: int
    begin: float
    pair: tuple[_Track, _Track] | None = None
    turns: tuple[tuple[int, int, Turn], ...] = ()


def _pairs(
    times: list[float], detections: list[list[Box]], cuts: list[float]
) -> dict[int, tuple[_Track, _Track]]:
    """The two people (left, right) of each shot that has two, by its first sample."""
    pairs = {}
    for first, last, _ in _segments(times, cuts):
        tracks = [
            t
            for t in _shot_tracks(detections, first, last)
            if len(t.boxes) >= PAIR_SHARE * (last - first)
        ]
        if len(tracks) >= 2 and tracks[1].width >= PAIR_MIN_WIDTH * tracks[0].width:
            left, right = sorted(tracks[:2], key=lambda t: t.x)
            pairs[first] = (left, right)
    return pairs


def _shot_turns(
    times: list[float],
    cuts: list[float],
    samples: FaceSamples,
    pairs: dict[int, tuple[_Track, _Track]],
    energy: list[float],
    layout: str,
) -> list[_Shot]:
    """Every shot, and for those with two people, who is framed when under `layout`."""
    shots = []
    for first, last, begin in _segments(times, cuts):
        pair = pairs.get(first)
        if pair is None:
            shots.append(_Shot(first, last, begin))
            continue
        if layout == "split":
            turns: list[tuple[int, int, Turn]] = [(0, last - first, "split")]
        else:
            labels = speaking(
                _mouths(pair[0], samples, first, last),
                _mouths(pair[1], samples, first, last),
                energy[first:last],
            )
            turns = hold_turns(labels, default="split", sample_s=1 / SAMPLE_FPS)
            if layout == "speaker":
                # Always one face: a stack becomes the speaker the single crop would show.
                shown = followed([turn for _, _, turn in turns], _main_of(pair))
                turns = _joined(
                    [(a, b, turn) for (a, b, _), turn in zip(turns, shown, strict=True)]
                )
        runs = tuple((first + a, first + b, turn) for a, b, turn in turns)
        shots.append(_Shot(first, last, begin, pair, runs))
    return shots


def _main_of(pair: tuple[_Track, _Track]) -> Turn:
    """Which of the two is the shot's main face (seen most, and biggest)."""
    return "left" if pair[0].score >= pair[1].score else "right"


def _joined(turns: list[tuple[int, int, Turn]]) -> list[tuple[int, int, Turn]]:
    """Neighbouring turns of the same framing as one."""
    joined: list[tuple[int, int, Turn]] = []
    for first, last, turn in turns:
        if joined and joined[-1][2] == turn:
            joined[-1] = (joined[-1][0], last, turn)
        else:
            joined.append((first, last, turn))
    return joined


def _mouths(track: _Track, samples: FaceSamples, first: int, last: int) -> list[float | None]:
    """The track's mouth movement per sample of [first, last), None where it was not seen."""
    moved: list[float | None] = []
    for index in range(first, last):
        box = track.boxes.get(index)
        moved.append(
            None if box is None else samples.mouths[index][samples.boxes[index].index(box)]
        )
    return moved


def _speaker_path(
    times: list[float],
    faces: list[Box | None],
    shots: list[_Shot],
    crop: tuple[int, int],
    source: tuple[int, int],
) -> tuple[tuple[float, int, int], ...]:
    """Keyframes of the single crop: the main face in one-person shots, the speaker in
    two-person shots; a hard cut at every scene cut."""
    points: list[tuple[float, float, float]] = []
    for shot in shots:
        if shot.pair is not None:
            path = _turn_path(times, shot, crop, source)
        elif any(face is not None for face in faces[shot.first : shot.last]):
            path = [
                (float(t), float(x), float(y))
                for t, x, y in _crop_path(
                    times[shot.first : shot.last], faces[shot.first : shot.last], [], crop, source
                )
            ]
        else:
            path = [(times[shot.first], (source[0] - crop[0]) / 2, (source[1] - crop[1]) / 2)]
        if points:
            # A hard cut: hold the old framing up to the cut, then jump.
            path[0] = (shot.begin, *path[0][1:])
            before = max(shot.begin - CUT_EPSILON, points[-1][0] + CUT_EPSILON / 10)
            points.append((before, points[-1][1], points[-1][2]))
        points.extend(path)
    return tuple((round(t, 3), round(x), round(y)) for t, x, y in points)


def _turn_path(
    times: list[float], shot: _Shot, crop: tuple[int, int], source: tuple[int, int]
) -> list[tuple[float, float, float]]:
    """The single crop through a two-person shot: on each speaker, easing between them.

    Under a stack the single crop waits on whoever speaks next, so that it is already in
    place when the stack ends; changes next to a stack are hidden by it and need no ease.
    """
    assert shot.pair is not None
    tracks = {"left": shot.pair[0], "right": shot.pair[1]}
    turns = [turn for _, _, turn in shot.turns]
    targets = followed(turns, _main_of(shot.pair))
    path: list[tuple[float, float, float]] = []
    for index, (first, last, turn) in enumerate(shot.turns):
        track = tracks[targets[index]]
        fallback = (track.x - track.width / 2, track.y - track.width / 2, track.width, track.width)
        goals = [_goal(track.boxes.get(i, fallback), crop, source) for i in range(first, last)]
        xs = _follow(_median3([g[0] for g in goals]), DEAD_ZONE * crop[0])
        ys = _follow(_median3([g[1] for g in goals]), DEAD_ZONE * crop[1])
        run = _simplify(list(zip(times[first:last], xs, ys, strict=True)))
        if path and targets[index] != targets[index - 1]:
            switch = times[first]
            eased = "split" not in (turn, turns[index - 1])
            half = SWITCH_EASE_S / 2 if eased else 0.0
            end = switch - half if eased else switch - CUT_EPSILON
            path = [p for p in path if p[0] < end]
            path.append((end, path[-1][1], path[-1][2]) if path else (end, *run[0][1:]))
            arrive = switch + half
            run = [(arrive, *run[0][1:])] + [p for p in run if p[0] > arrive]
        path.extend(run)
    return path


def _split_plan(
    times: list[float],
    length: float,
    shots: list[_Shot],
    out: tuple[int, int],
    source: tuple[int, int],
) -> tuple[
    tuple[tuple[float, float], ...],
    tuple[int, int],
    tuple[tuple[float, int, int, int, int], ...],
]:
    """When the two faces are stacked, the windows' size and their places (see CropPlan)."""
    runs = []
    for index, shot in enumerate(shots):
        end = shots[index + 1].begin if index + 1 < len(shots) else length
        for first, last, turn in shot.turns:
            if turn == "split":
                begin = shot.begin if first == shot.first else times[first]
                runs.append((begin, times[last] if last < shot.last else end, shot))
    if not runs:
        return (), (0, 0), ()
    heights = [box[3] for _, _, shot in runs for track in shot.pair for box in track.boxes.values()]
    half_aspect = out[0] / (out[1] // 2)
    height = min(float(source[1]), SPLIT_FACE_HEIGHTS * statistics.median(heights))
    width = min(float(source[0]), height * half_aspect)
    size = (_even(width), _even(width / half_aspect))
    spans: list[tuple[float, float]] = []
    keyframes = []
    for begin, end, shot in runs:
        places = []
        for track in shot.pair:
            box = _median_box(list(track.boxes.values()))
            x = box[0] + box[2] / 2 - size[0] / 2
            y = box[1] + box[3] / 2 - SPLIT_HEADROOM * size[1]
            places += [
                round(min(max(x, 0.0), source[0] - size[0])),
                round(min(max(y, 0.0), source[1] - size[1])),
            ]
        keyframes.append((round(begin, 3), *places))
        if spans and abs(spans[-1][1] - begin) < CUT_EPSILON:
            spans[-1] = (spans[-1][0], round(end, 3))
        else:
            spans.append((round(begin, 3), round(end, 3)))
    return tuple(spans), size, tuple(keyframes)


def _median_box(boxes: list[Box]) -> Box:
    """The median of each of the boxes' x, y, w and h."""
    return tuple(statistics.median(box[k] for box in boxes) for k in range(4))  # type: ignore[return-value]


def _goal(face: Box, crop: tuple[int, int], source: tuple[int, int]) -> tuple[float, float]:
    """Where the crop's top-left corner goes to frame `face`, kept inside the source."""
    crop_w, crop_h = crop
    x = face[0] + face[2] / 2 - crop_w / 2
    y = face[1] + face[3] / 2 - HEADROOM * crop_h
    return min(max(x, 0.0), source[0] - crop_w), min(max(y, 0.0), source[1] - crop_h)


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
