"""Build test and benchmark videos: espeak-ng speech over lavfi pictures.

A talk is a list of `Line`s: each is spoken by espeak-ng (its speed, pitch
and loudness set per line) and shown over its own background colour, so
line changes are also scene cuts. The face photo (public domain) can be
overlaid so the reframe has someone to follow.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clipgen.pipeline.ffmpeg import ffmpeg_binary

FACE_IMAGE = Path(__file__).resolve().parent.parent / "fixtures" / "face.jpg"
_COLOURS = ["0x2e3440", "0x3b4252", "0x5e81ac", "0xa3be8c", "0xb48ead", "0xd08770", "0x4c566a"]


@dataclass(frozen=True)
class Line:
    text: str
    speed: int = 165  # words per minute
    pitch: int = 50
    gain_db: float = 0.0
    pause_after: float = 0.5
    face_x: float = 0.5  # where the face sits across the frame, 0..1


def _espeak() -> str:
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise RuntimeError("espeak-ng is needed for test media: apt-get install -y espeak-ng")
    return binary


def speak(line: Line, rate: int = 16_000) -> np.ndarray:
    """The line spoken by espeak-ng, as int16 samples at `rate`, gain applied."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(
            [
                _espeak(),
                "-v",
                "en-us",
                "-s",
                str(line.speed),
                "-p",
                str(line.pitch),
                "-w",
                str(raw),
                line.text,
            ],
            check=True,
            capture_output=True,
        )
        resampled = Path(tmp) / "out.wav"
        subprocess.run(
            [
                ffmpeg_binary(),
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(raw),
                "-ac",
                "1",
                "-ar",
                str(rate),
                str(resampled),
            ],
            check=True,
        )
        with wave.open(str(resampled)) as wav:
            samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    scaled = samples.astype(np.float32) * (10 ** (line.gain_db / 20))
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def make_talk(
    lines: list[Line],
    out: Path,
    *,
    size: tuple[int, int] = (640, 360),
    fps: int = 30,
    face: bool = True,
    audio: bool = True,
    preset: str = "veryfast",
) -> list[tuple[float, float]]:
    """Write an H.264/AAC MP4 of the talk; returns each line's (start, end) in seconds."""
    rate = 16_000
    chunks, spans, cursor = [], [], 0.0
    for line in lines:
        speech = speak(line, rate)
        spans.append((cursor, cursor + speech.size / rate))
        pause = np.zeros(int(line.pause_after * rate), dtype=np.int16)
        chunks += [speech, pause]
        cursor += (speech.size + pause.size) / rate
    total = cursor
    with tempfile.TemporaryDirectory() as tmp:
        wav_path = Path(tmp) / "talk.wav"
        with wave.open(str(wav_path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(np.concatenate(chunks).tobytes())
        width, height = size
        inputs, filters, labels = [], [], []
        for index, (start, _end) in enumerate(spans):
            length = (spans[index + 1][0] if index + 1 < len(spans) else total) - start
            colour = _COLOURS[index % len(_COLOURS)]
            inputs += [
                "-f",
                "lavfi",
                "-i",
                f"color=c={colour}:s={width}x{height}:r={fps}:d={length:.3f}",
            ]
            labels.append(f"[{index}:v]")
        filters.append(f"{''.join(labels)}concat=n={len(lines)}:v=1:a=0[bg]")
        video_label = "[bg]"
        next_input = len(lines)
        if face:
            face_size = height * 4 // 5  # a talking head fills most of the frame height
            inputs += ["-loop", "1", "-framerate", str(fps), "-i", str(FACE_IMAGE)]
            xs = "+".join(
                f"between(t,{s:.3f},{(spans[i + 1][0] if i + 1 < len(spans) else total):.3f})"
                f"*{int(line.face_x * (width - face_size))}"
                for i, (line, (s, _e)) in enumerate(zip(lines, spans, strict=True))
            )
            filters.append(f"[{next_input}:v]scale={face_size}:{face_size}[face]")
            filters.append(
                f"[bg][face]overlay=x='{xs}':y={(height - face_size) // 2}:shortest=1[v]"
            )
            video_label = "[v]"
            next_input += 1
        command = [ffmpeg_binary(), "-loglevel", "error", "-y", *inputs]
        if audio:
            command += ["-i", str(wav_path)]
        command += ["-filter_complex", ";".join(filters), "-map", video_label]
        if audio:
            command += ["-map", f"{next_input}:a", "-c:a", "aac", "-b:a", "96k", "-ar", "48000"]
        command += [
            "-t",
            f"{total:.3f}",
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-pix_fmt",
            "yuv420p",
            "-g",
            str(fps * 2),
            "-movflags",
            "+faststart",
            str(out),
        ]
        subprocess.run(command, check=True)
    return spans
