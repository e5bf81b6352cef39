"""Text and numbers as every format shows them: printable, capped, points as plain decimals."""

from __future__ import annotations

import math
import re

NAME_CHARS = 300
# Characters XML 1.0 forbids even escaped (which also garble terminals and Markdown), and the
# bidirectional controls that make text read differently from what it is.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)


def clean(text: str) -> str:
    return _UNSAFE.sub("\N{REPLACEMENT CHARACTER}", str(text))


def capped(text: str, limit: int) -> str:
    text = clean(text)
    if len(text) <= limit:
        return text
    return text[:limit] + "... (cut short; the JSON report has it in full)"


def points(value: float) -> str:
    """7.0 -> '7', 0.375 -> '0.375', 1/3 -> '0.333': plain decimals, never exponents."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def shown_score(score: float, max_score: float) -> str:
    """The score as `points` shows it, but a score below the maximum never reads as it."""
    shown = points(score)
    if score < max_score and shown == points(max_score):
        shown = points(math.floor(score * 1000) / 1000)
    return shown


def ratio(score: float, max_score: float) -> str:
    return f"{shown_score(score, max_score)} / {points(max_score)}"
