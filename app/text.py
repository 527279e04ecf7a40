"""Vietnamese text folding, so that people can search without typing diacritics."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# đ/Đ are letters of their own, not d plus a mark, so decomposition keeps them.
# Official names mix typographic and typed punctuation ("Xã Cư M’gar",
# "Phường B'Lao", "Xã Chân Mây – Lăng Cô"); people type the ASCII kind.
_LETTERS = str.maketrans({"đ": "d", "Đ": "d", "’": "'", "‘": "'", "ʼ": "'", "–": "-", "—": "-"})


def fold(text: str) -> str:
    """Lowercase, strip diacritics (đ folds to d) and collapse white space."""
    decomposed = unicodedata.normalize("NFD", text.translate(_LETTERS).casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped).strip()


def word_prefix_patterns(query: str) -> tuple[str, str]:
    """LIKE patterns (escape ``\\``) matching the folded query at the start of a word.

    ``ha long`` finds "Phường Hạ Long" but not "Xã Pha Long"."""
    folded = fold(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{folded}%", f"% {folded}%"
