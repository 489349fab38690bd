"""A ranker that asks Gemini to choose among the candidate windows, with a fallback."""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from google import genai
from google.genai import errors, types

from clipgen.pipeline.ranking.base import Ranker, clamp_score, overlaps
from clipgen.pipeline.types import (
    Candidate,
    GenerateOptions,
    RankedClip,
    RankingResult,
    Signals,
    Transcript,
)

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "gemini-2.5-flash-lite"
API_VERSION = "v1beta"

# List price in USD per 1M tokens (input, output), from ai.google.dev/gemini-api/docs/pricing.
PRICES_PER_MILLION_TOKENS: dict[str, tuple[float, float]] = {
    "gemini-2.5-flash-lite": (0.10, 0.40),
}

MAX_PROMPT_CANDIDATES = 60
# About 30k tokens: a one-hour talk is roughly 60k characters, so most fit whole.
MAX_TRANSCRIPT_CHARS = 120_000
SNIPPET_WORDS = 14
TEMPERATURE = 0.2
MAX_BACKOFF_S = 30.0
MAX_ERROR_TEXT = 120


def _transport_errors() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """The timeout and transport exception classes of whichever httpx flavours are installed."""
    # google-genai picks httpx or its fork httpx2 at runtime; their classes are unrelated.
    timeouts: list[type[Exception]] = []
    transports: list[type[Exception]] = []
    for name in ("httpx", "httpx2"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        timeouts.append(module.TimeoutException)
        transports.append(module.TransportError)
    return tuple(timeouts), tuple(transports)


_TIMEOUT_ERRORS, _TRANSPORT_ERRORS = _transport_errors()

_SYSTEM_INSTRUCTION = (
    "You are an editor who picks the moments of a long video that will work best as "
    "short vertical clips (TikTok, Reels, Shorts). Good clips stand on their own without "
    "earlier context, grab attention in the first seconds, and end on a payoff. "
    "Only choose candidates from the numbered list, never invent times, and never choose "
    "two candidates whose times overlap."
)


class GeminiFailure(Exception):
    """Why one call to Gemini gave nothing usable (turned into a fallback reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Usage:
    """Tokens summed over the attempts that got an answer."""

    tokens_in: int = 0
    tokens_out: int = 0

    def add(self, response: types.GenerateContentResponse) -> None:
        """Count the tokens one response reports."""
        meta = response.usage_metadata
        if meta is None:
            return
        self.tokens_in += meta.prompt_token_count or 0
        # Thinking tokens are billed at the output price.
        self.tokens_out += (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)


def estimate_cost_usd(model: str, tokens_in: int, tokens_out: int) -> float:
    """The list-price cost of a call; unknown models are priced as flash-lite."""
    name = model.removeprefix("models/")
    price_in, price_out = PRICES_PER_MILLION_TOKENS.get(
        name, PRICES_PER_MILLION_TOKENS[DEFAULT_MODEL]
    )
    return (tokens_in * price_in + tokens_out * price_out) / 1_000_000


class GeminiRanker:
    """Ranks candidates with Gemini, falling back to another ranker when Gemini fails."""

    name = "gemini"

    def __init__(
        self,
        *,
        api_key: str,
        model: str = DEFAULT_MODEL,
        fallback: Ranker,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        max_attempts: int = 4,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.model = model
        self.fallback = fallback
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.timeout_s = timeout_s
        self._client = genai.Client(
            api_key=api_key,
            vertexai=False,
            http_options=types.HttpOptions(
                base_url=base_url,
                # The SDK now defaults to v1; v1beta is where the REST docs describe
                # responseSchema and systemInstruction, so the request shape is pinned there.
                api_version=API_VERSION,
                timeout=max(1, round(timeout_s * 1000)),
                # One attempt per call: the retries and their backoff are ours, so they
                # are counted, logged and can be skipped in tests.
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )

    def close(self) -> None:
        """Release the HTTP connections the Gemini client holds."""
        self._client.close()

    def rank(
        self,
        *,
        transcript: Transcript,
        signals: Signals,
        candidates: list[Candidate],
        options: GenerateOptions,
    ) -> RankingResult:
        """Up to `options.clips` non-overlapping clips chosen by Gemini, best first."""

        def use_fallback(reason: str, usage: _Usage) -> RankingResult:
            logger.warning("Gemini ranking fell back: %s", reason)
            result = self.fallback.rank(
                transcript=transcript, signals=signals, candidates=candidates, options=options
            )
            return replace(
                result,
                fallback_reason=f"{reason}; used the {self.fallback.name} ranker",
                tokens_in=result.tokens_in + usage.tokens_in,
                tokens_out=result.tokens_out + usage.tokens_out,
                cost_usd=result.cost_usd
                + estimate_cost_usd(self.model, usage.tokens_in, usage.tokens_out),
            )

        usage = _Usage()
        if not candidates or options.clips < 1:
            return use_fallback("There were no candidate moments to send to Gemini", usage)

        shown = select_prompt_candidates(candidates, signals, options)
        prompt = build_prompt(transcript, signals, candidates, shown, options)
        config = types.GenerateContentConfig(
            system_instruction=_SYSTEM_INSTRUCTION,
            temperature=TEMPERATURE,
            response_mime_type="application/json",
            response_schema=response_schema(),
        )
        try:
            text = self._generate(prompt, config, usage)
            picks = parse_picks(text, candidates, set(shown), options.clips)
        except GeminiFailure as failure:
            return use_fallback(failure.reason, usage)

        clips = list(picks)
        if len(clips) < options.clips:
            # Each Gemini window can knock out up to two neighbouring fallback windows of
            # similar length, so ask the fallback for enough spares.
            spare = replace(options, clips=options.clips + 2 * len(clips))
            extra = self.fallback.rank(
                transcript=transcript, signals=signals, candidates=candidates, options=spare
            )
            clips.extend(self._fill(clips, extra, options.clips))
        return RankingResult(
            ranker="gemini",
            clips=tuple(clips),
            tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out,
            cost_usd=estimate_cost_usd(self.model, usage.tokens_in, usage.tokens_out),
        )

    def _generate(self, prompt: str, config: types.GenerateContentConfig, usage: _Usage) -> str:
        """The reply text, after retrying rate limits, server errors and timeouts."""
        failures: list[tuple[str, str]] = []
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._client.models.generate_content(
                    model=self.model, contents=prompt, config=config
                )
            except errors.APIError as exc:
                if not _retryable(exc.code or 0):
                    raise GeminiFailure(
                        f"Gemini rejected the request (HTTP {exc.code}{_describe(exc)})"
                    ) from exc
                failures.append(("failed", f"HTTP {exc.code}{_describe(exc)}"))
            except errors.UnknownApiResponseError as exc:
                raise GeminiFailure(
                    "Gemini returned malformed JSON (the reply was not JSON)"
                ) from exc
            except _TIMEOUT_ERRORS:
                failures.append(("timed out", f"no answer within {self.timeout_s:g} s"))
            except _TRANSPORT_ERRORS as exc:
                failures.append(("could not be reached", type(exc).__name__))
            else:
                usage.add(response)
                return _reply_text(response)
            logger.info("Gemini attempt %d/%d: %s (%s)", attempt, self.max_attempts, *failures[-1])
            if attempt < self.max_attempts:
                self.sleep(min(MAX_BACKOFF_S, self.backoff_s * 2 ** (attempt - 1)))

        kind, detail = failures[-1]
        if any(other != kind for other, _ in failures):
            kind = "failed"
        attempts = "attempt" if self.max_attempts == 1 else "attempts"
        raise GeminiFailure(f"Gemini {kind} after {self.max_attempts} {attempts} (last: {detail})")

    @staticmethod
    def _fill(
        chosen: Sequence[RankedClip], fallback: RankingResult, wanted: int
    ) -> list[RankedClip]:
        """The fallback's clips that do not overlap the chosen ones, up to the number wanted."""
        taken = list(chosen)
        extra: list[RankedClip] = []
        for clip in fallback.clips:
            if len(taken) >= wanted:
                break
            if any(overlaps(clip.start, clip.end, other.start, other.end) for other in taken):
                continue
            taken.append(clip)
            extra.append(clip)
        return extra


def _retryable(code: int) -> bool:
    """Whether an HTTP status is worth another attempt (timeouts, rate limits, server errors)."""
    return code in (408, 429) or 500 <= code < 600


def _describe(exc: errors.APIError) -> str:
    """A short ': message' suffix for an API error, or nothing."""
    message = " ".join(str(exc.message or exc.status or "").split())
    if not message:
        return ""
    if len(message) > MAX_ERROR_TEXT:
        message = message[: MAX_ERROR_TEXT - 1] + "…"
    return f": {message}"


def _reply_text(response: types.GenerateContentResponse) -> str:
    """The text of the first candidate, or a failure saying why there is none."""
    if not response.candidates:
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            raise GeminiFailure(f"Gemini blocked the prompt ({feedback.block_reason.value})")
        raise GeminiFailure("Gemini returned no answer")
    text = response.text
    if not text:
        finish = response.candidates[0].finish_reason
        detail = f" (finish reason {finish.value})" if finish is not None else ""
        raise GeminiFailure(f"Gemini returned an empty answer{detail}")
    return text


def response_schema() -> types.Schema:
    """The JSON shape Gemini must answer in: a list of picks, best first."""
    string = types.Schema(type=types.Type.STRING)
    return types.Schema(
        type=types.Type.ARRAY,
        items=types.Schema(
            type=types.Type.OBJECT,
            properties={
                "candidate": types.Schema(
                    type=types.Type.INTEGER, description="The number of the chosen candidate."
                ),
                "title": string,
                "hook": string,
                "reason": string,
                "score": types.Schema(
                    type=types.Type.INTEGER, minimum=1, maximum=10, description="1-10, 10 best."
                ),
            },
            required=["candidate", "title", "hook", "reason", "score"],
            property_ordering=["candidate", "reason", "title", "hook", "score"],
        ),
    )


def parse_picks(
    text: str, candidates: Sequence[Candidate], allowed: set[int], wanted: int
) -> list[RankedClip]:
    """The usable clips in a reply, best first; a failure if the reply is unusable."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GeminiFailure("Gemini returned malformed JSON") from exc
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), list):
        # Tolerate a reply wrapped in one object ({"clips": [...]}) despite the schema.
        data = next(iter(data.values()))
    if not isinstance(data, list):
        raise GeminiFailure("Gemini returned malformed JSON (expected a list of clips)")

    entries: list[tuple[int, int, dict[str, Any]]] = []
    for entry in data:
        if not isinstance(entry, dict):
            continue
        index = _as_int(entry.get("candidate"))
        if index is None or index not in allowed or not 0 <= index < len(candidates):
            continue
        score = _as_number(entry.get("score"))
        # A pick without a readable score is kept but ranked as middling.
        entries.append((clamp_score(5 if score is None else score), index, entry))
    # Stable sort keeps the model's order among equal scores.
    entries.sort(key=lambda item: -item[0])

    clips: list[RankedClip] = []
    used: set[int] = set()
    for score, index, entry in entries:
        if len(clips) >= wanted:
            break
        candidate = candidates[index]
        if index in used or any(
            overlaps(candidate.start, candidate.end, clip.start, clip.end) for clip in clips
        ):
            continue
        used.add(index)
        clips.append(
            RankedClip(
                start=candidate.start,
                end=candidate.end,
                title=_clean(entry.get("title")) or default_title(candidate.text),
                hook=_clean(entry.get("hook")) or default_hook(candidate.text),
                reason=_clean(entry.get("reason")) or "Chosen by Gemini.",
                score=score,
                transcript=candidate.text,
            )
        )
    if not clips:
        raise GeminiFailure("Gemini chose no usable clips")
    return clips


def _as_int(value: Any) -> int | None:
    """An index from JSON: an integer, or a float or string holding one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("#").isdigit():
        return int(value.strip().lstrip("#"))
    return None


def _as_number(value: Any) -> float | None:
    """A score from JSON: a number, or a string holding one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _clean(value: Any) -> str:
    """A text field with whitespace collapsed; empty when missing or not text."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def default_title(text: str, words: int = 8) -> str:
    """A title made from the opening words of a clip's transcript."""
    opening = text.split()[:words]
    if not opening:
        return "Untitled clip"
    title = " ".join(opening).rstrip(".,;:!?")
    title = title[:1].upper() + title[1:]
    return title + ("…" if len(text.split()) > words else "")


def default_hook(text: str, max_chars: int = 120) -> str:
    """A hook made from the first sentence of a clip's transcript."""
    flat = " ".join(text.split())
    if not flat:
        return "Watch this."
    for mark in (". ", "? ", "! "):
        cut = flat.find(mark)
        if 0 < cut < max_chars:
            flat = flat[: cut + 1]
    if len(flat) > max_chars:
        flat = flat[: max_chars - 1].rsplit(" ", 1)[0] + "…"
    return flat


def pre_score(candidate: Candidate, signals: Signals, options: GenerateOptions) -> float:
    """A cheap interest estimate, only used to trim a long candidate list before prompting."""
    duration = max(candidate.duration, 1.0)
    loudness = signals.mean_loudness(candidate.start, candidate.end) if signals.hop > 0 else -90.0
    peaks = sum(1 for t in signals.energy_peaks if candidate.start <= t <= candidate.end)
    words_per_second = len(candidate.text.split()) / duration
    fits = options.min_seconds <= candidate.duration <= options.max_seconds
    return loudness / 10 + 5 * peaks / duration + words_per_second + (2.0 if fits else 0.0)


def select_prompt_candidates(
    candidates: Sequence[Candidate], signals: Signals, options: GenerateOptions
) -> list[int]:
    """Indices of the candidates to show Gemini, in time order, at most MAX_PROMPT_CANDIDATES."""
    indices = list(range(len(candidates)))
    if len(indices) > MAX_PROMPT_CANDIDATES:
        indices.sort(key=lambda i: (-pre_score(candidates[i], signals, options), i))
        indices = indices[:MAX_PROMPT_CANDIDATES]
    return sorted(indices, key=lambda i: (candidates[i].start, i))


def build_prompt(
    transcript: Transcript,
    signals: Signals,
    candidates: Sequence[Candidate],
    shown: Sequence[int],
    options: GenerateOptions,
) -> str:
    """The user message: what is wanted, the timed transcript and the numbered candidates."""
    lines = [
        f"Choose the {options.clips} best candidates for short clips, best first. "
        f"Each clip should last {options.min_seconds:g}-{options.max_seconds:g} seconds.",
    ]
    if options.prompt.strip():
        lines.append(
            f'The user wants moments about: "{" ".join(options.prompt.split())}". '
            "Strongly prefer candidates that match it."
        )
    lines.append(
        "For each pick give: candidate (its #number), title (at most 8 words, no hashtags), "
        "hook (the opening line to show on screen, at most 15 words), reason (one sentence "
        "on why it will hold viewers), score (1-10, how likely it is to do well)."
    )
    lines.append("")
    lines.append("Transcript, [start-end] in seconds:")
    lines.extend(_transcript_lines(transcript, [candidates[i] for i in shown]))
    lines.append("")
    lines.append(
        "Candidates: #number [start-end] duration, then signals "
        "(loudness_db is mean loudness, peaks counts energy peaks), then the opening words:"
    )
    for index in shown:
        lines.append(_candidate_line(index, candidates[index], signals))
    return "\n".join(lines)


def _transcript_lines(transcript: Transcript, shown: Sequence[Candidate]) -> list[str]:
    """One '[start-end] text' line per segment, cut down to the shown windows if too long."""
    segments = list(transcript.segments)
    lines = [_segment_line(s.start, s.end, s.text) for s in segments]
    if sum(len(line) + 1 for line in lines) <= MAX_TRANSCRIPT_CHARS:
        return lines
    lines = [
        _segment_line(s.start, s.end, s.text)
        for s in segments
        if any(overlaps(s.start, s.end, c.start, c.end) for c in shown)
    ]
    kept: list[str] = []
    total = 0
    for line in lines:
        total += len(line) + 1
        if total > MAX_TRANSCRIPT_CHARS:
            kept.append("[transcript cut short]")
            break
        kept.append(line)
    return kept


def _segment_line(start: float, end: float, text: str) -> str:
    """A transcript line: '[12.3-15.8] text'."""
    return f"[{start:.1f}-{end:.1f}] {' '.join(text.split())}"


def _candidate_line(index: int, candidate: Candidate, signals: Signals) -> str:
    """A numbered candidate with its times, signals and opening words."""
    features = dict(candidate.features)
    if signals.hop > 0:
        features.setdefault("loudness_db", signals.mean_loudness(candidate.start, candidate.end))
    features.setdefault(
        "peaks",
        float(sum(1 for t in signals.energy_peaks if candidate.start <= t <= candidate.end)),
    )
    signal_text = " ".join(f"{name}={_number(value)}" for name, value in features.items())
    words = candidate.text.split()
    opening = " ".join(words[:SNIPPET_WORDS]) + (" …" if len(words) > SNIPPET_WORDS else "")
    return (
        f"#{index} [{candidate.start:.1f}-{candidate.end:.1f}] {candidate.duration:.1f}s "
        f'{signal_text} "{opening}"'
    )


def _number(value: Any) -> str:
    """A compact number for the prompt."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:.3g}"
