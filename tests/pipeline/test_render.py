"""Rendering clips: reframing, captions, encoding, frame accuracy, failure cleanup."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import av
import cv2
import numpy as np
import pysubs2
import pytest

from clipgen.pipeline.captions import caption_lines, clip_words, write_ass
from clipgen.pipeline.errors import PipelineError
from clipgen.pipeline.ffmpeg import ffmpeg_binary
from clipgen.pipeline.reframe import CropPlan, _crop_path, _main_faces, crop_filter, plan_crop
from clipgen.pipeline.render import render_clip
from clipgen.pipeline.types import GenerateOptions, MediaInfo, RankedClip, Word

FACE = Path(__file__).resolve().parent.parent / "fixtures" / "face.jpg"
FPS = 25
SCRIPT = (
    "Welcome back to the show. Today we talk about making short clips from long videos, "
    "and why captions matter so much for people who watch without sound."
)
START, END = 2.4, 6.4  # frame 60 at 25 fps, inside a two-second GOP


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        capture_output=True,
    )


def _probe(path: Path) -> MediaInfo:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        return MediaInfo(
            path=str(path),
            duration=container.duration / 1_000_000,
            width=video.width,
            height=video.height,
            fps=float(video.average_rate),
            rotation=0,
            has_audio=audio is not None,
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio else "",
            size_bytes=path.stat().st_size,
        )


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 12 s 640x360 talking head on the right, and a faceless 6 s clip without audio."""
    folder = tmp_path_factory.mktemp("render-media")
    speech = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(speech), SCRIPT], check=True, capture_output=True)
    talking = folder / "talking.mp4"
    _ffmpeg(
        *("-f", "lavfi", "-i", f"testsrc2=s=640x360:r={FPS}:d=12"),
        *("-loop", "1", "-i", str(FACE)),
        *("-i", str(speech)),
        "-filter_complex",
        "[1:v]crop=160:180:88:0,scale=150:-2[face];"
        "[0:v][face]overlay=440:90:shortest=1[v];[2:a]apad[a]",
        *("-map", "[v]", "-map", "[a]", "-t", "12"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-g", str(2 * FPS), "-pix_fmt", "yuv420p"),
        *("-c:a", "aac", str(talking)),
    )
    faceless = folder / "faceless.mp4"
    _ffmpeg(
        *("-f", "lavfi", "-i", f"testsrc2=s=640x360:r={FPS}:d=6"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(faceless)),
    )
    return {"talking": talking, "faceless": faceless, "root": folder}


@pytest.fixture(scope="module")
def words() -> list[Word]:
    """The script's words, one every 0.35 s from 0.3 s."""
    return [
        Word(0.3 + i * 0.35, 0.3 + i * 0.35 + 0.3, text) for i, text in enumerate(SCRIPT.split())
    ]


@pytest.fixture(scope="module")
def render(media: dict[str, Path], words: list[Word]):
    """Render (and remember) the talking clip for an aspect and caption style."""
    done: dict[tuple[str, str, float, float], object] = {}

    def make(aspect: str, captions: str, start: float = START, end: float = END):
        key = (aspect, captions, start, end)
        if key not in done:
            out_dir = media["root"] / f"out-{len(done)}"
            done[key] = render_clip(
                source=str(media["talking"]),
                info=_probe(media["talking"]),
                clip=RankedClip(start, end, "Title", "Hook", "Reason", 8, ""),
                words=words,
                options=GenerateOptions(aspect=aspect, captions=captions),
                out_dir=out_dir,
                rank=1,
            )
        return done[key]

    return make


def _frames(path: str, times: list[float]) -> list[np.ndarray]:
    """The decoded RGB frames shown at `times` seconds."""
    wanted, found = sorted(times), []
    with av.open(path) as container:
        for frame in container.decode(video=0):
            while wanted and frame.time >= wanted[0] - 1e-6:
                found.append(frame.to_ndarray(format="rgb24").astype(np.float32))
                wanted.pop(0)
            if not wanted:
                break
    return found


@pytest.mark.parametrize(("aspect", "size"), [("9:16", (1080, 1920)), ("1:1", (1080, 1080))])
def test_clip_is_an_h264_aac_mp4_of_the_requested_size_and_length(render, aspect, size) -> None:
    result = render(aspect, "animated" if aspect == "9:16" else "plain")
    with av.open(result.video) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert container.format.name.startswith("mov,mp4")
        assert video.codec_context.name == "h264"
        assert (video.width, video.height) == size
        assert video.codec_context.pix_fmt == "yuv420p"
        assert audio.codec_context.name == "aac"
        assert audio.sample_rate == 48000
        frame = 1 / FPS
        assert abs(video.frames * frame - (END - START)) <= frame + 1e-6
        assert abs(container.duration / 1_000_000 - (END - START)) <= frame + 0.05
    for path in (result.video, result.srt, result.vtt, result.thumbnail):
        assert Path(path).is_absolute() and Path(path).stat().st_size > 0
    assert Path(result.video).name == "clip_01.mp4"
    thumbnail = cv2.imread(result.thumbnail)
    assert (thumbnail.shape[1], thumbnail.shape[0]) == size


def test_crop_follows_the_face_on_the_right(media: dict[str, Path]) -> None:
    info = _probe(media["talking"])
    plan = plan_crop(str(media["talking"]), info, START, END, "9:16")
    assert plan.mode == "track"
    assert (plan.width, plan.height) == (202, 360)
    assert plan.face_share > 0.8
    for t, _, _ in plan.keyframes:
        assert plan.centre_at(t)[0] > info.width / 2
    # The face (x 440-590) is fully inside the crop.
    left, _ = plan.position_at(1.0)
    assert left <= 440 and left + plan.width >= 590


def test_rendered_face_is_in_the_vertical_frame(render) -> None:
    (frame,) = _frames(render("9:16", "off").video, [1.0])
    grey = cv2.cvtColor(frame.astype(np.uint8), cv2.COLOR_RGB2GRAY)
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    assert len(cascade.detectMultiScale(cv2.resize(grey, (270, 480)), 1.1, 4)) >= 1


def test_faceless_landscape_source_goes_over_a_blurred_copy(media: dict[str, Path]) -> None:
    info = _probe(media["faceless"])
    for aspect in ("9:16", "1:1"):
        plan = plan_crop(str(media["faceless"]), info, 1.0, 4.0, aspect)
        assert plan.mode == "blur"
    result = render_clip(
        source=str(media["faceless"]),
        info=info,
        clip=RankedClip(1.0, 4.0, "T", "H", "R", 5, ""),
        words=[],
        options=GenerateOptions(aspect="9:16", captions="animated"),
        out_dir=media["root"] / "faceless",
        rank=2,
    )
    (frame,) = _frames(result.video, [1.0])
    assert frame.shape[:2] == (1920, 1080)
    # The sharp frame sits in the middle band; above it is the soft, darker backdrop.
    top, middle = frame[:500], frame[700:1200]
    sharpness = [np.abs(np.diff(band, axis=1)).mean() for band in (top, middle)]
    assert sharpness[1] > 2 * sharpness[0]
    with av.open(result.video) as container:
        assert container.streams.audio[0].codec_context.name == "aac"


def test_source_already_in_the_target_shape_is_fit(media: dict[str, Path]) -> None:
    plan = plan_crop(str(media["talking"]), _probe(media["talking"]), START, END, "16:9")
    assert plan.mode == "fit"
    assert crop_filter(plan).startswith("scale=1920:1080")


def test_captions_are_burned_into_the_caption_band_only(render) -> None:
    plain = render("9:16", "off").video
    captioned = render("9:16", "animated").video
    times = [0.5, 1.5, 2.5, 3.5]
    for without, with_ in zip(_frames(plain, times), _frames(captioned, times), strict=True):
        difference = np.abs(without - with_).mean(axis=(1, 2))
        band = difference[int(1920 * 0.6) : int(1920 * 0.8)]
        assert band.mean() > 5
        assert difference[: int(1920 * 0.5)].mean() < 1.5
        assert difference[int(1920 * 0.85) :].mean() < 1.5


def test_srt_and_vtt_hold_exactly_the_clip_words(render, words: list[Word]) -> None:
    result = render("9:16", "animated")
    expected = [w.text for w in clip_words(words, START, END)]
    assert expected
    for path in (result.srt, result.vtt):
        subs = pysubs2.load(path)
        assert " ".join(event.plaintext for event in subs).split() == expected
        assert all(0 <= e.start < e.end <= (END - START) * 1000 + 500 for e in subs)
        assert all(a.end <= b.start for a, b in zip(subs, subs[1:], strict=False))


def test_animated_ass_has_one_event_per_word_with_one_highlight(tmp_path: Path) -> None:
    spoken = [
        Word(i * 0.4, i * 0.4 + 0.3, w)
        for i, w in enumerate(["one", "two", "three.", "four", "{five}"])
    ]
    path = tmp_path / "captions.ass"
    write_ass(spoken, path, style="animated", width=1080, height=1920)
    subs = pysubs2.load(str(path))
    assert subs.info["PlayResX"] == "1080" and subs.info["PlayResY"] == "1920"
    assert "Montserrat" in subs.styles["Default"].fontname
    assert 80 <= subs.styles["Default"].fontsize <= 110
    assert len(subs) == len(spoken)
    assert all(event.text.count("\\c&H") == 1 for event in subs)
    assert all(a.end <= b.start for a, b in zip(subs, subs[1:], strict=False))
    assert "{five}" not in subs[-1].text

    write_ass(spoken, path, style="plain", width=1080, height=1920)
    plain = pysubs2.load(str(path))
    assert [e.plaintext for e in plain] == ["one two three.", "four (five)"]


def test_first_frame_is_the_source_frame_at_start(render, media: dict[str, Path]) -> None:
    (first,) = _frames(render("16:9", "off").video, [0.0])
    small = cv2.resize(first, (640, 360), interpolation=cv2.INTER_AREA)
    start_frame = round(START * FPS)
    times = [(start_frame + offset) / FPS for offset in (-1, 0, 1)]
    errors = [np.abs(frame - small).mean() for frame in _frames(str(media["talking"]), times)]
    assert errors[1] == min(errors)
    assert errors[1] < 4


@pytest.mark.parametrize("failure", ["missing source", "encode fails"])
def test_failed_render_raises_and_leaves_no_clip_files(
    media: dict[str, Path], words: list[Word], failure: str
) -> None:
    out_dir = media["root"] / f"failed-{failure.replace(' ', '-')}"
    out_dir.mkdir()
    if failure == "missing source":
        source, info = out_dir / "nowhere.mp4", _probe(media["talking"])
    else:
        # Claims an audio track the file does not have: faces are sampled and captions
        # written before the encode itself fails.
        source, info = media["faceless"], _probe(media["faceless"])
        info = replace(info, has_audio=True)
    with pytest.raises(PipelineError, match="clip 7|find faces"):
        render_clip(
            source=str(source),
            info=info,
            clip=RankedClip(0.5, 3.5, "T", "H", "R", 5, ""),
            words=words,
            options=GenerateOptions(aspect="9:16", captions="animated"),
            out_dir=out_dir,
            rank=7,
        )
    assert not list(out_dir.glob("clip_07*"))


def test_caption_lines_break_on_sentences_gaps_and_limits() -> None:
    spoken = [
        Word(0.0, 0.2, "Hello"),
        Word(0.2, 0.4, "there."),
        Word(0.5, 0.7, "This"),
        Word(0.7, 0.9, "is"),
        Word(2.0, 2.2, "after"),
        Word(2.2, 2.4, "a"),
        Word(2.4, 2.6, "pause"),
        Word(2.6, 2.8, "with"),
        Word(2.8, 3.0, "many"),
    ]
    lines = caption_lines(spoken, max_words=3)
    assert [[w.text for w in line] for line in lines] == [
        ["Hello", "there."],
        ["This", "is"],
        ["after", "a", "pause"],
        ["with", "many"],
    ]
    assert all(len(" ".join(w.text for w in line)) <= 12 for line in caption_lines(spoken, 12))


def test_clip_words_keeps_words_centred_in_the_clip_and_retimes_them() -> None:
    spoken = [
        Word(0.2, 0.9, "before"),
        Word(0.8, 1.4, "half"),
        Word(1.5, 1.9, " in "),
        Word(4.6, 5.2, "edge"),
        Word(4.8, 5.6, "after"),
    ]
    kept = clip_words(spoken, 1.0, 5.0)
    assert [w.text for w in kept] == ["half", "in", "edge"]
    assert [(w.start, w.end) for w in kept] == [
        pytest.approx((0.0, 0.4)),
        pytest.approx((0.5, 0.9)),
        pytest.approx((3.6, 4.0)),
    ]


def test_crop_path_ignores_jitter_and_jumps_at_cuts() -> None:
    times = [i / 2 for i in range(16)]
    jitter = [3, -4, 2, 0, -3, 4, -2, 1]
    faces = [(800 + jitter[i % 8], 300, 200, 200) for i in range(8)]
    faces += [(200 + jitter[i % 8], 300, 200, 200) for i in range(8)]
    keyframes = _crop_path(times, faces, [4.0], (606, 1080), (1920, 1080))
    before = [x for t, x, _ in keyframes if t < 3.99]
    after = [x for t, x, _ in keyframes if t >= 4.0]
    assert max(before) - min(before) <= 4 and max(after) - min(after) <= 4
    assert abs(before[0] - (900 - 303)) <= 6 and after[0] == 0
    assert len(keyframes) <= 6


def test_another_face_stands_in_when_the_main_one_is_gone_and_the_crop_jumps_to_it() -> None:
    times = [i / 2 for i in range(20)]
    main, other = (1300.0, 300.0, 220.0, 220.0), (300.0, 320.0, 200.0, 200.0)
    # The main face is away for samples 12-15 (two seconds) and missed once at sample 5.
    detections = [[] if i == 5 or 12 <= i < 16 else [main] for i in range(20)]
    for i in (12, 13, 14, 15):
        detections[i].append(other)
    faces = _main_faces(times, detections, [])
    assert faces[5] is None and faces[4] == main and faces[12] == other
    keyframes = _crop_path(times, faces, [], (606, 1080), (1920, 1080))
    jumps = [
        (a, b) for a, b in zip(keyframes, keyframes[1:], strict=False) if abs(b[1] - a[1]) > 300
    ]
    assert len(jumps) == 2
    assert all(b[0] - a[0] < 0.01 for a, b in jumps)
    assert 5.5 < jumps[0][1][0] < 6.0


def test_track_filter_moves_the_crop_linearly_between_keyframes() -> None:
    plan = CropPlan(
        "track",
        606,
        1080,
        ((0.0, 100, 0), (2.0, 300, 0), (5.0, 300, 0), (6.0, 0, 0)),
        1080,
        1920,
        1920,
        1080,
    )
    expression = crop_filter(plan).split("x='")[1].split("'")[0]
    for t in (0.0, 1.0, 2.0, 3.5, 5.5, 6.0, 9.0):
        value = eval(expression, {"clip": lambda v, lo, hi: min(max(v, lo), hi), "t": t})
        assert value == pytest.approx(plan.position_at(t)[0])
    assert plan.position_at(1.0)[0] == pytest.approx(200)
