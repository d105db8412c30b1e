"""Named exceptions. The library raises them; the CLI turns them into one clear sentence."""

from __future__ import annotations


class OnisepKgError(Exception):
    """Base class of every error this package raises on purpose."""


class InputError(OnisepKgError):
    """An input file is unusable: it names the file, the line and what was expected."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source = source
        self.line = line
        self.message = message
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")


class ParseError(InputError):
    """A fiche that cannot be read as a fiche: broken header, bad encoding, empty file…"""


class ShapesError(OnisepKgError):
    """The SHACL shapes graph itself cannot be loaded."""


class UnsupportedShapesError(ShapesError):
    """The shapes use a SHACL feature the native engine does not evaluate (pyshacl still can)."""
