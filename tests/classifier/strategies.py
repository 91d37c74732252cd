"""Hypothesis strategies shared by the classifier tests."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st


def mixed_text(
    words: Sequence[str], max_parts: int, piece_size: int = 6, sep: str = " "
) -> st.SearchStrategy[str]:
    """Texts of up to ``max_parts`` parts, each a chosen word or arbitrary Unicode (no lone
    surrogates, which no posting can hold), joined by ``sep``."""
    anything = st.text(st.characters(exclude_categories=("Cs",)), max_size=piece_size)
    return st.lists(st.one_of(anything, st.sampled_from(list(words))), max_size=max_parts).map(
        sep.join
    )
