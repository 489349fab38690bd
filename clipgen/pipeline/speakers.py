"""Who is speaking in a two-person shot: mouth movement matched to speech energy.

The soundtrack is one mix, so it says when someone speaks but not who. While there is
speech, the face whose mouth moves clearly more than the other's is the speaker; when
both move alike, both talk; when neither moves, the voice is not on screen. Decisions
are made per face sample (1 / SAMPLE_FPS seconds) and then held for at least
MIN_TURN_S, so the framing never flips faster than a viewer can follow.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from clipgen.pipeline.ffmpeg import run_ffmpeg, timeout_for

Turn = Literal["left", "right", "split"]

AUDIO_RATE = 8_000  # enough to tell speech from silence
# Speech is a sample whose loudness reaches this share of the clip's loud parts (95th
# percentile of the sample RMS), and is above SILENCE_RMS (-46 dBFS) in any case.
SPEECH_SHARE = 0.2
SILENCE_RMS = 0.005
MIN_MOUTH_MOTION = 0.6  # grey levels per pixel and frame: below it a mouth is still
DOMINANCE = 1.8  # a speaker's mouth moves at least this many times more than the other's
SMOOTH_SAMPLES = 3  # mouth movement is averaged over this many samples (1.5 s)
MIN_TURN_S = 2.0  # the framing changes at most once per this many seconds


def speech_energy(
    source: str, start: float, length: float, times: list[float], window: float
) -> list[float]:
    """The soundtrack's RMS (full scale 1.0) over [t, t + window) for each t in `times`."""
    result = run_ffmpeg(
        [
            "-ss",
            f"{start:.3f}",
            "-t",
            f"{max(length, 0.05):.3f}",
            "-i",
            source,
            "-map",
            "0:a:0",
            "-vn",
            "-ac",
            "1",
            "-ar",
            str(AUDIO_RATE),
            "-f",
            "s16le",
            "-",
        ],
        what="read the sound of the clip",
        timeout=timeout_for("audio", length, seek_seconds=start),
    )
    samples = np.frombuffer(result.stdout, dtype="<i2").astype(np.float32) / 32768.0
    energy = []
    for t in times:
        first = int(t * AUDIO_RATE)
        piece = samples[first : first + max(1, int(window * AUDIO_RATE))]
        energy.append(float(np.sqrt(np.mean(piece**2))) if piece.size else 0.0)
    return energy


def speaking(
    left: list[float | None], right: list[float | None], energy: list[float]
) -> list[Turn | None]:
    """Per sample: who speaks ("left", "right"), both or unclear ("split"), or None.

    `left` and `right` are the mouth movements of the two faces (None where a face was
    not found); None means nobody speaks, or a face is missing: the framing holds.
    """
    speech = _speech(energy)
    labels: list[Turn | None] = []
    for talking, a, b in zip(speech, _smooth(left, speech), _smooth(right, speech), strict=True):
        if not talking or a is None or b is None:
            labels.append(None)
        elif max(a, b) < MIN_MOUTH_MOTION:
            labels.append("split")  # a voice, but no mouth on screen moves
        elif a >= DOMINANCE * b:
            labels.append("left")
        elif b >= DOMINANCE * a:
            labels.append("right")
        else:
            labels.append("split")
    return labels


def hold_turns(
    labels: list[Turn | None], *, default: Turn, sample_s: float, min_turn_s: float = MIN_TURN_S
) -> list[tuple[int, int, Turn]]:
    """Runs [first, last) of one framing each, every run at least `min_turn_s` long.

    Silent samples (None) keep the framing before them (the first run takes the first
    decision made); a run too short to watch is given to its longer neighbour, or, when
    it is a moment of doubt between two others, to the one after it.
    """
    known = next((label for label in labels if label is not None), default)
    held: list[Turn] = []
    for label in labels:
        known = label if label is not None else known
        held.append(known)
    runs: list[list] = []
    for index, label in enumerate(held):
        if runs and runs[-1][2] == label:
            runs[-1][1] = index + 1
        else:
            runs.append([index, index + 1, label])
    minimum = max(1, round(min_turn_s / sample_s))
    while len(runs) > 1:
        index = min(range(len(runs)), key=lambda i: runs[i][1] - runs[i][0])
        first, last, _ = runs[index]
        if last - first >= minimum:
            break
        neighbours = [i for i in (index - 1, index + 1) if 0 <= i < len(runs)]
        into = max(neighbours, key=lambda i: runs[i][1] - runs[i][0])
        if runs[index][2] == "split" and len(neighbours) == 2:
            # A moment of doubt between two turns is the next voice beginning.
            into = index + 1
        runs[into][0], runs[into][1] = min(runs[into][0], first), max(runs[into][1], last)
        del runs[index]
        runs = _merge_equal(runs)
    return [(first, last, label) for first, last, label in runs]


def followed(turns: list[Turn], default: Turn) -> list[Turn]:
    """The face a single crop shows in each turn: a stacked turn shows whoever speaks
    next (the voice the doubt was about), else whoever spoke last, else `default`."""
    shown: list[Turn] = []
    for index in range(len(turns)):
        later = [t for t in turns[index:] if t != "split"]
        earlier = [t for t in turns[:index] if t != "split"]
        shown.append(later[0] if later else earlier[-1] if earlier else default)
    return shown


def _speech(energy: list[float]) -> list[bool]:
    """Which samples hold speech, relative to the clip's own loudness."""
    if not energy:
        return []
    loud = float(np.percentile(energy, 95))
    threshold = max(SILENCE_RMS, SPEECH_SHARE * loud)
    return [value >= threshold for value in energy]


def _smooth(values: list[float | None], speech: list[bool]) -> list[float | None]:
    """A centred mean over SMOOTH_SAMPLES samples with speech, skipping missed faces.

    Syllables come and go within a sample; a mouth that talks keeps moving over a second.
    Movement in silence (a smile, a nod) says nothing about who talks, so it is left out.
    """
    reach = SMOOTH_SAMPLES // 2
    smoothed: list[float | None] = []
    for index in range(len(values)):
        near = [
            value
            for value, talking in zip(
                values[max(0, index - reach) : index + reach + 1],
                speech[max(0, index - reach) : index + reach + 1],
                strict=True,
            )
            if value is not None and talking
        ]
        smoothed.append(sum(near) / len(near) if near else None)
    return smoothed


def _merge_equal(runs: list[list]) -> list[list]:
    """Join neighbouring runs with the same framing."""
    merged: list[list] = []
    for run in runs:
        if merged and merged[-1][2] == run[2]:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    return merged
