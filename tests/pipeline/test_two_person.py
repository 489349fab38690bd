"""Two people on screen: the crop follows whoever speaks, or shows both stacked.

The fixture is built once: two faces side by side (the face photo, and a mirrored,
recoloured copy), each mouth opening with its own espeak-ng voice, the voices mixed as
the soundtrack. They take turns, then say the last line together.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from clipgen.pipeline.errors import PipelineError
from clipgen.pipeline.faces import detect
from clipgen.pipeline.ffmpeg import ffmpeg_binary
from clipgen.pipeline.options import LAYOUTS
from clipgen.pipeline.reframe import SWITCH_EASE_S, CropPlan, crop_filter, plan_crop
from clipgen.pipeline.render import render_clip
from clipgen.pipeline.run import check_options
from clipgen.pipeline.speakers import hold_turns, speaking
from clipgen.pipeline.types import GenerateOptions, RankedClip
from tests.pipeline.test_render import _frames, _probe
from tests.support.media import make_two_person_talk

TURNS = [
    ("Welcome back to the program. Today my guest tells us about her garden.", ""),
    ("", "Thank you for having me. I have grown tomatoes for twenty years."),
    ("What is the hardest part of growing them in a cold climate?", ""),
    ("", "The nights. A single frost in early summer can ruin the whole crop."),
    (
        "We cover them every single evening, without fail, until the middle of July.",
        "We cover them every single evening, without fail, until the middle of July.",
    ),
]
SAMPLE_EVERY = 0.25  # seconds: the crop plan is checked 4 times a second


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The two-person talk, and its crop plans for 9:16 under each layout."""
    folder = tmp_path_factory.mktemp("two-person")
    video = folder / "two.mp4"
    left, right, boxes = make_two_person_talk(TURNS, video)
    info = _probe(video)
    plans, seconds = {}, {}
    for layout in LAYOUTS:
        began = time.perf_counter()
        plans[layout] = plan_crop(str(video), info, 0.0, info.duration, "9:16", [], layout)
        seconds[layout] = time.perf_counter() - began
    print(f"plan_crop seconds for {info.duration:.1f} s of video: {seconds}")
    centres = [x + size / 2 for x, _y, size in boxes]
    return {
        "video": video,
        "info": info,
        "root": folder,
        "spans": (left, right),
        "centres": centres,
        "plans": plans,
    }


def _alone(spans: tuple[list, list], who: int) -> list[float]:
    """Sample times when person `who` speaks and the other does not."""
    other = spans[1 - who]
    times = []
    for start, end in spans[who]:
        t = start
        while t < end:
            if not any(a <= t < b for a, b in other):
                times.append(round(t, 3))
            t += SAMPLE_EVERY
    return times


def _framed(plan: CropPlan, t: float, centres: list[float]) -> str:
    """What the viewer sees at `t`: "split", or the face nearer the crop's centre."""
    if plan.layout_at(t) == "split":
        return "split"
    x = plan.centre_at(t)[0]
    return "left" if abs(x - centres[0]) < abs(x - centres[1]) else "right"


def _on_speaker_share(plan: CropPlan, talk: dict) -> float:
    hits = total = 0
    for who, name in ((0, "left"), (1, "right")):
        for t in _alone(talk["spans"], who):
            total += 1
            hits += _framed(plan, t, talk["centres"]) == name
    return hits / total


@pytest.mark.parametrize("layout", ["auto", "speaker"])
def test_crop_is_on_whoever_speaks_alone(talk: dict, layout: str) -> None:
    share = _on_speaker_share(talk["plans"][layout], talk)
    print(f"on-speaker share ({layout}): {share:.3f}")
    assert share >= 0.8


@pytest.mark.parametrize("layout", ["auto", "speaker"])
def test_framing_changes_at_most_once_per_two_seconds(talk: dict, layout: str) -> None:
    plan = talk["plans"][layout]
    step, t, changes = 0.05, 0.0, []
    seen = _framed(plan, 0.0, talk["centres"])
    while t < talk["info"].duration:
        now = _framed(plan, t, talk["centres"])
        if now != seen:
            changes.append(t)
            seen = now
        t += step
    assert len(changes) >= 3  # left, right, left, right: the turns are followed
    gaps = [b - a for a, b in zip(changes, changes[1:], strict=False)]
    assert min(gaps) >= 2.0 - step


def test_speaker_changes_ease_instead_of_jumping(talk: dict) -> None:
    plan = talk["plans"]["speaker"]
    pans = [
        (b[0] - a[0], abs(b[1] - a[1]))
        for a, b in zip(plan.keyframes, plan.keyframes[1:], strict=False)
        if abs(b[1] - a[1]) > plan.width / 2
    ]
    assert pans  # the crop crosses from one face to the other
    assert all(seconds >= SWITCH_EASE_S - 0.01 for seconds, _ in pans)


def test_both_talking_stacks_both_faces(talk: dict) -> None:
    plan = talk["plans"]["auto"]
    left, right = talk["spans"]
    together = [
        t
        for start, end in left
        for t in np.arange(start, end, SAMPLE_EVERY)
        if any(a <= t < b for a, b in right)
    ]
    stacked = [t for t in together if plan.layout_at(t) == "split"]
    assert len(stacked) >= 0.8 * len(together)
    top, bottom = plan.split_windows_at(stacked[len(stacked) // 2])
    assert top[0] < talk["centres"][0] < top[0] + top[2]
    assert bottom[0] < talk["centres"][1] < bottom[0] + bottom[2]
    # Each half keeps the output's width: two 1080x960 windows make the 1080x1920 frame.
    assert top[2] / top[3] == pytest.approx(1080 / 960, rel=0.02)
    # Nobody talks over anybody in "speaker": it never stacks.
    assert not talk["plans"]["speaker"].split_spans
    assert talk["plans"]["speaker"].layout_at(together[len(together) // 2]) == "single"


def test_split_layout_stacks_the_two_faces_throughout(talk: dict) -> None:
    plan = talk["plans"]["split"]
    assert plan.mode == "split"
    assert all(plan.layout_at(t) == "split" for t in np.arange(0, talk["info"].duration, 0.5))


def test_fit_layout_shows_the_whole_frame(talk: dict) -> None:
    plan = talk["plans"]["fit"]
    info = talk["info"]
    assert plan.mode == "blur"
    assert (plan.width, plan.height) == (info.width, info.height)
    assert "force_original_aspect_ratio=decrease" in crop_filter(plan)


def _render(talk: dict, layout: str, start: float, end: float, rank: int) -> tuple[str, float]:
    began = time.perf_counter()
    result = render_clip(
        source=str(talk["video"]),
        info=talk["info"],
        clip=RankedClip(start, end, "Title", "Hook", "Reason", 7, ""),
        words=[],
        options=GenerateOptions(captions="off", layout=layout),
        out_dir=talk["root"] / f"out-{layout}",
        rank=rank,
    )
    return result.video, time.perf_counter() - began


def _faces_in(frame: np.ndarray) -> list[tuple[float, float, float, float]]:
    grey = (frame @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    small = grey[::4, ::4].copy()
    return [face.box for face in detect(small, (4.0, 4.0))]


def test_rendered_split_shows_one_face_in_each_half(talk: dict) -> None:
    video, seconds = _render(talk, "split", 1.0, 3.0, 1)
    print(f"split render of 2 s: {seconds:.2f} s")
    (frame,) = _frames(video, [1.0])
    assert frame.shape[:2] == (1920, 1080)
    top, bottom = frame[:960], frame[960:]
    assert len(_faces_in(top)) == 1 and len(_faces_in(bottom)) == 1
    # The left person (orange suit) is on top, the recoloured right one (blue) below.
    assert top[..., 0].mean() > top[..., 2].mean()
    assert bottom[..., 2].mean() > bottom[..., 0].mean()


def test_rendered_auto_clip_goes_from_the_speaker_to_both(talk: dict) -> None:
    start = talk["spans"][1][1][0] + 1.0  # the right person speaking alone
    end = talk["spans"][0][2][0] + 2.0  # into the line both say together
    video, seconds = _render(talk, "auto", start, end, 2)
    print(f"auto render of {end - start:.1f} s: {seconds:.2f} s")
    alone, together = _frames(video, [0.5, end - start - 0.5])
    faces = _faces_in(alone)
    assert len(faces) == 1
    assert bottom_half_is_blue(alone)
    assert len(_faces_in(together[:960])) == 1 and len(_faces_in(together[960:])) == 1


def bottom_half_is_blue(frame: np.ndarray) -> bool:
    """The recoloured right person fills the single crop: blue outweighs red."""
    return bool(frame[960:, :, 2].mean() > frame[960:, :, 0].mean())


def test_bad_layout_is_refused_with_the_choices() -> None:
    with pytest.raises(PipelineError) as refused:
        check_options(GenerateOptions(layout="grid"))  # type: ignore[arg-type]
    assert str(refused.value) == "Choose a layout of auto, speaker, split or fit."


def test_options_stored_before_layouts_existed_still_load() -> None:
    stored = {
        "clips": 3,
        "min_seconds": 30.0,
        "max_seconds": 60.0,
        "aspect": "9:16",
        "captions": "plain",
        "language": "auto",
        "prompt": "",
    }
    options = GenerateOptions(**stored)
    assert options.layout == "auto"
    check_options(options)


def test_plan_refuses_an_unknown_layout(talk: dict) -> None:
    with pytest.raises(PipelineError, match="Unknown layout"):
        plan_crop(str(talk["video"]), talk["info"], 0.0, 2.0, "9:16", [], "grid")


def test_speaker_needs_a_mouth_that_moves_clearly_more_during_speech() -> None:
    loud, quiet = 0.2, 0.0
    energy = [loud] * 8 + [quiet] * 3
    left = [9.0] * 4 + [1.0] * 4 + [9.0] * 3
    right = [0.5] * 4 + [8.0] * 4 + [0.0] * 3
    labels = speaking(left, right, energy)
    assert labels[:3] == ["left"] * 3
    assert labels[5:8] == ["right"] * 3
    assert labels[8:] == [None] * 3  # silence: whatever moves, nobody speaks
    assert speaking([5.0] * 3, [5.5] * 3, [loud] * 3) == ["split"] * 3
    assert speaking([0.1] * 3, [0.0] * 3, [loud] * 3) == ["split"] * 3


def test_turns_shorter_than_two_seconds_go_to_their_longer_neighbour() -> None:
    labels = ["left"] * 6 + ["right"] * 2 + [None] * 1 + ["left"] * 3 + ["right"] * 8
    runs = hold_turns(labels, default="split", sample_s=0.5)
    assert [turn for _, _, turn in runs] == ["left", "right"]
    assert runs[0][:2] == (0, 12) and runs[1][:2] == (12, 20)
    assert all(last - first >= 4 for first, last, _ in runs)
    assert hold_turns([None] * 5, default="split", sample_s=0.5) == [(0, 5, "split")]
    # Doubt as the turn changes hands goes to the next speaker.
    changing = ["left"] * 6 + ["split"] * 2 + ["right"] * 5
    assert hold_turns(changing, default="split", sample_s=0.5) == [(0, 6, "left"), (6, 13, "right")]


def test_layout_changes_join_every_frame_once_in_order(tmp_path: Path) -> None:
    """A clip that goes single, stacked, single, stacked, single keeps every frame."""
    plan = CropPlan(
        "track",
        202,
        360,
        ((0.0, 100, 0),),
        1080,
        1920,
        640,
        360,
        split_spans=((1.0, 2.0), (3.0, 3.5)),
        split_size=(160, 142),
        split_keyframes=((1.0, 0, 100, 400, 100), (3.0, 20, 100, 420, 100)),
        length=4.0,
    )
    # Red on the left half of the source, blue on the right: the single crop and the top
    # window see red, the bottom window blue.
    source = "color=c=red:s=320x360:r=25:d=4[l];color=c=blue:s=320x360:r=25:d=4[r];[l][r]hstack"
    result = subprocess.run(
        [
            ffmpeg_binary(),
            *("-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", source),
            *("-vf", f"{crop_filter(plan)},scale=9:16", "-f", "rawvideo", "-pix_fmt", "rgb24"),
            "-",
        ],
        capture_output=True,
        check=True,
    )
    frames = np.frombuffer(result.stdout, np.uint8).reshape(-1, 16, 9, 3)
    assert len(frames) == 100
    stacked = [int(frame[12, 4, 2] > frame[12, 4, 0]) for frame in frames]
    expected = [int(1.0 <= n / 25 < 2.0 or 3.0 <= n / 25 < 3.5) for n in range(100)]
    assert stacked == expected
