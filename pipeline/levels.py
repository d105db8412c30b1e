"""The French study levels (nomenclature des niveaux de diplôme, 2019) and their EQF match.

ONISEP writes the minimum access level of a métier as "bac + 2", "CAP ou équivalent",
"3E"…; :func:`level_of` maps that wording to a level of the nomenclature. The wording is kept in
the graph beside the level, so the mapping can be revised without losing what the fiche said.
Why each wording maps where it does: ``docs/decisions/0002-study-levels.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Level:
    number: int
    label_fr: str
    label_en: str


LEVELS: dict[int, Level] = {
    level.number: level
    for level in (
        Level(1, "niveau 1 (savoirs de base)", "level 1 (basic knowledge)"),
        Level(2, "niveau 2 (fin de scolarité obligatoire)", "level 2 (end of compulsory schooling)"),
        Level(3, "niveau 3 (CAP, BEP)", "level 3 (CAP, BEP)"),
        Level(4, "niveau 4 (bac)", "level 4 (baccalauréat)"),
        Level(5, "niveau 5 (bac + 2)", "level 5 (two years after the baccalauréat)"),
        Level(6, "niveau 6 (bac + 3, bac + 4)", "level 6 (bachelor)"),
        Level(7, "niveau 7 (bac + 5)", "level 7 (master)"),
        Level(8, "niveau 8 (doctorat)", "level 8 (doctorate)"),
    )
}

_EXACT: dict[str, int] = {
    "sans diplôme": 1,
    "3e": 2,
    "diplôme national du brevet": 2,
    "cap": 3,
    "cap-bep": 3,
    "cap ou équivalent": 3,
    "cap ou équivalent + 1 an": 3,
    "bep": 3,
    "bac": 4,
    "baccalauréat": 4,
    "bac ou équivalent": 4,
    "bac pro": 4,
    "doctorat": 8,
}
# Years after the bac → level: bac + 1 has no diploma of its own, so it stays at level 4;
# bac + 6 and bac + 7 are past the master but not a doctorate.
_YEARS = {0: 4, 1: 4, 2: 5, 3: 6, 4: 6, 5: 7, 6: 7, 7: 7}
_BAC_PLUS = re.compile(r"^(?:niveau\s+)?bac\s*\+\s*(\d+)")


def level_of(wording: str) -> int | None:
    """ "bac + 2" → 5; "Niveau bac+5 et plus" → 7; "autre formation" → None."""
    text = " ".join(wording.lower().split())
    if text.startswith("niveau "):
        text = text[len("niveau ") :]
    if text in _EXACT:
        return _EXACT[text]
    m = _BAC_PLUS.match(text)
    if m is not None:
        return _YEARS.get(int(m[1]), 8)
    first = re.split(r"[ ,/]", text, maxsplit=1)[0]
    return _EXACT.get(first)
