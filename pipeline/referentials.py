"""Readers for the referentials the fiches cite (ROME v3.46 for now).

XML is read with defusedxml: no DTD, no entity expansion, no external entity is ever resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from defusedxml import ElementTree

from . import resources
from .errors import InputError


@dataclass(frozen=True, slots=True)
class Referentials:
    """What the mapper needs from the referentials, loaded once per run."""

    rome_v3_labels: dict[str, str]


def load_rome_v3(path: Path) -> dict[str, str]:
    """ROME v3.46 ``code_rome`` → ``libelle`` (532 fiche codes)."""
    try:
        root = ElementTree.parse(path, forbid_dtd=True).getroot()
    except (OSError, ElementTree.ParseError) as exc:
        raise InputError(
            str(path), getattr(exc, "position", (None,))[0], f"cannot read ROME v3: {exc}"
        ) from exc
    labels: dict[str, str] = {}
    for item in root.iter("item_referentiel_code_rome"):
        code, label = item.findtext("code_rome"), item.findtext("libelle")
        if code and label:
            labels[code.strip()] = label.strip()
    return labels


def load_referentials() -> Referentials:
    return Referentials(rome_v3_labels=load_rome_v3(resources.rome_v3_file()))
