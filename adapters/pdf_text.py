"""Text for the PDF core fonts, shared by the activity log's export and the clinical documents."""

from __future__ import annotations

import unicodedata

# Typography outside Latin-1 that has a plain equivalent.
PLAIN_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u20ac": "EUR",
        "\u2212": "-",
    }
)


def latin1(text: str) -> str:
    """The PDF core fonts print Latin-1, which holds every Spanish letter and sign (á é í ó ú ñ ü
    ¿ ¡ º ª, capitals too); a letter beyond it prints as its base letter (ő as o), else as "?"."""
    text = text.translate(PLAIN_TYPOGRAPHY)
    return "".join(char if ord(char) < 256 else _base_letter(char) for char in text)


def _base_letter(char: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if ord(c) < 256)
    return base or "?"
