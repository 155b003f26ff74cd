"""User names: one spelling per account, and none that looks like another's.

A name is normalised (NFKC, then case-folded) wherever it enters: at creation, at login, in the
CLI and the admin API, so ``ADMIN`` and the full-width ``ａｄｍｉｎ`` are ``admin``. At creation a
name is also refused when it would pass for an existing one to a reader:

- it mixes scripts (``аdmin``: a Cyrillic ``а`` among Latin letters); Chinese, Japanese and Korean
  names may mix Han with kana or Hangul, and digits and ``-_.`` belong to every script;
- or its *skeleton* equals an existing account's: each character that has a look-alike in Latin
  (Cyrillic and Greek letters, the digits ``0`` and ``1``) is mapped to it, so the all-Cyrillic
  ``аре`` meets the Latin ``ape``.

The table is small and hand-made rather than Unicode's full confusables list (UTS #39): account
names here are typed by administrators, in Latin or Chinese, and the table covers the scripts
whose letters pass for Latin ones. A script not in it is refused only when mixed.
"""

from __future__ import annotations

import unicodedata

from twin.errors import ValidationError

MAX_LENGTH = 64
_PUNCTUATION = frozenset("-_.")
_EAST_ASIAN = frozenset({"CJK", "HIRAGANA", "KATAKANA", "HANGUL"})

_LOOK_ALIKES = str.maketrans(
    {
        # Cyrillic letters that pass for Latin ones (after case folding)
        "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j",
        "к": "k", "ӏ": "l", "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "г": "r", "ѕ": "s", "т": "t",
        "ц": "u", "ѵ": "v", "ԝ": "w", "х": "x", "у": "y", "з": "3", "ь": "b", "п": "n",
        # Greek
        "α": "a", "β": "b", "ϲ": "c", "δ": "d", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "μ": "u", "σ": "o", "ϳ": "j",
        # digits and letters that pass for one another in Latin itself
        "0": "o", "1": "l",
    }
)  # fmt: skip


def normalise(username: str) -> str:
    """Return the one spelling of a name: NFKC, case-folded, without surrounding spaces."""
    return unicodedata.normalize("NFKC", username.strip()).casefold()


def skeleton(username: str) -> str:
    """Return what a name looks like: its normalised form with every look-alike mapped to Latin."""
    return normalise(username).translate(_LOOK_ALIKES)


def _script(char: str) -> str | None:
    """Name the script of a letter or digit by its Unicode name's first word; None for a digit."""
    if char.isdigit():
        return None
    word = unicodedata.name(char, "UNKNOWN").split()[0]
    return "CJK" if word in _EAST_ASIAN else word


def checked(username: str) -> str:
    """Return a new account's normalised name, or raise ValidationError saying what is wrong with it."""
    name = normalise(username)
    if not name or len(name) > MAX_LENGTH or not all(c.isalnum() or c in _PUNCTUATION for c in name):
        raise ValidationError("username", f"use 1–{MAX_LENGTH} letters, digits, '-', '_' or '.'")
    scripts = {_script(c) for c in name if c.isalnum()} - {None}
    if len(scripts) > 1:
        raise ValidationError(
            "username", f"mixes the scripts {', '.join(sorted(str(s) for s in scripts))}: use one script per name"
        )
    return name


def look_alike(name: str, existing: list[str]) -> str | None:
    """Return the existing name a new one would pass for, if any."""
    shape = skeleton(name)
    return next((other for other in existing if skeleton(other) == shape), None)
