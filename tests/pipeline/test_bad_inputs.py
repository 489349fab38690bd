"""Files the pipeline must refuse: a clear message, and nothing left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clipgen.config import PROJECT_ROOT
from clipgen.pipeline.errors import PipelineError
from clipgen.pipeline.run import generate_clips
from clipgen.pipeline.types import GenerateOptions
from tests.support.media import Line, make_talk


def _text_as_mp4(folder: Path) -> Path:
    path = folder / "notes.mp4"
    path.write_text("These are my meeting notes, not a video.\n" * 50)
    return path


def _empty(folder: Path) -> Path:
    path = folder / "empty.mp4"
    path.touch()
    return path


def _truncated(folder: Path, talk: Path) -> Path:
    path = folder / "truncated.mp4"
    data = talk.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _silent(folder: Path) -> Path:
    path = folder / "silent.mp4"
    make_talk([Line("This line is never heard.")], path, audio=False)
    return path


def _five_seconds(folder: Path) -> Path:
    path = folder / "short.mp4"
    make_talk([Line("Hello there, this is short.")], path)
    return path


CASES = {
    "text file renamed .mp4": (_text_as_mp4, "not a video"),
    "zero-byte file": (_empty, "empty"),
    "truncated mp4": (_truncated, "truncated or damaged"),
    "video without audio": (_silent, "no audio track"),
    "shorter than the minimum": (_five_seconds, "shorter than the shortest clip"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_clearly_and_leaves_nothing(case: str, talk, tmp_path: Path) -> None:
    build, message = CASES[case]
    inputs = tmp_path / "in"
    inputs.mkdir()
    video = build(inputs, talk[0]) if build is _truncated else build(inputs)
    out_parent = tmp_path / "outputs"
    out_parent.mkdir()
    with pytest.raises(PipelineError, match=message):
        generate_clips(video, out_parent / "clips", GenerateOptions(min_seconds=30, max_seconds=60))
    assert list(out_parent.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (GenerateOptions(clips=0), "between 1 and 20"),
        (GenerateOptions(clips=21), "between 1 and 20"),
        (GenerateOptions(min_seconds=60, max_seconds=30), "at least 5 seconds between"),
        (GenerateOptions(aspect="4:3"), "9:16, 1:1 or 16:9"),
    ],
)
def test_impossible_options_are_refused_before_any_work(options, message, tmp_path) -> None:
    with pytest.raises(PipelineError, match=message):
        generate_clips(tmp_path / "whatever.mp4", tmp_path / "out", options)
    assert not (tmp_path / "out").exists()


def test_the_command_line_says_what_is_wrong_without_a_traceback(tmp_path: Path) -> None:
    video = _text_as_mp4(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "clipgen", "generate", str(video), "--out", str(tmp_path / "o")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DATA_DIR": str(tmp_path / "data")},
    )
    assert done.returncode == 2
    assert "not a video" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()
