"""What lets a re-run do only what changed: the manifest, and the whole-graph files written by parts.

An ingest writes, beside its outputs, ``.onisep-kg/manifest.json``: a key for everything its
outputs depend on besides the fiches (the package version and code, the shapes, the ontology and
context, the referential files, ``SOURCE_DATE_EPOCH``), each fiche's content hash and outcome,
and where each named graph's bytes lie in the whole-graph files. The next run:

- takes a fiche's hash from the manifest when the file's size and modification time are those
  the manifest recorded (else reads it), and the environment's from the manifest when every
  file of a tree has the size and modification time it had;
- a fiche whose bytes are unchanged is not parsed, mapped, validated or written again: its
  outcome comes from the manifest and its graph's bytes are copied from the previous files;
- the referential graphs are rebuilt only when a referential file, or what the fiches say that
  the referentials are linked against (names, cited formations and ROME codes), changed;
- when the key changes (a new shapes file, say), nothing is reused: everything is rebuilt and
  validated again.

The whole-graph files (Turtle, JSON-LD, TriG, and the triple hashes) are written one named graph
at a time (:class:`Document`), by a thread per file (copies and ``fsync`` run in the kernel while
this process does the next graph), and are renamed over the previous ones only once complete.
The distinct triples of the whole graph are counted from 64-bit triple hashes
(:class:`DistinctTriples`): ``.onisep-kg/distinct.bin`` keeps, per distinct hash, how many graphs
hold it, so that a re-run recounts only the graphs that changed.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, resources
from .errors import OnisepKgError

try:
    import fcntl
except ImportError:  # (not on Windows: there, no lock and no sweep of a dead run's files)
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from .store import GraphInput

CACHE_DIR = ".onisep-kg"
MANIFEST_NAME = "manifest.json"
HASHES_NAME = "triples.bin"
DISTINCT_NAME = "distinct.bin"
REFERENTIALS_NAME = "referentials.json"
PENDING_NAME = "pending"
MANIFEST_FORMAT = 2
_CHUNK = 1 << 20
_RUN_AT_ONCE = 1024  # graphs copied one after the other that are handed over together
_COPY_AT_ONCE = 8 << 20  # adjacent chunks copied from the previous file are handed over this much at a time

FORMATS = ("ttl", "jsonld", "trig", "hashes")
# A fiche's entry: [size, mtime_ns, sha256, MET id (None: it does not parse), survey digest,
# outcome, graph IRI]; the survey digest is that of what the referentials are linked against
# (names, cited FOR ids, ROME codes), the outcome [MET id, line of the id, triples, failure,
# findings].
F_SIZE, F_MTIME, F_SHA, F_ID, F_SURVEY, F_OUTCOME, F_GRAPH = range(7)


def file_sha256(path: Path | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


# A file modified this close to (or after) the start of the run that read it may be edited
# again within the same tick of the file system's clock, keeping its size and modification time
# (git's "racy clean" problem): its stamp is not recorded, so the next run reads it again.
# Two seconds covers the coarsest clocks met in practice (FAT: 2 s; ext4, APFS: ns, a tick of
# the kernel's clock in fact).
RACY_NS = 2_000_000_000
UNTRUSTED = -1  # the modification time recorded instead: no file has it, so it never matches


def trusted_mtime(mtime_ns: int, started_ns: int) -> int:
    """``mtime_ns``, or :data:`UNTRUSTED` when the file was modified within :data:`RACY_NS` of
    ``started_ns`` (the time the run began, before it read the file) or later."""
    return mtime_ns if mtime_ns < started_ns - RACY_NS else UNTRUSTED


class FileHashes:
    """Content hashes of the files the environment key covers, reusing an earlier run's when
    nothing about them (size, modification time; for a tree, of every file in it) changed."""

    def __init__(
        self,
        known: dict[str, list[Any]] | None = None,
        listings: dict[str, list[str]] | None = None,
        started_ns: int | None = None,
    ) -> None:
        self._known = known or {}
        self._listings = listings or {}  # tree → its listing, when made beforehand (list_trees)
        self._started_ns = time.time_ns() if started_ns is None else started_ns
        self.seen: dict[str, list[Any]] = {}

    def of(self, path: Path | str) -> str:
        key = os.path.abspath(path)
        st = os.stat(key)
        stamp = [st.st_size, st.st_mtime_ns]
        known = self._known.get(key)
        digest = str(known[2]) if known is not None and known[:2] == stamp else file_sha256(key)
        self.seen[key] = [st.st_size, trusted_mtime(st.st_mtime_ns, self._started_ns), digest]
        return digest

    def of_tree(self, root: Path, skip: Path | None = None) -> str:
        """One hash for every file under ``root`` (names and contents), ``skip`` aside.

        Every file is looked at (one ``stat``), none is read unless one of them changed."""
        top = os.path.abspath(root)
        lines = self._listings.get(top)
        if lines is None:
            lines = _listing(top, os.path.abspath(skip) if skip is not None else None)
        stamp = hashlib.sha256("\n".join(lines).encode()).hexdigest()
        key = "tree:" + top
        known = self._known.get(key)
        if known is not None and known[0] == stamp:
            digest = str(known[1])
        else:
            h = hashlib.sha256()
            for line in lines:
                relative = line.split("\0", 1)[0]
                h.update(f"{relative}\0{file_sha256(os.path.join(top, relative))}\n".encode())
            digest = h.hexdigest()
        recent = self._started_ns - RACY_NS
        racy = any(int(line.rsplit("\0", 1)[1]) >= recent for line in lines)
        self.seen[key] = [None if racy else stamp, digest]  # (None never matches a listing's digest)
        return digest


def _listing(top: str, skip: str | None) -> list[str]:
    """``relative path\0size\0mtime_ns`` of every file under ``top``, sorted by path;
    ``__pycache__``, ``*.pyc`` and ``skip`` aside."""
    found: list[str] = []
    stack = [""]
    stat = os.stat
    while stack:
        relative = stack.pop()
        folder = os.path.join(top, relative) if relative else top
        prefix = f"{relative}/" if relative else ""
        fd = os.open(folder, os.O_RDONLY)
        try:
            names = []
            with os.scandir(fd) as entries:
                for entry in entries:
                    name = entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if name != "__pycache__" and os.path.join(folder, name) != skip:
                            stack.append(prefix + name)
                    elif not name.endswith(".pyc") and entry.is_file():
                        names.append(name)
            for name in names:
                st = stat(name, dir_fd=fd)
                found.append(f"{prefix}{name}\0{st.st_size}\0{st.st_mtime_ns}")
        finally:
            os.close(fd)
    found.sort()  # (no name holds a NUL: the path sorts first)
    return found


def environment_trees() -> list[tuple[Path, Path | None]]:
    """The folders the environment key covers, each with the folder it leaves out: the package's
    code and the referential seeds (the shipped fiches aside)."""
    return [(Path(__file__).resolve().parent, None), (resources.seeds_dir(), resources.metier_fiches_dir())]


def list_trees(trees: Sequence[tuple[Path, Path | None]]) -> Callable[[], dict[str, list[str]]]:
    """Start listing ``trees`` (every file's size and modification time) in a thread; the
    function returned waits for the listings, for :class:`FileHashes`. (The ``stat`` calls run
    while this thread does something else.)"""
    import threading

    listings: dict[str, list[str]] = {}

    def run() -> None:
        for root, skip in trees:
            top = os.path.abspath(root)
            with contextlib.suppress(OSError):
                listings[top] = _listing(top, os.path.abspath(skip) if skip is not None else None)

    thread = threading.Thread(target=run, name="onisep-kg-list", daemon=True)
    thread.start()

    def result() -> dict[str, list[str]]:
        thread.join()
        return listings

    return result


def environment_key(hashes: FileHashes, options: dict[str, Any]) -> str:
    """What every output depends on besides the fiches: change any of it and nothing is reused."""
    (code, _none), (seeds, fiches) = environment_trees()
    parts = {
        "version": __version__,
        "format": MANIFEST_FORMAT,
        "byteorder": sys.byteorder,  # of the hash files
        "code": hashes.of_tree(code),
        "shapes": [hashes.of(p) for p in resources.shapes_files()],
        "ontology": hashes.of(resources.ontology_file()),
        "context": hashes.of(resources.context_file()),
        "referentials": hashes.of_tree(seeds, skip=fiches),
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH"),
        "options": options,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


# A graph's numbers in a GraphTable: its triples, then (start, length) in each of FORMATS
# (start -1: nothing written in that file).
_PER_GRAPH = 1 + 2 * len(FORMATS)


def _column(fmt: str) -> int:
    return 1 + 2 * FORMATS.index(fmt)


def _b64(values: array[int]) -> str:
    return base64.b64encode(memoryview(values).cast("B")).decode("ascii")


def lines_of(values: Sequence[str | None]) -> str | list[str | None]:
    """A column of strings as one string, the values joined by line breaks (None as an empty
    line), which JSON reads and writes much faster than a list; the list itself when a value
    holds a line break or is empty."""
    text = "\n".join([v or "" for v in values])
    if text.count("\n") != max(len(values) - 1, 0) or (values and "" in values):
        return list(values)
    return text


def unlines(column: str | list[Any], n: int) -> list[Any]:
    """The values :func:`lines_of` gave ``column`` for (``n`` of them)."""
    if isinstance(column, list):
        values = column
    elif n:
        values = [v or None for v in column.split("\n")]
    else:
        values = []
    if len(values) != n:
        raise ValueError("a column of the wrong length")
    return values


def _unb64(text: str, typecode: str) -> array[int]:
    values = array(typecode)
    values.frombytes(base64.b64decode(text))
    return values


class GraphTable:
    """The named graphs of a run, in the order of the whole-graph files: per graph its triples,
    where its chunk lies in each file, its digest and its sources (for a store load; None until
    known, the sources as :func:`pipeline.store.sources_key` writes them). Kept in columns (the
    numbers of every graph in one array), so that thousands of graphs load, copy and save
    without an object each."""

    __slots__ = ("digests", "index", "iris", "numbers", "sources")

    def __init__(self) -> None:
        self.iris: list[str] = []
        self.index: dict[str, int] = {}
        self.numbers = array("q")  # _PER_GRAPH per graph
        self.digests: list[str | None] = []
        self.sources: list[str | None] = []

    def __len__(self) -> int:
        return len(self.iris)

    def __contains__(self, iri: object) -> bool:
        return iri in self.index

    def __iter__(self) -> Iterator[str]:
        return iter(self.iris)

    def append(self, iri: str, numbers: Sequence[int], digest: str | None, sources: str | None) -> None:
        if iri in self.index:
            raise ValueError(f"the graph {iri} is written twice")
        self.index[iri] = len(self.iris)
        self.iris.append(iri)
        self.numbers.extend(numbers)
        self.digests.append(digest)
        self.sources.append(sources)

    def row(self, iri: str) -> array[int]:
        """The numbers of a graph (triples, then start and length per format)."""
        i = self.index[iri] * _PER_GRAPH
        return self.numbers[i : i + _PER_GRAPH]

    def span(self, iri: str, fmt: str) -> tuple[int, int] | None:
        """Where a graph's chunk lies in the file ``fmt`` (start, length), None when it has none."""
        i = self.index[iri] * _PER_GRAPH + _column(fmt)
        start = self.numbers[i]
        return None if start < 0 else (start, self.numbers[i + 1])

    def digest(self, iri: str) -> str | None:
        return self.digests[self.index[iri]]

    def set_known(self, iri: str, digest: str, sources: str) -> None:
        i = self.index[iri]
        self.digests[i] = digest
        self.sources[i] = sources

    def in_trig(self) -> Sequence[int]:
        """The places of the graphs written in the TriG file."""
        starts = self.numbers[_column("trig") :: _PER_GRAPH]
        if -1 not in starts:  # (no empty graph: the usual case)
            return range(len(starts))
        return [i for i, start in enumerate(starts) if start >= 0]

    def to_json(self) -> dict[str, Any]:
        return {
            "iris": lines_of(self.iris),
            "numbers": _b64(self.numbers),
            "digests": lines_of(self.digests),
            "sources": lines_of(self.sources),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GraphTable:
        table = cls()
        table.numbers = _unb64(data["numbers"], "q")
        n = len(table.numbers) // _PER_GRAPH
        table.iris = unlines(data["iris"], n)
        table.index = {iri: i for i, iri in enumerate(table.iris)}
        table.digests = unlines(data["digests"], n)
        table.sources = unlines(data["sources"], n)
        if not len(table.index) == len(table.digests) == len(table.sources) == n:
            raise ValueError("an inconsistent graph table")
        if len(table.numbers) != n * _PER_GRAPH:
            raise ValueError("an inconsistent graph table")
        return table


@dataclass(slots=True)
class Manifest:
    """What a run left for the next one (see the module's docstring)."""

    environment: str
    files: dict[str, list[Any]] = field(default_factory=dict)  # environment file or tree → stamps, hash
    fiches: dict[str, list[Any]] = field(default_factory=dict)  # source → entry (F_* fields)
    referentials: dict[str, Any] | None = None  # key, graphs, findings, failures, links, count
    graphs: GraphTable = field(default_factory=GraphTable)
    outputs: dict[str, list[int]] = field(default_factory=dict)  # whole-graph file → [size, mtime_ns]
    triples: int = 0

    @classmethod
    def load(cls, out_dir: Path) -> Manifest | None:
        """The manifest of the previous run, or None when there is none or it cannot be trusted
        (unreadable, another format, or the whole-graph files changed since it was written)."""
        path = out_dir / CACHE_DIR / MANIFEST_NAME
        try:
            data = json.loads(path.read_bytes())
            if data.get("format") != MANIFEST_FORMAT:
                return None
            graphs = GraphTable.from_json(data["graphs"])
            referentials = data["referentials"]
            if referentials is not None:
                last = referentials["graphs"]
                if isinstance(last, int):  # the last graphs of the table (see save)
                    referentials["graphs"] = graphs.iris[len(graphs.iris) - last :] if last else []
            manifest = cls(
                environment=data["environment"],
                files=data["files"],
                fiches=_fiches_from_json(data["fiches"]),
                referentials=referentials,
                graphs=graphs,
                outputs=data["outputs"],
                triples=data["triples"],
            )
            for name, stamp in manifest.outputs.items():
                st = (out_dir / name).stat()
                if [st.st_size, st.st_mtime_ns] != stamp:
                    return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None
        return manifest

    @property
    def has_digests(self) -> bool:
        """Whether the digest and sources of every graph written in the TriG file are known
        (see :meth:`graph_inputs`)."""
        g = self.graphs
        places = g.in_trig()
        if isinstance(places, range):
            return None not in g.digests and None not in g.sources
        return all(g.digests[i] is not None and g.sources[i] for i in places)

    def save(self, out_dir: Path, encoded: str | None = None) -> None:
        """Write the manifest (``encoded``: what :meth:`encode` gave, all but the outputs)."""
        from .serialize import atomic_write

        text = (encoded or self.encode())[:-1] + ',"outputs":' + json.dumps(self.outputs) + "}"
        atomic_write(out_dir / CACHE_DIR / MANIFEST_NAME, text.encode())

    def encode(self) -> str:
        """The manifest's JSON but the outputs (a run encodes it while its files are synced)."""
        referentials = self.referentials
        if referentials is not None:
            graphs = referentials["graphs"]
            n = len(graphs)
            if graphs == self.graphs.iris[len(self.graphs.iris) - n :] if n else True:
                referentials = {**referentials, "graphs": n}  # the last n graphs: not written twice
        data = {
            "format": MANIFEST_FORMAT,
            "environment": self.environment,
            "triples": self.triples,
            "files": self.files,
            "fiches": _fiches_to_json(self.fiches),
            "referentials": referentials,
            "graphs": self.graphs.to_json(),
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    def graph_inputs(self, trig: Path) -> list[GraphInput] | None:
        """The named graphs of the TriG file this run wrote, for :meth:`pipeline.store.Store.load`,
        each with its digest and sources: a store that holds them already reads nothing. A
        graph's triples are read from its block of ``trig`` only if the store must write it.
        None when a digest is unknown (then load the TriG file itself)."""
        if not self.has_digests:
            return None
        return [self.graph_input(trig, iri) for iri, _digest, _sources in self.known_graphs()]

    def known_graphs(self) -> list[tuple[str, str, str]]:
        """``(IRI, digest, sources)`` of every graph in the TriG file, sorted by IRI (for
        :meth:`pipeline.store.EmbeddedStore.load_known`; see :attr:`has_digests`)."""
        g = self.graphs
        places = g.in_trig()
        if isinstance(places, range):
            return sorted(zip(g.iris, g.digests, g.sources, strict=True))  # type: ignore[arg-type]
        return sorted((g.iris[i], g.digests[i], g.sources[i]) for i in places)  # type: ignore[misc]

    def graph_input(self, trig: Path, iri: str) -> GraphInput:
        """One graph of the TriG file ``trig`` as :meth:`graph_inputs` gives it."""
        from .serialize import turtle_head
        from .store import GraphInput, SourceFile

        where = self.graphs.span(iri, "trig")
        sources = self.graphs.sources[self.graphs.index[iri]]
        assert where is not None and sources
        (first_name, first_sha), *more = json.loads(sources)
        return GraphInput(
            iri,
            _block_reader(trig, turtle_head(), where, iri),
            first_name,
            first_sha,
            more_sources=tuple(SourceFile(name, sha) for name, sha in more),
            digest=self.graphs.digest(iri),
        )


def _fiches_to_json(fiches: dict[str, list[Any]]) -> dict[str, Any]:
    """The fiches' entries in columns (a fiche's numbers in one array; the outcomes' failures and
    findings only for the fiches that have some)."""
    numbers = array("q")
    details: dict[str, list[Any]] = {}
    for k, entry in enumerate(fiches.values()):
        metier_id, id_line, triples, failure, findings = entry[F_OUTCOME]
        numbers.extend((entry[F_SIZE], entry[F_MTIME], -1 if id_line is None else id_line, triples))
        if failure is not None or findings:
            details[str(k)] = [failure, findings]
    entries = fiches.values()
    return {
        "sources": lines_of(list(fiches)),
        "numbers": _b64(numbers),
        "sha256": lines_of([e[F_SHA] for e in entries]),
        "ids": lines_of([e[F_ID] for e in entries]),
        "survey": lines_of([e[F_SURVEY] for e in entries]),
        "metier_ids": lines_of([e[F_OUTCOME][0] for e in entries]),
        "graphs": lines_of([e[F_GRAPH] for e in entries]),
        "details": details,
    }


def _fiches_from_json(data: dict[str, Any]) -> dict[str, list[Any]]:
    numbers = _unb64(data["numbers"], "q")
    n = len(numbers) // 4
    sources = unlines(data["sources"], n)
    shas, ids, surveys = (unlines(data[k], n) for k in ("sha256", "ids", "survey"))
    metier_ids, graphs = unlines(data["metier_ids"], n), unlines(data["graphs"], n)
    details = data["details"]
    if len(numbers) != 4 * n or len(set(sources)) != n:
        raise ValueError("inconsistent fiche entries")
    fiches: dict[str, list[Any]] = {}
    for k, source in enumerate(sources):
        size, mtime, id_line, triples = numbers[4 * k : 4 * k + 4]
        failure, findings = details.get(str(k), (None, []))
        outcome = [metier_ids[k], None if id_line < 0 else id_line, triples, failure, findings]
        fiches[source] = [size, mtime, shas[k], ids[k], surveys[k], outcome, graphs[k]]
    return fiches


def _block_reader(trig: Path, header: bytes, where: tuple[int, int], iri: str) -> Callable[[], Any]:
    def read() -> Any:
        from .store import read_trig_block

        with open(trig, "rb") as f:
            block = os.pread(f.fileno(), where[1], where[0])
        return read_trig_block(header, block, iri, trig).data

    return read


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _copy_range(source: int, target: int, start: int, end: int, name: Path) -> None:
    """Append bytes ``start:end`` of the file ``source`` to ``target`` (at its offset)."""
    left = end - start
    while left > 0:
        try:
            done = os.copy_file_range(source, target, left, start)
        except (AttributeError, OSError):
            done = 0
        if done <= 0:  # no copy_file_range here (or across file systems): read and write
            data = os.pread(source, min(left, _CHUNK), start)
            if not data:
                raise OSError(f"{name} is shorter than its manifest says")
            _write_all(target, data)
            done = len(data)
        start += done
        left -= done


class Document:
    """A whole-graph file written part by part into a temporary file beside it.

    ``add`` appends a named graph's chunk, ``copy`` copies one from the previous file (adjacent
    copies become one copy of the kernel's); both return where the chunk lies in the new file.
    The writing itself is done by a thread of the file's own, in order: the kernel copies while
    the caller goes on (:meth:`flush` waits for it and stops it, before a fork). ``commit``
    writes the tail, syncs and renames the file over the previous one (:meth:`finish` starts the
    sync, so that several files sync at once); ``abort`` (or an exception before ``commit``)
    leaves the previous file as it was.
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
        self._buffer = bytearray(head)
        self._position = len(head)
        self._parts = 0
        self._pending: list[int] | None = None  # [source start, source end] of copies not yet made
        self._worker: ThreadPoolExecutor | None = None
        self._jobs: list[Future[Any]] = []
        self._finished = False
        self._written: Future[Any] | None = None  # the last write before the sync
        self.settle: Callable[[], None] | None = None  # called before the file is read or ended

    def _submit(self, action: Callable[..., Any], *args: Any) -> None:
        jobs = self._jobs
        while jobs and jobs[0].done():
            jobs.pop(0).result()  # the worker's error, if any, is raised here
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="onisep-kg-write")
        jobs.append(self._worker.submit(action, *args))

    def _send(self) -> None:
        if self._buffer:
            data = bytes(self._buffer)
            self._buffer.clear()
            self._submit(_write_all, self._fd, data)

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
            self._buffer += self.separator
        self._begin()
        span = [self._position, len(chunk)]
        self._buffer += chunk
        self._position += len(chunk)
        if len(self._buffer) >= _CHUNK:
            self._send()
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
            if pending[1] - pending[0] >= _COPY_AT_ONCE:
                self._flush()  # the kernel copies this much while the caller goes on
        else:
            self._flush()
            if self._parts and self.separator:
                self._buffer += self.separator
            self._pending = [start, start + length]
        self._begin()
        new = [self._position, length]
        self._position += length
        return new

    def copy_range(self, start: int, end: int, parts: int) -> int:
        """Copy bytes ``start:end`` of the previous file, ``parts`` chunks one after the other
        (with the separators between them); where they begin in the new file."""
        pending = self._pending
        if pending is not None and start == pending[1] + (len(self.separator) if self._parts else 0):
            pending[1] = end
        else:
            self._flush()
            if self._parts and self.separator:
                self._buffer += self.separator
            pending = self._pending = [start, end]
        if pending[1] - pending[0] >= _COPY_AT_ONCE:
            self._flush()  # the kernel copies this much while the caller goes on
        if self._parts:
            self._position += len(self.separator)
        self._parts += parts
        new = self._position
        self._position += end - start
        return new

    def read_previous(self, span: Sequence[int]) -> bytes:
        """The bytes of a chunk of the previous file."""
        if self._previous is None:
            raise OSError(f"{self.target} has no previous version")
        return os.pread(self._previous, span[1], span[0])

    def _flush(self) -> None:
        """Hand the pending copy (and what is buffered before it) to the worker."""
        if self._pending is None:
            return
        start, end = self._pending
        self._pending = None
        if self._previous is None:
            raise OSError(f"{self.target} has no previous version")
        self._send()
        self._submit(_copy_range, self._previous, self._fd, start, end, self.target)

    def _wait(self) -> None:
        jobs, self._jobs = self._jobs, []
        for job in jobs:
            job.result()

    def _stop(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=True, cancel_futures=True)
            self._worker = None

    def flush(self) -> None:
        """Write out everything so far and stop the worker (before a fork: a child must inherit
        neither a buffer nor a thread)."""
        if self.settle is not None:
            self.settle()
        self._flush()
        self._send()
        try:
            self._wait()
        finally:
            self._stop()

    @property
    def position(self) -> int:
        """How many bytes the new file holds so far."""
        if self.settle is not None:
            self.settle()
        return self._position

    def written(self, start: int = 0) -> bytes:
        """The new file's bytes from ``start`` to :attr:`position`."""
        self.flush()
        return os.pread(self._fd, self._position - start, start)

    def read_written(self, start: int, length: int) -> bytes:
        """Bytes of the new file (call :meth:`flush` first)."""
        return os.pread(self._fd, length, start)

    def finish(self) -> None:
        """Write the tail and start syncing the file (:meth:`commit` waits for it)."""
        if not self._finished:
            if self.settle is not None:
                self.settle()
            self._flush()
            self._buffer += self.tail
            self._send()
            self._written = self._jobs[-1] if self._jobs else None
            self._submit(os.fsync, self._fd)
            self._finished = True

    def read_new(self, start: int, length: int) -> bytes:
        """Bytes of the new file once :meth:`finish` was called (its writing is waited for, not
        its syncing)."""
        if self._written is not None:
            self._written.result()
        return os.pread(self._fd, length, start)

    def commit(self) -> None:
        self.finish()
        try:
            self._wait()
        except BaseException:
            self._stop()
            raise
        os.close(self._fd)
        self._fd = -1
        os.chmod(self._tmp, 0o666 & ~_umask())
        os.replace(self._tmp, self.target)
        previous, self._previous = self._previous, None
        if previous is not None and self._worker is not None:
            # The last reference to the replaced file: the kernel frees it as this is closed
            # (tens of ms for a big file), which the worker does while the caller goes on.
            self._worker.submit(os.close, previous)
            self._worker.shutdown(wait=False)
            self._worker = None
        else:
            self._stop()
            if previous is not None:
                os.close(previous)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._stop()
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
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


# -- distinct triples -------------------------------------------------------------------------
_MAGIC = b"OKGD1" + (b"<" if sys.byteorder == "little" else b">") + b"\0\0"
_BUCKET_SHIFT = 52  # 4,096 buckets by the hash's top 12 bits: each is counted alone, in cache
_SPILL_AT = 1 << 22  # hashes held in buckets before they go to a temporary file (32 MB)
_READ_AT_ONCE = 1 << 20  # hashes read from the hash file at a time
# Triples of rendered graphs whose digests a run works out (~1.5 µs a triple); past that, it
# leaves them to the next load (which reads those graphs anyway, and records them).
_DIGEST_AT_MOST = 200_000


class DistinctTriples:
    """The number of distinct triples of the whole graph, from each graph's 64-bit triple hashes.

    :meth:`write` leaves ``distinct.bin``: the distinct hashes, sorted, and for each how many
    graphs hold it. With the previous run's file, a re-run counts only the difference: the hashes
    of the graphs it rendered (:meth:`add`) and of the previous graphs it did not keep
    (:meth:`drop`); a hash whose count falls to 0 leaves, a new one enters. Without it, or when
    much changed, every hash of the run is counted again, bucket by bucket (memory: a few tens of
    MB, whatever the corpus). The hashes are 64-bit: two distinct triples with one hash (odds
    about n²/2⁶⁵) would count once.
    """

    def __init__(self, path: Path, previous: bool) -> None:
        self.path = path
        self.count = 0
        self._tmp: str | None = None
        self._base: tuple[array[int], array[int]] | None = None
        self._delta: Counter[int] | None = None
        self._changed = 0
        self._limit = 0
        if previous:
            with contextlib.suppress(OSError, ValueError), open(path, "rb") as f:
                head = f.read(16)
                n = int.from_bytes(head[8:], sys.byteorder) if head[:8] == _MAGIC else -1
                if n >= 0 and os.fstat(f.fileno()).st_size == 16 + 12 * n:
                    self._delta = Counter()
                    self._limit = max(1 << 16, n // 4)

    def _note(self, hashes: bytes) -> array[int] | None:
        if self._delta is None:
            return None
        self._changed += len(hashes) // 8
        if self._changed > self._limit:  # cheaper to count everything again
            self._delta = None
            return None
        return array("Q", hashes)

    def add(self, hashes: bytes) -> None:
        """A graph of this run that was rendered (not copied from the previous run)."""
        values = self._note(hashes)
        if values is not None and self._delta is not None:
            self._delta.update(values)

    def drop(self, hashes: bytes) -> None:
        """A graph of the previous run that this run did not copy."""
        values = self._note(hashes)
        if values is not None and self._delta is not None:
            self._delta.subtract(values)

    def write(self, every: Callable[[], Iterator[array[int]]]) -> int:
        """Count, write the temporary file (:meth:`commit` renames it) and return the count.
        ``every`` gives every hash of the run's graphs, in pieces (for a count from scratch)."""
        updated = self._updated() if self._delta is not None else None
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        with open(fd, "wb", buffering=_CHUNK) as out:
            out.write(_MAGIC + bytes(8))
            if updated is None:
                n, counts = _count_all(every(), out, self.path.parent)
                out.write(memoryview(counts).cast("B"))
            else:
                n, key_pieces, count_pieces = updated
                for piece in (*key_pieces, *count_pieces):
                    out.write(piece)
            out.flush()
            os.pwrite(out.fileno(), n.to_bytes(8, sys.byteorder), 8)
        self.count = n
        return n

    def _updated(self) -> tuple[int, list[Any], list[Any]] | None:
        """The previous file's content with the difference applied, as pieces to write (the
        distinct hashes, then their counts); None when it does not agree with the difference
        (then everything is counted again). Nothing but the changed counts is copied."""
        assert self._delta is not None
        try:
            with open(self.path, "rb") as f:
                buffer = bytearray(os.fstat(f.fileno()).st_size)
                if f.readinto(buffer) != len(buffer):
                    return None
        except OSError:
            return None
        n = (len(buffer) - 16) // 12
        if (
            buffer[:8] != _MAGIC
            or int.from_bytes(buffer[8:16], sys.byteorder) != n
            or 16 + 12 * n != len(buffer)
        ):
            return None
        view = memoryview(buffer)
        keys = view[16 : 16 + 8 * n].cast("Q")
        counts = view[16 + 8 * n :].cast("I")
        delta = self._delta
        edits: list[tuple[int, int, int]] = []  # (position in keys, 0 insert h / 1 remove, h)
        for h in sorted(h for h, d in delta.items() if d):
            d = delta[h]
            i = bisect_left(keys, h)
            if i < n and keys[i] == h:
                c = counts[i] + d
                if c < 0:
                    return None
                if c:
                    counts[i] = c
                else:
                    edits.append((i, 1, h))
            elif d > 0:
                edits.append((i, 0, h))
            else:
                return None  # a hash to drop that no graph held: not the file it should be
        key_pieces: list[Any] = []
        count_pieces: list[Any] = []
        last = 0
        for i, kind, h in edits:
            key_pieces.append(keys[last:i])
            count_pieces.append(counts[last:i])
            if kind == 0:
                key_pieces.append(array("Q", [h]))
                count_pieces.append(array("I", [delta[h]]))
                last = i
            else:
                last = i + 1
        key_pieces.append(keys[last:])
        count_pieces.append(counts[last:])
        inserted = sum(1 for _i, kind, _h in edits if kind == 0)
        return n + 2 * inserted - len(edits), key_pieces, count_pieces

    def commit(self) -> None:
        if self._tmp is not None:
            fd = os.open(self._tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(self._tmp, 0o666 & ~_umask())
            os.replace(self._tmp, self.path)
            self._tmp = None

    def abort(self) -> None:
        if self._tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp)
            self._tmp = None


def _count_all(pieces: Iterable[array[int]], out: Any, spill_dir: Path) -> tuple[int, array[int]]:
    """Write the distinct hashes of ``pieces``, sorted, to ``out``; their number and how many
    times each occurs. The hashes go to 4,096 buckets by their top bits (to a temporary file
    when many), and each bucket is counted alone: its keys come out in the global order."""
    nb = 1 << (64 - _BUCKET_SHIFT)
    buckets = [array("Q") for _ in range(nb)]
    appends = [b.append for b in buckets]
    spilled: list[list[tuple[int, int]]] = [[] for _ in range(nb)]
    shift = _BUCKET_SHIFT
    held = 0
    with tempfile.TemporaryFile(dir=spill_dir) as spill:
        position = 0
        for piece in pieces:
            for h in piece:
                appends[h >> shift](h)
            held += len(piece)
            if held >= _SPILL_AT:
                for b, bucket in enumerate(buckets):
                    if bucket:
                        spill.write(bucket)
                        spilled[b].append((position, 8 * len(bucket)))
                        position += 8 * len(bucket)
                        del bucket[:]
                held = 0
        spill.flush()
        counts = array("I")
        n = 0
        for b, bucket in enumerate(buckets):
            if spilled[b]:
                whole = array("Q")
                for start, length in spilled[b]:
                    whole.frombytes(os.pread(spill.fileno(), length, start))
                whole += bucket
                bucket = whole
            if not bucket:
                continue
            tally = Counter(bucket)
            keys = array("Q", sorted(tally))
            out.write(memoryview(keys).cast("B"))
            counts.extend(map(tally.__getitem__, keys))
            n += len(keys)
            buckets[b] = array("Q")
    return n, counts


class WholeGraph:
    """The whole-graph files of a run, written one named graph at a time.

    ``add(iri, chunks)`` writes a graph rendered in this run; ``copy(iri)`` copies one from the
    previous run's files (where its manifest says it lies): graphs copied one after the other
    that were adjacent in the previous files are copied as one range (and their places worked
    out together) when something else comes. ``commit`` counts the distinct triples, renames
    every file into place and returns their sizes and modification times. With ``digests``
    (the previous run knew every graph's digest), a rendered graph's digest and sources are
    worked out from its TriG chunk, for :meth:`Manifest.graph_inputs`.
    """

    def __init__(self, out_dir: Path, name: str, previous: Manifest | None, *, digests: bool = False) -> None:
        from .serialize import JSONLD_SEPARATOR, jsonld_head, jsonld_tail, turtle_head

        self.out_dir = out_dir
        self._previous = previous.graphs if previous is not None else GraphTable()
        self.digests = digests
        self.docs: dict[str, Document] = {}
        self._head = turtle_head()
        try:
            self.docs["ttl"] = Document(out_dir / f"{name}.ttl", self._head)
            self.docs["jsonld"] = Document(
                out_dir / f"{name}.jsonld", jsonld_head(), jsonld_tail(), JSONLD_SEPARATOR
            )
            self.docs["trig"] = Document(out_dir / f"{name}.trig", self._head)
            self.docs["hashes"] = Document(out_dir / CACHE_DIR / HASHES_NAME, b"")
        except BaseException:
            self.abort()
            raise
        self._docs = [self.docs[fmt] for fmt in FORMATS]
        for doc in self._docs:
            doc.settle = self._settle
        self._digested = 0
        self.parsed: dict[str, GraphInput] = {}  # the graphs rendered whose digests were worked out
        self._prepared = False
        self.graphs = GraphTable()
        self._run: list[int] | None = None  # [first, end) places in the previous table, not copied yet
        self._copied = bytearray(len(self._previous))
        self._distinct = DistinctTriples(
            out_dir / CACHE_DIR / DISTINCT_NAME,
            previous is not None and f"{CACHE_DIR}/{DISTINCT_NAME}" in previous.outputs,
        )

    def __contains__(self, iri: str) -> bool:
        if iri in self.graphs:
            return True
        run, i = self._run, self._previous.index.get(iri)
        return run is not None and i is not None and run[0] <= i < run[1]

    def can_copy(self, iri: str) -> bool:
        return iri in self._previous and iri not in self

    def add(self, iri: str, chunks: Any) -> None:
        self._settle()
        numbers = [chunks.triples]
        parts = (chunks.turtle, chunks.jsonld, chunks.trig, chunks.hashes)
        for doc, data in zip(self._docs, parts, strict=True):
            where = doc.add(data)
            numbers += where if where is not None else (-1, 0)
        digest: str | None = None
        sources: str | None = None
        if self.digests and chunks.trig:
            from .store import read_trig_block, sources_key

            graph = read_trig_block(self._head, chunks.trig, iri, self.docs["trig"].target)
            digest = graph.digest
            sources = sources_key(graph.sources)
            self.parsed[iri] = graph
            self._digested += chunks.triples
            if self._digested > _DIGEST_AT_MOST:
                self.digests = False  # many graphs changed: the next load reads them anyway
        self.graphs.append(iri, numbers, digest, sources)
        if chunks.hashes:
            self._distinct.add(chunks.hashes)

    def copy(self, iri: str) -> None:
        i = self._previous.index[iri]
        run = self._run
        if run is not None and i == run[1]:  # (a graph written twice is caught by _settle)
            run[1] += 1
            if run[1] - run[0] >= _RUN_AT_ONCE:
                self._settle()  # the kernel copies these while the caller goes on
        else:
            if iri in self:
                raise ValueError(f"the graph {iri} is written twice")
            self._settle()
            self._run = [i, i + 1]

    def _settle(self) -> None:
        """Copy the pending run of graphs: one range per file, and their places in the new files
        are those in the previous ones moved by as much."""
        run = self._run
        if run is None:
            return
        self._run = None
        first, end = run
        previous, new = self._previous, self.graphs
        rows = previous.numbers[first * _PER_GRAPH : end * _PER_GRAPH]
        for doc, fmt in zip(self._docs, FORMATS, strict=True):
            column = _column(fmt)
            starts = rows[column::_PER_GRAPH]
            present = len(starts) - starts.count(-1)
            if not present:
                continue
            lo = next(k for k, start in enumerate(starts) if start >= 0)
            hi = len(starts) - 1 - next(k for k, start in enumerate(reversed(starts)) if start >= 0)
            begin, stop = starts[lo], starts[hi] + rows[hi * _PER_GRAPH + column + 1]
            moved = doc.copy_range(begin, stop, present) - begin
            if moved:
                if present == len(starts):
                    rows[column::_PER_GRAPH] = array("q", map(moved.__add__, starts))
                else:
                    rows[column::_PER_GRAPH] = array("q", (s + moved if s >= 0 else s for s in starts))
        at = len(new.iris)
        iris = previous.iris[first:end]
        for k, iri in enumerate(iris):
            if iri in new.index:
                raise ValueError(f"the graph {iri} is written twice")
            new.index[iri] = at + k
        new.iris += iris
        new.numbers += rows
        new.digests += previous.digests[first:end]
        new.sources += previous.sources[first:end]
        self._copied[first:end] = b"\x01" * (end - first)

    def previous_chunk(self, iri: str, fmt: str) -> bytes:
        """A graph's chunk in the previous run's file (for a per-fiche file that went missing)."""
        where = self._previous.span(iri, fmt)
        return b"" if where is None else self.docs[fmt].read_previous(where)

    @property
    def distinct_triples(self) -> int:
        """The distinct triples of the whole graph (known once :meth:`commit` counted them)."""
        return self._distinct.count

    def flush(self) -> None:
        self._settle()
        for doc in self.docs.values():
            doc.flush()

    def _all_hashes(self) -> Iterator[array[int]]:
        doc = self.docs["hashes"]
        doc.flush()
        end, at = doc.position, 0
        while at < end:
            size = min(end - at, 8 * _READ_AT_ONCE)
            piece = array("Q")
            piece.frombytes(doc.read_written(at, size))
            yield piece
            at += size

    def prepare_commit(self) -> None:
        """Count the distinct triples and end the files, which are synced meanwhile: the graphs
        can be read (:meth:`graph_input`) before :meth:`commit` renames the files into place."""
        if self._prepared:
            return
        self._settle()
        hashes = self.docs["hashes"]
        previous = self._previous
        for i in (i for i, copied in enumerate(self._copied) if not copied):
            where = previous.span(previous.iris[i], "hashes")
            if where is not None:
                self._distinct.drop(hashes.read_previous(where))
        for doc in self.docs.values():
            doc.finish()  # the copies and syncs of the four files go on meanwhile
        self._distinct.write(self._all_hashes)
        self._prepared = True

    def graph_input(self, iri: str) -> GraphInput:
        """A graph of the new TriG file, with its digest and sources (which the table must know),
        its triples read from the new file (or kept from its rendering) if they are asked for."""
        from .store import GraphInput, SourceFile, read_trig_block

        graph = self.parsed.get(iri)
        if graph is not None:
            return graph
        table = self.graphs
        i = table.index[iri]
        where, sources, digest = table.span(iri, "trig"), table.sources[i], table.digests[i]
        assert where is not None and sources is not None
        trig = self.docs["trig"]

        def read() -> Any:
            return read_trig_block(self._head, trig.read_new(*where), iri, trig.target).data

        (first_name, first_sha), *more = json.loads(sources)
        return GraphInput(
            iri,
            read,
            first_name,
            first_sha,
            more_sources=tuple(SourceFile(name, sha) for name, sha in more),
            digest=digest,
        )

    def commit(self) -> dict[str, list[int]]:
        """Count the distinct triples (if :meth:`prepare_commit` did not), rename every file into
        place; their sizes and modification times, by name (relative to the output folder)."""
        self.prepare_commit()
        stamps: dict[str, list[int]] = {}
        for doc in self.docs.values():
            doc.commit()
            stamps[doc.target.relative_to(self.out_dir).as_posix()] = _stamp(doc.target)
        self._distinct.commit()
        stamps[self._distinct.path.relative_to(self.out_dir).as_posix()] = _stamp(self._distinct.path)
        return stamps

    def abort(self) -> None:
        for doc in self.docs.values():
            doc.abort()
        with contextlib.suppress(AttributeError):
            self._distinct.abort()

    def targets(self) -> Iterator[Path]:
        return (doc.target for name, doc in self.docs.items() if name != "hashes")


class OutputBusyError(OnisepKgError):
    """Another run is writing the output folder."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        super().__init__(
            f"the output folder {out_dir} is being written by another onisep-kg run; "
            "wait for it to end. Nothing was written."
        )


# The temporary files this package makes (atomic_write, Document, DistinctTriples: mkstemp with
# the prefix "." + the target's name and the suffix ".tmp"), by the folder they are made in.
_TEMP_NAME = re.compile(r"\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp")
_WHOLE_OR_REPORT = re.compile(r"[^/]+\.(?:ttl|jsonld|trig)|report\.json")
_PER_FICHE = re.compile(r"[^/]+\.(?:ttl|jsonld)")


_LOCKS: set[int] = set()  # the locked output folders' descriptors this process holds open


def _drop_inherited_locks() -> None:
    """In a forked child (the referentials' worker): its copies of the locks' descriptors closed, so that
    a folder's lock goes with the process that took it (a worker outliving a killed run would
    otherwise keep it while it finishes its work)."""
    for fd in _LOCKS:
        with contextlib.suppress(OSError):
            os.close(fd)
    _LOCKS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_inherited_locks)


class OutputFolder:
    """An output folder while a run writes it (see :func:`pipeline.ingest.ingest`).

    A run that dies (killed, or failed) leaves its outputs whole, old or new: each is written to
    a temporary file and renamed. What it may leave besides is handled here:

    - its temporary files, possibly hundreds of MB: removed when the next run starts. The folder
      is locked (``flock`` of ``.onisep-kg/``: the OS releases it when a process dies) while a
      run writes it, so that no running run's files are taken for a dead one's; a second run
      meanwhile stops with :class:`OutputBusyError`. A forked worker does not keep the lock;
    - per-fiche files it replaced before its manifest was written: the manifest still describes
      the earlier ones, so a next run finding such a fiche unchanged since the manifest (its edit
      undone) would keep the dead run's files. Their names go to a journal
      (``.onisep-kg/pending``) before they are written; the next run treats them as missing
      (:attr:`unsettled`: rewritten from the whole graph if reused), and a run clears the journal
      once its manifest is saved (:meth:`settled`). (Like the per-fiche files, the journal is
      not synced: this covers a killed process, not a power cut.)
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._cache = out_dir / CACHE_DIR
        self._cache.mkdir(parents=True, exist_ok=True)
        self._lock: int | None = os.open(self._cache, os.O_RDONLY)  # (the folder itself: no file)
        locked = False
        if fcntl is not None:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked = True
                _LOCKS.add(self._lock)
            except OSError:
                os.close(self._lock)
                self._lock = None
                raise OutputBusyError(out_dir) from None
        self._journal: int | None = None
        try:
            text = (self._cache / PENDING_NAME).read_text(encoding="utf-8")
        except (OSError, ValueError):
            text = ""
        self.unsettled = {name for name in text.split("\n") if name}  # per-fiche files to write again
        if locked:
            self._sweep()

    def _sweep(self) -> None:
        """Remove the temporary files of a run that died (this run holds the lock: none is live)."""
        places = (
            (self.out_dir, _WHOLE_OR_REPORT),
            (self.out_dir / "metiers", _PER_FICHE),
            (self._cache, None),
        )
        for folder, targets in places:
            try:
                with os.scandir(folder) as entries:
                    names = [e.name for e in entries if e.name.endswith(".tmp") and e.is_file()]
            except OSError:
                continue
            for name in names:
                match = _TEMP_NAME.fullmatch(name)
                if match is not None and (targets is None or targets.fullmatch(match["target"])):
                    with contextlib.suppress(OSError):
                        os.unlink(folder / name)

    def writing(self, names: Iterable[str]) -> None:
        """Per-fiche files (names in ``metiers/``) about to be replaced: noted in the journal first."""
        if self._journal is None:
            self._journal = os.open(self._cache / PENDING_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        _write_all(self._journal, "".join(f"{name}\n" for name in names).encode("utf-8"))

    def settled(self) -> None:
        """The run's manifest is saved: it describes every per-fiche file; the journal goes."""
        self._close_journal()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._cache / PENDING_NAME)
        self.unsettled = set()

    def _close_journal(self) -> None:
        if self._journal is not None:
            os.close(self._journal)
            self._journal = None

    def close(self) -> None:
        """The run ends (the journal stays unless :meth:`settled`); the folder is unlocked."""
        self._close_journal()
        if self._lock is not None:
            _LOCKS.discard(self._lock)
            os.close(self._lock)
            self._lock = None


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def load_referentials_cache(out_dir: Path, environment: str) -> dict[str, Any] | None:
    """What the métier mapper needs from the referentials, as an earlier run with the same
    environment left it (JSON: never code)."""
    try:
        data = json.loads((out_dir / CACHE_DIR / REFERENTIALS_NAME).read_bytes())
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
    """One hash of a sequence of JSON values (in their order)."""
    h = hashlib.sha256()
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= 4096:
            h.update(json.dumps(batch, ensure_ascii=False, sort_keys=True).encode())
            batch = []
    h.update(json.dumps(batch, ensure_ascii=False, sort_keys=True).encode())
    return h.hexdigest()
