"""The offline ranker: deterministic scores from every signal and the prompt."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

from clipgen.pipeline.ranking.base import clamp_score, overlaps
from clipgen.pipeline.signals.cues import hook_strength, prompt_relevance
from clipgen.pipeline.types import (
    Candidate,
    GenerateOptions,
    RankedClip,
    RankingResult,
    Signals,
    Transcript,
    Word,
)

# How much each feature moves the score; tuned on talk-show style speech.
WEIGHTS = {
    "loudness_gain_db": 0.35,  # per dB above the talk's usual level
    "peaks_per_min": 0.08,
    "speech_rate": 0.6,  # per word/second above 2.5
    "hook": 2.5,
    "exclamations": 0.12,
    "questions": 0.05,
    "laughter": 0.6,
    "numbers": 0.04,
    "strong_words": 0.18,
    "ends_cleanly": 0.8,
    "silence_share": -4.0,
    "prompt": 12.0,  # the user asked for this topic: it outweighs delivery
}
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
TITLE_WORDS = 8
TITLE_CHARS = 100
# How much a hook-like opening line is preferred over a rarer sentence later on.
TITLE_HOOK_BONUS = 0.6
TITLE_OPENER_BONUS = 0.3
# Below this speech-model confidence a word is likely misheard: keep it out of titles.
TITLE_SURE_WORD = 0.7
# Titles sharing their first words or half their words look like repeats to a reader.
ALIKE_OPENING_WORDS = 3
ALIKE_SHARED_WORDS = 0.5
_END_MARKS = ".,;:!…-–— "
# Words that say nothing about what a clip is about.
_STOP_WORDS_TEXT = """
    a about after again all also am an and any are as at be because been before being but by
    can could did do does doing down for from had has have having he her here hers him his
    how i if in into is it its itself just let like me more most my no nor not now of off on
    once only or other our out over own really said same say says she should so some such
    than that the their them then there these they this those through to too under until up
    us very was we were what when where which while who whom why will with would you your
    yours yourself i'm it's that's don't you're we're i've there's
"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
# Words a cut title must not end on: they promise a next word.
_DANGLING_TEXT = """
    a an the and or but nor of to in on at for with from by into about as than if so because
    before after that which who whose is was are were be been my your our their his her its
    i you we they he she it how what when where why
"""
_DANGLING = frozenset(_DANGLING_TEXT.split())


def candidate_score(candidate: Candidate, prompt: str = "") -> float:
    """A raw, unbounded score: higher is more likely to hold a viewer."""
    f = candidate.features
    score = 0.0
    for name, weight in WEIGHTS.items():
        if name == "prompt":
            value = prompt_relevance(prompt, candidate.text) if prompt else 0.0
        elif name == "speech_rate":
            value = f.get(name, 0.0) - 2.5
        else:
            value = f.get(name, 0.0)
        score += weight * value
    return score


def _first_sentence(text: str) -> str:
    return _SENTENCE.split(text.strip(), maxsplit=1)[0]


def _sentences(text: str) -> list[str]:
    return [" ".join(part.split()) for part in _SENTENCE.split(text.strip()) if part.strip()]


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _content_words(text: str) -> list[str]:
    return [t for t in _tokens(text) if t not in _STOP_WORDS and len(t) > 2]


def _shorten(sentence: str) -> str:
    """A sentence cut to a title's length and capitalised; a question keeps its mark."""
    words = sentence.split()
    if len(words) > TITLE_WORDS:
        kept = words[:TITLE_WORDS]
        while len(kept) > 3 and kept[-1].lower().strip(_END_MARKS) in _DANGLING:
            kept.pop()  # "...before the…" reads badly: end where a phrase can stop
        short = " ".join(kept).rstrip(_END_MARKS + "?") + "…"
    else:
        short = " ".join(words).rstrip(_END_MARKS)
    if len(short) > TITLE_CHARS:
        short = short[: TITLE_CHARS - 1].rsplit(" ", 1)[0].rstrip(_END_MARKS + "?") + "…"
    return short[:1].upper() + short[1:]


def _title_key(title: str) -> tuple[str, ...]:
    """What makes two titles the same to a reader: their words, not case or punctuation."""
    return tuple(_tokens(title))


def _alike(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two titles would read as the same one (a misheard word does not tell them
    apart): the same opening words, or half their words shared."""
    opening = ALIKE_OPENING_WORDS
    if a == b or (len(a) >= opening and a[:opening] == b[:opening]):
        return True
    shared, either = set(a) & set(b), set(a) | set(b)
    return bool(either) and len(shared) / len(either) >= ALIKE_SHARED_WORDS


class _Rarity:
    """How rare words are across the whole talk (rare words tell one clip from another)
    and how sure the speech model was of them (a misheard word is rare, but no title)."""

    def __init__(self, talk_words: Sequence[Word]) -> None:
        sentences = _sentences(" ".join(w.text.strip() for w in talk_words))
        self.sentences = max(1, len(sentences))
        self.sentences_with = Counter(w for s in sentences for w in set(_content_words(s)))
        heard: dict[str, list[float]] = defaultdict(list)
        for word in talk_words:
            for token in _tokens(word.text):
                heard[token].append(word.probability)
        self.confidence = {token: sum(p) / len(p) for token, p in heard.items()}

    def of_word(self, word: str) -> float:
        return math.log((1 + self.sentences) / (1 + self.sentences_with[word])) + 1.0

    def of_sentence(self, sentence: str) -> float:
        words = set(_content_words(sentence))
        if not words:
            return 0.0
        mean = sum(self.of_word(w) for w in words) / len(words)
        sure = min(min(1.0, self.confidence.get(w, 1.0) / TITLE_SURE_WORD) for w in words)
        return mean * sure * min(1.0, len(sentence.split()) / 5)  # a short aside names nothing


def _title_choices(text: str, rarity: _Rarity) -> list[str]:
    """A window's possible titles, best first: its most distinctive sentences, the opening
    line preferred a little, and more when it is a hook."""
    scored = []
    for position, sentence in enumerate(_sentences(text)):
        score = rarity.of_sentence(sentence) + TITLE_HOOK_BONUS * hook_strength(sentence)
        if position == 0:
            score += TITLE_OPENER_BONUS
        scored.append((-score, position, _shorten(sentence)))
    return [title for _, _, title in sorted(scored) if _title_key(title)]


def _at(seconds: float) -> str:
    """A time in the talk as people write it: 4:05, or 1:04:05 past the hour."""
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def distinct_titles(windows: Sequence[Candidate], talk_words: Sequence[Word]) -> list[str]:
    """A short title for each of these non-overlapping windows, none reading like another.
    Windows choose in the order given (best clip first): each takes its most distinctive
    sentence unlike the titles already taken, else its best sentence with where it starts
    in the talk."""
    rarity = _Rarity(talk_words)
    used: list[tuple[str, ...]] = []
    titles = []
    for window in windows:
        choices = _title_choices(window.text, rarity)
        title = next((t for t in choices if not any(_alike(_title_key(t), u) for u in used)), "")
        if not title:
            best = choices[0].rstrip("…?") if choices else "A moment"
            title = f"{best}, at {_at(window.start)}"
        used.append(_title_key(title))
        titles.append(title)
    return titles


def _reason(candidate: Candidate, prompt: str) -> str:
    f = candidate.features
    parts = []
    if f.get("loudness_gain_db", 0) >= 2:
        parts.append(f"energetic delivery ({f['loudness_gain_db']:+.0f} dB above the usual level)")
    if f.get("hook", 0) >= 0.5:
        parts.append("opens with a strong hook")
    if f.get("laughter", 0) > 0:
        parts.append("laughter")
    if f.get("exclamations", 0) > 0 or f.get("strong_words", 0) >= 2:
        parts.append("emotional, emphatic language")
    if f.get("speech_rate", 0) >= 3.2:
        parts.append("fast, lively pace")
    if f.get("numbers", 0) >= 3:
        parts.append("concrete numbers")
    if prompt and prompt_relevance(prompt, candidate.text) > 0:
        parts.append(f"matches “{prompt.strip()}”")
    if f.get("ends_cleanly"):
        parts.append("ends on a complete sentence")
    if not parts:
        return "A self-contained stretch of speech."
    return (
        parts[0][:1].upper()
        + parts[0][1:]
        + (", " + ", ".join(parts[1:]) if parts[1:] else "")
        + "."
    )


def _talk_words(transcript: Transcript, candidates: list[Candidate]) -> list[Word]:
    """The whole talk's words (the candidates' words when the transcript has none)."""
    if transcript.words:
        return transcript.words
    return [Word(0.0, 0.0, text) for c in candidates for text in c.text.split()]


class HeuristicRanker:
    """Scores every candidate from its signals and picks the best non-overlapping ones."""

    name = "heuristic"

    def rank(
        self,
        *,
        transcript: Transcript,
        signals: Signals,
        candidates: list[Candidate],
        options: GenerateOptions,
    ) -> RankingResult:
        scored = sorted(
            ((candidate_score(c, options.prompt), c) for c in candidates),
            key=lambda pair: (-pair[0], pair[1].start),
        )
        chosen: list[tuple[float, Candidate]] = []
        for score, candidate in scored:
            if len(chosen) >= options.clips:
                break
            if any(overlaps(candidate.start, candidate.end, c.start, c.end) for _, c in chosen):
                continue
            chosen.append((score, candidate))
        if not chosen:
            return RankingResult(ranker="heuristic", clips=())
        all_scores = [s for s, _ in scored]
        low, high = min(all_scores), max(all_scores)
        spread = max(high - low, 1e-6)
        titles = distinct_titles([c for _, c in chosen], _talk_words(transcript, candidates))
        clips = tuple(
            RankedClip(
                start=c.start,
                end=c.end,
                title=title,
                hook=_first_sentence(c.text),
                reason=_reason(c, options.prompt),
                # The best of a flat talk is not a 10: blend rank position with absolute level.
                score=clamp_score(1 + 6 * (s - low) / spread + min(3.0, max(0.0, s) / 2)),
                transcript=c.text,
            )
            for (s, c), title in zip(chosen, titles, strict=True)
        )
        return RankingResult(ranker="heuristic", clips=clips)
