"""onisep-kg: ONISEP fiches métiers and the referentials they cite → one validated RDF graph.

The stages, each a function from value to value (I/O stays in :mod:`pipeline.ingest` and the
CLI): :func:`parse_metier` (bytes → record), :class:`Mapper` (record → graph),
:class:`Validator` (graph → findings), :mod:`pipeline.serialize` (graph → Turtle / JSON-LD).

The names below are imported on first use (``pipeline.Mapper`` loads rdflib): a command that
needs little of the package starts quickly.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("onisep-kg")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"

if TYPE_CHECKING:
    from .errors import InputError, OnisepKgError, ParseError, ShapesError
    from .mapper import FicheGraph, Mapper
    from .parse import parse_metier
    from .records import MetierRecord

_LAZY = {
    "FicheGraph": ".mapper",
    "InputError": ".errors",
    "Mapper": ".mapper",
    "MetierRecord": ".records",
    "OnisepKgError": ".errors",
    "ParseError": ".errors",
    "ShapesError": ".errors",
    "parse_metier": ".parse",
}

__all__ = [
    "FicheGraph",
    "InputError",
    "Mapper",
    "MetierRecord",
    "OnisepKgError",
    "ParseError",
    "ShapesError",
    "__version__",
    "parse_metier",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value
