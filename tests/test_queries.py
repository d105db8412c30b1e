"""Issue 4: the named queries of ``queries/`` and the ``query`` command.

Each named query runs on the whole graph (the ``corpus_store`` fixture) and its rows are checked
against an answer computed from the raw seed files by another route: regular expressions over
the markdown and XML, the csv module over the ROME and ESCO tables, never the pipeline's parsers,
mappers or linker. Parameters are bound by substitution, never pasted; a value built to break out
of a string answers nothing and changes nothing.
"""

from __future__ import annotations

import csv
import json
import re
import shlex
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from pipeline import queries as Q
from pipeline import resources
from pipeline.cli_query import query_command
from pipeline.store import EmbeddedStore

METIERS = resources.metier_fiches_dir()
FORMATIONS = resources.formation_fiches_dir()
IDEO = resources.ideo_formations_dir()
BASE = "https://w3id.org/onisep-kg/id/"
INJECTION = 'x" } ; DROP ALL ; SELECT * { "'

NAMED = {q.name: q for q in Q.list_queries()}

# Study level of each access / exit wording (nomenclature 2019), written for this test:
# bac + 2 → 5, licence → 6, master → 7, doctorat → 8; wordings with no level are absent.
LEVEL_OF_WORDING = {
    "sans diplôme": 1,
    "3E": 2,
    "diplôme national du brevet": 2,
    "CAP ou équivalent": 3,
    "CAP ou équivalent + 1 an": 3,
    "bac ou équivalent": 4,
    "bac + 1": 4,
    "bac + 2": 5,
    "bac + 3": 6,
    "bac + 4": 6,
    "bac + 5": 7,
    "bac + 6": 7,
    "bac + 7": 7,
    "bac + 8": 8,
    "bac + 9 et plus": 8,
}
_NUM = r"\d[\d\u00a0\u202f ]*(?:[.,]\d+)?"
AMOUNT = re.compile(
    rf"^(?:(?:A|À) partir de ({_NUM})|Entre ({_NUM}) et ({_NUM})|De ({_NUM}) à ({_NUM})|({_NUM})) euros\b"
)


# -- the raw side -------------------------------------------------------------------------------
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def fold(text: str) -> str:
    """Case and accents folded (Unicode decomposition), œ/æ spelt out, ’ as '."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("œ", "oe").replace("æ", "ae").replace("’", "'")


def link_key(text: str) -> str:
    """How a "Métiers associés" label is compared with a métier's names (case, apostrophes and
    spaces around "/" folded; accents kept)."""
    text = unicodedata.normalize("NFC", text).replace("’", "'").replace("\u00a0", " ").casefold()
    return " ".join(re.sub(r"\s*/\s*", "/", text).split())


def _block(text: str, title: str) -> str:
    """The body of the column-0 ``## title`` section, up to the next ``## `` or ``**Key:**``."""
    m = re.search(rf"^## {re.escape(title)}[ \t]*\n(.*?)(?=^## |^\*\*|\Z)", text, re.M | re.S)
    return m[1] if m else ""


def _items_after(text: str, key: str) -> list[str]:
    m = re.search(rf"^\*\*{re.escape(key)}:\*\*[ \t]*\n((?:[ \t]*\n|- [^\n]*\n?)*)", text, re.M)
    return [i.strip() for i in re.findall(r"^- (.*)$", m[1], re.M)] if m else []


def _amount(text: str) -> Decimal:
    return Decimal(re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", "."))


@dataclass
class RawMetier:
    mid: str
    title: str
    names: list[str]  # title, its gendered forms, each synonym and its gendered forms
    rome: list[str]
    formations: list[str]
    level_wording: str
    salary: str | None
    statuses: list[str]
    interests: list[str]


@cache
def raw_metiers() -> dict[str, RawMetier]:
    out = {}
    for path in sorted(METIERS.glob("MET.*.md")):
        text = _text(path)
        mid = re.search(r"^\*\*ID:\*\* (MET\.\d+)$", text, re.M)[1]  # type: ignore[index]
        title = text.split("\n", 1)[0].removeprefix("# ").strip()
        forms = [f.strip() for f in re.findall(r"^- (?:Féminin|Masculin): (.+)$", text, re.M)]
        synonyms = [s.strip() for s in re.findall(r"^### (.+)$", _block(text, "Autres appellations"), re.M)]
        salary = re.search(r"^[ \t]*### Salaire du débutant[ \t]*\n(?:[ \t]*\n)*[ \t]*(\S.*)$", text, re.M)
        out[mid] = RawMetier(
            mid=mid,
            title=title,
            names=[title, *forms, *synonyms],
            rome=_items_after(text, "Codes ROME"),
            formations=re.findall(r"\(ID: (FOR\.\d+)\)", _block(text, "Formations recommandées")),
            level_wording=re.search(r"^\*\*Niveau d'accès minimum:\*\* (.+)$", text, re.M)[1].strip(),  # type: ignore[index]
            salary=salary[1].strip() if salary else None,
            statuses=_items_after(text, "Statuts possibles"),
            interests=[i.strip() for i in re.findall(r"^- (.*)$", _block(text, "Centres d'intérêt"), re.M)],
        )
    assert len(out) == 1043
    return out


@dataclass
class RawFormation:
    fid: str
    titles: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)
    certification: set[int] = field(default_factory=set)
    exit: set[int] = field(default_factory=set)
    associated: list[str] = field(default_factory=list)

    @property
    def levels(self) -> set[int]:
        return self.certification or self.exit


@cache
def raw_formations() -> dict[str, RawFormation]:
    """FOR id → what the formation fiche and the Idéo record say (type, levels, métier labels)."""
    out: dict[str, RawFormation] = {}
    for path in FORMATIONS.glob("FOR.*.md"):
        text = _text(path)
        f = out.setdefault(re.match(r"(FOR\.\d+)_", path.name)[1], RawFormation(""))  # type: ignore[index]
        f.titles.add(text.split("\n", 1)[0].removeprefix("# ").strip())
        f.types.update(t.strip() for t in re.findall(r"^\*\*Type:\*\* (.+)$", text, re.M))
        f.certification.update(
            int(n) for n in re.findall(r"^\*\*Niveau de certification:\*\* niveau (\d)\s*$", text, re.M)
        )
        f.associated += [x.strip() for x in re.findall(r"^- (.+)$", _block(text, "Métiers associés"), re.M)]
    for path in IDEO.glob("*.md"):
        text = _text(path)
        fid = re.search(r"/(FOR\.\d+)\)", text)[1]  # type: ignore[index]
        f = out.setdefault(fid, RawFormation(""))
        f.titles.add(text.split("\n", 1)[0].removeprefix("# ").strip())
        f.types.update(t.strip() for t in re.findall(r"^\*\*Type de formation:\*\* (.+)$", text, re.M))
        f.certification.update(int(n) for n in re.findall(r"^\*\*Niveau:\*\* niveau (\d)\s*$", text, re.M))
        for wording in re.findall(r"^\*\*Niveau de sortie indicatif:\*\* (.+?)\s*$", text, re.M):
            if wording in LEVEL_OF_WORDING:
                f.exit.add(LEVEL_OF_WORDING[wording])
    for fid, f in out.items():
        f.fid = fid
    return out


@cache
def associated_pairs() -> set[tuple[str, str]]:
    """(FOR id, MET id) for each "Métiers associés" label naming exactly one métier: a label
    equal to titles is matched on titles only, otherwise on any name."""
    titles: dict[str, set[str]] = defaultdict(set)
    names: dict[str, set[str]] = defaultdict(set)
    for m in raw_metiers().values():
        titles[link_key(m.title)].add(m.mid)
        for n in m.names:
            names[link_key(n)].add(m.mid)
    pairs = set()
    for f in raw_formations().values():
        for label in f.associated:
            found = titles.get(link_key(label)) or names.get(link_key(label), set())
            if len(found) == 1:
                pairs.add((f.fid, next(iter(found))))
    return pairs


def formations_of(mid: str) -> dict[str, set[str]]:
    """FOR id → {"recommended", "associated"} for the métier."""
    links: dict[str, set[str]] = defaultdict(set)
    for fid in raw_metiers()[mid].formations:
        links[fid].add("recommended")
    for fid, m in associated_pairs():
        if m == mid:
            links[fid].add("associated")
    return links


@dataclass
class IdeoItem:
    mid: str
    gencod: str
    title: str
    collection: str
    year: str
    domains: list[tuple[str, str | None]]


@cache
def ideo_items() -> list[IdeoItem]:
    xml = _text(resources.ideo_metiers_file())
    items = []
    for body in re.findall(r"<item>(.*?)</item>", xml, re.S):

        def tag(name: str, body: str = body) -> str:
            m = re.search(rf"<{name}>(.*?)</{name}>", body, re.S)
            return unescape(m[1].strip()) if m else ""

        domains = []
        for part in tag("domainesous-domaine").split("|"):
            if part.strip():
                top, _, sub = part.strip().partition("/")
                domains.append((top.strip(), sub.strip() or None))
        mid = re.search(r"(MET\.\d+)", tag("lien_site_onisepfr"))[1]  # type: ignore[index]
        items.append(
            IdeoItem(mid, tag("gencod"), tag("nom_publication"), tag("collection"), tag("annee"), domains)
        )
    assert len(items) == 1489
    return items


def unescape(text: str) -> str:
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        text = text.replace(entity, char)
    return text


@cache
def appellations() -> dict[str, tuple[str, str, str]]:
    """code_ogr → (label, code_rome (v4 métier), code_rome_parent (v3 code))."""
    with resources.rome_v4_appellations_file().open(encoding="utf-8") as fh:
        return {
            r["code_ogr"]: (r["libelle_appellation_long"], r["code_rome"], r["code_rome_parent"])
            for r in csv.DictReader(fh)
        }


@cache
def crosswalk() -> list[tuple[str, str, str, str]]:
    """(ESCO occupation IRI, its label, code_ogr, relation) rows of the ESCO–ROME table."""
    lines = _text(resources.esco_crosswalk_file()).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("classification 1 ID"))
    return [(r[0], r[1], r[2], r[4]) for r in csv.reader(lines[start + 1 :]) if r]


# -- the graph side -----------------------------------------------------------------------------
def answer(store: ox.Store, name: str, **params: object) -> list[dict[str, str | None]]:
    query = NAMED[name]
    result = Q.run(store, query, Q.bind(query, {k: str(v) for k, v in params.items()}))
    table = Q.Table.of(result)  # type: ignore[arg-type]
    return [dict(zip(table.variables, row, strict=True)) for row in table.values()]


def example_values(query: Q.NamedQuery) -> dict[str, str]:
    return {p.name: p.example_value for p in query.params if p.example_value is not None}


def test_there_are_at_least_twelve_documented_named_queries() -> None:
    assert len(NAMED) >= 12
    for query in NAMED.values():
        assert query.title and query.question, query.name
        assert query.examples and query.examples[0].startswith(f"onisep-kg query {query.name}"), query.name
        assert query.form in ("SELECT", "DESCRIBE", "CONSTRUCT", "ASK"), query.name
        for p in query.params:
            assert p.description and p.example_value, (query.name, p)
            assert re.search(rf"\?{p.name}\b", query.text.split("WHERE", 1)[0]), (
                f"{query.name}: ?{p.name} not projected"
            )


def test_each_named_query_answers_its_example_and_its_time_is_printed(corpus_store: ox.Store) -> None:
    lines = []
    for name, query in sorted(NAMED.items()):
        bindings = Q.bind(query, example_values(query))
        Q.run(corpus_store, query, bindings)  # warm up
        times, count = [], 0
        for _ in range(5):
            started = time.perf_counter()
            result = Q.run(corpus_store, query, bindings)
            count = sum(1 for _ in result)  # type: ignore[union-attr]
            times.append((time.perf_counter() - started) * 1000)
        assert count > 0, name
        lines.append(f"  {name:<32} {count:>6} rows  {min(times):7.1f} ms (best of 5)")
    print("\nnamed queries on the whole graph (embedded store):\n" + "\n".join(lines))


# -- one test per named query, against the raw files --------------------------------------------
def test_formations_for_metier(corpus_store: ox.Store) -> None:
    formations = raw_formations()
    checked = 0
    for mid in raw_metiers():
        rows = answer(corpus_store, "formations-for-metier", metier=mid)
        got = {r["id"]: set(r["link"].split(" + ")) for r in rows}  # type: ignore[union-attr]
        assert got == formations_of(mid), mid
        for r in rows:
            raw = formations.get(r["id"])  # type: ignore[arg-type]
            if raw is None:  # cited, described by no file: no name, no level
                assert r["name"] is None and r["level"] is None, r
                continue
            assert r["name"] in raw.titles, r
            assert (int(r["level"]) if r["level"] else None) in (raw.levels or {None}), r
            assert {int(x["level"]) for x in rows if x["id"] == r["id"] and x["level"]} == raw.levels, r
        checked += len(rows)
    assert "FOR.5337" in {r["id"] for r in answer(corpus_store, "formations-for-metier", metier="MET.799")}
    print(f"\nformations-for-metier: {checked} rows over 1043 métiers match the raw files")


def _under(code: str, prefix: str) -> bool:
    return code.startswith(prefix)


@pytest.mark.parametrize("rome", ["I1401", "I14", "I", "M18", "K", "A15", "K15", "Z99"])
def test_metiers_under_rome(corpus_store: ox.Store, rome: str) -> None:
    xml = _text(resources.rome_v3_file())
    v3 = dict(re.findall(r"<code_rome>(\w+)</code_rome>\s*<libelle>([^<]+)</libelle>", xml))
    expected = {(code, m.mid) for m in raw_metiers().values() for code in m.rome if _under(code, rome)}
    rows = answer(corpus_store, "metiers-under-rome", rome=rome)
    assert {(r["code"], r["id"]) for r in rows} == expected
    assert len(rows) == len(expected)
    for r in rows:
        assert r["codeLabel"] == v3.get(r["code"]), r  # type: ignore[arg-type]
        assert r["name"] == raw_metiers()[r["id"]].title  # type: ignore[index]
    if rome == "I1401":
        assert ("I1401", "MET.799") in expected


@pytest.mark.parametrize("level", range(1, 9))
def test_metiers_at_level(corpus_store: ox.Store, level: int) -> None:
    expected = {
        m.mid: LEVEL_OF_WORDING[m.level_wording]
        for m in raw_metiers().values()
        if m.level_wording in LEVEL_OF_WORDING and LEVEL_OF_WORDING[m.level_wording] <= level
    }
    rows = answer(corpus_store, "metiers-at-level", level=level)
    assert {r["id"]: int(r["minimum"]) for r in rows} == expected  # type: ignore[arg-type]
    assert all(r["wording"] == raw_metiers()[r["id"]].level_wording for r in rows)  # type: ignore[index]
    minima = [int(r["minimum"]) for r in rows]  # type: ignore[arg-type]
    assert minima == sorted(minima, reverse=True)


def test_metiers_sharing_formations(corpus_store: ox.Store) -> None:
    metiers = raw_metiers()
    holders: dict[str, set[str]] = defaultdict(set)
    for m in metiers.values():
        for fid in m.formations:
            holders[fid].add(m.mid)
    total = 0
    for mid, m in metiers.items():
        expected = Counter(other for fid in set(m.formations) for other in holders[fid] if other != mid)
        rows = answer(corpus_store, "metiers-sharing-formations", metier=mid)
        assert {r["otherId"]: int(r["shared"]) for r in rows} == dict(expected), mid  # type: ignore[arg-type]
        shared = [int(r["shared"]) for r in rows]  # type: ignore[arg-type]
        assert shared == sorted(shared, reverse=True)
        total += len(rows)
    print(f"\nmetiers-sharing-formations: {total} pairs over 1043 métiers match the raw files")


@pytest.mark.parametrize("domain", ["I", "M12", "K", "J15", "I1401"])
def test_salary_ranking_in_rome_domain(corpus_store: ox.Store, domain: str) -> None:
    expected = {}
    for m in raw_metiers().values():
        if m.salary is None or not any(_under(c, domain) for c in m.rome) or "par mois" not in m.salary:
            continue
        a = AMOUNT.match(m.salary)
        if a is None:
            continue
        start, low, high, low2, high2, single = (_amount(g) if g else None for g in a.groups())
        bounds = (
            (start, None) if start else (low, high) if low else (low2, high2) if low2 else (single, single)
        )
        expected[m.mid] = (*bounds, m.salary)
    rows = answer(corpus_store, "salary-ranking-in-rome-domain", domain=domain)
    got = {
        r["id"]: (Decimal(r["minimum"]), Decimal(r["maximum"]) if r["maximum"] else None, r["sentence"])  # type: ignore[arg-type]
        for r in rows
    }
    assert got == expected
    assert len(rows) == len(expected)  # one row per métier
    minima = [Decimal(r["minimum"]) for r in rows]  # type: ignore[arg-type]
    assert minima == sorted(minima, reverse=True)
    assert expected, domain


def test_esco_for_metier(corpus_store: ox.Store) -> None:
    parent = {ogr: p for ogr, (_label, _v4, p) in appellations().items()}
    by_code: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    labels: dict[str, set[str]] = defaultdict(set)
    for esco, label, ogr, relation in crosswalk():
        by_code[parent[ogr]].append((esco, label, ogr, relation))
        labels[esco].add(label)
    kinds = {
        "skos:exactMatch": "exact",
        "skos:closeMatch": "close",
        "skos:broadMatch": "broad",
        "skos:narrowMatch": "narrow",
    }
    reached = 0
    for m in raw_metiers().values():
        matches: dict[str, set[str]] = defaultdict(set)
        via: dict[str, set[str]] = defaultdict(set)
        for code in set(m.rome):
            for esco, _label, ogr, relation in by_code.get(code, []):
                matches[esco].add(kinds[relation])
                via[esco].add(ogr)
        rows = answer(corpus_store, "esco-for-metier", metier=m.mid)
        got = {r["esco"]: (set(r["matches"].split(", ")), int(r["appellations"])) for r in rows}  # type: ignore[union-attr, arg-type]
        assert got == {e: (matches[e], len(via[e])) for e in matches}, m.mid
        assert all(r["escoLabel"] in labels[r["esco"]] for r in rows)  # type: ignore[index]
        reached += bool(rows)
    assert reached == 918  # as the link report says: métier → ESCO 918 / 1043


@pytest.mark.parametrize(
    ("kind", "level"),
    [
        ("BTS", 5),
        ("BUT", 6),
        ("CAP", 3),
        ("licence professionnelle", 6),
        ("diplome d'ingenieur", 7),
        ("MASTER", 7),
    ],
)
def test_formations_by_type_and_level(corpus_store: ox.Store, kind: str, level: int) -> None:
    wanted = fold(kind)
    expected = {
        f.fid
        for f in raw_formations().values()
        if level in f.levels and any(fold(t) == wanted or f"({wanted})" in fold(t) for t in f.types)
    }
    rows = answer(corpus_store, "formations-by-type-and-level", type=kind, level=level)
    assert {r["id"] for r in rows} == expected
    assert expected, kind
    for r in rows:
        assert r["name"] in raw_formations()[r["id"]].titles  # type: ignore[index]


@pytest.mark.parametrize("words", ["sens du contact", "planete", "NATURE", "j’aime", "chiffres", "xyz"])
def test_metiers_by_interest(corpus_store: ox.Store, words: str) -> None:
    expected = {(i, m.mid) for m in raw_metiers().values() for i in m.interests if fold(words) in fold(i)}
    rows = answer(corpus_store, "metiers-by-interest", interest=words)
    assert {(r["interestLabel"], r["id"]) for r in rows} == expected
    assert len(rows) == len(expected)
    assert expected or words == "xyz"


@pytest.mark.parametrize(
    "status",
    ["salarié", "Salarie", "fonctionnaire", "independant", "artisan", "libéral", "intermittent du spectacle",
     "saisonnier", "militaire", "contrat de volontariat", "sala"],
)  # fmt: skip
def test_metiers_by_status(corpus_store: ox.Store, status: str) -> None:
    expected = {m.mid for m in raw_metiers().values() if any(fold(s) == fold(status) for s in m.statuses)}
    rows = answer(corpus_store, "metiers-by-status", status=status)
    assert {r["id"] for r in rows} == expected
    assert len(rows) == len(expected)
    assert expected or status == "sala"


def test_metiers_without_formation(corpus_store: ox.Store) -> None:
    expected = {m.mid for m in raw_metiers().values() if not m.formations}
    rows = answer(corpus_store, "metiers-without-formation")
    assert {r["id"] for r in rows} == expected
    assert len(rows) == len(expected) == 98
    assert all(r["wording"] == raw_metiers()[r["id"]].level_wording for r in rows)  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    ["developpeuse", "Développeuse", "oenologue", "œnologue", "INFIRMIÈRE", "teleconseillere", "hot liner",
     "chargee d'affaires", "chargée d’affaires", "boulang", "/euse", "zzz"],
)  # fmt: skip
def test_search_metiers(corpus_store: ox.Store, text: str) -> None:
    wanted = fold(text)
    expected = {m.mid for m in raw_metiers().values() if any(wanted in fold(n) for n in m.names)}
    rows = answer(corpus_store, "search-metiers", text=text)
    assert {r["id"] for r in rows} == expected
    assert len(rows) == len(expected)
    for r in rows:
        assert wanted in fold(r["matched"]), r  # type: ignore[arg-type]
    if text.lower().startswith("develop"):
        assert {"MET.12", "MET.503", "MET.217"} <= expected
    assert expected or text == "zzz"


@pytest.mark.parametrize(("rome", "level"), [("I1401", 5), ("I14", 6), ("I", 5), ("M18", 7), ("K", 3)])
def test_formations_for_rome_at_level(corpus_store: ox.Store, rome: str, level: int) -> None:
    formations = raw_formations()
    leads: dict[str, set[str]] = defaultdict(set)
    under = {m.mid for m in raw_metiers().values() if any(_under(c, rome) for c in m.rome)}
    for mid in under:
        for fid in formations_of(mid):
            if fid in formations and level in formations[fid].levels:
                leads[fid].add(mid)
    rows = answer(corpus_store, "formations-for-rome-at-level", rome=rome, level=level)
    assert {r["id"]: set(r["metiers"].split()) for r in rows} == dict(leads)  # type: ignore[union-attr]
    assert len(rows) == len(leads) and leads


@pytest.mark.parametrize(
    "domain",
    ["informatique, Internet", "Sante, social, sport", "systèmes et réseaux", "biologie", "tourisme", "nope"],
)
def test_metiers_of_domain(corpus_store: ox.Store, domain: str) -> None:
    wanted = fold(domain)
    expected = set()
    for item in ideo_items():
        for top, sub in item.domains:
            if fold(top) == wanted or (sub is not None and fold(sub) == wanted):
                expected.add((item.mid, sub or top))
    rows = answer(corpus_store, "metiers-of-domain", domain=domain)
    assert {(r["id"], r["subDomain"]) for r in rows} == expected
    assert expected or domain == "nope"


def test_rome_appellations_for_metier(corpus_store: ox.Store) -> None:
    by_parent: dict[str, set[tuple[str, str, str, str]]] = defaultdict(set)
    for ogr, (label, v4, parent) in appellations().items():
        by_parent[parent].add((parent, v4, ogr, label))
    total = 0
    for m in raw_metiers().values():
        expected = set().union(*(by_parent.get(c, set()) for c in m.rome)) if m.rome else set()
        rows = answer(corpus_store, "rome-appellations-for-metier", metier=m.mid)
        assert {(r["rome"], r["romeV4"], r["code"], r["label"]) for r in rows} == expected, m.mid
        assert len(rows) == len(expected)
        total += len(rows)
    print(f"\nrome-appellations-for-metier: {total} rows over 1043 métiers match the v4.60 table")


def test_publications_for_metier(corpus_store: ox.Store) -> None:
    expected: dict[str, set[tuple[str, str, str, str]]] = defaultdict(set)
    for item in ideo_items():
        if item.gencod or item.title:  # else "pas de publication Onisep spécifique"
            expected[item.mid].add((item.gencod, item.title, item.collection, item.year))
    for mid in raw_metiers():
        rows = answer(corpus_store, "publications-for-metier", metier=mid)
        got = {(r["isbn"] or "", r["title"], r["collection"], r["year"]) for r in rows}
        assert got == expected[mid], mid
        years = [r["year"] for r in rows]
        assert years == sorted(years, reverse=True)


@pytest.mark.parametrize("mid", ["MET.799", "MET.54", "MET.323", "MET.12"])
def test_metier_card(corpus_store: ox.Store, mid: str) -> None:
    raw = raw_metiers()[mid]
    iri = f"{BASE}metier/{mid}"
    result = Q.run(corpus_store, NAMED["metier-card"], Q.bind(NAMED["metier-card"], {"metier": iri}))
    triples = list(result)  # type: ignore[arg-type]
    assert {t.subject.value for t in triples} == {iri}  # type: ignore[union-attr]
    by_property: dict[str, set[str]] = defaultdict(set)
    for t in triples:
        by_property[t.predicate.value].add(t.object.value)
    skos = "http://www.w3.org/2004/02/skos/core#"
    okg = "https://w3id.org/onisep-kg/ontology#"
    assert by_property[skos + "prefLabel"] == {raw.title}
    assert by_property[okg + "recommendedFormation"] == {f"{BASE}formation/{f}" for f in raw.formations}
    assert by_property[okg + "romeCode"] == {f"{BASE}rome/{c}" for c in raw.rome}
    assert len(triples) == len(list(corpus_store.quads_for_pattern(ox.NamedNode(iri), None, None)))
    turtle = Q.render(
        Q.run(corpus_store, NAMED["metier-card"], {"metier": ox.NamedNode(iri)}), "turtle"
    ).decode()
    assert f"metier:{mid} " in turtle and "@prefix okg:" in turtle
    assert len(list(ox.parse(turtle.encode(), format=ox.RdfFormat.TURTLE))) == len(triples)


# -- parameters: bound, never pasted -------------------------------------------------------------
def test_an_injection_string_is_a_plain_value(corpus_store: ox.Store) -> None:
    before = len(corpus_store)
    tried = 0
    for query in NAMED.values():
        literals = [p for p in query.params if p.kind == "literal"]
        if not literals:
            continue
        values = example_values(query)
        for p in literals:
            bindings = Q.bind(query, {**values, p.name: INJECTION})
            assert bindings[p.name] == ox.Literal(INJECTION)
            rows = list(Q.run(corpus_store, query, bindings))  # type: ignore[arg-type]
            assert rows == [], (query.name, p.name)
            pasted = Q.with_values(query.text, bindings)  # the route for a remote endpoint
            assert list(Q.run(corpus_store, pasted)) == [], (query.name, p.name)  # type: ignore[arg-type]
            tried += 1
        assert len(corpus_store) == before
    assert tried >= 12
    with pytest.raises(Q.ParameterError, match="not an absolute IRI"):
        Q.bind(NAMED["metier-card"], {"metier": INJECTION})
    with pytest.raises(Q.ParameterError, match="not an integer"):
        Q.bind(NAMED["metiers-at-level"], {"level": INJECTION})
    assert len(corpus_store) == before


# Parameter values besides the documented examples: other case and accents, values that match
# nothing, whole ROME letters.
MORE_VALUES: dict[str, list[dict[str, str]]] = {
    "formations-by-type-and-level": [
        {"type": "Licence professionnelle", "level": "6"},
        {"type": "x", "level": "3"},
    ],
    "formations-for-rome-at-level": [{"rome": "I", "level": "5"}, {"rome": "Z99", "level": "3"}],
    "metiers-at-level": [{"level": "1"}, {"level": "8"}],
    "metiers-by-interest": [{"interest": "PLANÈTE"}, {"interest": "xyz"}],
    "metiers-by-status": [{"status": "Salarié"}, {"status": "sala"}],
    "metiers-of-domain": [{"domain": "SYSTEMES ET RESEAUX"}, {"domain": "nope"}],
    "metiers-under-rome": [{"rome": "K"}, {"rome": "A15"}, {"rome": "Z99"}],
    "salary-ranking-in-rome-domain": [{"domain": "K"}, {"domain": "Z99"}],
    "search-metiers": [{"text": "œnologue"}, {"text": "zzz"}],
}


def documented_values(query: Q.NamedQuery) -> list[dict[str, str]]:
    """The values of the header's first example (``--param name=value``), and those of the
    ``@param`` lines' examples."""
    first: dict[str, str] = {}
    words = shlex.split(query.examples[0]) if query.examples else []
    for word, value in zip(words, words[1:], strict=False):
        if word in ("--param", "-p"):
            name, text = Q.split_assignment(value)
            first[name] = text
    return [first, example_values(query)]


def test_the_values_route_gives_the_same_rows_as_substitution(corpus_store: ox.Store) -> None:
    """What a remote endpoint receives (bindings as a VALUES block opening the WHERE group)
    answers exactly like pyoxigraph's substitution, for the documented examples and more."""
    for name, query in NAMED.items():
        for values in [*documented_values(query), *MORE_VALUES.get(name, [])]:
            bindings = Q.bind(query, values)
            direct = Q.run(corpus_store, query, bindings)
            via_values = Q.run(corpus_store, Q.with_values(query.text, bindings))
            if isinstance(direct, ox.QueryTriples):
                assert set(direct) == set(via_values), name  # type: ignore[arg-type]
                continue
            a, b = Q.Table.of(direct), Q.Table.of(via_values)  # type: ignore[arg-type]
            assert a.variables == b.variables and a.rows == b.rows, (name, values)


def test_no_named_query_copies_a_parameter_with_a_bare_bind() -> None:
    """oxigraph plans a query before it sees the substituted parameters: it takes ``BIND(?p AS
    ?x)`` for the copy of an unbound variable and drops it, so that ?x stays unbound under
    substitution (but not through a VALUES block). A named query copies a parameter, to let the
    planner start from it, with ``BIND(COALESCE(?p, …) AS ?x)``, which keeps the term as it is."""
    for query in NAMED.values():
        for p in query.params:
            assert not re.search(rf"BIND\s*\(\s*\?{p.name}\s+AS\b", query.text, re.I), (query.name, p.name)
    store = ox.Store()
    integer = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    copy = 'SELECT ?p ?x WHERE { BIND(COALESCE(?p, "") AS ?x) }'
    for term in (ox.Literal("I14"), ox.Literal("I14", language="fr"), ox.Literal("5", datatype=integer)):
        (row,) = list(store.query(copy, substitutions={ox.Variable("p"): term}))  # type: ignore[misc]
        assert row["x"] == term
        (row,) = list(store.query(Q.with_values(copy, {"p": term})))  # type: ignore[misc]
        assert row["x"] == term


@pytest.mark.parametrize(
    "value",
    [INJECTION, 'a\\"b', "\\u0022 } DROP ALL", "line\nbreak\ttab\r", "quote's", "é€😀", "\x01ctl", "a\\", ""],
)
def test_values_clause_round_trips_any_string(value: str) -> None:
    store = ox.Store()
    for term in (ox.Literal(value), ox.Literal(value, language="fr")):
        clause = Q.values_clause({"v": term})
        (row,) = list(store.query(f"SELECT ?v WHERE {{ {clause} }}"))  # type: ignore[misc]
        assert row["v"] == term, clause
    assert len(store) == 0


def test_terms_follow_the_declared_type() -> None:
    lit = Q.Param("q", "literal")
    assert Q.make_term(lit, "hot liner") == ox.Literal("hot liner")
    assert Q.make_term(lit, '"hot liner"') == ox.Literal("hot liner")
    assert Q.make_term(lit, '"hot liner"@fr') == ox.Literal("hot liner", language="fr")
    assert Q.make_term(Q.Param("q", "literal", language="fr"), "bonjour") == ox.Literal(
        "bonjour", language="fr"
    )
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert Q.make_term(Q.Param("n", "integer"), " 05 ") == ox.Literal(
        "5", datatype=ox.NamedNode(xsd + "integer")
    )
    assert Q.make_term(Q.Param("d", "decimal"), "1801.5") == ox.Literal(
        "1801.5", datatype=ox.NamedNode(xsd + "decimal")
    )
    assert Q.make_term(Q.Param("b", "boolean"), "TRUE") == ox.Literal(
        "true", datatype=ox.NamedNode(xsd + "boolean")
    )
    iri = Q.Param("m", "iri")
    assert Q.make_term(iri, "<https://w3id.org/onisep-kg/id/metier/MET.1>") == ox.NamedNode(
        f"{BASE}metier/MET.1"
    )
    for bad in ("metier/MET.1", "https://a b", "https://a>", "<>", "", "javascript"):
        with pytest.raises(Q.ParameterError):
            Q.make_term(iri, bad)
    for bad in ("1.5", "five", ""):
        with pytest.raises(Q.ParameterError):
            Q.make_term(Q.Param("n", "integer"), bad)
    assert Q.guess_term("x", "<urn:a>") == ox.NamedNode("urn:a")
    assert Q.guess_term("x", "12") == ox.Literal("12", datatype=ox.NamedNode(xsd + "integer"))
    assert Q.guess_term("x", "MET.799") == ox.Literal("MET.799")


def test_the_header_is_read() -> None:
    query = Q.parse_query(
        "# @title  Demo\n# @question Which things?\n#   Two lines.\n"
        '# @param ?rome literal ROME code, e.g. "I1401"\n'
        "# @param ?who iri The métier, e.g. <https://w3id.org/onisep-kg/id/metier/MET.799>\n"
        "# @param ?label literal@fr A label, e.g. hot liner\n"
        "# @example onisep-kg query demo -p rome=I1401\n"
        "PREFIX okg: <https://w3id.org/onisep-kg/ontology#>\n# a comment { WHERE\n"
        'SELECT ?rome ?who ?label WHERE { ?who okg:romeCode ?r . FILTER(?label != "{ WHERE") }',
        "demo",
    )
    assert (query.title, query.question, query.form) == ("Demo", "Which things? Two lines.", "SELECT")
    assert [(p.name, p.type_label, p.description, p.example_value) for p in query.params] == [
        ("rome", "literal", "ROME code", "I1401"),
        ("who", "iri", "The métier", "https://w3id.org/onisep-kg/id/metier/MET.799"),
        ("label", "literal@fr", "A label", "hot liner"),
    ]
    assert query.prefixes == {"okg": "https://w3id.org/onisep-kg/ontology#"}
    with pytest.raises(Q.ParameterError, match="needs the parameter rome"):
        Q.bind(query, {"who": "urn:x", "label": "y"})
    with pytest.raises(Q.ParameterError, match="has no parameter zzz"):
        Q.bind(query, {"rome": "I1401", "who": "urn:x", "label": "y", "zzz": "1"})
    placed = Q.with_values(query.text, {"rome": ox.Literal("I1401")})
    assert placed.index('VALUES (?rome) { ("I1401") }') == placed.index("WHERE {") + len("WHERE {") + 1
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert Q.with_values(construct, {"s": ox.NamedNode("urn:s")}).startswith(
        "CONSTRUCT { ?s ?p ?o } WHERE { VALUES (?s) { (<urn:s>) }"
    )
    with pytest.raises(Q.QueryError, match="unknown header tag"):
        Q.parse_query("# @titel x\nASK {}")
    with pytest.raises(Q.QueryError, match="bad @param"):
        Q.parse_query("# @param ?x string what\nASK {}")


def test_unknown_query_name() -> None:
    with pytest.raises(Q.UnknownQuery, match="there is no named query 'nope'"):
        Q.load_query("nope")
    with pytest.raises(Q.UnknownQuery):
        Q.load_query("../pyproject")


# -- the command line ---------------------------------------------------------------------------
SMALL_TRIG = """\
@prefix okg: <https://w3id.org/onisep-kg/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix skosxl: <http://www.w3.org/2008/05/skos-xl#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix metier: <https://w3id.org/onisep-kg/id/metier/> .
@prefix label: <https://w3id.org/onisep-kg/id/label/> .
@prefix formation: <https://w3id.org/onisep-kg/id/formation/> .
@prefix rome: <https://w3id.org/onisep-kg/id/rome/> .
@prefix graph: <https://w3id.org/onisep-kg/id/graph/> .

graph:metier\\/MET.12 {
  metier:MET.12 a okg:Metier ; dcterms:identifier "MET.12" ;
    skos:prefLabel "développeur/euse informatique"@fr ;
    skosxl:prefLabel label:MET.12-0-f , label:MET.12-0-m ;
    okg:searchKey "developpeur/euse informatique\\ndeveloppeuse informatique\\ndeveloppeur informatique" ;
    okg:romeCode rome:M1805 ; okg:recommendedFormation formation:FOR.1 .
  label:MET.12-0-f a skosxl:Label ; skosxl:literalForm "développeuse informatique"@fr .
  label:MET.12-0-m a skosxl:Label ; skosxl:literalForm "développeur informatique"@fr .
  rome:M1805 a okg:RomeCode , skos:Concept ; skos:notation "M1805" ; skos:broader rome:M18 .
  rome:M18 a skos:Concept ; skos:notation "M18" ; skos:broader rome:M .
  rome:M a skos:Concept ; skos:notation "M" .
}
graph:metier\\/MET.13 {
  metier:MET.13 a okg:Metier ; dcterms:identifier "MET.13" ; skos:prefLabel "œnologue"@fr ;
    okg:searchKey "oenologue" ; okg:recommendedFormation formation:FOR.1 .
}
graph:formation\\/FOR.1 {
  formation:FOR.1 a okg:Formation ; dcterms:identifier "FOR.1" ; okg:leadsTo metier:MET.12 .
}
"""


def _cli(*args: str) -> object:
    return CliRunner().invoke(query_command, list(args), prog_name="onisep-kg query")


@pytest.fixture
def small_graph(tmp_path: Path) -> Path:
    path = tmp_path / "small.trig"
    path.write_text(SMALL_TRIG, encoding="utf-8")
    return path


def test_cli_list_shows_every_named_query_with_its_parameters() -> None:
    result = _cli("--list")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    out = result.output  # type: ignore[attr-defined]
    for name, query in NAMED.items():
        assert f"\n{name}  ({query.form})\n" in out
        assert query.title in out
        for p in query.params:
            assert f"--param {p.name}=…  {p.type_label}: {p.description}" in out
    assert "no parameter" in out  # metiers-without-formation
    assert out.startswith(f"{len(NAMED)} named queries in ")


def test_cli_named_query_on_a_trig_file(small_graph: Path) -> None:
    # the métier and the formation that leads to it sit in different named graphs
    result = _cli("formations-for-metier", "--param", "metier=MET.12", "--graph", str(small_graph))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    lines = result.output.splitlines()  # type: ignore[attr-defined]
    assert lines[0].split() == ["metier", "id", "name", "level", "link", "type", "formation"]
    assert "FOR.1" in lines[2] and (
        "associated + recommended" in lines[2] or "recommended + associated" in lines[2]
    )
    assert lines[-1] == "(1 row)"

    result = _cli(
        "--name", "search-metiers", "-p", "text=Developpeuse", "--graph", str(small_graph), "--format", "json"
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    data = json.loads(result.output)  # type: ignore[attr-defined]
    assert data["head"]["vars"] == ["text", "id", "name", "matched", "metier"]
    (row,) = data["results"]["bindings"]
    assert row["id"]["value"] == "MET.12" and row["matched"]["value"] == "développeuse informatique"
    assert row["metier"] == {"type": "uri", "value": f"{BASE}metier/MET.12"}

    result = _cli("search-metiers", "-p", "text=oenologue", "--graph", str(small_graph), "--format", "csv")
    assert result.exit_code == 0 and result.output.splitlines()[1].startswith("oenologue,MET.13,œnologue")  # type: ignore[attr-defined]

    result = _cli(
        "metiers-sharing-formations", "-p", "metier=MET.12", "--graph", str(small_graph), "--format", "tsv"
    )
    assert result.exit_code == 0 and '"MET.13"' in result.output  # type: ignore[attr-defined]


def test_cli_sparql_string_file_and_describe(small_graph: Path, tmp_path: Path) -> None:
    result = _cli(
        "SELECT (COUNT(*) AS ?n) WHERE { ?m a <https://w3id.org/onisep-kg/ontology#Metier> }",
        "--graph",
        str(small_graph),
    )
    assert result.exit_code == 0 and result.output.splitlines()[2].strip() == "2"  # type: ignore[attr-defined]
    query = tmp_path / "q.rq"
    query.write_text(
        "# @param ?code literal A ROME code, e.g. M18\n"
        "SELECT ?code ?c WHERE { ?c <http://www.w3.org/2004/02/skos/core#notation> ?code }\n"
    )
    result = _cli("--file", str(query), "-p", "code=M18", "--graph", str(small_graph), "--format", "csv")
    assert result.exit_code == 0 and result.output.splitlines()[1] == f"M18,{BASE}rome/M18"  # type: ignore[attr-defined]
    result = _cli("metier-card", "-p", f"metier={BASE}metier/MET.13", "--graph", str(small_graph))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    triples = list(ox.parse(result.output.encode(), format=ox.RdfFormat.TURTLE))  # type: ignore[attr-defined]
    assert len(triples) == 5 and "metier:MET.13" in result.output  # type: ignore[attr-defined]
    result = _cli("ASK { ?s ?p ?o }", "--graph", str(small_graph))
    assert result.exit_code == 0 and result.output == "true\n"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-query"], "there is no named query 'no-such-query'"),
        (["--name", "nope"], "there is no named query 'nope'"),
        (["formations-for-metier"], "needs the parameter metier"),
        (["formations-for-metier", "-p", "metier=MET.1", "-p", "rome=I"], "has no parameter rome"),
        (["formations-for-metier", "-p", "metier"], "is not of the form NAME=VALUE"),
        (["metier-card", "-p", "metier=MET.12"], "is not an absolute IRI"),
        (["metier-card", "-p", "metier=https://x y"], "is not an absolute IRI"),
        (["metiers-at-level", "-p", "level=bac"], "is not an integer"),
        (["SELECT ?x WHERE { ?x ?y }"], "the SPARQL query is not valid"),
        (["metier-card", "-p", f"metier={BASE}metier/MET.12", "--format", "csv"], "use --format turtle"),
        (["search-metiers", "-p", "text=x", "--format", "turtle"], "answers rows, not a graph"),
        ([], "no query given"),
        (["--name", "search-metiers", "ASK {}"], "give exactly one query"),
    ],
)
def test_cli_errors_are_one_sentence_and_exit_2(small_graph: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(query_command, [*args, "--graph", str(small_graph)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: ") and message in line


def test_cli_store_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(query_command, ["ASK {}", "--store", str(tmp_path / "none")])
    assert result.exit_code == 2 and "is not a store" in result.stderr
    result = CliRunner().invoke(query_command, ["ASK {}", "--graph", str(tmp_path / "none.ttl")])
    assert result.exit_code == 2 and "no graph file" in result.stderr
    bad = tmp_path / "bad.ttl"
    bad.write_text("<a> <b> .\n")
    result = CliRunner().invoke(query_command, ["ASK {}", "--graph", str(bad)])
    assert result.exit_code == 2 and "cannot be loaded" in result.stderr


def test_cli_reads_a_store_directory_read_only(small_graph: Path, tmp_path: Path) -> None:
    path = tmp_path / "store"
    store = ox.Store(str(path))
    store.load(path=str(small_graph), format=ox.RdfFormat.TRIG)
    store.flush()
    del store
    with EmbeddedStore(path) as loaded:  # the merge of the named graphs in the default graph
        loaded.rebuild_merge()
    store = ox.Store(str(path))
    quads = len(store)
    del store
    result = CliRunner().invoke(
        query_command, ["search-metiers", "-p", f"text={INJECTION}", "--store", str(path)]
    )
    assert result.exit_code == 0 and result.output.endswith("(0 rows)\n")
    result = CliRunner().invoke(
        query_command, ["search-metiers", "-p", "text=informatique", "--store", str(path)]
    )
    assert result.exit_code == 0 and "MET.12" in result.output
    assert len(ox.Store(str(path))) == quads


def test_cli_says_how_to_mend_a_store_without_the_merge(small_graph: Path, tmp_path: Path) -> None:
    """A store holding only named graphs (loaded by hand, or by an older onisep-kg) would answer
    nothing: the query command says so and how to build the merge."""
    path = tmp_path / "store"
    store = ox.Store(str(path))
    store.load(path=str(small_graph), format=ox.RdfFormat.TRIG)
    store.flush()
    del store
    result = CliRunner().invoke(
        query_command, ["search-metiers", "-p", "text=informatique", "--store", str(path)]
    )
    assert result.exit_code == 2 and "no merged default graph" in result.output
    assert f"onisep-kg load --store {path}" in result.output
