"""Hype and emotion cues in the words: exclamations, laughter, questions,
numbers, strong sentiment, hooks, and how fast the speaker talks."""

from __future__ import annotations

import re

from clipgen.pipeline.types import Word

_LAUGHTER = re.compile(r"\b(ha(ha)+|lol|lmao|laugh(s|ing|ter)?)\b", re.I)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|"
    r"thousand|million|billion|percent|double|triple|half)\b",
    re.I,
)
_STRONG = frozenset(
    (
        "amazing",
        "incredible",
        "insane",
        "crazy",
        "unbelievable",
        "shocking",
        "huge",
        "massive",
        "best",
        "worst",
        "never",
        "always",
        "love",
        "hate",
        "secret",
        "mistake",
        "truth",
        "lie",
        "wrong",
        "hidden",
        "biggest",
        "fail",
        "failed",
        "win",
        "won",
        "lose",
        "lost",
        "money",
        "rich",
        "broke",
        "free",
        "dangerous",
        "scary",
        "terrible",
        "perfect",
        "genius",
        "stupid",
        "wild",
        "ridiculous",
        "obsessed",
        "changed",
        "everything",
        "nobody",
        "everyone",
        "literally",
    )
)
_HOOK_OPENERS = (
    "here's",
    "here is",
    "the truth",
    "the secret",
    "nobody",
    "no one",
    "why",
    "how",
    "what if",
    "stop",
    "never",
    "you",
    "the biggest",
    "the one",
    "this is",
    "imagine",
    "did you know",
    "i can't believe",
    "the reason",
)
_WORD = re.compile(r"[a-z']+")


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def text_cues(text: str) -> dict[str, float]:
    """Counts of hype cues in a stretch of text, per 100 words where it matters."""
    tokens = _tokens(text)
    count = max(1, len(tokens))
    return {
        "exclamations": text.count("!") * 100 / count,
        "questions": text.count("?") * 100 / count,
        "laughter": float(len(_LAUGHTER.findall(text))),
        "numbers": len(_NUMBER.findall(text)) * 100 / count,
        "strong_words": sum(token in _STRONG for token in tokens) * 100 / count,
    }


def hook_strength(first_sentence: str) -> float:
    """0-1: how much the opening line grabs (a question, a claim, a number, 'you')."""
    lowered = first_sentence.lower().strip()
    score = 0.0
    if lowered.startswith(_HOOK_OPENERS):
        score += 0.4
    if "?" in lowered or "!" in lowered:
        score += 0.2
    if _NUMBER.search(lowered):
        score += 0.15
    if any(token in _STRONG for token in _tokens(lowered)):
        score += 0.25
    words = len(_tokens(lowered))
    if 4 <= words <= 18:  # a hook is short
        score += 0.1
    return min(1.0, score)


def speech_rate(words: list[Word]) -> float:
    """Words per second of speaking time (pauses excluded)."""
    spoken = sum(max(0.0, w.end - w.start) for w in words)
    return len(words) / spoken if spoken > 0 else 0.0


def prompt_relevance(prompt: str, text: str) -> float:
    """0-1: the share of the prompt's content words that the text mentions."""
    stop = {
        "the",
        "a",
        "an",
        "about",
        "of",
        "on",
        "in",
        "and",
        "or",
        "to",
        "moments",
        "moment",
        "clips",
        "clip",
        "find",
        "with",
        "for",
        "is",
        "are",
        "that",
        "where",
    }
    wanted = {t for t in _tokens(prompt) if t not in stop and len(t) > 2}
    if not wanted:
        return 0.0
    have = set(_tokens(text))
    stems = {t[:5] for t in have}
    hits = sum(1 for t in wanted if t in have or t[:5] in stems)
    return hits / len(wanted)
