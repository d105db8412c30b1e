"""What lets a re-run do only what changed: the manifest, and the whole-graph files written by parts.

An ingest writes, beside its outputs, ``.onisep-kg/manifest.json``: the content hash of every
input it read, a key for everything else its outputs depend on (the package version and code,
the shapes, the ontology and context, the referential files, ``SOURCE_DATE_EPOCH``), each fiche's
outcome, and where each named graph's bytes lie in the whole-graph files. The next run hashes its
inputs again (a file whose size and modification time are unchanged keeps its hash) and:

- a fiche whose bytes are unchanged is not parsed, mapped, validated or written again: its
  outcome comes from the manifest and its graph's bytes are copied from the previous files;
- the referential graphs are rebuilt only when a referential file, or what the fiches say that
  the referentials are linked against (names, cited formations and ROME codes), changed;
- when the key changes (a new shapes file, say), nothing is reused: everything is rebuilt and
  validated again.

The whole-graph files (Turtle, JSON-LD, TriG, and the triple hashes that count the distinct
triples) are written one named graph at a time (:class:`Document`), so a run never holds the whole
graph, and are renamed over the previous ones only once complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, resources

CACHE_DIR = ".onisep-kg"
MANIFEST_NAME = "manifest.json"
HASHES_NAME = "triples.bin"
REFERENTIALS_NAME = "referentials.json"
MANIFEST_FORMAT = 1
_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


class FileHashes:
    """Content hashes of files, reusing those of an earlier run when size and mtime agree."""

    def __init__(self, known: dict[str, list[Any]] | None = None) -> None:
        self._known = known or {}
        self.seen: dict[str, list[Any]] = {}

    @staticmethod
    def key(path: Path | str) -> str:
        return os.path.abspath(path)

    def unchanged(self, path: Path | str) -> str | None:
        """The hash of a file the earlier run saw with this size and mtime (no read), else None."""
        key = self.key(path)
        known = self._known.get(key)
        if known is None:
            return None
        try:
            st = os.stat(key)
        except OSError:
            return None
        if known[:2] != [st.st_size, st.st_mtime_ns]:
            return None
        self.seen[key] = known
        return str(known[2])

    def of(self, path: Path | str, data: bytes | None = None, st: os.stat_result | None = None) -> str:
        key = self.key(path)
        st = st or os.stat(key)
        stamp = [st.st_size, st.st_mtime_ns]
        known = self._known.get(key)
        if known is not None and known[:2] == stamp:
            digest: str = known[2]
        else:
            digest = hashlib.sha256(data).hexdigest() if data is not None else file_sha256(Path(key))
        self.seen[key] = [*stamp, digest]
        return digest

    def of_tree(self, root: Path, skip: Path | None = None) -> str:
        """One hash for every file under ``root`` (names and contents), ``skip`` aside."""
        found: list[tuple[str, str, os.stat_result]] = []
        skipped = self.key(skip) if skip is not None else None
        stack = [self.key(root)]
        while stack:
            folder = stack.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.path != skipped and entry.name != "__pycache__":
                            stack.append(entry.path)
                    elif entry.is_file() and not entry.name.endswith(".pyc"):
                        found.append((os.path.relpath(entry.path, root), entry.path, entry.stat()))
        h = hashlib.sha256()
        for relative, path, st in sorted(found):
            h.update(f"{relative}\0{self.of(path, st=st)}\n".encode())
        return h.hexdigest()


def environment_key(hashes: FileHashes, options: dict[str, Any]) -> str:
    """What every output depends on besides the fiches: change any of it and nothing is reused."""
    seeds = resources.seeds_dir()
    parts = {
        "version": __version__,
        "format": MANIFEST_FORMAT,
        "code": hashes.of_tree(Path(__file__).resolve().parent),
        "shapes": [hashes.of(p) for p in resources.shapes_files()],
        "ontology": hashes.of(resources.ontology_file()),
        "context": hashes.of(resources.context_file()),
        "referentials": hashes.of_tree(seeds, skip=resources.metier_fiches_dir()),
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH"),
        "options": options,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@dataclass(slots=True)
class Manifest:
    """What a run left for the next one (see the module's docstring)."""

    environment: str
    files: dict[str, list[Any]] = field(default_factory=dict)  # resolved path → [size, mtime_ns, sha256]
    fiches: dict[str, dict[str, Any]] = field(default_factory=dict)  # source → sha256, outcome, graph
    referentials: dict[str, Any] | None = None  # key, graphs, findings, failures, links, count
    graphs: dict[str, dict[str, Any]] = field(default_factory=dict)  # IRI → spans per document
    outputs: dict[str, list[int]] = field(default_factory=dict)  # whole-graph file → [size, mtime_ns]
    triples: int = 0

    @classmethod
    def load(cls, out_dir: Path) -> Manifest | None:
        """The manifest of the previous run, or None when there is none or it cannot be trusted
        (unreadable, another format, or the whole-graph files changed since it was written)."""
        path = out_dir / CACHE_DIR / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != MANIFEST_FORMAT:
                return None
            manifest = cls(
                environment=data["environment"],
                files=data["files"],
                fiches=data["fiches"],
                referentials=data["referentials"],
                graphs=data["graphs"],
                outputs=data["outputs"],
                triples=data["triples"],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        for name, stamp in manifest.outputs.items():
            try:
                st = (out_dir / name).stat()
            except OSError:
                return None
            if [st.st_size, st.st_mtime_ns] != stamp:
                return None
        return manifest

    def save(self, out_dir: Path) -> None:
        from .serialize import atomic_write

        data = {
            "format": MANIFEST_FORMAT,
            "environment": self.environment,
            "triples": self.triples,
            "outputs": self.outputs,
            "files": self.files,
            "fiches": self.fiches,
            "referentials": self.referentials,
            "graphs": self.graphs,
        }
        atomic_write(out_dir / CACHE_DIR / MANIFEST_NAME, json.dumps(data, ensure_ascii=False).encode())


class Document:
    """A whole-graph file written part by part into a temporary file beside it.

    ``add`` appends a named graph's chunk, ``copy`` copies one from the previous file (adjacent
    copies become one copy of the kernel's); both return where the chunk lies in the new file.
    ``commit`` writes the tail and renames the file over the previous one; ``abort`` (or an
    exception before ``commit``) leaves the previous file as it was.
    """

    def __init__(self, target: Path, head: bytes, tail: bytes = b"", separator: bytes = b"") -> None:
        self.target = target
        self.tail = tail
        self.separator = separator
        target.parent.mkdir(parents=True, exist_ok=True)
        self._fd, self._tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        self._previous: int | None = None
        with contextlib.suppress(OSError):
            self._previous = os.open(target, os.O_RDONLY)
        self._out = os.fdopen(self._fd, "wb", buffering=_CHUNK)
        self._out.write(head)
        self._position = len(head)
        self._parts = 0
        self._pending: list[int] | None = None  # [source start, source end] of copies not yet made

    def _begin(self) -> None:
        if self._parts and self.separator:
            self._position += len(self.separator)
        self._parts += 1

    def add(self, chunk: bytes) -> list[int] | None:
        """Append a chunk; None (nothing written) for an empty one."""
        if not chunk:
            return None
        self._flush()
        if self._parts and self.separator:
            self._out.write(self.separator)
        self._begin()
        span = [self._position, len(chunk)]
        self._out.write(chunk)
        self._position += len(chunk)
        return span

    def copy(self, span: Sequence[int] | None) -> list[int] | None:
        """Copy the chunk at ``span`` of the previous file."""
        if span is None:
            return None
        start, length = span
        pending = self._pending
        gap = len(self.separator) if self._parts else 0
        if pending is not None and start == pending[1] + gap:
            pending[1] = start + length  # the separator between them comes with the copy
        else:
            self._flush()
            if self._parts and self.separator:
                self._out.write(self.separator)
            self._pending = [start, start + length]
        self._begin()
        new = [self._position, length]
        self._position += length
        return new

    def read_previous(self, span: Sequence[int]) -> bytes:
        """The bytes of a chunk of the previous file."""
        if self._previous is None:
            raise OSError(f"{self.target} has no previous version")
        return os.pread(self._previous, span[1], span[0])

    def _flush(self) -> None:
        if self._pending is None:
            return
        start, end = self._pending
        self._pending = None
        assert self._previous is not None
        self._out.flush()
        left = end - start
        while left > 0:
            try:
                done = os.copy_file_range(self._previous, self._fd, left, start)
            except (AttributeError, OSError):
                done = 0
            if done <= 0:  # no copy_file_range here (or across file systems): read and write
                data = os.pread(self._previous, min(left, _CHUNK), start)
                if not data:
                    raise OSError(f"{self.target} is shorter than its manifest says")
                os.write(self._fd, data)
                done = len(data)
            start += done
            left -= done

    def flush(self) -> None:
        """Write out what is buffered (before a fork: a child must not inherit a buffer)."""
        self._flush()
        self._out.flush()

    @property
    def position(self) -> int:
        """How many bytes the new file holds so far."""
        return self._position

    def written(self, start: int = 0) -> bytes:
        """The new file's bytes from ``start`` to :attr:`position`."""
        self.flush()
        return os.pread(self._fd, self._position - start, start)

    def commit(self) -> None:
        self._flush()
        self._out.write(self.tail)
        self._out.flush()
        os.fsync(self._fd)
        self._out.close()
        os.chmod(self._tmp, 0o666 & ~_umask())
        os.replace(self._tmp, self.target)
        self._close_previous()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._out.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._tmp)
        self._close_previous()

    def _close_previous(self) -> None:
        if self._previous is not None:
            os.close(self._previous)
            self._previous = None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FORMATS = ("ttl", "jsonld", "trig", "hashes")


class WholeGraph:
    """The whole-graph files of a run, written one named graph at a time.

    ``add(iri, chunks)`` writes a graph rendered in this run; ``copy(iri)`` copies one from the
    previous run's files (the spans its manifest gives). ``commit`` renames every file into place
    and returns the spans of every graph and the number of distinct triples.
    """

    def __init__(self, out_dir: Path, name: str, previous: Manifest | None) -> None:
        from .serialize import JSONLD_SEPARATOR, jsonld_head, jsonld_tail, turtle_head

        self.out_dir = out_dir
        self._previous = previous.graphs if previous is not None else {}
        self.docs: dict[str, Document] = {}
        try:
            self.docs["ttl"] = Document(out_dir / f"{name}.ttl", turtle_head())
            self.docs["jsonld"] = Document(
                out_dir / f"{name}.jsonld", jsonld_head(), jsonld_tail(), JSONLD_SEPARATOR
            )
            self.docs["trig"] = Document(out_dir / f"{name}.trig", turtle_head())
            self.docs["hashes"] = Document(out_dir / CACHE_DIR / HASHES_NAME, b"")
        except BaseException:
            self.abort()
            raise
        self.graphs: dict[str, dict[str, Any]] = {}
        self._distinct: set[int] = set()

    def __contains__(self, iri: str) -> bool:
        return iri in self.graphs

    def can_copy(self, iri: str) -> bool:
        return iri in self._previous and iri not in self.graphs

    def add(self, iri: str, chunks: Any) -> dict[str, Any]:
        record: dict[str, Any] = {"triples": chunks.triples}
        for fmt, data in zip(
            FORMATS, (chunks.turtle, chunks.jsonld, chunks.trig, chunks.hashes), strict=True
        ):
            record[fmt] = self.docs[fmt].add(data)
        self._distinct.update(array("Q", chunks.hashes))
        self.graphs[iri] = record
        return record

    def copy(self, iri: str) -> dict[str, Any]:
        old = self._previous[iri]
        record: dict[str, Any] = {"triples": old["triples"]}
        for fmt in FORMATS:
            record[fmt] = self.docs[fmt].copy(old[fmt])
        if old["hashes"] is not None:
            self._distinct.update(array("Q", self.docs["hashes"].read_previous(old["hashes"])))
        self.graphs[iri] = record
        return record

    def previous_chunk(self, iri: str, fmt: str) -> bytes:
        """A graph's chunk in the previous run's file (for a per-fiche file that went missing)."""
        span = self._previous[iri][fmt]
        return b"" if span is None else self.docs[fmt].read_previous(span)

    @property
    def distinct_triples(self) -> int:
        return len(self._distinct)

    def flush(self) -> None:
        for doc in self.docs.values():
            doc.flush()

    def commit(self) -> dict[str, list[int]]:
        """Rename every file into place; their sizes and modification times, by name."""
        stamps: dict[str, list[int]] = {}
        for doc in self.docs.values():
            doc.commit()
            st = doc.target.stat()
            stamps[doc.target.relative_to(self.out_dir).as_posix()] = [st.st_size, st.st_mtime_ns]
        return stamps

    def abort(self) -> None:
        for doc in self.docs.values():
            doc.abort()

    def targets(self) -> Iterator[Path]:
        return (doc.target for name, doc in self.docs.items() if name != "hashes")


def load_referentials_cache(out_dir: Path, environment: str) -> dict[str, Any] | None:
    """What the métier mapper needs from the referentials, as an earlier run with the same
    environment left it (JSON: never code)."""
    try:
        data = json.loads((out_dir / CACHE_DIR / REFERENTIALS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("environment") == environment else None


def save_referentials_cache(out_dir: Path, environment: str, payload: dict[str, Any]) -> None:
    from .serialize import atomic_write

    data = {"environment": environment, **payload}
    atomic_write(
        out_dir / CACHE_DIR / REFERENTIALS_NAME, json.dumps(data, ensure_ascii=False).encode(), durable=False
    )


def fingerprint(items: Iterable[Any]) -> str:
    h = hashlib.sha256()
    for item in items:
        h.update(json.dumps(item, ensure_ascii=False, sort_keys=True).encode())
        h.update(b"\n")
    return h.hexdigest()
