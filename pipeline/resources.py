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
    return _locate("shapes", "onisep-kg.shacl.ttl")


def context_file() -> Path:
    return _locate("ontology", "context.jsonld")


def seeds_dir() -> Path:
    return _locate("seeds")


def metier_fiches_dir() -> Path:
    return seeds_dir() / "onisep-fiches" / "metiers"


def rome_v3_file() -> Path:
    return seeds_dir() / "rome" / "unix_referentiel_code_rome_v346_utf8.xml"
