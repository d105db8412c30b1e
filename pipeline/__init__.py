"""onisep-kg: ONISEP fiches métiers and the referentials they cite → one validated RDF graph.

The stages, each a function from value to value (I/O stays in :mod:`pipeline.ingest` and the
CLI): :func:`parse_metier` (bytes → record), :class:`Mapper` (record → graph),
:class:`Validator` (graph → findings), :mod:`pipeline.serialize` (graph → Turtle / JSON-LD).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("onisep-kg")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"

from .errors import InputError, OnisepKgError, ParseError, ShapesError  # noqa: E402
from .mapper import FicheGraph, Mapper  # noqa: E402
from .parse import parse_metier  # noqa: E402
from .records import MetierRecord  # noqa: E402

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
