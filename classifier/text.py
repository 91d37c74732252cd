"""Tokenising postings, with character offsets.

The model's vectorizer uses :func:`tokenize`, and explanations use :func:`token_table`: the
same regular expression, so every feature the model sees can be traced to exact character
spans of the original text. Tokens are runs of two or more word characters, plus a few
role terms that plain word runs would lose (``A/B``, ``C++``, ``C#``, ``CI/CD``), lower-cased
one by one (lower-casing the whole text first could shift offsets: ``"İ".lower()`` is two
characters long).
"""

from __future__ import annotations

import re
from itertools import accumulate

TOKEN_RE = re.compile(r"(?i:\ba/b\b|\bc\+\+|\bc#|\bci/cd\b)|\b\w\w+\b")
# The same matches on already lower-cased text, about twice as fast: scanning left to right,
# a greedy \w\w+ always spans a whole run of word characters, so a match never starts or
# ends inside a run and the \b checks add nothing (tests/classifier/test_text.py holds the
# two equal).
LOWER_TOKEN_RE = re.compile(r"a/b\b|c\+\+|c#|ci/cd\b|\w\w+")
# The same two patterns as one capturing group, for ``split``: it returns gap, token, gap,
# token, ..., gap, so the running sum of the pieces' lengths gives every token's offsets
# without a Python step per match.
_SPLIT_RE = re.compile(f"({TOKEN_RE.pattern})")
_LOWER_SPLIT_RE = re.compile(f"({LOWER_TOKEN_RE.pattern})")


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


def token_table(text: str) -> tuple[list[str], list[int], list[int]]:
    """Tokens of ``text`` and where each starts and ends, as three parallel lists.

    Args:
        text: any string.

    Returns:
        ``(tokens, starts, ends)`` with ``text[starts[i]:ends[i]].lower() == tokens[i]``;
        ``tokens == tokenize(text)``.
    """
    lowered = text.lower()
    if _lowers_in_place(text, lowered):
        pieces = _LOWER_SPLIT_RE.split(lowered)
        tokens = pieces[1::2]
    else:
        pieces = _SPLIT_RE.split(text)
        tokens = [token.lower() for token in pieces[1::2]]
    # offsets[k] is where piece k ends: token i is piece 2i+1, after gap 2i.
    offsets = list(accumulate(map(len, pieces)))
    return tokens, offsets[0:-1:2], offsets[1::2]
