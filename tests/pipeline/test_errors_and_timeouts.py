"""Errors users see are plain sentences; ffmpeg's output and paths go to `.detail`.

Every ffmpeg run has a time limit: a hung ffmpeg (a script that sleeps, standing in for
the binary) is killed with everything it started, and the job fails with a clear message.
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clipgen.config import get_settings
from clipgen.pipeline import ffmpeg
from clipgen.pipeline.audio import extract_audio
from clipgen.pipeline.errors import Cancelled, InvalidVideo, PipelineError
from clipgen.pipeline.ffmpeg import ffmpeg_binary, run_ffmpeg, timeout_for
from clipgen.pipeline.probe import probe
from clipgen.pipeline.render import render_clip
from clipgen.pipeline.signals.scenes import detect_scene_cuts
from clipgen.pipeline.types import GenerateOptions, MediaInfo, RankedClip, Word

HANG_SECONDS = 120  # how long the fake ffmpeg would sleep if nobody killed it
SHORT_LIMIT_S = 1.0


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 4 s 640x360 video with sound, and a 3 s one without."""
    folder = tmp_path_factory.mktemp("error-media")
    binary = ffmpeg_binary()
    talking, silent = folder / "with-sound.mp4", folder / "no-sound.mp4"
    subprocess.run(
        [
            *(binary, "-hide_banner", "-loglevel", "error", "-y"),
            *("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=4"),
            *("-f", "lavfi", "-i", "sine=frequency=440:duration=4"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"),
            *("-c:a", "aac", "-shortest", str(talking)),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *(binary, "-hide_banner", "-loglevel", "error", "-y"),
            *("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=3"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(silent)),
        ],
        check=True,
        capture_output=True,
    )
    return {"talking": talking, "silent": silent}


def _info(path: Path, *, has_audio: bool) -> MediaInfo:
    return MediaInfo(
        path=str(path),
        duration=4.0,
        width=640,
        height=360,
        fps=25.0,
        rotation=0,
        has_audio=has_audio,
        video_codec="h264",
        audio_codec="aac" if has_audio else "",
        size_bytes=path.stat().st_size,
    )


def assert_plain(message: str, *hidden: str) -> None:
    """`message` names no path, no temporary folder, no ffmpeg, and none of `hidden`."""
    assert message.strip(), "an error must say something"
    assert not re.search(r"/[\w.~-]", message), f"a path in {message!r}"
    assert "tmp" not in message.lower() and "pytest" not in message.lower(), message
    assert "ffmpeg" not in message.lower(), message
    for text in hidden:
        assert text not in message, f"{text!r} in {message!r}"


def _children() -> set[int]:
    """Pids of this process's children, zombies included."""
    children = set()
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == me:
            children.add(int(entry.name))
    return children


def _running(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


# ---------------------------------------------------------------- user messages


def test_an_ffmpeg_failure_says_what_failed_without_paths_or_ffmpeg_output(
    media: dict[str, Path], tmp_path: Path
) -> None:
    wav = tmp_path / "audio.wav"
    with pytest.raises(PipelineError) as raised:
        extract_audio(media["silent"], wav, duration=3.0)
    error = raised.value
    assert str(error).startswith("Could not read the sound of the video.")
    assert_plain(str(error), str(media["silent"]), "matches no streams", "Invalid argument")
    # The operator's side keeps what ffmpeg said and which file it was.
    assert "matches no streams" in error.detail
    assert str(media["silent"]) in error.detail
    assert "status" in error.detail


def test_a_missing_input_keeps_the_path_in_the_detail_only(tmp_path: Path) -> None:
    missing = tmp_path / "secret-folder" / "nowhere.mp4"
    with pytest.raises(PipelineError) as raised:
        run_ffmpeg(["-i", str(missing), "-f", "null", "-"], what="read the video", timeout=60)
    error = raised.value
    assert str(error).startswith("Could not read the video.")
    assert_plain(str(error), "secret-folder", "nowhere", "No such file")
    assert "No such file or directory" in error.detail
    assert str(missing) in error.detail


def test_a_failed_render_says_which_clip_and_hides_the_encoder_output(
    media: dict[str, Path], tmp_path: Path
) -> None:
    # Claims a sound track the file does not have: the encode itself fails.
    with pytest.raises(PipelineError) as raised:
        render_clip(
            source=str(media["silent"]),
            info=_info(media["silent"], has_audio=True),
            clip=RankedClip(0.5, 2.5, "T", "H", "R", 5, ""),
            words=[Word(0.6, 1.0, "Hello"), Word(1.1, 1.6, "there.")],
            options=GenerateOptions(aspect="9:16", captions="animated"),
            out_dir=tmp_path / "out",
            rank=3,
        )
    error = raised.value
    assert "clip 3" in str(error)
    assert_plain(str(error), str(media["silent"]), "filter", "Stream specifier")
    assert error.detail and "status" in error.detail
    assert not list((tmp_path / "out").glob("clip_03*"))


def test_a_missing_ffmpeg_binary_is_a_plain_error(
    use_binary: Callable[[Path], None], tmp_path: Path, media: dict[str, Path]
) -> None:
    use_binary(tmp_path / "bin" / "no-ffmpeg-here")
    with pytest.raises(PipelineError) as raised:
        extract_audio(media["talking"], tmp_path / "a.wav", duration=4.0)
    assert "could not be started" in str(raised.value)
    assert_plain(str(raised.value), "no-ffmpeg-here", "Errno")
    assert "no-ffmpeg-here" in raised.value.detail


def test_a_missing_source_file_is_not_named_to_the_user(tmp_path: Path) -> None:
    with pytest.raises(InvalidVideo) as raised:
        probe(tmp_path / "uploads" / "video-7.mp4")
    assert_plain(str(raised.value), "video-7", "uploads")
    assert "video-7.mp4" in raised.value.detail


def test_errors_keep_their_detail_through_pickling_and_cancel_still_works() -> None:
    error = InvalidVideo("The file is empty.", detail="/srv/data/x.mp4: 0 bytes")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is InvalidVideo
    assert (str(copy), copy.detail) == ("The file is empty.", "/srv/data/x.mp4: 0 bytes")
    assert PipelineError("Plain.").detail == ""

    cancelled = Cancelled()
    assert isinstance(cancelled, PipelineError)
    assert (str(cancelled), cancelled.detail) == ("Cancelled.", "")
    again = pickle.loads(pickle.dumps(cancelled))
    assert type(again) is Cancelled and str(again) == "Cancelled."


# ---------------------------------------------------------------- time limits


def test_time_limits_grow_with_the_media_and_never_cut_a_long_source_short() -> None:
    four_hours = 4 * 3600.0
    assert timeout_for("audio", four_hours) > timeout_for("audio", 60.0)
    # Audio extraction runs at hundreds of times real time; allow far slower than that.
    assert timeout_for("audio", four_hours) >= four_hours / 10
    # A 3-minute clip near the end of a 4-hour source renders at about 2x real time.
    assert timeout_for("render", 180.0, seek_seconds=four_hours - 180) >= 180.0 * 5
    assert timeout_for("scenes", 1.4) >= 60.0


@pytest.fixture
def use_binary(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """Point `FFMPEG_BINARY` at a path (settings and binary caches cleared before and after)."""

    def use(path: Path) -> None:
        monkeypatch.setenv("FFMPEG_BINARY", str(path))
        get_settings.cache_clear()
        ffmpeg_binary.cache_clear()
        assert ffmpeg_binary() == str(path)

    yield use
    # Runs before monkeypatch restores the variable: the next reads see the real setting.
    get_settings.cache_clear()
    ffmpeg_binary.cache_clear()


@pytest.fixture
def hung_ffmpeg(
    monkeypatch: pytest.MonkeyPatch, use_binary: Callable[[Path], None], tmp_path: Path
) -> Iterator[Path]:
    """FFMPEG_BINARY is a script that sleeps (in a child, like a wrapper would) and says
    nothing; time limits are SHORT_LIMIT_S. Yields the file the script writes its pids to.
    """
    pids = tmp_path / "pids"
    script = tmp_path / "fake-ffmpeg"
    script.write_text(
        f'#!/bin/sh\necho $$ >> "{pids}"\nsleep {HANG_SECONDS} &\necho $! >> "{pids}"\nwait\n'
    )
    script.chmod(0o755)
    monkeypatch.setattr(ffmpeg, "TIMEOUT_FLOOR_S", SHORT_LIMIT_S)
    monkeypatch.setattr(ffmpeg, "TIMEOUT_PER_SEEK_SECOND", 0.0)
    for work in list(ffmpeg.TIMEOUT_PER_MEDIA_SECOND):
        monkeypatch.setitem(ffmpeg.TIMEOUT_PER_MEDIA_SECOND, work, 0.0)
    use_binary(script)
    before = _children()
    yield pids
    # The fake ffmpeg and its sleeping child are gone, and no zombie is left behind.
    started = [int(line) for line in pids.read_text().split()] if pids.exists() else []
    assert len(started) >= 2, "the fake ffmpeg never ran"
    deadline = time.monotonic() + 5.0
    while any(_running(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in started if _running(pid)], "a killed ffmpeg is still running"
    assert _children() <= before, "an ffmpeg child (or its zombie) was left behind"


def _assert_too_slow(error: PipelineError, began: float) -> None:
    elapsed = time.monotonic() - began
    assert elapsed < SHORT_LIMIT_S + 10, f"waited {elapsed:.1f} s for a hung ffmpeg"
    assert str(error).startswith("Processing the video took too long")
    assert_plain(str(error))
    assert f"killed after its {SHORT_LIMIT_S:g} s time limit" in error.detail


def test_a_hung_ffmpeg_is_killed_after_its_time_limit(
    hung_ffmpeg: Path, media: dict[str, Path], tmp_path: Path
) -> None:
    began = time.monotonic()
    with pytest.raises(PipelineError) as raised:
        extract_audio(media["talking"], tmp_path / "a.wav", duration=4.0)
    _assert_too_slow(raised.value, began)
    assert "read the sound of the video" in str(raised.value)
    assert str(media["talking"]) in raised.value.detail
    assert not (tmp_path / "a.wav").exists()


def test_a_hung_face_sampler_is_killed_and_the_clip_left_unmade(
    hung_ffmpeg: Path, media: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    began = time.monotonic()
    with pytest.raises(PipelineError) as raised:
        render_clip(
            source=str(media["talking"]),
            info=_info(media["talking"], has_audio=True),
            clip=RankedClip(0.5, 3.5, "T", "H", "R", 5, ""),
            words=[Word(0.6, 1.0, "Hello")],
            options=GenerateOptions(aspect="9:16", captions="plain"),
            out_dir=out,
            rank=2,
        )
    _assert_too_slow(raised.value, began)
    assert "faces" in str(raised.value)
    assert not list(out.glob("clip_02*"))


def test_a_hung_scene_detection_is_killed(hung_ffmpeg: Path, media: dict[str, Path]) -> None:
    began = time.monotonic()
    with pytest.raises(PipelineError) as raised:
        detect_scene_cuts(str(media["talking"]), [(0.0, 2.0)])
    _assert_too_slow(raised.value, began)
