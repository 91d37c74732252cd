"""Tokenising postings, with character offsets.

The model's vectorizer uses :func:`tokenize`, and explanations use :func:`token_spans`: the
same regular expression, so every feature the model sees can be traced to exact character
spans of the original text. Tokens are runs of two or more word characters, plus a few
role terms that plain word runs would lose (``A/B``, ``C++``, ``C#``, ``CI/CD``), lower-cased
one by one (lower-casing the whole text first could shift offsets: ``"İ".lower()`` is two
characters long).
"""

from __future__ import annotations

import re

TOKEN_RE = re.compile(r"(?i:\ba/b\b|\bc\+\+|\bc#|\bci/cd\b)|\b\w\w+\b")
# The same matches on already lower-cased text, about twice as fast: scanning left to right,
# a greedy \w\w+ always spans a whole run of word characters, so a match never starts or
# ends inside a run and the \b checks add nothing (tests/classifier/test_text.py holds the
# two equal).
LOWER_TOKEN_RE = re.compile(r"a/b\b|c\+\+|c#|ci/cd\b|\w\w+")


CAPITAL_SIGMA = "\u03a3"


def _lowers_in_place(text: str, lowered: str) -> bool:
    # Every character but "İ" lower-cases to one character of the same \w class, and only
    # capital sigma lower-cases by context; elsewhere matching the lower-cased text gives
    # the same tokens at the same offsets.
    return len(lowered) == len(text) and CAPITAL_SIGMA not in text


def tokenize(text: str) -> list[str]:
    """Split ``text`` into lower-cased tokens, as the model's vectorizer sees them.

    Args:
        text: any string.

    Returns:
        The tokens in order of appearance.
    """
    lowered = text.lower()
    if _lowers_in_place(text, lowered):
        return LOWER_TOKEN_RE.findall(lowered)
    return [match.group().lower() for match in TOKEN_RE.finditer(text)]


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """Tokens of ``text`` with their places in it.

    Args:
        text: any string.

    Returns:
        ``(token, start, end)`` triples where ``text[start:end].lower() == token``.
    """
    lowered = text.lower()
    if _lowers_in_place(text, lowered):
        return [(m.group(), m.start(), m.end()) for m in LOWER_TOKEN_RE.finditer(lowered)]
    return [(m.group().lower(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]
