"""Finds the project's data files: ontology, shapes, JSON-LD context and shipped seeds.

In a wheel they live in ``pipeline/data/`` (the build copies them there); in a source checkout
or an editable install they are the top-level folders of the repository. One place knows this.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_PACKAGED = resources.files("pipeline") / "data"
_CHECKOUT = Path(__file__).resolve().parent.parent


def _locate(*parts: str) -> Path:
    packaged = _PACKAGED.joinpath(*parts)
    if packaged.is_file() or packaged.is_dir():
        return Path(str(packaged))
    return _CHECKOUT.joinpath(*parts)


def ontology_file() -> Path:
    return _locate("ontology", "onisep-kg.ttl")


def shapes_file() -> Path:
    """The core shapes (fiches métiers)."""
    return _locate("shapes", "onisep-kg.shacl.ttl")


def shapes_files() -> list[Path]:
    """Every shapes file: the core one and one per referential (``shapes/*.shacl.ttl``)."""
    return sorted(shapes_file().parent.glob("*.shacl.ttl"))


def context_file() -> Path:
    return _locate("ontology", "context.jsonld")


def seeds_dir() -> Path:
    return _locate("seeds")


def metier_fiches_dir() -> Path:
    return seeds_dir() / "onisep-fiches" / "metiers"


def rome_v3_file() -> Path:
    return seeds_dir() / "rome" / "unix_referentiel_code_rome_v346_utf8.xml"


def formation_fiches_dir() -> Path:
    return seeds_dir() / "onisep-fiches" / "formations"


def ideo_formations_dir() -> Path:
    return seeds_dir() / "onisep-fiches" / "ideo_formations"


def ideo_metiers_file() -> Path:
    return seeds_dir() / "onisep-fiches" / "ideo-metiers_onisep.xml"


def rome_v4_metiers_file() -> Path:
    return seeds_dir() / "rome" / "unix_referentiel_code_rome_v460_utf8.csv"


def rome_v4_appellations_file() -> Path:
    return seeds_dir() / "rome" / "unix_referentiel_appellation_v460_utf8.csv"


def esco_crosswalk_file() -> Path:
    return seeds_dir() / "esco-rome-crosswalk" / "FR_20230607_mapping_esco_rome.csv"
