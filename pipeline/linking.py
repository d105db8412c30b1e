"""Linking: resolve the references between sources, and count what resolved and what did not.

ONISEP formation records name their métiers by label ("développeur/euse informatique"), not by
id. :class:`MetierIndex` resolves such a label against every name a métier fiche gives: its
title, its feminine and masculine forms, its other appellations and their gendered forms.
:class:`LinkReport` counts, per link type, the references that resolved and those that did not,
with the reason, for the ingest summary and ``onisep-kg links``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .records import MetierRecord

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "\u00a0": " "})


def normalize_name(text: str) -> str:
    """Case, apostrophes and spacing folded; accents kept (they distinguish French words)."""
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES).casefold()
    text = re.sub(r"\s*/\s*", "/", text)
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Resolution:
    """The métiers a label resolved to (one when resolved, several when ambiguous, none)."""

    label: str
    metier_ids: tuple[str, ...]

    @property
    def resolved(self) -> bool:
        return len(self.metier_ids) == 1

    @property
    def reason(self) -> str | None:
        if self.resolved:
            return None
        if not self.metier_ids:
            return "no métier has this name, gendered form or synonym"
        return "ambiguous: " + ", ".join(self.metier_ids)


def metier_names(record: MetierRecord) -> list[str]:
    """Every name of a métier but its title: each appellation's label, feminine and masculine form."""
    return [
        item.text
        for appellation in (record.appellation, *record.other_appellations)
        for item in (appellation.label, appellation.feminine, appellation.masculine)
        if item is not None
    ]


class MetierIndex:
    """Every name of every métier → the métier ids that carry it."""

    def __init__(self, records: Iterable[MetierRecord] = ()) -> None:
        self._names: dict[str, set[str]] = {}
        self._titles: dict[str, set[str]] = {}
        for record in records:
            self.add(record)

    def add(self, record: MetierRecord) -> None:
        self.add_names(record.metier_id, record.title.text, metier_names(record))

    def add_names(self, metier_id: str, title: str, names: Iterable[str]) -> None:
        """A métier by its title and its other names (as :func:`metier_names` lists them)."""
        self._titles.setdefault(normalize_name(title), set()).add(metier_id)
        for name in names:
            self._names.setdefault(normalize_name(name), set()).add(metier_id)

    def resolve(self, label: str) -> Resolution:
        """A title match wins over a synonym match; otherwise any name of one métier."""
        key = normalize_name(label)
        for table in (self._titles, self._names):
            found = table.get(key)
            if found:
                return Resolution(label, tuple(sorted(found, key=_id_order)))
        return Resolution(label, ())


def _id_order(metier_id: str) -> tuple[str, int]:
    prefix, _, number = metier_id.partition(".")
    return (prefix, int(number) if number.isdigit() else -1)


@dataclass(slots=True)
class LinkStats:
    """References of one link type: how many resolved, and which did not, and why."""

    link: str
    description: str
    resolved: int = 0
    unresolved: Counter[tuple[str, str]] = field(default_factory=Counter)  # (reference, reason)

    def ok(self, n: int = 1) -> None:
        self.resolved += n

    def miss(self, reference: str, reason: str) -> None:
        self.unresolved[(reference, reason)] += 1

    @property
    def total(self) -> int:
        return self.resolved + sum(self.unresolved.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "link": self.link,
            "description": self.description,
            "total": self.total,
            "resolved": self.resolved,
            "unresolved": [
                {"reference": ref, "reason": reason, "count": n}
                for (ref, reason), n in sorted(self.unresolved.items())
            ],
        }


class LinkReport:
    """The link statistics of a run, in a fixed order of link types."""

    def __init__(self) -> None:
        self._stats: dict[str, LinkStats] = {}

    def stats(self, link: str, description: str = "") -> LinkStats:
        if link not in self._stats:
            self._stats[link] = LinkStats(link, description)
        return self._stats[link]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._stats.values())

    def to_json(self) -> list[dict[str, Any]]:
        return [s.to_json() for s in self]
