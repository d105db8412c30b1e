"""Readers for the referentials the fiches cite (ROME v3.46 for now).

XML is read with defusedxml: no DTD, no entity expansion, no external entity is ever resolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import resources
from .errors import InputError


@dataclass(frozen=True, slots=True)
class FormationSummary:
    """What a métier graph says of a formation it cites: its name and certification level."""

    name: str
    level: int | None


@dataclass(frozen=True, slots=True)
class Referentials:
    """What the métier mapper needs from the referentials, loaded once per run."""

    rome_v3_labels: dict[str, str]
    formations: Mapping[str, FormationSummary] = field(default_factory=dict)


def load_rome_v3(path: Path) -> dict[str, str]:
    """ROME v3.46 ``code_rome`` → ``libelle`` (532 fiche codes).

    The file is parsed once per process (the métier mapper, the referential sources and the
    Idéo-Métiers mapper all ask for it): while its size and modification time stay the same, a
    copy of the labels read the first time is returned.
    """
    try:
        st = path.stat()
    except OSError:
        return _parse_rome_v3(path)  # reports the unreadable file
    key = (str(path), st.st_size, st.st_mtime_ns)
    labels = _ROME_V3.get(key)
    if labels is None:
        labels = _parse_rome_v3(path)
        _ROME_V3.clear()
        _ROME_V3[key] = labels
    return dict(labels)


_ROME_V3: dict[tuple[str, int, int], dict[str, str]] = {}


def _parse_rome_v3(path: Path) -> dict[str, str]:
    from defusedxml import DefusedXmlException, ElementTree  # (imported when read: a re-run may need none)

    try:
        root = ElementTree.parse(path, forbid_dtd=True).getroot()
    except DefusedXmlException as exc:
        # refused as soon as the DTD opens: no entity is declared, expanded, fetched or read
        data = path.read_bytes()
        at = data.find(b"<!DOCTYPE")
        raise InputError(
            str(path),
            data.count(b"\n", 0, at) + 1 if at >= 0 else None,
            f"cannot read ROME v3: refused: the document declares a DTD or an entity "
            f"({type(exc).__name__}); the ROME export has none, and DTDs, entities and external "
            "references are never processed",
        ) from None
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


def load_referentials(*, formations: Mapping[str, FormationSummary] | None = None) -> Referentials:
    """ROME v3 labels and the formation summaries (the shipped catalog unless given)."""
    if formations is None:
        from .formations import load_formations  # formations.py imports FormationSummary from here

        catalog = load_formations(resources.formation_fiches_dir(), resources.ideo_formations_dir())
        formations = catalog.summaries()
    return Referentials(rome_v3_labels=load_rome_v3(resources.rome_v3_file()), formations=formations)
