"""Writers: Turtle and compacted JSON-LD, deterministic, written atomically. No network, ever.

Triples are sorted before writing, so the same graph always gives the same bytes. Turtle is
written by pyoxigraph (fast, streaming); JSON-LD is compacted here with the context that ships in
``ontology/context.jsonld`` and is embedded in every document, so a reader never fetches one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import RDF, XSD, BNode, Literal, URIRef
from rdflib.term import Node

from . import resources

Triple = tuple[Node, Node, Node]
Quad = tuple[Node, Node, Node, Node]


@cache
def context() -> dict[str, str]:
    """The shipped JSON-LD context: prefix → namespace IRI."""
    with resources.context_file().open(encoding="utf-8") as f:
        return dict(json.load(f)["@context"])


def _sort_key(t: Triple) -> tuple[str, bool, str, int, str, str]:
    s, p, o = t
    kind = 0 if isinstance(o, URIRef) else 1 if isinstance(o, BNode) else 2
    extra = "" if kind < 2 else f"{o.language or ''}^{o.datatype or ''}"  # type: ignore[union-attr]
    return (str(s), p != RDF.type, str(p), kind, str(o), extra)


def sorted_triples(triples: Iterable[Triple]) -> list[Triple]:
    """Distinct triples in a fixed order: subject, rdf:type first, predicate, object."""
    return sorted(set(triples), key=_sort_key)


# -- Turtle ---------------------------------------------------------------------------------
def _ox(term: Node) -> Any:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None and term.datatype != XSD.string:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def to_turtle(triples: Iterable[Triple]) -> bytes:
    """Sorted, prefixed Turtle."""
    ox_triples = [ox.Triple(_ox(s), _ox(p), _ox(o)) for s, p, o in sorted_triples(triples)]
    return _sorted_prefixes(ox.serialize(ox_triples, format=ox.RdfFormat.TURTLE, prefixes=context()))


def _sorted_prefixes(body: bytes) -> bytes:
    """pyoxigraph writes the prefix lines in hash order: write our own, sorted, for stable bytes."""
    while body.startswith(b"@prefix "):
        body = body[body.index(b"\n") + 1 :]
    header = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(context().items()))
    return header.encode("utf-8") + b"\n" + body


def to_trig(graphs: Iterable[tuple[str, Iterable[Triple]]]) -> bytes:
    """TriG: one named graph per (graph IRI, triples), graphs and triples sorted, prefixed."""
    quads = []
    for graph_iri, triples in sorted(graphs, key=lambda g: g[0]):
        g = ox.NamedNode(graph_iri)
        quads.extend(ox.Quad(_ox(s), _ox(p), _ox(o), g) for s, p, o in sorted_triples(triples))
    return _sorted_prefixes(ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=context()))


# -- JSON-LD --------------------------------------------------------------------------------
class _Compactor:
    def __init__(self, ctx: dict[str, str]) -> None:
        # longest namespace first, so "id/metier/" wins over "id/"
        self.namespaces = sorted(((ns, p) for p, ns in ctx.items()), key=lambda x: -len(x[0]))
        self._cache: dict[str, str] = {}

    def iri(self, iri: str) -> str:
        compact = self._cache.get(iri)
        if compact is None:
            compact = self._cache[iri] = self._compact(iri)
        return compact

    def _compact(self, iri: str) -> str:
        for ns, prefix in self.namespaces:
            if iri.startswith(ns) and len(iri) > len(ns):
                local = iri[len(ns) :]
                if not local.startswith("//"):
                    return f"{prefix}:{local}"
        return iri

    def node_ref(self, term: Node) -> str:
        return f"_:{term}" if isinstance(term, BNode) else self.iri(str(term))

    def value(self, term: Node) -> Any:
        if isinstance(term, (URIRef, BNode)):
            return {"@id": self.node_ref(term)}
        assert isinstance(term, Literal)
        if term.language:
            return {"@value": str(term), "@language": term.language}
        dt = term.datatype
        if dt is None or dt == XSD.string:
            return str(term)
        if dt == XSD.boolean and str(term) in ("true", "false"):
            return str(term) == "true"
        if dt == XSD.integer and _canonical_int(str(term)):
            return int(str(term))
        return {"@value": str(term), "@type": self.iri(str(dt))}


def _canonical_int(text: str) -> bool:
    body = text[1:] if text.startswith("-") else text
    return body.isdigit() and (body == "0" or not body.startswith("0")) and text != "-0"


def to_jsonld(triples: Iterable[Triple]) -> bytes:
    """Compacted JSON-LD: one node object per subject, the shipped context inline."""
    ctx = context()
    c = _Compactor(ctx)
    nodes: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for s, p, o in sorted_triples(triples):
        node = nodes[c.node_ref(s)]
        if p == RDF.type and not isinstance(o, Literal):
            node["@type"].append(c.node_ref(o))
        else:
            node[c.iri(str(p))].append(c.value(o))
    lines = []
    for ref, props in nodes.items():
        obj: dict[str, Any] = {"@id": ref}
        for key in sorted(props, key=lambda k: (k != "@type", k)):
            values = props[key]
            obj[key] = values[0] if len(values) == 1 else values
        lines.append(json.dumps(obj, ensure_ascii=False))
    head = json.dumps({"@context": ctx}, ensure_ascii=False, indent=1)[:-2]
    body = ",\n".join(lines)
    return f'{head},\n "@graph": [\n{body}\n ]\n}}\n'.encode()


# -- files ----------------------------------------------------------------------------------
@cache
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write to a temporary file beside ``path``, then rename over it: never a half file.

    The rename is atomic, so a killed run leaves either the old or the new file. ``durable``
    also fsyncs the data before the rename, so that a power cut cannot leave an empty file;
    small per-fiche files skip it (the whole-graph files and the report keep it).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
