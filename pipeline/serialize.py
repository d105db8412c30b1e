"""Writers: Turtle, TriG and compacted JSON-LD, deterministic, written atomically. No network, ever.

Triples are sorted before writing, so the same graph always gives the same bytes. JSON-LD is
compacted here with the context that ships in ``ontology/context.jsonld`` and is embedded in every
document, so a reader never fetches one.

Turtle and TriG are the bytes pyoxigraph's serializer writes (with the context's prefixes, and our
own sorted ``@prefix`` header), but rendered here: building one ``ox.Triple`` per triple and
letting pyoxigraph walk them cost more than the whole rest of the write. Each distinct term is
rendered once (prefixed name, escaped local name, inline number, quoted literal: the rules of
oxttl's ``TurtleTerm``), then the triples are joined with the same `` ;`` / `` ,`` / `` .``
layout. A term this module is not sure to render as pyoxigraph does (an IRI outside a plain ASCII
form, an ``rdf:langString`` literal without a language...) is rendered by pyoxigraph itself, so
the bytes stay the same for every input; ``tests/test_serialize_speed.py`` checks them against the
pyoxigraph-based writers.

The work shared by the writers (distinct triples, their order, one table of terms per position)
is done once by :func:`prepare`; every writer also accepts the triples themselves. For a graph
made of named graphs (the ingest's), :func:`prepare_union` builds the whole graph from the named
graphs already prepared, without reading their terms again, and :func:`to_trig` reuses each named
graph's Turtle.

The ingest renders its named graphs one by one with a :class:`GraphRenderer`, which keeps what it
writes of each term from one graph to the next and renders a graph of common terms by a quicker
path of its own (the same bytes; ``tests/test_graph_renderer.py`` checks them against the writers
above).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from functools import cache
from itertools import accumulate, chain, compress, repeat
from json.encoder import encode_basestring
from operator import add, eq, getitem, is_, itemgetter, mul, ne, xor
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import RDF, XSD, BNode, Literal, URIRef
from rdflib.term import Node

from . import resources

Triple = tuple[Node, Node, Node]
Quad = tuple[Node, Node, Node, Node]

# rdflib builds a new URIRef on every ``RDF.type`` / ``XSD.string`` access: look them up once.
_RDF_TYPE = RDF.type
_RDF_TYPE_IRI = str(RDF.type)
_XSD_STRING = XSD.string
_XSD_INTEGER = XSD.integer
_XSD = "http://www.w3.org/2001/XMLSchema#"
_XSD_STRING_IRI = _XSD + "string"
_XSD_BOOLEAN_IRI = _XSD + "boolean"
_XSD_INTEGER_IRI = _XSD + "integer"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


@cache
def context() -> dict[str, str]:
    """The shipped JSON-LD context: prefix → namespace IRI."""
    with resources.context_file().open(encoding="utf-8") as f:
        return dict(json.load(f)["@context"])


# -- sorting --------------------------------------------------------------------------------
#
# Every writer reads the same thing: the distinct triples, sorted. Converting 800,000 rdflib
# triples one by one (a Python sort key, a pyoxigraph term, a JSON value per triple) took most of
# the write time, and most of it was spent again on the same few hundred thousand terms. So each
# term is reduced once to a *key* (a plain ``str`` for a URIRef, a tuple otherwise) that holds all
# the writers read from it; the distinct keys of each position (subject, predicate, object) are
# sorted once; a triple becomes one integer, its three ranks, and sorting the triples is sorting
# integers. Each distinct key is rendered once per format.


def _sort_key(t: Triple) -> tuple[str, bool, str, int, str, str]:
    """The order of the triples in every file: subject, rdf:type first, predicate, object.

    The reference definition; :class:`_Role` ranks the keys of each position by its part of this
    key (:func:`_subject_part`, :func:`_predicate_part`, :func:`_object_part`), which gives the
    same order.
    """
    s, p, o = t
    kind = 0 if isinstance(o, URIRef) else 1 if isinstance(o, BNode) else 2
    extra = "" if kind < 2 else f"{o.language or ''}^{o.datatype or ''}"  # type: ignore[attr-defined]
    return (str(s), p != _RDF_TYPE, str(p), kind, str(o), extra)


_OTHER = object()  # first item of the key of a term of an unusual class


def _literal_slots() -> bool:
    """Whether rdflib keeps a literal's language and datatype in the slots its properties read.

    Reading the slots is three times faster than the properties, on the 400,000 literals of the
    whole graph; if a later rdflib stores them otherwise, the properties are used.
    """
    try:
        tagged, typed = Literal("x", lang="en"), Literal("1", datatype=_XSD_INTEGER)
        return (
            tagged._language == tagged.language == "en"
            and tagged._datatype is tagged.datatype is None
            and typed._datatype == typed.datatype == _XSD_INTEGER
            and typed._language is typed.language is None
        )
    except AttributeError:
        return False


_LITERAL_SLOTS = _literal_slots()
_DATATYPES: dict[str, str] = {}


def _term_key(t: Any) -> Hashable:
    """A key that tells all the writers read from a term: a URIRef's text, else a tuple.

    ``(id,)`` for a blank node, ``(lexical form, language, datatype IRI)`` for a literal, and for
    anything else ``(_OTHER, class, text, language, term)``, which the writers read through the
    term itself. Not rdflib's equality: ``"a"@en`` and ``"a"@EN`` are one rdflib term but two
    keys, since they do not print the same.
    """
    tt = type(t)
    if tt is URIRef:
        return str(t)
    if tt is Literal:
        dt = t.datatype
        return (str(t), t.language, None if dt is None else str(dt))
    if tt is BNode:
        return (str(t),)
    return (_OTHER, tt, str(t), getattr(t, "language", None), t)


def _keys(items: Sequence[Triple], position: int) -> list[Hashable]:
    """:func:`_term_key` of the term at ``position`` of each triple, the URIRef and literal cases
    inlined (this runs once per term of the graph)."""
    if _LITERAL_SLOTS:
        if len(_DATATYPES) > 4096:  # not a vocabulary's few datatypes: do not keep them all
            _DATATYPES.clear()
        datatype = _DATATYPES.setdefault  # one string per datatype IRI, not one per literal
        return [
            str(t)
            if (tt := type(t := x[position])) is URIRef
            else (str(t), t._language, None if (d := t._datatype) is None else datatype(s := str(d), s))
            if tt is Literal
            else _term_key(t)
            for x in items
        ]
    return [str(t) if type(t := x[position]) is URIRef else _term_key(t) for x in items]


def _subject_part(key: Hashable) -> Any:
    if type(key) is str:
        return key
    return key[0] if len(key) < 5 else key[2]  # type: ignore[arg-type,index]


def _predicate_part(key: Hashable) -> Any:
    if type(key) is str:
        return (key != _RDF_TYPE_IRI, key)
    if len(key) < 5:  # type: ignore[arg-type]
        return (True, key[0])  # type: ignore[index]
    return (key[4] != _RDF_TYPE, key[2])  # type: ignore[index]


def _object_part(key: Hashable) -> Any:
    if type(key) is str:
        return (0, key, "")
    if len(key) == 1:  # type: ignore[arg-type]
        return (1, key[0], "")  # type: ignore[index]
    if len(key) == 3:  # type: ignore[arg-type]
        lexical, language, datatype = key  # type: ignore[misc]
        return (2, lexical, f"{language or ''}^{datatype or ''}")
    o = key[4]  # type: ignore[index]
    kind = 0 if isinstance(o, URIRef) else 1 if isinstance(o, BNode) else 2
    return (kind, str(o), "" if kind < 2 else f"{o.language or ''}^{o.datatype or ''}")


def _columns(items: Sequence[Triple]) -> list[list[Hashable]]:
    """The keys of the triples' subjects, predicates and objects: three lists."""
    if set(map(len, items)) - {3}:
        raise ValueError("a triple has three terms")
    return [_keys(items, 0), _keys(items, 1), _keys(items, 2)]


class _Role:
    """The distinct keys found at one position (subject, predicate or object) of some triples.

    ``numbers`` numbers the keys given, in the order first seen (``index`` maps a key to its
    number); ``keys`` lists the distinct keys in the order of this position's part of
    :func:`_sort_key`, and for a key numbered n, ``position[n]`` is its place in ``keys`` and
    ``rank[n]`` its rank in that order (keys whose parts are equal share a rank). ``exact`` says
    that ranks and keys match one to one and that rdflib's equality is the keys' (no unusual
    class, no language tag outside lower case): then an integer made of the three ranks tells
    distinct rdflib triples apart, and sorts them.
    """

    __slots__ = ("exact", "index", "keys", "numbers", "position", "rank", "size")

    def __init__(self, keys: list[Hashable], part: Callable[[Hashable], Any]) -> None:
        index: dict[Hashable, int] = {}
        number = index.setdefault
        self.numbers = [number(k, len(index)) for k in keys]
        distinct = list(index)
        rank = [0] * len(distinct)
        position = rank  # the same list while no two keys share a rank
        order = _object_order(distinct) if part is _object_part else None
        exact = True
        if order is not None:  # no two keys with equal parts
            for at, i in enumerate(order):
                rank[i] = at
            self.size = len(order)
        else:
            parts = [part(k) for k in distinct]
            order = sorted(range(len(distinct)), key=parts.__getitem__)
            r = -1
            previous: Any = _OTHER
            for at, i in enumerate(order):
                if parts[i] != previous:
                    r += 1
                    previous = parts[i]
                elif exact:
                    exact = False
                    position = rank.copy()
                rank[i] = r
                if position is not rank:
                    position[i] = at
            self.size = r + 1
        self.index = index
        self.keys = [distinct[i] for i in order]
        self.rank = rank
        self.position = position
        if exact:  # blank nodes and literals only, languages in lower case
            others = [k for k in distinct if type(k) is not str]
            if others:
                languages = {k[1] for k in others if len(k) == 3}  # type: ignore[arg-type,index]
                languages.discard(None)
                exact = set(map(len, others)) <= {1, 3} and all(t == t.lower() for t in languages)  # type: ignore[arg-type]
        self.exact = exact


def _object_order(keys: list[Hashable]) -> list[int] | None:
    """The order of object keys by :func:`_object_part`, quicker: IRIs, blank nodes, then literals,
    each sorted by text (no two keys tie); None if one is of an unusual class."""
    iris: list[int] = []
    blanks: list[int] = []
    literals: list[int] = []
    for i, k in enumerate(keys):
        if type(k) is str:
            iris.append(i)
        elif len(k) == 1:  # type: ignore[arg-type]
            blanks.append(i)
        elif len(k) == 3:  # type: ignore[arg-type]
            literals.append(i)
        else:
            return None
    iris.sort(key=keys.__getitem__)
    blanks.sort(key=keys.__getitem__)
    literal_parts = {
        i: (k[0], f"{k[1] or ''}^{k[2] or ''}")  # type: ignore[index]
        for i, k in ((i, keys[i]) for i in literals)
    }
    literals.sort(key=literal_parts.__getitem__)
    return iris + blanks + literals


_Numbers = tuple[list[int], list[int], list[int]]


class Prepared:
    """Triples made distinct and sorted once, to be written in several formats.

    ``to_turtle(prepare(t))`` gives the bytes of ``to_turtle(t)``, and so for :func:`to_jsonld`:
    writing one graph in both formats shares the sort and each term's conversion. Passed to
    :func:`to_trig` as ``prepared``, it spares the TriG writer the terms of its triples (the
    ingest's named graphs hold the very triple objects of its whole graph); given as the content
    of a named graph, the TriG writer reuses its Turtle. :func:`prepare_union` merges prepared
    graphs without reading their terms again.
    """

    __slots__ = (
        "_by_id",
        "_codes",
        "_items",
        "_lookup",
        "_parts",
        "_sorted",
        "_source",
        "_turtle",
        "_turtle_terms",
        "objects",
        "predicates",
        "subjects",
    )

    def __init__(self, triples: Iterable[Triple]) -> None:
        # the triples stay referenced: their id() keys _by_id
        self._items = triples if isinstance(triples, (list, tuple)) else list(triples)
        self._source = self._items if iter(triples) is triples else triples
        keys = _columns(self._items)
        self._setup(
            (_Role(keys[0], _subject_part), _Role(keys[1], _predicate_part), _Role(keys[2], _object_part))
        )
        if self.exact:
            s_code, p_code, o_code = self._weights()
            self._codes = _compact(
                [
                    s_code[a] + p_code[b] + o_code[c]
                    for a, b, c in zip(
                        self.subjects.numbers, self.predicates.numbers, self.objects.numbers, strict=True
                    )
                ]
            )
        for role in self.roles:
            role.numbers = []

    def _setup(self, roles: tuple[_Role, _Role, _Role]) -> None:
        self.subjects, self.predicates, self.objects = roles
        # when exact, a triple's code is an integer made of its subject, predicate and object ranks
        self._codes: Sequence[float] | None = None
        self._parts: list[Prepared] | None = None
        self._sorted: _Numbers | None = None
        self._by_id: dict[int, float] | None = None
        self._lookup: tuple[list[float], list[float], list[float]] | None = None
        self._turtle_terms: tuple[list[str], list[str], list[str]] | None = None
        self._turtle: _Turtle | None = None

    def _weights(self) -> tuple[list[float], list[float], list[float]]:
        """What a subject, a predicate, an object adds to a triple's code, by key number."""
        n_o = self.objects.size
        n_po = self.predicates.size * n_o
        # floats (exact below 2**53) sort twice as fast as integers of more than 30 bits
        number: Callable[[int], float] = float if self.subjects.size * n_po < 2**53 else int
        return (
            [number(r * n_po) for r in self.subjects.rank],
            [number(r * n_o) for r in self.predicates.rank],
            [number(r) for r in self.objects.rank],
        )

    @classmethod
    def _union(cls, parts: list[Prepared]) -> Prepared:
        items = [t for part in parts for t in part._items]
        if any(part._codes is None for part in parts):
            return cls._union_set(parts)
        self = cls.__new__(cls)
        self._items = self._source = items
        self._setup(
            tuple(  # type: ignore[arg-type]
                _Role(list(dict.fromkeys(chain.from_iterable(part.roles[r].keys for part in parts))), part_of)
                for r, part_of in enumerate((_subject_part, _predicate_part, _object_part))
            )
        )
        if not self.exact:
            return cls._union_set(parts)
        self._parts = parts
        weights = self._weights()
        codes: list[float] = []
        for part in parts:
            ws, wp, wo = self._weights_of(part, weights)
            s, p, o = part._order()
            codes.extend([ws[a] + wp[b] + wo[c] for a, b, c in zip(s, p, o, strict=True)])
        self._codes = _compact(codes)
        return self

    @classmethod
    def _union_set(cls, parts: list[Prepared]) -> Prepared:
        """The union as ``whole.update(triples)`` graph after graph builds it, for rdflib's set to
        tell the distinct triples (and its order to break the sort's ties) as it would there."""
        whole: set[Triple] = set()
        for part in parts:
            whole.update(part._items)
        return cls(whole)

    def _renderer(self) -> _TurtleTerms:
        """A Turtle renderer that knows the texts already rendered for the parts of this union."""
        w = _TurtleTerms()
        for part in self._parts or ():
            w.learn(part)
        return w

    def _weights_of(
        self, part: Prepared, weights: tuple[list[float], list[float], list[float]]
    ) -> tuple[list[float], list[float], list[float]]:
        """This union's :meth:`_weights`, by position in the tables of one of its parts."""
        return tuple(  # type: ignore[return-value]
            list(map(role_weights.__getitem__, map(role.index.__getitem__, part_role.keys)))
            for role_weights, role, part_role in zip(weights, self.roles, part.roles, strict=True)
        )

    def _item_codes(self) -> Sequence[float]:
        """The code of each triple of ``_items``."""
        if self._parts is None:
            return self._codes  # type: ignore[return-value]
        codes: list[float] = []
        weights = self._weights()
        for part in self._parts:
            ws, wp, wo = self._weights_of(part, weights)
            n_o = part.objects.size
            n_po = part.predicates.size * n_o
            codes.extend(
                [ws[c // n_po] + wp[c % n_po // n_o] + wo[c % n_o] for c in map(int, part._item_codes())]
            )
        return codes

    @property
    def roles(self) -> tuple[_Role, _Role, _Role]:
        return self.subjects, self.predicates, self.objects

    @property
    def exact(self) -> bool:
        return self.subjects.exact and self.predicates.exact and self.objects.exact

    def _order(self) -> _Numbers:
        """Positions in ``subjects.keys``, ``predicates.keys``, ``objects.keys`` of the terms of
        the distinct triples, in writing order: the order of ``sorted(set(triples), key=_sort_key)``."""
        if self._sorted is None:
            if self._codes is not None:
                # a union's codes are its parts' codes, each part sorted: the sort merges them
                codes = sorted(self._codes)
                if not (self._parts is None and isinstance(self._source, (set, frozenset))):
                    codes = list(compress(codes, map(ne, codes, [None, *codes[:-1]])))  # distinct
                self._sorted = self._decode(codes)
            else:  # rdflib's set tells the distinct triples; a stable sort keeps its order on ties
                triples = list(set(self._source))
                self._sorted = self._positions(triples, _stable_order(triples, self.roles))
        return self._sorted

    def _decode(self, sorted_codes: Iterable[float]) -> _Numbers:
        codes = list(map(int, sorted_codes))
        n_o = self.objects.size
        n_po = self.predicates.size * n_o
        return [c // n_po for c in codes], [c % n_po // n_o for c in codes], [c % n_o for c in codes]

    def _positions(self, triples: list[Triple], order: list[int]) -> _Numbers:
        keys = _columns([triples[i] for i in order])
        return tuple(  # type: ignore[return-value]
            [role.position[role.index[k]] for k in role_keys]
            for role, role_keys in zip(self.roles, keys, strict=True)
        )

    def _graph_order(self, triples: Iterable[Triple]) -> _Numbers | None:
        """:meth:`_order` of some of these triples (a named graph); None if one is not found.

        A triple is found by identity (the ingest's named graphs hold the whole graph's triple
        objects), else by the keys of its terms.
        """
        if self._codes is None:
            return None
        if self._by_id is None:
            self._by_id = dict(zip(map(id, self._items), self._item_codes(), strict=True))
        triples = triples if isinstance(triples, (list, tuple)) else list(triples)
        codes = list(map(self._by_id.get, map(id, triples)))
        if None in codes:  # not the same objects: look the terms up
            missing = [i for i, c in enumerate(codes) if c is None]
            keys = _columns([triples[i] for i in missing])
            found = [list(map(role.index.get, k)) for role, k in zip(self.roles, keys, strict=True)]
            if any(None in numbers for numbers in found):
                return None
            if self._lookup is None:  # kept: one call per named graph
                self._lookup = self._weights()
            s_code, p_code, o_code = self._lookup
            for i, code in zip(
                missing,
                [s_code[a] + p_code[b] + o_code[c] for a, b, c in zip(*found, strict=True)],
                strict=True,
            ):
                codes[i] = code
        return self._decode(sorted(set(codes)))  # type: ignore[arg-type]

    def __len__(self) -> int:
        """The number of distinct triples."""
        return len(self._order()[0])

    def triples(self) -> list[Triple]:
        """The distinct triples in writing order, as rdflib terms (equal to :func:`sorted_triples`)."""
        s, p, o = self._order()
        subjects = [_key_term(k) for k in self.subjects.keys]
        predicates = [_key_term(k) for k in self.predicates.keys]
        objects = [_key_term(k) for k in self.objects.keys]
        return [(subjects[a], predicates[b], objects[c]) for a, b, c in zip(s, p, o, strict=True)]


def _compact(codes: list[float]) -> Sequence[float]:
    """Codes kept as an array of doubles (a third of a list of floats) when they are floats."""
    return array("d", codes) if codes and type(codes[0]) is float else codes


def _stable_order(distinct: list[Triple], roles: tuple[_Role, _Role, _Role] | None = None) -> list[int]:
    """The order of ``sorted(distinct, key=_sort_key)``, through the ranks of the keys."""
    keys = _columns(distinct)
    if roles is None:
        roles = (_Role(keys[0], _subject_part), _Role(keys[1], _predicate_part), _Role(keys[2], _object_part))
        numbers = [role.numbers for role in roles]
    else:
        numbers = [list(map(role.index.__getitem__, k)) for role, k in zip(roles, keys, strict=True)]
    sort_keys = list(
        zip(*(map(role.rank.__getitem__, n) for role, n in zip(roles, numbers, strict=True)), strict=True)
    )
    return sorted(range(len(distinct)), key=sort_keys.__getitem__)


def _key_text(key: Hashable) -> str:
    """``str()`` of the term of a key."""
    if type(key) is str:
        return key
    return key[2] if len(key) == 5 else key[0]  # type: ignore[arg-type,index,no-any-return]


def _key_term(key: Hashable) -> Node:
    """An rdflib term with this key."""
    if type(key) is str:
        return URIRef(key)
    if len(key) == 1:  # type: ignore[arg-type]
        return BNode(key[0])  # type: ignore[index]
    if len(key) == 3:  # type: ignore[arg-type]
        lexical, language, datatype = key  # type: ignore[misc]
        return Literal(lexical, lang=language, datatype=datatype, normalize=False)
    return key[4]  # type: ignore[index,no-any-return]


def prepare(triples: Iterable[Triple] | Prepared) -> Prepared:
    """Sort and index triples once, for :func:`to_turtle`, :func:`to_jsonld` and :func:`to_trig`."""
    return triples if isinstance(triples, Prepared) else Prepared(triples)


def prepare_union(graphs: Iterable[Iterable[Triple] | Prepared]) -> Prepared:
    """:func:`prepare` of the union of some graphs: their terms are not read again if prepared.

    ``prepare_union(prepare(g) for g in graphs)`` writes as ``prepare(set().union(*graphs))``;
    the ingest prepares each named graph (to write its files) and so gets the whole graph cheaply.
    """
    return Prepared._union([prepare(g) for g in graphs])


def sorted_triples(triples: Iterable[Triple]) -> list[Triple]:
    """Distinct triples in a fixed order: subject, rdf:type first, predicate, object."""
    distinct = list(set(triples))
    return [distinct[i] for i in _stable_order(distinct)]


# -- Turtle and TriG ------------------------------------------------------------------------
def _ox(term: Node) -> Any:
    """The pyoxigraph term for an rdflib term (an ``xsd:string`` literal becomes a simple one)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None and term.datatype != _XSD_STRING:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


# An IRI of this form (ASCII, scheme://host/path?query#fragment, no port, no user) is valid for
# pyoxigraph; any other is checked and rendered by pyoxigraph itself.
_PLAIN_IRI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*://[A-Za-z0-9\-._~]+"
    r"(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*)?"
    r"(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?"
    r"(?:#[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?"
)
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# what may follow a plain IRI's last "/" or "#" (that IRI plain too, "/" being after the host)
_PLAIN_TAIL = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@%?]*")
# oxttl's escape_local_name, for ASCII: characters kept as they are (first, then others; a "."
# is kept unless last), characters escaped with a backslash; any other and the prefix is not used.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_:](?:[A-Za-z0-9_:.\-]*[A-Za-z0-9_:\-])?")
_LOCAL_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_:0123456789")
_LOCAL_REST = _LOCAL_FIRST | {"-"}
_LOCAL_ESCAPED = frozenset("_~.-!$&'()*+,;=/?#@%")
# Literals written bare (oxttl's is_turtle_boolean / integer / decimal / double).
_INLINE = {
    _XSD + "boolean": re.compile(r"true|false"),
    _XSD + "integer": re.compile(r"[+-]?[0-9]+"),
    _XSD + "decimal": re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    _XSD + "double": re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+"),
}
# Datatypes whose literals oxrdf prints its own way: left to pyoxigraph.
_OX_DATATYPES = frozenset({_RDF + "langString", _RDF + "dirLangString"})
# oxrdf's escapes in a quoted string (all of them: checked on every code point)
_NEEDS_QUOTE = re.compile(r'[\x00-\x1f"\\\x7f\ufffe\uffff]')
_QUOTE = {i: f"\\u{i:04X}" for i in range(0x20)} | {
    0x08: "\\b",
    0x09: "\\t",
    0x0A: "\\n",
    0x0C: "\\f",
    0x0D: "\\r",
    0x22: '\\"',
    0x5C: "\\\\",
    0x7F: "\\u007F",
    0xFFFE: "\\uFFFE",
    0xFFFF: "\\uFFFF",
}


def _quote(match: re.Match[str]) -> str:
    return _QUOTE[ord(match[0])]


def _quoted(text: str) -> str:
    # what text.translate(_QUOTE) gives, five times quicker on a long text (translate looks each
    # character up in _QUOTE); a text without such a character is returned as it is
    return f'"{_NEEDS_QUOTE.sub(_quote, text)}"'


def _escape_local(local: str) -> str | None:
    """oxttl's ``escape_local_name`` for an ASCII local name: None when it cannot be written."""
    if _PLAIN_LOCAL.fullmatch(local):
        return local
    out = []
    last = len(local) - 1
    for i, c in enumerate(local):
        if c in (_LOCAL_REST if i else _LOCAL_FIRST) or (c == "." and 0 < i < last):
            out.append(c)
        elif c in _LOCAL_ESCAPED:
            out.append("\\" + c)
        else:
            return None
    return "".join(out)


def _by_ox(term: Any, ctx: dict[str, str]) -> str:
    """What pyoxigraph writes for a pyoxigraph term (in object position)."""
    body = ox.serialize(
        [ox.Triple(ox.BlankNode("s"), ox.NamedNode("urn:x:p"), term)],
        format=ox.RdfFormat.TURTLE,
        prefixes=ctx,
    ).decode("utf-8")
    while body.startswith("@prefix "):
        body = body[body.index("\n") + 1 :]
    return body.split(" ", 2)[2][: -len(" .\n")]


@cache
def _turtle_prefixes() -> list[tuple[str, str]]:
    """(namespace, name) of the context's prefixes, in the order pyoxigraph tries them."""
    ctx = context()
    ox.serialize([], format=ox.RdfFormat.TURTLE, prefixes=ctx)  # the prefixes are valid
    # longest IRI first; between two names for one IRI (not in the shipped context), ask pyoxigraph
    prefixes = sorted(((ns, name) for name, ns in sorted(ctx.items())), key=lambda x: -len(x[0]))
    namespaces = [ns for ns, _ in prefixes]
    for ns in sorted({ns for ns in namespaces if namespaces.count(ns) > 1}):
        probe = _by_ox(ox.NamedNode(ns + "a"), ctx)
        winner = probe[: probe.index(":")]
        prefixes.sort(key=lambda x, ns=ns, winner=winner: (-len(x[0]), x[0] == ns and x[1] != winner))
    return prefixes


def _stem_end(iri: str) -> int:
    """Where an IRI's stem ends: after its last "/" or "#"."""
    end = iri.rfind("/")
    return max(end, iri.rfind("#")) + 1 if "#" in iri else end + 1


class _TurtleTerms:
    """Renders keys (see :func:`_term_key`) as pyoxigraph's Turtle serializer renders terms.

    With the shipped context's prefixes: an IRI becomes the prefixed name of the longest
    namespace whose local name can be written, a boolean / integer / decimal / double literal of
    the Turtle form is written bare, other literals quoted and escaped.
    """

    def __init__(self) -> None:
        self.ctx = context()
        self.prefixes = _turtle_prefixes()
        self._stems: dict[str, tuple[bool, list[tuple[str, str]], str | None]] = {}
        self._iris: dict[str, str] = {}
        self._languages: dict[str, str] = {}
        # the texts rendered so far, by key, for subjects, predicates and objects
        self.known: tuple[dict[Hashable, str], dict[Hashable, str], dict[Hashable, str]] = ({}, {}, {})

    def by_ox(self, term: Any) -> str:
        return _by_ox(term, self.ctx)

    def texts(self, prepared: Prepared) -> tuple[list[str], list[str], list[str]]:
        """The text of each distinct subject, predicate and object key of ``prepared``, once."""
        if prepared._turtle_terms is None:
            out = []
            for role, known, render in zip(
                prepared.roles, self.known, (self.subject, self.predicate, self.object), strict=True
            ):
                texts = list(map(known.get, role.keys))
                if None in texts:
                    for i, k in enumerate(role.keys):
                        if texts[i] is None:
                            texts[i] = known[k] = render(k)
                out.append(texts)
            prepared._turtle_terms = tuple(out)  # type: ignore[assignment]
        return prepared._turtle_terms  # type: ignore[return-value]

    def learn(self, prepared: Prepared) -> None:
        """Remember the texts already rendered for ``prepared``."""
        if prepared._turtle_terms is not None:
            for role, known, texts in zip(prepared.roles, self.known, prepared._turtle_terms, strict=True):
                known.update(zip(role.keys, texts, strict=True))

    def iri(self, iri: str) -> str:
        text = self._iris.get(iri)
        if text is None:
            text = self._iris[iri] = self._iri(iri)
        return text

    def _iri(self, iri: str) -> str:
        # An IRI is its stem (up to its last "/" or "#") and a tail: check and prepare each stem once
        cut = _stem_end(iri)
        stem = iri[:cut]
        known = self._stems.get(stem)
        if known is None:
            plain = stem.count("/") >= 3 and _PLAIN_IRI.fullmatch(stem) and not _BAD_PERCENT.search(stem)
            # a namespace that begins the IRI either begins its stem or extends it: those, longest first
            candidates = [
                (ns, name) for ns, name in self.prefixes if stem.startswith(ns) or ns.startswith(stem)
            ]
            # the stem is a namespace, the longest that begins it: a plain tail is its local name
            prefixed = candidates[0][1] + ":" if plain and candidates and candidates[0][0] == stem else None
            known = self._stems[stem] = (bool(plain), candidates, prefixed)
        plain, candidates, prefixed = known
        tail = iri[cut:]
        if prefixed is not None and _PLAIN_LOCAL.fullmatch(tail):  # what the loop below finds, quicker
            return prefixed + tail
        plain_tail = _PLAIN_TAIL.fullmatch(tail) and ("%" not in tail or not _BAD_PERCENT.search(tail))
        if not (plain and plain_tail) and not (_PLAIN_IRI.fullmatch(iri) and not _BAD_PERCENT.search(iri)):
            return self.by_ox(ox.NamedNode(iri))  # raises if pyoxigraph finds it invalid
        for ns, name in candidates:
            if iri.startswith(ns):
                local = iri[len(ns) :]
                if not local:
                    return name + ":"
                escaped = _escape_local(local)
                if escaped is not None:
                    return f"{name}:{escaped}"
        return f"<{iri}>"

    def blank(self, label: str) -> str:
        return "_:" + ox.BlankNode(label).value  # raises if pyoxigraph finds it invalid

    def literal(self, lexical: str, language: str | None, datatype: str | None) -> str:
        if language:
            tag = self._languages.get(language)
            if tag is None:  # pyoxigraph checks the tag and writes it in lower case
                tag = self._languages[language] = ox.Literal("", language=language).language
            return f"{_quoted(lexical)}@{tag}"
        if datatype is None or datatype == _XSD_STRING_IRI:
            return _quoted(lexical)
        if datatype in _OX_DATATYPES:
            return self.by_ox(ox.Literal(lexical, datatype=ox.NamedNode(datatype)))
        inline = _INLINE.get(datatype)
        if inline is not None and inline.fullmatch(lexical):
            return lexical
        return f"{_quoted(lexical)}^^{self.iri(datatype)}"

    def subject(self, key: Hashable) -> str:
        if type(key) is str:
            return self.iri(key)
        if len(key) == 1:  # type: ignore[arg-type]
            return self.blank(key[0])  # type: ignore[index]
        term = key[4] if len(key) == 5 else _key_term(key)  # type: ignore[arg-type,index]
        if isinstance(term, URIRef):
            return self.iri(str(term))
        if isinstance(term, BNode):
            return self.blank(str(term))
        raise TypeError(f"not a subject: {term!r}")

    def predicate(self, key: Hashable) -> str:
        if type(key) is str:
            return "a" if key == _RDF_TYPE_IRI else self.iri(key)
        term = key[4] if len(key) == 5 else _key_term(key)  # type: ignore[arg-type,index]
        if isinstance(term, URIRef):
            return "a" if str(term) == _RDF_TYPE_IRI else self.iri(str(term))
        raise TypeError(f"not a predicate: {term!r}")

    def object(self, key: Hashable) -> str:
        if type(key) is str:
            return self.iri(key)
        if len(key) == 3:  # type: ignore[arg-type]
            return self.literal(*key)  # type: ignore[misc]
        if len(key) == 1:  # type: ignore[arg-type]
            return self.blank(key[0])  # type: ignore[index]
        term = key[4]  # type: ignore[index]
        if isinstance(term, Literal):
            dt = term.datatype
            return self.literal(str(term), term.language, None if dt is None else str(dt))
        if isinstance(term, (URIRef, BNode)):
            return self.subject(key)
        return self.by_ox(_ox(term))  # not an RDF term: raises TypeError


@cache
def _prefix_header() -> bytes:
    """Our ``@prefix`` lines, sorted (pyoxigraph writes them longest IRI first), and a blank line."""
    return ("".join(f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(context().items())) + "\n").encode()


def _canonical(texts: list[str]) -> list[int] | None:
    """For each text, the first place it is found at; None when no text is found twice.

    pyoxigraph groups consecutive triples by equal subject and predicate *terms*; keys that
    differ but print alike (an rdflib subclass of URIRef, say) must be grouped too.
    """
    if len(set(texts)) == len(texts):
        return None
    first: dict[str, int] = {}
    return [first.setdefault(t, i) for i, t in enumerate(texts)]


def _runs(subjects: list[int]) -> list[int]:
    """Where each run of triples with one subject starts, and at last the end of the list."""
    return [*compress(range(len(subjects)), map(ne, subjects, [-1, *subjects[:-1]])), len(subjects)]


class _Turtle:
    """A prepared graph's Turtle, one text per run of a subject (as pyoxigraph lays it out).

    ``to_turtle`` joins the texts; ``to_trig`` reuses them for a named graph that holds all the
    triples of a subject, indented (a text has no line break but those of the layout).
    """

    __slots__ = ("blocks", "numbers", "run_of", "starts", "texts")

    def __init__(self, prepared: Prepared, w: _TurtleTerms) -> None:
        self.texts = w.texts(prepared)
        s, p, o = prepared._order()
        canonical_s, canonical_p = _canonical(self.texts[0]), _canonical(self.texts[1])
        if canonical_s is not None:
            s = [canonical_s[x] for x in s]
        if canonical_p is not None:
            p = [canonical_p[x] for x in p]
        self.numbers = (s, p, o)
        self.starts = _runs(s)
        self.blocks = _Layout(self.texts, "").blocks(self.numbers, self.starts)
        # the run of each subject (when the subject numbers are canonical, a subject has one run)
        self.run_of: list[int] | None = None
        if canonical_s is None:
            self.run_of = [0] * len(self.texts[0])
            for r, start in enumerate(self.starts[:-1]):
                self.run_of[s[start]] = r

    def tabbed(self, run: int) -> str:
        """The text of a run, indented as in a named graph."""
        return "\t" + self.blocks[run].replace("\n", "\n\t")


class _Layout:
    """Lays triples out as pyoxigraph does: `` ;`` between a subject's predicates, `` ,``
    between a predicate's objects; ``tab`` indents the triples of a named graph."""

    __slots__ = ("new_predicate", "objects", "predicates", "subjects")

    def __init__(self, texts: tuple[list[str], list[str], list[str]], tab: str) -> None:
        subjects, predicates, self.objects = texts
        self.subjects = [tab + t + " " for t in subjects]
        self.predicates = [t + " " for t in predicates]
        self.new_predicate = [f" ;\n\t{tab}{t} " for t in predicates]

    def blocks(self, numbers: _Numbers, starts: list[int]) -> list[str]:
        """The text of each run of triples (``starts`` bounds the runs), without the final `` .``."""
        s, p, o = numbers
        if not s:
            return []
        subjects, predicates, objects = self.subjects, self.predicates, self.objects
        new_predicate = self.new_predicate
        pieces = [
            " , " + objects[oi]
            if si == s0 and pi == p0
            else new_predicate[pi] + objects[oi]
            if si == s0
            else subjects[si] + predicates[pi] + objects[oi]
            for si, pi, oi, s0, p0 in zip(s, p, o, [-1, *s[:-1]], [-1, *p[:-1]], strict=True)
        ]
        return ["".join(pieces[a:b]) for a, b in zip(starts, starts[1:], strict=False)]


def _turtle_of(prepared: Prepared, w: _TurtleTerms | None = None) -> _Turtle:
    if prepared._turtle is None:
        prepared._turtle = _Turtle(prepared, w or prepared._renderer())
    return prepared._turtle


def _turtle_body(prepared: Prepared, w: _TurtleTerms | None = None) -> str:
    """The Turtle of the triples without the header and the final `` .`` and line break."""
    return " .\n".join(_turtle_of(prepared, w).blocks)


def to_turtle(triples: Iterable[Triple] | Prepared) -> bytes:
    """Sorted, prefixed Turtle: pyoxigraph's layout, our sorted prefix header."""
    body = _turtle_body(prepare(triples))
    return _prefix_header() + (body + " .\n" if body else "").encode("utf-8")


def to_trig(
    graphs: Iterable[tuple[str, Iterable[Triple] | Prepared]], prepared: Prepared | None = None
) -> bytes:
    """TriG: one named graph per (graph IRI, triples), graphs and triples sorted, prefixed.

    A graph's triples may be given :func:`prepare` d: its Turtle (that of its own file, in the
    ingest) is then reused. ``prepared``, :func:`prepare` of the union of the graphs (the ingest's
    whole graph), spares converting their terms again, and the text of a subject all of whose
    triples one graph holds. The bytes are the same whichever way.
    """
    ordered = sorted(graphs, key=lambda g: g[0])
    w = _TurtleTerms()
    if prepared is not None:
        w.learn(prepared)
    names = [w.iri(str(graph_iri)) for graph_iri, _triples in ordered]
    if all(isinstance(t, Prepared) for _iri, t in ordered) and len(set(names)) == len(names):
        # each graph's own Turtle, indented (its only line breaks are those of the layout)
        bodies = [_turtle_body(t, w) for _iri, t in ordered]  # type: ignore[arg-type]
        return _prefix_header() + "".join(
            f"{name} {{\n\t" + body.replace("\n", "\n\t") + " .\n}\n"
            for name, body in zip(names, bodies, strict=True)
            if body
        ).encode("utf-8")
    contents = [
        t._items if isinstance(t, Prepared) else t if isinstance(t, (list, tuple)) else list(t)
        for _iri, t in ordered
    ]
    per_graph = None if prepared is None else [prepared._graph_order(t) for t in contents]
    whole = None
    if per_graph is None or None in per_graph:
        prepared = Prepared([t for triples in contents for t in triples])
        per_graph = [prepared._graph_order(t) for t in contents]
    else:
        whole = _turtle_of(prepared, w)
    if None in per_graph:  # terms that rdflib's set alone tells apart: graph by graph
        per_graph = []
        for triples in contents:
            distinct = list(set(triples))
            per_graph.append(prepared._positions(distinct, _stable_order(distinct, prepared.roles)))
    texts = w.texts(prepared)
    canonical_s, canonical_p = _canonical(texts[0]), _canonical(texts[1])
    # consecutive graphs of one name are one graph to pyoxigraph: its triples follow on
    merged: list[tuple[str, _Numbers]] = []
    for name, (s, p, o) in zip(names, per_graph, strict=True):  # type: ignore[misc]
        if not s:
            continue
        if canonical_s is not None:
            s = [canonical_s[x] for x in s]
        if canonical_p is not None:
            p = [canonical_p[x] for x in p]
        if merged and merged[-1][0] == name:
            merged[-1] = (name, tuple(a + b for a, b in zip(merged[-1][1], (s, p, o), strict=True)))  # type: ignore[assignment]
        else:
            merged.append((name, (s, p, o)))
    layout = _Layout(texts, "\t")
    out: list[str] = []
    for name, numbers in merged:
        s, p, o = numbers
        starts = _runs(s)
        bounds = list(zip(starts, starts[1:], strict=False))
        if whole is None or whole.run_of is None:
            blocks = layout.blocks(numbers, starts)
        else:  # a subject all of whose triples the graph holds: the whole graph's text, indented
            blocks = []
            ws, wp, wo = whole.numbers
            for a, b in bounds:
                run = whole.run_of[s[a]]
                wa, wb = whole.starts[run], whole.starts[run + 1]
                if b - a == wb - wa and p[a:b] == wp[wa:wb] and o[a:b] == wo[wa:wb]:
                    blocks.append(whole.tabbed(run))
                else:
                    blocks.extend(layout.blocks((s[a:b], p[a:b], o[a:b]), [0, b - a]))
        out.append(f"{name} {{\n" + " .\n".join(blocks) + " .\n}\n")
    return _prefix_header() + "".join(out).encode("utf-8")


# -- JSON-LD --------------------------------------------------------------------------------
class _Compactor:
    """Compacts IRIs with the context: the longest matching namespace, first in context order."""

    def __init__(self, ctx: dict[str, str]) -> None:
        # longest namespace first, so "id/metier/" wins over "id/"
        self.namespaces = sorted(((ns, p) for p, ns in ctx.items()), key=lambda x: -len(x[0]))
        self._cache: dict[str, str] = {}
        self._candidates: dict[str, tuple[list[tuple[str, str]], str | None]] = {}

    def iri(self, iri: str) -> str:
        compact = self._cache.get(iri)
        if compact is None:
            compact = self._cache[iri] = self._compact(iri)
        return compact

    def _compact(self, iri: str) -> str:
        # Only a namespace that begins the IRI can match, and such a namespace either begins the
        # IRI's stem (up to its last "/" or "#") or extends it: try those, in the same order.
        stem = iri[: _stem_end(iri)]
        known = self._candidates.get(stem)
        if known is None:
            candidates = [(ns, p) for ns, p in self.namespaces if stem.startswith(ns) or ns.startswith(stem)]
            # the stem is a namespace, the longest that begins it: the rest of the IRI is the local name
            prefixed = candidates[0][1] + ":" if candidates and candidates[0][0] == stem else None
            known = self._candidates[stem] = (candidates, prefixed)
        candidates, prefixed = known
        if prefixed is not None and len(iri) > len(stem):  # what the loop below finds, quicker
            return prefixed + iri[len(stem) :]
        for ns, prefix in candidates:
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
        dt = term.datatype
        return self.literal(str(term), term.language, None if dt is None else str(dt))

    def literal(self, lexical: str, language: str | None, datatype: str | None) -> Any:
        if language:
            return {"@value": lexical, "@language": language}
        if datatype is None or datatype == _XSD_STRING_IRI:
            return lexical
        if datatype == _XSD_BOOLEAN_IRI and lexical in ("true", "false"):
            return lexical == "true"
        if datatype == _XSD_INTEGER_IRI and _canonical_int(lexical):
            return int(lexical)
        return {"@value": lexical, "@type": self.iri(datatype)}

    def key_ref(self, key: Hashable) -> str:
        """:meth:`node_ref` of the term of a key."""
        if type(key) is str:
            return self.iri(key)
        if len(key) == 1:  # type: ignore[arg-type]
            return "_:" + key[0]  # type: ignore[index,operator]
        if len(key) == 3:  # type: ignore[arg-type]
            return self.iri(key[0])  # type: ignore[index]
        return self.node_ref(key[4])  # type: ignore[index]

    def key_value(self, key: Hashable) -> Any:
        """:meth:`value` of the term of a key."""
        if type(key) is str or len(key) == 1:  # type: ignore[arg-type]
            return {"@id": self.key_ref(key)}
        if len(key) == 3:  # type: ignore[arg-type]
            return self.literal(*key)  # type: ignore[misc]
        return self.value(key[4])  # type: ignore[index]


# xsd:integer's canonical form, ASCII digits only: str.isdigit() takes "٣" and "²" for digits,
# and int() reads the first as 3 (another literal) and fails on the second
_CANONICAL_INT = re.compile(r"0|-?[1-9][0-9]*")


def _canonical_int(text: str) -> bool:
    return _CANONICAL_INT.fullmatch(text) is not None


# json.dumps(x, ensure_ascii=False) builds an encoder per call: build it once (same output); a
# string is encoded by encode_basestring, as that encoder does
_encode = json.JSONEncoder(ensure_ascii=False).encode
_string: Callable[[str], str] = encode_basestring


def _is_literal(key: Hashable) -> bool:
    return type(key) is not str and (len(key) == 3 or (len(key) == 5 and isinstance(key[4], Literal)))  # type: ignore[arg-type,index]


def _is_rdf_type(key: Hashable) -> bool:
    if type(key) is str:
        return key == _RDF_TYPE_IRI
    return len(key) == 5 and key[4] == _RDF_TYPE  # type: ignore[arg-type,index]


class _JsonTerms:
    """Each distinct key's JSON text, computed once: node references, property names, values.

    ``simple`` says that no two subjects share a node reference and no two predicates a property
    name (nor is one named ``@type`` or ``@id``): then a node object is a run of triples of one
    subject, and a property a run of one predicate (``@type`` then the literals of rdf:type).
    """

    __slots__ = ("is_literal", "is_type", "name", "object_ref", "simple", "subject_ref", "value")

    def __init__(self, prepared: Prepared, c: _Compactor) -> None:
        self.subject_ref = [_string(c.key_ref(k)) for k in prepared.subjects.keys]
        self.name = [c.iri(_key_text(k)) for k in prepared.predicates.keys]
        self.is_type = [_is_rdf_type(k) for k in prepared.predicates.keys]
        objects = prepared.objects.keys
        self.is_literal = [_is_literal(k) for k in objects]
        self.object_ref = [
            "" if lit else _string(c.key_ref(k)) for k, lit in zip(objects, self.is_literal, strict=True)
        ]
        self.value = [
            _json_value(c, k) if lit else '{"@id": ' + ref + "}"
            for k, lit, ref in zip(objects, self.is_literal, self.object_ref, strict=True)
        ]
        self.simple = (
            len(set(self.subject_ref)) == len(self.subject_ref)
            and len(set(self.name)) == len(self.name)
            and "@type" not in self.name
            and "@id" not in self.name
        )


def _json_value(c: _Compactor, key: Hashable) -> str:
    """``json.dumps(c.key_value(key), ensure_ascii=False)``, written directly for a literal."""
    if type(key) is not str and len(key) == 3:  # type: ignore[arg-type]
        lexical, language, datatype = key  # type: ignore[misc]
        if language:
            return f'{{"@value": {_string(lexical)}, "@language": {_string(language)}}}'
        if datatype is None or datatype == _XSD_STRING_IRI:
            return _string(lexical)
        if datatype == _XSD_BOOLEAN_IRI and lexical in ("true", "false"):
            return lexical
        if datatype == _XSD_INTEGER_IRI and _canonical_int(lexical):
            return int.__repr__(int(lexical))
        return f'{{"@value": {_string(lexical)}, "@type": {_string(c.iri(datatype))}}}'
    return _encode(c.key_value(key))


@cache
def _jsonld_head() -> str:
    return json.dumps({"@context": context()}, ensure_ascii=False, indent=1)[:-2]


def to_jsonld(triples: Iterable[Triple] | Prepared) -> bytes:
    """Compacted JSON-LD: one node object per subject, the shipped context inline."""
    prepared = prepare(triples)
    j = _JsonTerms(prepared, _Compactor(context()))
    lines = _simple_nodes(prepared, j) if j.simple else _nodes(prepared, j)
    body = ",\n".join(lines)
    return f'{_jsonld_head()},\n "@graph": [\n{body}\n ]\n}}\n'.encode()


def _simple_nodes(prepared: Prepared, j: _JsonTerms) -> list[str]:
    """The node objects, one per run of a subject, when ``j.simple``.

    Nodes of the same sequence of properties (most nodes share one with many others) are written
    by one format string, made once, into which the values go in the order of the names.
    """
    s, p, o = prepared._order()
    is_type, is_literal, object_ref, value = j.is_type, j.is_literal, j.object_ref, j.value
    # the property of each triple: its predicate's number, or -1 for @type
    keys = [-1 if is_type[pi] and not is_literal[oi] else pi for pi, oi in zip(p, o, strict=True)]
    values = [object_ref[oi] if k < 0 else value[oi] for k, oi in zip(keys, o, strict=True)]
    plans: dict[tuple[int, ...], tuple[Callable[..., str], Callable[[list[str]], Any]]] = {}
    subject_ref = j.subject_ref
    lines = []
    starts = _runs(s)
    for a, b in zip(starts, starts[1:], strict=False):
        signature = tuple(keys[a:b])
        plan = plans.get(signature)
        if plan is None:
            plan = plans[signature] = _node_plan(signature, j.name)
        fill, pick = plan
        lines.append(fill(subject_ref[s[a]], *pick(values[a:b])))
    return lines


def _node_plan(
    signature: tuple[int, ...], name: list[str]
) -> tuple[Callable[..., str], Callable[[list[str]], Any]]:
    """For a node whose triples have these properties (-1 for @type, else the predicate's
    number): a format string's ``format`` taking the node reference then the values, and a
    function that picks the values of the triples in the order of the properties' names."""
    groups: list[list[Any]] = []  # [name, first triple, number of triples]
    for at, k in enumerate(signature):
        if at and k == signature[at - 1]:
            groups[-1][2] += 1
        else:
            groups.append(["@type" if k < 0 else name[k], at, 1])
    groups.sort(key=lambda g: (g[0] != "@type", g[0]))
    template = ['{{"@id": {}']
    order: list[int] = []
    for n, at, count in groups:
        slots = "{}" if count == 1 else "[" + ", ".join(["{}"] * count) + "]"
        template.append(", " + _string(n).replace("{", "{{").replace("}", "}}") + ": " + slots)
        order.extend(range(at, at + count))
    if len(order) == 1:
        only = order[0]
        return ("".join(template) + "}}").format, lambda values: (values[only],)
    return ("".join(template) + "}}").format, itemgetter(*order)


def _nodes(prepared: Prepared, j: _JsonTerms) -> list[str]:
    """The node objects, in general: triples grouped by node reference, then by property name."""
    subject_ref, name, is_type, is_literal = j.subject_ref, j.name, j.is_type, j.is_literal
    object_ref, value = j.object_ref, j.value
    # node reference → property → JSON texts of its values, in the order of the sorted triples
    nodes: dict[str, dict[str, list[str]]] = {}
    current = -1
    props: dict[str, list[str]] = {}
    for s, p, o in zip(*prepared._order(), strict=True):
        if s != current:
            current = s
            ref = subject_ref[s]
            found = nodes.get(ref)
            if found is None:
                props = nodes[ref] = {}
            else:
                props = found
        if is_type[p] and not is_literal[o]:
            k, v = "@type", object_ref[o]
        else:
            k, v = name[p], value[o]
        values = props.get(k)
        if values is None:
            props[k] = [v]
        else:
            values.append(v)
    lines = []
    for ref, props in nodes.items():
        members = [f'"@id": {ref}']
        for k in sorted(props, key=lambda k: (k != "@type", k)):
            values = props[k]
            text = values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"
            if k == "@id":  # a property named "@id" replaces the node's own, in place
                members[0] = f'"@id": {text}'
            else:
                members.append(f"{_string(k)}: {text}")
        lines.append("{" + ", ".join(members) + "}")
    return lines


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


# -- one named graph at a time --------------------------------------------------------------
#
# The whole-graph files are written graph by graph, so that a run holds one graph at a time
# (bounded memory) and a re-run copies the bytes of the graphs that did not change (incremental).
# A named graph's *chunks* are its texts in each format without the document's head and tail;
# a document is its head, the chunks in order and its tail. A subject described by several graphs
# is written in each: Turtle, TriG and JSON-LD readers merge them into one node.
#
# Rendering the 8,000 referential graphs of a run (900,000 triples) was the longest part of a cold
# run, spread over every step of the general writers. GraphRenderer's quick path does the same work
# with the Python code per term (rendered once for all the graphs) and per subject's predicates (a
# format made once), and only builtins called per triple (map, dict and list methods, sorted, %).

_MASK64 = (1 << 64) - 1
# a triple's hash: its subject's, its predicate's times _K1 and its object's times _K2 (mod 2**64), xored
_K1, _K2 = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F


_BLAKE2B_8 = hashlib.blake2b(digest_size=8)  # copied for each text: quicker than a new one


def _text_hash(text: str) -> int:
    h = _BLAKE2B_8.copy()
    h.update(text.encode("utf-8"))
    return int.from_bytes(h.digest(), "big")


def _term_hashes(texts: list[str]) -> list[int]:
    return [_text_hash(t) for t in texts]


class GraphChunks:
    """One named graph rendered: its Turtle, JSON-LD and TriG chunks, and its triples' hashes.

    ``hashes`` holds one 64-bit hash per distinct triple (the same triple gives the same hash in
    every graph and every run), so that the distinct triples of the whole graph can be counted
    without holding them.
    """

    __slots__ = ("hashes", "jsonld", "trig", "triples", "turtle")

    def __init__(self, turtle: bytes, jsonld: bytes, trig: bytes, hashes: bytes, triples: int) -> None:
        self.turtle = turtle
        self.jsonld = jsonld
        self.trig = trig
        self.hashes = hashes
        self.triples = triples

    def turtle_document(self) -> bytes:
        """The graph alone as a Turtle document: the bytes of :func:`to_turtle`."""
        return turtle_head() + self.turtle

    def jsonld_document(self) -> bytes:
        """The graph alone as a JSON-LD document: the bytes of :func:`to_jsonld`."""
        return jsonld_head() + self.jsonld + jsonld_tail()


_COMPACTOR: list[_Compactor] = []


def _shared_compactor() -> _Compactor:
    if not _COMPACTOR:
        _COMPACTOR.append(_Compactor(context()))
    return _COMPACTOR[0]


_IRI = frozenset({URIRef})
_IRI_OR_LITERAL = frozenset({URIRef, Literal})


def _node_keys(terms: list[Any]) -> list[Hashable]:
    """:func:`_term_key` of IRIs and literals (as :func:`_keys` computes it)."""
    if _LITERAL_SLOTS:
        return [
            str(t)
            if type(t) is URIRef
            else (str(t), t._language, None if (d := t._datatype) is None else str(d))
            for t in terms
        ]
    return [str(t) if type(t) is URIRef else _term_key(t) for t in terms]


class _KnownTerms:
    """What :class:`GraphRenderer` writes of each term, computed once for all its graphs.

    Subjects and objects (*nodes*) are numbered in one table, predicates in another. A term
    object met before at a position is found by its ``id()`` (``alive`` holds those objects, so
    that no other object can take the id meanwhile), another one with the same :func:`_term_key`
    by its key. By number: ``*_order``, a text whose order is the position's part of
    :func:`_sort_key` (IRIs sort as objects and subjects alike); a node's Turtle, JSON-LD value
    and reference; a predicate's Turtle and JSON-LD property name; the hash of each one's Turtle,
    as it enters a triple's hash.

    Only the common case is numbered: IRIs, and literals in object position whose language tag
    is in lower case; no two IRIs with one Turtle text or one JSON-LD reference, no two
    predicates with one Turtle text or property name. Those are the conditions under which the
    general writers order and lay out the triples as the quick path does
    (:attr:`Prepared.exact`, :attr:`_JsonTerms.simple`, no :func:`_canonical` numbers). Any
    other term gets no number, and its graphs are rendered by the general writers.
    """

    def __init__(self, w: _TurtleTerms, c: _Compactor) -> None:
        self.w, self.c = w, c
        self.alive: list[Any] = []
        # id() of a term → its number: a node's, a predicate's
        self.by_id: tuple[dict[int, int], dict[int, int]] = ({}, {})
        self.node_by_key: dict[Hashable, int] = {}
        self.node_order: list[str] = []
        self.text: list[str] = []
        self.json: list[tuple[str, str | None]] = []  # (value, reference): an IRI's reference is quoted
        self.ref: list[str | None] = []  # None: a literal
        self.s_hash: list[int] = []
        self.o_hash: list[int] = []
        self.predicate_by_key: dict[Hashable, int] = {}
        self.p_order: list[str] = []
        self.p_text: list[str] = []
        self.p_name: list[str] = []
        self.p_hash: list[int] = []
        self.p_rank: list[int] = []  # a predicate's rank among all the predicates
        self.type_number: int | None = None  # rdf:type's
        self._taken: tuple[set[str], set[str], set[str], set[str]] = (set(), set(), set(), set())
        # a subject's triples' predicate numbers → the formats of its Turtle and node object (see plan)
        self.plans: dict[tuple[int, ...], tuple[str, str, itemgetter[Any]]] = {}

    def size(self) -> int:
        """How many term objects are known (each of a key, known once)."""
        return sum(map(len, self.by_id))

    def triple_numbers(self, items: Sequence[Triple]) -> _Numbers | None:
        """The numbers of the terms of these triples, three lists; None if a term has none."""
        try:
            columns = list(zip(*items, strict=True))
        except (TypeError, ValueError):  # not triples: the general writers raise the error
            return None
        if len(columns) != 3:
            return None
        numbers = [self.numbers(terms, position) for position, terms in enumerate(columns)]
        return None if None in numbers else numbers  # type: ignore[return-value]

    def numbers(self, terms: Sequence[Any], position: int) -> list[int] | None:
        """The number of each term at ``position`` (0, 1, 2); None if one cannot have one."""
        # (a literal met as an object is found as a subject: see _render_known)
        by_id = self.by_id[position == 1]
        numbers = list(map(by_id.get, map(id, terms)))
        if None in numbers:
            ids = list(map(id, terms))
            unknown = list(map(is_, numbers, repeat(None)))
            new = dict(zip(compress(ids, unknown), compress(terms, unknown), strict=True))  # each object once
            objects = list(new.values())
            if not set(map(type, objects)) <= (_IRI_OR_LITERAL if position == 2 else _IRI):
                return None
            keys = _node_keys(objects)
            by_key = self.predicate_by_key if position == 1 else self.node_by_key
            found = list(map(by_key.get, keys))
            if None in found:  # new keys
                for i in compress(range(len(found)), map(is_, found, repeat(None))):
                    n = by_key.get(keys[i])  # two new objects of one key
                    if n is None:
                        try:
                            n = self._add(keys[i], position == 1)
                        except Exception:  # an invalid term: the general writers raise the error
                            n = None
                        if n is None:
                            return None
                        by_key[keys[i]] = n
                    found[i] = n
            by_id.update(zip(new, found, strict=True))
            self.alive.extend(objects)
            numbers = list(map(by_id.__getitem__, ids))
        return numbers

    def _add(self, key: Any, predicate: bool) -> int | None:
        """Number a new key (an IRI's text or a literal's tuple); None if it cannot have one.

        (An IRI's texts are worked out by ``_iri`` and ``_compact``, not remembered by them: this
        table remembers them.)
        """
        iri_texts, refs, predicate_texts, names = self._taken
        if predicate:
            is_type = key == _RDF_TYPE_IRI
            text, name = "a" if is_type else self.w._iri(key), self.c._compact(key)
            if text in predicate_texts or name in names or name in ("@type", "@id"):
                return None
            predicate_texts.add(text)
            names.add(name)
            self.p_order.append(("0" if is_type else "1") + key)  # rdf:type first
            self.p_text.append(text)
            self.p_name.append(name)
            self.p_hash.append((_text_hash(text) * _K1) & _MASK64)
            self.p_rank = [0] * len(self.p_order)  # ranked again: predicates are few
            for rank, n in enumerate(sorted(range(len(self.p_order)), key=self.p_order.__getitem__)):
                self.p_rank[n] = rank
            if is_type:
                self.type_number = len(self.p_text) - 1
            return len(self.p_text) - 1
        if type(key) is str:
            if not (key[:1].isascii() and key[:1].isalpha()):
                return None  # (no IRI pyoxigraph takes) its order would not be before the literals'
            text, ref = self.w._iri(key), _string(self.c._compact(key))
            if text in iri_texts or ref in refs:
                return None
            iri_texts.add(text)
            refs.add(ref)
            order, value = key, '{"@id": ' + ref + "}"  # an IRI begins with a letter: before "\x7f"
        else:
            lexical, language, datatype = key
            if "\0" in lexical or not (
                language is None or (language and language == language.lower() and "^" not in language)
            ):
                return None  # see _Role.exact; a "\0", a "^" or a tag "" would break the order's text
            text, value, ref = self.w.literal(lexical, language, datatype), _json_value(self.c, key), None
            # after the IRIs, in the order of (lexical, language^datatype): "\0" is below any
            # character of the lexical form
            order = f"\x7f{lexical}\0{language or ''}^{datatype or ''}"
        h = _text_hash(text)
        self.node_order.append(order)
        self.text.append(text)
        self.json.append((value, ref))
        self.ref.append(ref)
        self.s_hash.append(h)
        self.o_hash.append((h * _K2) & _MASK64)
        return len(self.text) - 1

    def plan(self, signature: tuple[int, ...]) -> tuple[str, str, itemgetter[Any]]:
        """For a subject whose triples have these predicates (their numbers, in order): the
        ``%`` format of its Turtle, taking its text then its objects'; that of its node object,
        taking its reference then its objects' values in the order of the format; an
        ``itemgetter`` that picks those values from the list of its objects' (in the order of the
        triples).

        The Turtle is laid out as :class:`_Layout` lays it out, the node object built as by
        :func:`_node_plan`.
        """
        turtle = ["%s "]
        for at, p in enumerate(signature):
            if at and p == signature[at - 1]:
                turtle.append(" , %s")
            else:
                turtle.append((" ;\n\t" if at else "") + self.p_text[p].replace("%", "%%") + " %s")
        groups: list[list[Any]] = []  # [name, first triple, number of triples]
        for at, p in enumerate(signature):
            if at and p == signature[at - 1]:
                groups[-1][2] += 1
            else:
                groups.append(["@type" if p == self.type_number else self.p_name[p], at, 1])
        groups.sort(key=lambda g: (g[0] != "@type", g[0]))
        node = ['{"@id": %s']
        order: list[int] = []
        for name, at, count in groups:
            slots = "%s" if count == 1 else "[" + ", ".join(["%s"] * count) + "]"
            node.append(", " + _string(name).replace("%", "%%") + ": " + slots)
            order.extend(range(at, at + count))
        node.append("}")
        # itemgetter(i) alone would give the value, not a sequence of one
        pick = itemgetter(*order) if len(order) > 1 else itemgetter(slice(None))
        return "".join(turtle), "".join(node), pick


class GraphRenderer:
    """Renders named graphs one after another (see :class:`GraphChunks`).

    What is written of each term is kept from one graph to the next (the graphs of a run share
    most of their terms), up to ``max_terms`` terms, then forgotten: memory stays bounded.

    A graph of common terms (see :class:`_KnownTerms`) is rendered by a quick path: each triple
    is three numbers, the distinct numbers of each position are ranked by their known order and
    a triple's code is its ranks; each subject's Turtle and node object is a format made once for
    all the subjects with the same predicates. Any other graph, or one given prepared, is
    rendered by the general writers (:meth:`_render_prepared`): the bytes are the same.
    """

    def __init__(self, max_terms: int = 400_000) -> None:
        self.max_terms = max_terms
        self._w = _TurtleTerms()
        self._known = _KnownTerms(self._w, _shared_compactor())

    def render(self, graph_iri: str, triples: Iterable[Triple] | Prepared) -> GraphChunks:
        w = self._w
        compactor = _shared_compactor()
        if (
            sum(len(k) for k in w.known) + len(w._iris) + self._known.size() + len(compactor._cache)
            > self.max_terms
        ):
            w = self._w = _TurtleTerms()
            compactor._cache.clear()  # (what it remembers is worked out again the same)
            self._known = _KnownTerms(w, compactor)
        if not isinstance(triples, Prepared):
            items = triples if isinstance(triples, (list, tuple)) else list(triples)
            if iter(triples) is triples:  # consumed: its triples are in the list
                triples = items
            numbers = self._known.triple_numbers(items)
            chunks = None if numbers is None else self._render_known(graph_iri, *numbers)
            if chunks is not None:
                return chunks
        return self._render_prepared(graph_iri, prepare(triples))

    def _render_known(self, graph_iri: str, s: list[int], p: list[int], o: list[int]) -> GraphChunks | None:
        """The quick path, given the numbers of the triples' terms; None if it does not apply."""
        if not s:
            return None
        k = self._known
        # a triple's code is one integer made of its subject's rank among the graph's subjects, its
        # predicate's among all the predicates known, its object's among the graph's objects
        subjects = sorted(set(s), key=k.node_order.__getitem__)
        if None in map(k.ref.__getitem__, subjects):
            return None  # a literal (it has no reference) as a subject
        ranked_o = sorted(set(o), key=k.node_order.__getitem__)
        n_o = len(ranked_o)
        n_po = len(k.p_rank) * n_o
        s_code = dict(zip(subjects, range(0, len(subjects) * n_po, n_po), strict=True))
        p_code = list(map(mul, k.p_rank, repeat(n_o)))
        o_code = dict(zip(ranked_o, range(n_o), strict=True))
        codes = list(
            map(
                add,
                map(add, map(s_code.__getitem__, s), map(p_code.__getitem__, p)),
                map(o_code.__getitem__, o),
            )
        )
        order = sorted(range(len(codes)), key=codes.__getitem__)
        if len(set(codes)) < len(codes):  # a triple given more than once: once
            ordered = list(map(codes.__getitem__, order))
            order = list(compress(order, map(ne, ordered, [None, *ordered[:-1]])))
        p, o = list(map(p.__getitem__, order)), list(map(o.__getitem__, order))
        # the number of triples of each subject (in the order of the subjects), where they begin
        counts = list(map(Counter(map(s.__getitem__, order)).__getitem__, subjects))
        starts = [0, *accumulate(counts)]
        s_hashes = chain.from_iterable(map(repeat, map(k.s_hash.__getitem__, subjects), counts))
        hashes = map(xor, map(xor, s_hashes, map(k.p_hash.__getitem__, p)), map(k.o_hash.__getitem__, o))
        # Each subject's Turtle and node object is its plan's format. The formats of all the
        # subjects are joined and filled at once, from the args of each subject in turn: no
        # Python code runs per subject or per triple, as long as the plans are known.
        runs = list(map(slice, starts, starts[1:]))
        signatures = list(map(tuple, map(p.__getitem__, runs)))
        plans = list(map(k.plans.get, signatures))
        if None in plans:
            for i in compress(range(len(plans)), map(is_, plans, repeat(None))):
                plan = k.plans.get(signatures[i])  # a subject with the same predicates earlier in this graph
                if plan is None:
                    plan = k.plans[signatures[i]] = k.plan(signatures[i])
                plans[i] = plan
        # an object's JSON-LD value, or its reference as the value of an rdf:type (None: a literal's)
        values = list(map(getitem, map(k.json.__getitem__, o), map(eq, p, repeat(k.type_number))))
        if None in values:
            return None  # rdf:type with a literal value: a property of the node, not its "@type"
        texts = list(map(k.text.__getitem__, o))
        turtle_args = map(chain, zip(map(k.text.__getitem__, subjects)), map(texts.__getitem__, runs))
        body = " .\n".join(map(itemgetter(0), plans)) % tuple(chain.from_iterable(turtle_args))
        picked = map(itemgetter.__call__, map(itemgetter(2), plans), map(values.__getitem__, runs))
        node_args = map(chain, zip(map(k.ref.__getitem__, subjects)), picked)
        nodes = ",\n".join(map(itemgetter(1), plans)) % tuple(chain.from_iterable(node_args))
        return self._chunks(graph_iri, body, nodes, set(hashes), len(o))

    def _render_prepared(self, graph_iri: str, prepared: Prepared) -> GraphChunks:
        """The general path: the general writers' Turtle and JSON-LD of the graph."""
        w = self._w
        turtle = _turtle_of(prepared, w)
        body = " .\n".join(turtle.blocks)
        if not body:
            return GraphChunks(b"", b"", b"", b"", 0)
        j = _JsonTerms(prepared, _shared_compactor())
        nodes = ",\n".join(_simple_nodes(prepared, j) if j.simple else _nodes(prepared, j))
        s_texts, p_texts, o_texts = turtle.texts
        hs, hp, ho = _term_hashes(s_texts), _term_hashes(p_texts), _term_hashes(o_texts)
        s, p, o = prepared._order()
        hashes = {
            (hs[a] ^ ((hp[b] * _K1) & _MASK64) ^ ((ho[c] * _K2) & _MASK64))
            for a, b, c in zip(s, p, o, strict=True)
        }
        return self._chunks(graph_iri, body, nodes, hashes, len(s))

    def _chunks(self, graph_iri: str, body: str, nodes: str, hashes: set[int], triples: int) -> GraphChunks:
        """The chunks of a graph of this Turtle body (without its final `` .``), these node objects
        and triple hashes (a set filled in the order of the triples: its order is the chunk's)."""
        name = self._w.iri(str(graph_iri))
        turtle = body.encode("utf-8")
        return GraphChunks(
            turtle + b" .\n",
            nodes.encode("utf-8"),
            b"".join((f"{name} {{\n\t".encode(), turtle.replace(b"\n", b"\n\t"), b" .\n}\n")),
            array("Q", hashes).tobytes(),
            triples,
        )


def render_graph(graph_iri: str, triples: Iterable[Triple] | Prepared) -> GraphChunks:
    """Render one named graph's chunks (see :class:`GraphChunks`)."""
    return GraphRenderer().render(graph_iri, triples)


def turtle_head() -> bytes:
    """What a Turtle (or TriG) document of ours begins with: the sorted ``@prefix`` lines."""
    return _prefix_header()


@cache
def jsonld_head() -> bytes:
    """What a JSON-LD document of ours begins with, up to its first node object."""
    return f'{_jsonld_head()},\n "@graph": [\n'.encode()


@cache
def jsonld_tail() -> bytes:
    return b"\n ]\n}\n"


JSONLD_SEPARATOR = b",\n"  # between the chunks of two graphs in a JSON-LD document
