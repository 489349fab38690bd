"""From a talk video to ranked clips: transcript, boundaries, ranking, outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import pytest

from clipgen.config import PROJECT_ROOT
from clipgen.pipeline.audio import SAMPLE_RATE, extract_audio, load_audio
from clipgen.pipeline.candidates import find_candidates
from clipgen.pipeline.probe import probe
from clipgen.pipeline.ranking.heuristic import HeuristicRanker
from clipgen.pipeline.run import generate_clips
from clipgen.pipeline.signals import compute_signals
from clipgen.pipeline.transcribe import transcribe
from clipgen.pipeline.types import GenerateOptions

SHORT = GenerateOptions(clips=2, min_seconds=5, max_seconds=12, captions="animated")


@pytest.fixture(scope="module")
def analysed(talk, tmp_path_factory):
    path, spans = talk
    info = probe(path)
    wav = extract_audio(path, tmp_path_factory.mktemp("audio") / "a.wav")
    audio = load_audio(wav)
    transcript = transcribe(audio)
    signals = compute_signals(audio, SAMPLE_RATE)
    return info, transcript, signals, spans


def test_probe_reads_the_talk(talk) -> None:
    info = probe(talk[0])
    assert (info.width, info.height, round(info.fps)) == (640, 360, 30)
    assert info.has_audio and info.video_codec == "h264" and 25 < info.duration < 60


def test_the_transcript_contains_the_spoken_words(analysed) -> None:
    _info, transcript, _signals, _spans = analysed
    text = " ".join(w.text for w in transcript.words).lower()
    for spoken in ("committee", "maintenance", "secret", "money", "parking", "library"):
        assert spoken in text
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)


def test_candidates_start_and_end_between_words(analysed) -> None:
    _info, transcript, signals, _spans = analysed
    candidates = find_candidates(transcript, signals, min_seconds=5, max_seconds=12)
    assert candidates
    for candidate in candidates:
        assert 5 <= candidate.duration <= 12
        for word in transcript.words:
            assert not (word.start < candidate.start < word.end), (candidate, word)
            assert not (word.start < candidate.end < word.end), (candidate, word)


def test_a_loud_emotional_hook_outranks_flat_talk(analysed) -> None:
    _info, transcript, signals, spans = analysed
    hype_start, hype_end = spans[3]
    candidates = find_candidates(transcript, signals, min_seconds=5, max_seconds=12)
    result = HeuristicRanker().rank(
        transcript=transcript, signals=signals, candidates=candidates, options=SHORT
    )
    best = result.clips[0]
    assert best.start <= hype_start + 0.5 and best.end >= hype_start + 2
    assert "secret" in best.transcript.lower()
    assert best.score > result.clips[1].score
    assert result.ranker == "heuristic"


def test_the_prompt_steers_the_heuristic_ranker(analysed) -> None:
    _info, transcript, signals, _spans = analysed
    candidates = find_candidates(transcript, signals, min_seconds=5, max_seconds=12)
    options = GenerateOptions(
        clips=1, min_seconds=5, max_seconds=12, prompt="moments about parking permits"
    )
    result = HeuristicRanker().rank(
        transcript=transcript, signals=signals, candidates=candidates, options=options
    )
    assert "permit" in result.clips[0].transcript.lower()


def test_generate_writes_every_file_and_a_manifest(talk, tmp_path: Path) -> None:
    out = tmp_path / "clips"
    seen = []
    manifest = generate_clips(talk[0], out, SHORT, progress=lambda s, p: seen.append(s))
    assert [c["rank"] for c in manifest["clips"]] == [1, 2]
    assert manifest["ranker"] == "heuristic"
    assert set(manifest["timings"]) >= {"probe", "audio", "transcribe", "render", "total"}
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert {"probe", "transcribe", "render"} <= set(seen)
    for clip in manifest["clips"]:
        for key in ("video", "srt", "vtt", "thumbnail"):
            assert Path(clip[key]).is_file() and Path(clip[key]).parent == out
        with av.open(clip["video"]) as container:
            video = container.streams.video[0]
            assert (video.codec_context.width, video.codec_context.height) == (1080, 1920)
            assert container.streams.audio
            length = container.duration / av.time_base
            assert abs(length - (clip["end"] - clip["start"])) < 0.25
        assert 1 <= clip["score"] <= 10 and clip["title"] and clip["hook"] and clip["reason"]
    assert [p.name for p in tmp_path.iterdir()] == ["clips"]


def test_a_second_run_with_the_same_work_folder_resumes(talk, tmp_path: Path) -> None:
    work = tmp_path / "work"
    first = generate_clips(talk[0], tmp_path / "a", SHORT, work_dir=work)
    assert (work / "transcribe.json").exists()
    second = generate_clips(talk[0], tmp_path / "b", SHORT, work_dir=work)
    assert "transcribe" not in second["timings"]
    assert [(c["start"], c["end"]) for c in first["clips"]] == [
        (c["start"], c["end"]) for c in second["clips"]
    ]


def test_the_command_line_prints_progress_and_the_manifest(talk, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "clipgen",
            "generate",
            str(talk[0]),
            "--out",
            str(out),
            "--clips",
            "1",
            "--min",
            "5",
            "--max",
            "12",
            "--aspect",
            "1:1",
            "--captions",
            "plain",
            "--json",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DATA_DIR": str(tmp_path / "data")},
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    assert "transcribe" in done.stderr and "100.0%" in done.stderr
    clip = manifest["clips"][0]
    assert set(clip) >= {
        "rank",
        "start",
        "end",
        "title",
        "hook",
        "reason",
        "score",
        "transcript",
        "video",
        "srt",
        "vtt",
        "thumbnail",
    }
    with av.open(clip["video"]) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (1080, 1080)


def test_scene_cuts_are_found_only_in_the_ranges_asked_for(talk) -> None:
    from clipgen.pipeline.signals.scenes import detect_scene_cuts

    path, spans = talk
    # Each spoken line has its own background, so a line change is a picture cut.
    boundary = spans[2][0]
    found = detect_scene_cuts(str(path), [(boundary - 1.0, boundary + 1.0)])
    assert found and all(abs(cut - boundary) < 0.6 for cut in found)
    assert detect_scene_cuts(str(path), [(spans[0][0] + 0.5, spans[0][1] - 0.5)]) == []
