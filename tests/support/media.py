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


# Where the mouth corners are in FACE_IMAGE (384x384), found once by the face detector.
FACE_MOUTH = ((151, 104), (183, 105))
# The head and shoulders of FACE_IMAGE, x0, y0, x1, y1: the picture a two-shot shows.
FACE_CROP = (40, 0, 340, 300)


def two_faces() -> list[np.ndarray]:
    """Two people from the one face photo: as it is, and mirrored with red and blue swapped."""
    import cv2

    x0, y0, x1, y1 = FACE_CROP
    left = cv2.imread(str(FACE_IMAGE))[y0:y1, x0:x1]
    right = cv2.flip(left, 1)[:, :, ::-1]
    return [np.ascontiguousarray(left), np.ascontiguousarray(right)]


def make_two_person_talk(
    turns: list[tuple[str, str]],
    out: Path,
    *,
    size: tuple[int, int] = (960, 540),
    fps: int = 25,
    pause: float = 0.6,
    face_height: int = 300,
    sway_px: float = 4.0,
) -> tuple[list[tuple[float, float]], list[tuple[float, float]], list[tuple[float, float, float]]]:
    """Write an MP4 of two people side by side, each mouth opening with its own voice.

    `turns` are (what the left person says, what the right one says), one after the
    other; "" is silence and two lines are spoken at once. The soundtrack is both
    voices mixed. Both heads sway by up to `sway_px` (speaking or not), so that a moving
    head is not enough to be taken for the speaker. Returns each person's speech spans
    (seconds) and, for each face, its resting box (x, y, size) in the frame.
    """
    import cv2

    rate = 16_000
    voices = [np.zeros(0, np.float32), np.zeros(0, np.float32)]
    spans: list[list[tuple[float, float]]] = [[], []]
    cursor = 0
    for said in turns:
        spoken = [
            speak(Line(text, pitch=35 if who == 0 else 75)).astype(np.float32) if text else None
            for who, text in enumerate(said)
        ]
        longest = max(s.size for s in spoken if s is not None)
        for who, speech in enumerate(spoken):
            track = np.zeros(longest + int(pause * rate), np.float32)
            if speech is not None:
                track[: speech.size] = speech
                spans[who].append((cursor / rate, (cursor + speech.size) / rate))
            voices[who] = np.concatenate([voices[who], track])
        cursor += longest + int(pause * rate)
    total = cursor / rate
    frames = int(total * fps)
    width, height = size
    faces = [cv2.resize(face, (face_height, face_height)) for face in two_faces()]
    top = (height - face_height) // 2
    lefts = [width // 4 - face_height // 2, 3 * width // 4 - face_height // 2]
    # The mouth's centre and width in a face picture of face_height (the right one is mirrored).
    scale = face_height / (FACE_CROP[3] - FACE_CROP[1])
    (mlx, mly), (mrx, mry) = FACE_MOUTH
    mouth_x = ((mlx + mrx) / 2 - FACE_CROP[0]) * scale
    mouth_y = int(((mly + mry) / 2 - FACE_CROP[1]) * scale)
    mouths = [(int(mouth_x), mouth_y), (int(face_height - mouth_x), mouth_y)]
    mouth_w = (mrx - mlx) * scale
    levels = [_voice_levels(voice, rate, fps, frames) for voice in voices]
    with tempfile.TemporaryDirectory() as tmp:
        wav_path = Path(tmp) / "mix.wav"
        mix = np.clip(voices[0] + voices[1], -32768, 32767).astype(np.int16)
        with wave.open(str(wav_path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(mix.tobytes())
        command = [
            ffmpeg_binary(),
            *("-loglevel", "error", "-y"),
            *("-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}"),
            *("-r", str(fps), "-i", "-", "-i", str(wav_path)),
            *("-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast"),
            *("-pix_fmt", "yuv420p", "-g", str(2 * fps), "-c:a", "aac", "-b:a", "96k"),
            *("-t", f"{total:.3f}", "-movflags", "+faststart", str(out)),
        ]
        process = subprocess.Popen(command, stdin=subprocess.PIPE)
        assert process.stdin is not None
        canvas = np.full((height, width, 3), 96, np.uint8)
        for index in range(frames):
            frame = canvas.copy()
            for who, (face, left, (mx, my)) in enumerate(zip(faces, lefts, mouths, strict=True)):
                # Each head sways on its own slow rhythm, whoever is talking.
                phase = 2 * np.pi * index / fps * (0.4 + 0.23 * who)
                x = left + int(round(sway_px * np.sin(phase)))
                y = top + int(round(sway_px * np.cos(1.3 * phase)))
                frame[y : y + face_height, x : x + face_height] = face
                opening = levels[who][index]
                if opening > 0.05:
                    # Parted lips: a dark red gap that widens downwards as the voice gets loud.
                    axes = (int(mouth_w * 0.4), max(1, int(mouth_w * 0.22 * opening)))
                    centre = (x + mx, y + my + axes[1] // 2)
                    cv2.ellipse(frame, centre, axes, 0, 0, 360, (60, 50, 120), -1)
            process.stdin.write(frame.tobytes())
        process.stdin.close()
        if process.wait() != 0:
            raise RuntimeError("ffmpeg could not write the two-person talk")
    boxes = [(float(left), float(top), float(face_height)) for left in lefts]
    return spans[0], spans[1], boxes


def _voice_levels(voice: np.ndarray, rate: int, fps: int, frames: int) -> list[float]:
    """How open a mouth is (0-1) in each video frame: its own voice's loudness."""
    window = int(0.04 * rate)
    loud = float(np.percentile(np.abs(voice), 99)) or 1.0
    levels = []
    for index in range(frames):
        first = int(index / fps * rate)
        piece = voice[first : first + window]
        rms = float(np.sqrt(np.mean(piece**2))) if piece.size else 0.0
        levels.append(min(1.0, 3 * rms / loud))
    return levels
