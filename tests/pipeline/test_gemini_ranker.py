"""GeminiRanker against a local fake of the Gemini REST API, spoken to by the real client."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from clipgen.pipeline.ranking.gemini import MAX_PROMPT_CANDIDATES, GeminiRanker
from clipgen.pipeline.types import (
    Candidate,
    GenerateOptions,
    RankedClip,
    RankingResult,
    Segment,
    Signals,
    Transcript,
    Word,
)

API_KEY = "test-key-123"
MODEL = "gemini-2.5-flash-lite"
PATH = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):generateContent$")


@dataclass
class Reply:
    """One scripted answer: an HTTP status, a JSON (dict/list) or raw (str) body, a delay."""

    status: int = 200
    body: Any = None
    delay: float = 0.0


@dataclass
class Recorded:
    """One request the fake server received."""

    path: str
    model: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def prompt(self) -> str:
        """The text of the user turn."""
        return "".join(part.get("text", "") for part in self.body["contents"][0]["parts"])

    @property
    def generation_config(self) -> dict[str, Any]:
        """The generationConfig object the client sent."""
        return self.body["generationConfig"]


@dataclass
class FakeGemini:
    """A scripted stand-in for generativelanguage.googleapis.com."""

    base_url: str = ""
    replies: deque[Reply] = field(default_factory=deque)
    requests: list[Recorded] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, *replies: Reply) -> None:
        """Queue the answers for the next requests, in order."""
        self.replies.extend(replies)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        """Record a request and send the next scripted answer."""
        url = urlsplit(handler.path)
        match = PATH.match(url.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        with self.lock:
            self.requests.append(
                Recorded(
                    path=url.path,
                    model=match["model"] if match else "",
                    query=parse_qs(url.query),
                    headers={k.lower(): v for k, v in handler.headers.items()},
                    body=json.loads(raw or b"{}"),
                )
            )
            reply = self.replies.popleft() if self.replies else None
        if match is None:
            reply = Reply(404, error_body(404, "NOT_FOUND", f"No route for {url.path}"))
        elif reply is None:
            reply = Reply(500, error_body(500, "INTERNAL", "The test scripted no more replies"))
        if reply.delay and self.stop.wait(reply.delay):
            return
        payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
        data = payload.encode()
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json; charset=UTF-8")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up waiting (the timeout tests); nobody is listening.
            pass


@pytest.fixture
def gemini() -> Iterator[FakeGemini]:
    """A fake Gemini server on a free local port for one test."""
    fake = FakeGemini()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            fake.handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        fake.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def error_body(code: int, status: str, message: str) -> dict[str, Any]:
    """An error body the way Google APIs send them."""
    return {"error": {"code": code, "message": message, "status": status}}


def ok(text: str, tokens_in: int = 1200, tokens_out: int = 150) -> Reply:
    """A successful generateContent answer whose text is `text`."""
    return Reply(
        200,
        {
            "candidates": [
                {
                    "content": {"parts": [{"text": text}], "role": "model"},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": tokens_in,
                "candidatesTokenCount": tokens_out,
                "totalTokenCount": tokens_in + tokens_out,
            },
            "modelVersion": MODEL,
            "responseId": "fake-response",
        },
    )


def picks(*entries: tuple[int, int] | dict[str, Any]) -> Reply:
    """A successful answer choosing (candidate, score) pairs, or raw entries."""
    items = [
        entry
        if isinstance(entry, dict)
        else {
            "candidate": entry[0],
            "title": f"Title {entry[0]}",
            "hook": f"Hook {entry[0]}",
            "reason": f"Reason {entry[0]}",
            "score": entry[1],
        }
        for entry in entries
    ]
    return ok(json.dumps(items))


def _segment(start: float, end: float, text: str) -> Segment:
    tokens = text.split()
    step = (end - start) / len(tokens)
    words = tuple(
        Word(start + i * step, start + (i + 1) * step, token) for i, token in enumerate(tokens)
    )
    return Segment(start, end, text, words)


TRANSCRIPT = Transcript(
    language="en",
    duration=200.0,
    segments=(
        _segment(0.0, 20.0, "Nobody tells you this about saving money early."),
        _segment(20.0, 40.0, "I lost everything in my first business and learned why."),
        _segment(40.0, 80.0, "The secret is to pay yourself first every single month."),
        _segment(80.0, 120.0, "Here is the mistake almost every beginner makes with debt."),
        _segment(120.0, 160.0, "My cat walked across the keyboard during the meeting."),
        _segment(160.0, 200.0, "So that is the whole plan, thanks for watching."),
    ),
)

# Five back-to-back windows and one (#5) that overlaps #0.
CANDIDATES = [
    Candidate(0.0, 40.0, TRANSCRIPT.text_between(0.0, 40.0), {"speech_rate": 2.5}),
    Candidate(40.0, 80.0, TRANSCRIPT.text_between(40.0, 80.0), {"speech_rate": 1.8}),
    Candidate(80.0, 120.0, TRANSCRIPT.text_between(80.0, 120.0), {"speech_rate": 2.0}),
    Candidate(120.0, 160.0, TRANSCRIPT.text_between(120.0, 160.0), {"speech_rate": 1.2}),
    Candidate(160.0, 200.0, TRANSCRIPT.text_between(160.0, 200.0), {"speech_rate": 1.0}),
    Candidate(20.0, 60.0, TRANSCRIPT.text_between(20.0, 60.0), {"speech_rate": 2.2}),
]

SIGNALS = Signals(
    hop=1.0,
    loudness_db=tuple(-20.0 if t < 120 else -30.0 for t in range(200)),
    energy_peaks=(10.0, 50.0, 90.0),
    silences=((118.0, 121.0),),
)


class StubFallback:
    """A deterministic stand-in for the heuristic ranker: candidates in list order."""

    name = "heuristic"

    def __init__(self) -> None:
        self.calls = 0

    def rank(
        self,
        *,
        transcript: Transcript,
        signals: Signals,
        candidates: list[Candidate],
        options: GenerateOptions,
    ) -> RankingResult:
        """Pick the first non-overlapping candidates, scored 5."""
        self.calls += 1
        chosen: list[RankedClip] = []
        for candidate in candidates:
            if len(chosen) == options.clips:
                break
            if any(candidate.start < c.end and c.start < candidate.end for c in chosen):
                continue
            chosen.append(
                RankedClip(
                    start=candidate.start,
                    end=candidate.end,
                    title=f"Heuristic {candidate.start:g}",
                    hook="Heuristic hook",
                    reason="Loud and fast",
                    score=5,
                    transcript=candidate.text,
                )
            )
        return RankingResult(ranker="heuristic", clips=tuple(chosen))


@dataclass
class Setup:
    """A ranker wired to the fake server, with its fallback and the backoff sleeps it asked for."""

    ranker: GeminiRanker
    fallback: StubFallback
    sleeps: list[float]

    def rank(self, options: GenerateOptions) -> RankingResult:
        """Rank the test candidates."""
        return self.ranker.rank(
            transcript=TRANSCRIPT, signals=SIGNALS, candidates=CANDIDATES, options=options
        )


def make(base_url: str, **kwargs: Any) -> Setup:
    """A GeminiRanker with a recording sleep and a stub fallback."""
    fallback = StubFallback()
    sleeps: list[float] = []
    ranker = GeminiRanker(
        api_key=API_KEY,
        model=MODEL,
        fallback=fallback,
        base_url=base_url,
        sleep=sleeps.append,
        **kwargs,
    )
    return Setup(ranker, fallback, sleeps)


def starts(result: RankingResult) -> list[float]:
    return [clip.start for clip in result.clips]


OPTIONS = GenerateOptions(clips=3, min_seconds=30.0, max_seconds=45.0)


def test_a_good_reply_gives_the_models_clips_best_first_with_tokens_and_cost(
    gemini: FakeGemini,
) -> None:
    gemini.script(picks((1, 6), (3, 9), (0, 8)))
    setup = make(gemini.base_url)

    result = setup.rank(GenerateOptions(clips=3, prompt="moments about money"))

    assert result.ranker == "gemini"
    assert result.fallback_reason == ""
    assert starts(result) == [120.0, 0.0, 40.0]
    assert [clip.score for clip in result.clips] == [9, 8, 6]
    best = result.clips[0]
    assert (best.end, best.title, best.hook, best.reason) == (
        160.0,
        "Title 3",
        "Hook 3",
        "Reason 3",
    )
    assert best.transcript == CANDIDATES[3].text
    assert (result.tokens_in, result.tokens_out) == (1200, 150)
    assert result.cost_usd == pytest.approx(1200 * 0.10 / 1e6 + 150 * 0.40 / 1e6)
    assert setup.fallback.calls == 0
    assert setup.sleeps == []


def test_the_request_carries_the_key_the_json_schema_and_the_prompt(gemini: FakeGemini) -> None:
    gemini.script(picks((0, 7)))
    setup = make(gemini.base_url)

    setup.rank(
        GenerateOptions(clips=1, min_seconds=30, max_seconds=45, prompt="moments about debt")
    )

    [request] = gemini.requests
    assert request.model == MODEL
    assert request.headers.get("x-goog-api-key") == API_KEY or request.query.get("key") == [API_KEY]
    config = request.generation_config
    assert config["responseMimeType"] == "application/json"
    schema = config["responseSchema"]
    assert schema["type"] == "ARRAY"
    assert set(schema["items"]["properties"]) == {"candidate", "title", "hook", "reason", "score"}
    assert config["temperature"] <= 0.3
    prompt = request.prompt
    assert "moments about debt" in prompt
    assert "[0.0-20.0] Nobody tells you this" in prompt
    assert "30-45 seconds" in prompt
    assert "Choose the 1 best" in prompt
    assert re.search(r"#3 \[120\.0-160\.0\] 40\.0s .*speech_rate=1\.2", prompt)
    assert "loudness_db=-30" in prompt
    assert "systemInstruction" in request.body


def test_a_rate_limit_then_success_retries_after_a_backoff_and_keeps_gemini_clips(
    gemini: FakeGemini,
) -> None:
    gemini.script(
        Reply(429, error_body(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted")),
        picks((2, 8)),
    )
    setup = make(gemini.base_url, backoff_s=1.0)

    result = setup.rank(GenerateOptions(clips=1))

    assert len(gemini.requests) == 2
    assert setup.sleeps == [1.0]
    assert result.ranker == "gemini"
    assert starts(result) == [80.0]
    assert (result.tokens_in, result.tokens_out) == (1200, 150)
    assert setup.fallback.calls == 0


def test_malformed_json_falls_back_with_a_reason_that_says_malformed(gemini: FakeGemini) -> None:
    gemini.script(ok('[{"candidate": 1, "title": "cut off'))
    setup = make(gemini.base_url)

    result = setup.rank(OPTIONS)

    assert result.ranker == "heuristic"
    assert "malformed" in result.fallback_reason
    assert "heuristic" in result.fallback_reason
    assert starts(result) == [0.0, 40.0, 80.0]
    assert len(gemini.requests) == 1
    # The call that answered still cost tokens.
    assert (result.tokens_in, result.tokens_out) == (1200, 150)
    assert result.cost_usd > 0


def test_json_in_the_wrong_shape_falls_back(gemini: FakeGemini) -> None:
    gemini.script(ok(json.dumps({"candidate": 1, "title": "x"})))
    setup = make(gemini.base_url)

    result = setup.rank(OPTIONS)

    assert result.ranker == "heuristic"
    assert "malformed" in result.fallback_reason


def test_a_reply_with_no_usable_clips_falls_back(gemini: FakeGemini) -> None:
    gemini.script(picks((42, 9), {"candidate": "nope", "score": 9}, (-1, 3)))
    setup = make(gemini.base_url)

    result = setup.rank(OPTIONS)

    assert result.ranker == "heuristic"
    assert "no usable clips" in result.fallback_reason


def test_a_timeout_falls_back_after_every_attempt_timed_out(gemini: FakeGemini) -> None:
    gemini.script(Reply(delay=3.0, body={}), Reply(delay=3.0, body={}))
    setup = make(gemini.base_url, timeout_s=0.5, max_attempts=2)

    result = setup.rank(OPTIONS)

    assert result.ranker == "heuristic"
    assert "timed out after 2 attempts" in result.fallback_reason
    assert len(gemini.requests) == 2
    assert setup.sleeps == [1.0]
    assert (result.tokens_in, result.tokens_out) == (0, 0)


def test_a_server_error_every_time_falls_back_after_max_attempts(gemini: FakeGemini) -> None:
    gemini.script(*[Reply(500, error_body(500, "INTERNAL", "Internal error"))] * 4)
    setup = make(gemini.base_url, max_attempts=4, backoff_s=0.5)

    result = setup.rank(OPTIONS)

    assert len(gemini.requests) == 4
    assert setup.sleeps == [0.5, 1.0, 2.0]
    assert result.ranker == "heuristic"
    assert "HTTP 500" in result.fallback_reason
    assert "4 attempts" in result.fallback_reason
    assert starts(result) == [0.0, 40.0, 80.0]


def test_unauthorized_falls_back_without_a_retry(gemini: FakeGemini) -> None:
    gemini.script(
        Reply(401, error_body(401, "UNAUTHENTICATED", "API key not valid.")), picks((0, 9))
    )
    setup = make(gemini.base_url)

    result = setup.rank(OPTIONS)

    assert len(gemini.requests) == 1
    assert setup.sleeps == []
    assert result.ranker == "heuristic"
    assert "HTTP 401" in result.fallback_reason
    assert "API key not valid" in result.fallback_reason


def test_an_unreachable_server_falls_back_after_max_attempts() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    setup = make(f"http://127.0.0.1:{port}", max_attempts=2)

    result = setup.rank(OPTIONS)

    assert result.ranker == "heuristic"
    assert "could not be reached" in result.fallback_reason
    assert setup.sleeps == [1.0]


def test_out_of_range_duplicate_and_overlapping_picks_are_dropped_and_filled_from_fallback(
    gemini: FakeGemini,
) -> None:
    # #5 overlaps #0 and scores higher, so #0 is the one dropped.
    gemini.script(picks((99, 10), (0, 7), (5, 9), (5, 8), (-3, 6)))
    setup = make(gemini.base_url)

    result = setup.rank(OPTIONS)

    assert result.ranker == "gemini"
    assert result.fallback_reason == ""
    assert starts(result) == [20.0, 80.0, 120.0]
    assert result.clips[0].title == "Title 5"
    assert [clip.title for clip in result.clips[1:]] == ["Heuristic 80", "Heuristic 120"]
    assert setup.fallback.calls == 1


def test_scores_are_clamped_and_empty_text_falls_back_to_the_transcript(
    gemini: FakeGemini,
) -> None:
    gemini.script(
        picks(
            {"candidate": 2, "title": "", "hook": "  ", "reason": "", "score": 14},
            {"candidate": 4, "title": "Wrap up", "hook": "That is it", "reason": "r", "score": 0},
        )
    )
    setup = make(gemini.base_url)

    result = setup.rank(GenerateOptions(clips=2))

    assert [clip.score for clip in result.clips] == [10, 1]
    first = result.clips[0]
    assert first.title.startswith("Here is the mistake")
    assert first.hook.startswith("Here is the mistake")
    assert first.reason


def test_a_long_candidate_list_is_trimmed_for_the_prompt(gemini: FakeGemini) -> None:
    many = [
        Candidate(float(i * 40), float(i * 40 + 35), f"candidate number {i} speaks")
        for i in range(MAX_PROMPT_CANDIDATES + 25)
    ]
    gemini.script(picks((0, 5)))
    setup = make(gemini.base_url)

    setup.ranker.rank(
        transcript=TRANSCRIPT, signals=SIGNALS, candidates=many, options=GenerateOptions(clips=1)
    )

    listed = re.findall(r"^#(\d+) \[", gemini.requests[0].prompt, flags=re.MULTILINE)
    assert len(listed) == MAX_PROMPT_CANDIDATES
    assert len(set(listed)) == MAX_PROMPT_CANDIDATES
