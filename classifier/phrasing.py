"""Show a model term the way the posting wrote it, cheaply.

A feature is a space-joined run of lower-cased tokens with stop words already removed, so
the bigram ``models production`` may come from "models to production". :class:`TermLocator`
finds the term's first occurrence with one regular expression per term (compiled once and
cached), allowing punctuation, stop words and one-letter words between its tokens, and
returns that stretch of the original text. When the wording cannot be found, the term itself
is returned: a key phrase is never lost, only shown less nicely.
"""

from __future__ import annotations

import re
from collections.abc import Collection

WORD_RE = re.compile(r"\w+")
MAX_GAP_WORDS = 4
MAX_ATTEMPTS = 20


class TermLocator:
    """Finds where a term occurs in a posting.

    Args:
        stop_words: the tokens the vectorizer drops before forming n-grams.
    """

    def __init__(self, stop_words: Collection[str]) -> None:
        self.stop_words = frozenset(stop_words)
        self._cache: dict[str, tuple[tuple[str, ...], re.Pattern[str]]] = {}

    def _entry(self, term: str) -> tuple[tuple[str, ...], re.Pattern[str]]:
        entry = self._cache.get(term)
        if entry is None:
            tokens = term.split(" ")
            gap = rf"(\W+(?:\w+\W+){{0,{MAX_GAP_WORDS}}}?)"
            body = gap.join(re.escape(token) for token in tokens)
            first = tokens[0]
            variants = tuple(dict.fromkeys((first, first.capitalize(), first.upper())))
            entry = self._cache[term] = (variants, re.compile(body + r"(?!\w)", re.IGNORECASE))
        return entry

    def _gap_ok(self, gap: str) -> bool:
        return all(
            len(word) < 2 or word.lower() in self.stop_words for word in WORD_RE.findall(gap)
        )

    def _match_at(self, text: str, position: int, pattern: re.Pattern[str]) -> str | None:
        if position and (text[position - 1].isalnum() or text[position - 1] == "_"):
            return None
        match = pattern.match(text, position)
        if match is None:
            return None
        if match.lastindex is None:  # one token: no gaps to check, no spacing to tidy
            return match.group()
        if not all(self._gap_ok(gap) for gap in match.groups()):
            return None
        return " ".join(match.group().split())

    def locate(self, text: str, term: str) -> str:
        """The first stretch of ``text`` that the vectorizer reads as ``term``.

        The first token is looked for with ``str.find`` as written lower-case, Capitalised
        and UPPER-case (a case-insensitive regex search is several times slower, and
        lower-casing the whole posting costs more than the search); only when none of those
        occurs does a case-insensitive search run.

        Args:
            text: the posting as given.
            term: a feature name, e.g. ``"models production"``.

        Returns:
            The original wording, e.g. ``"models to production"``, or ``term`` itself when
            no occurrence is found.
        """
        variants, pattern = self._entry(term)
        seen = False
        for first in variants:
            position = text.find(first)
            for _ in range(MAX_ATTEMPTS):
                if position < 0:
                    break
                seen = True
                found = self._match_at(text, position, pattern)
                if found is not None:
                    return found
                position = text.find(first, position + 1)
        if not seen:
            for match in pattern.finditer(text):
                found = self._match_at(text, match.start(), pattern)
                if found is not None:
                    return found
        return term
