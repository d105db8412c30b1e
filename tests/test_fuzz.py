"""Property and fuzz tests of the fiche parser (issue 6, "Hard to break").

* Round trip: every shipped fiche, parsed, rendered back to text (``fiche_strategies.render_metier``)
  and parsed again, gives the same record; so does every record hypothesis draws
  (``metier_records()``: ids, names and gendered forms, other appellations, ROME codes, FOR
  formations, levels, statuses, interests, extra fields, sections with parts, study durations,
  access routes, salaries). Records are compared field by field, line numbers included; only
  ``sha256`` is filled in from the rendered bytes (it is their hash: no record drawn before the
  text exists can know it).
* Mutations of the real fiches (truncated, lines deleted, duplicated, shuffled, headings at the
  wrong level, control and zero-width characters, CR/CRLF line ends, BOMs, Latin-1, lines of up
  to 300,000 characters made to make a regular expression backtrack, binary garbage, stray
  structure lines) either parse, with every non-blank line in the record or in its issues, or
  fail with :class:`~pipeline.errors.ParseError` naming the file and the line — never another
  exception, never a hang: each parse runs in a worker process with a time budget
  (``ParseWorker``), so a parse that hangs fails the test instead of the run. A few mutated
  fiches go through the real ``ingest()`` beside good ones: the run goes on and writes them.

Budget: a fixed seed (``derandomize=True``, no example database) and a bounded number of
examples, so the default ``pytest`` run is reproducible and takes well under two minutes here.
For a longer run, set ``ONISEP_KG_FUZZ_EXAMPLES`` (the examples of each property test; the
ingest test takes one for 200)::

    ONISEP_KG_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py --hypothesis-show-statistics

``ONISEP_KG_FUZZ_SEED=<n>`` then draws other examples than the fixed ones.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fiche_strategies import (
    BLOCK_FIELDS,
    FICHES,
    MUTATIONS,
    Hang,
    ParseWorker,
    metier_records,
    mutated_fiches,
    render_metier,
)
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from pipeline.ingest import Pipeline, display_path, ingest
from pipeline.parse import FIELD_RE, MAX_FICHE_BYTES, MET_ID_RE, decode, parse_metier
from pipeline.records import MetierRecord

BUDGET = 20.0  # seconds for one parse (a real fiche takes about a millisecond)
EXAMPLES = int(os.environ.get("ONISEP_KG_FUZZ_EXAMPLES", "0"))
SEED = os.environ.get("ONISEP_KG_FUZZ_SEED")


def fuzz_settings(examples: int, *, share: int = 1) -> Any:
    """The fixed seed and budget of the default run. ``ONISEP_KG_FUZZ_EXAMPLES`` raises the
    number of examples (divided by ``share`` for a slow test); ``ONISEP_KG_FUZZ_SEED`` draws
    examples of a seed of one's own instead of the fixed ones."""

    def decorate(test: Any) -> Any:
        test = settings(
            max_examples=max(EXAMPLES // share, examples) if EXAMPLES else examples,
            derandomize=SEED is None,
            database=None,
            deadline=None,  # the worker's budget detects a hang; a slow shared machine is not one
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            # no "explain" phase: it re-runs the failing case many times, 20 s each if it hangs
            phases=[p for p in Phase if p != Phase.explain],
        )(test)
        return seed(int(SEED))(test) if SEED is not None else test

    return decorate


@pytest.fixture(scope="module")
def worker() -> Iterator[ParseWorker]:
    w = ParseWorker(BUDGET)
    yield w
    w.close()


# -- round trip ------------------------------------------------------------------------------------
def assert_same_record(actual: MetierRecord, expected: MetierRecord) -> None:
    for f in dataclasses.fields(MetierRecord):
        got, want = getattr(actual, f.name), getattr(expected, f.name)
        assert got == want, f"{f.name}: parsed {got!r}\nexpected {want!r}"


def _round_trip(record: MetierRecord, style: int) -> None:
    data = render_metier(record, style=style).encode("utf-8")
    expected = dataclasses.replace(record, sha256=hashlib.sha256(data).hexdigest())
    assert_same_record(parse_metier(data, record.source), expected)


@pytest.mark.parametrize("style", [0, 1, 2])
def test_every_shipped_fiche_rendered_back_parses_to_the_same_record(style: int) -> None:
    assert len(FICHES) == 1043
    for path in FICHES:
        _round_trip(parse_metier(path.read_bytes(), str(path)), style)


@fuzz_settings(500)
@given(record=metier_records(), style=st.integers(0, 5))
def test_a_drawn_record_rendered_parses_back_to_the_same_record(record: MetierRecord, style: int) -> None:
    _round_trip(record, style)


def test_the_record_comparison_names_the_field_that_differs() -> None:
    path = FICHES[0]
    record = parse_metier(path.read_bytes(), str(path))
    assert record.salary is not None
    with pytest.raises(AssertionError, match="^salary: parsed"):
        assert_same_record(record, dataclasses.replace(record, salary=None))


# -- mutations of the real fiches ------------------------------------------------------------------
def record_lines(record: MetierRecord) -> set[int]:
    """Every line the record holds a value of, or reports an issue on."""
    lines = {record.title.line, record.id_line}
    items = [*record.rome_codes, *record.statuses, *record.interests]
    for a in [record.appellation, *record.other_appellations]:
        items += [i for i in (a.label, a.feminine, a.masculine) if i is not None]
    if record.access_level is not None:
        items.append(record.access_level)
    for section in record.sections:
        lines.add(section.line)
        for part in section.parts:
            items += [*([part.heading] if part.heading else []), *part.paragraphs]
    for f in record.extra_fields:
        lines.add(f.line)
        items += f.items
    lines |= {i.line for i in items} | {r.line for r in record.formations} | {i.line for i in record.issues}
    return lines


def check_outcome(result: tuple[Any, ...], data: bytes, source: str) -> None:
    """A record that keeps every line, or the documented error naming the file and a line."""
    kind = result[0]
    assert kind != "crash", f"{source}: parse_metier raised another exception:\n{result[1]}"
    if kind == "error":
        _kind, name, where, line, message = result
        assert name == "ParseError" and where == source and message
        lines = data.count(b"\n") + data.count(b"\r") + 1
        assert line is None or 1 <= line <= lines, f"line {line} of a {lines}-line file"
        return
    record: MetierRecord = result[1]
    assert record.source == source and MET_ID_RE.match(record.metier_id)
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert [i.line for i in record.issues] == sorted(i.line for i in record.issues)
    text_lines = decode(data, source).split("\n")
    covered = record_lines(record)
    lost = []
    for number, raw in enumerate(text_lines, 1):
        if not raw.strip() or number in covered:
            continue
        field = FIELD_RE.match(raw.strip()) if raw[0] not in " \t" else None
        if field is not None and field["key"].strip() in BLOCK_FIELDS and not field["value"].strip():
            continue  # "**Codes ROME:**": its values are its items
        lost.append((number, raw[:80]))
    assert not lost, f"{source}: lines in neither the record nor its issues: {lost[:5]}"


def _parse_checked(worker: ParseWorker, name: str, mutations: tuple[str, ...], data: bytes) -> None:
    source = f"in/{name}"
    try:
        result = worker.parse(data, source)
    except Hang as exc:
        raise AssertionError(f"{exc} after {mutations}") from None
    check_outcome(result, data, source)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@fuzz_settings(50)
@given(data=st.data())
def test_each_mutation_of_real_fiches_parses_or_fails_as_documented(
    worker: ParseWorker, mutation: str, data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(FICHES), label="fiche")
    mutated = MUTATIONS[mutation](data.draw, path.read_bytes())
    _parse_checked(worker, path.name, (mutation,), mutated)


@fuzz_settings(800)
@given(case=mutated_fiches())
def test_mixed_mutations_of_real_fiches_parse_or_fail_as_documented(
    worker: ParseWorker, case: tuple[str, tuple[str, ...], bytes]
) -> None:
    _parse_checked(worker, *case)


def test_a_50_mb_line_is_refused_by_its_size_with_file_and_limit() -> None:
    data = FICHES[0].read_bytes() + b"x" * (50 * 1024 * 1024) + b"\n"
    with pytest.raises(Exception) as caught:
        parse_metier(data, "in/huge.md")
    exc = caught.value
    assert type(exc).__name__ == "ParseError"
    assert (exc.source, exc.line) == ("in/huge.md", None)
    assert f"{len(data):,} bytes" in exc.message and f"{MAX_FICHE_BYTES:,} bytes" in exc.message


# -- regressions: what the fuzzing found -----------------------------------------------------------
LONG = 1_000_000  # characters: minutes, at least, for the quadratic patterns; a second now


@pytest.mark.parametrize(
    ("line", "check"),
    [
        # a formation item: "^(?P<label>.*?)\s*\(ID:…" shared the spaces between its lazy label
        # and its \s*: 8,000 spaces took 0.13 s, 100,000 about 20 s, a million over half an hour
        pytest.param(
            "- x" + " " * LONG + "(ID: FOR.1)",
            lambda r: [(f.label, f.formation_id) for f in r.formations] == [("x", "FOR.1")],
            id="formation-spaces",
        ),
        pytest.param(
            "- x" + " " * LONG + "y",
            lambda r: r.formations == [] and [i.line for i in r.issues if "FOR" in i.message] == [4],
            id="formation-spaces-no-id",
        ),
    ],
)
def test_a_formation_line_of_a_million_spaces_parses_within_the_budget(
    worker: ParseWorker, line: str, check: Any
) -> None:
    text = f"# t\n**ID:** MET.1\n## Formations recommandées\n{line}\n"
    kind, record = worker.parse(text.encode(), "in/long.md")[:2]
    assert kind == "ok" and check(record)


@pytest.mark.parametrize(
    ("sentence", "minimum"),
    [
        # the number's [\d ]* and the \s+ before "euros" shared the spaces: quadratic again
        ("A partir de 1" + " " * LONG + "x", None),
        ("1" + " " * LONG + "x", None),
        ("Entre 1" + " " * LONG + "et 2 euros", None),
        ("A partir de 1" + " " * LONG + "euros brut par mois", "1"),
        ("1 " * (LONG // 2) + "x", None),
        ("1 801,50 euros" + " " * LONG + "par mois", "1801.50"),
    ],
    ids=["from", "single", "between", "from-euros", "digits-and-spaces", "grouped-euros"],
)
def test_a_salary_line_of_a_million_spaces_parses_within_the_budget(
    worker: ParseWorker, sentence: str, minimum: str | None
) -> None:
    text = f"# t\n**ID:** MET.1\n## Salaire\n### Salaire du débutant\n{sentence}\n"
    kind, record = worker.parse(text.encode(), "in/long.md")[:2]
    assert kind == "ok" and record.salary is not None
    assert record.salary.raw.text == sentence.strip()
    assert record.salary.min_value == (None if minimum is None else Decimal(minimum))


# -- mutated fiches through the real ingest --------------------------------------------------------
GOOD = ("MET.10", "MET.11", "MET.799")


def _real(met_id: str) -> Path:
    (path,) = (p for p in FICHES if p.name.startswith(f"{met_id}_"))
    return path


OTHERS = [p for p in FICHES if not p.name.startswith(tuple(f"{m}_" for m in GOOD))]


@fuzz_settings(4, share=200)  # (an ingest takes about half a second)
@given(cases=st.lists(mutated_fiches(OTHERS), min_size=2, max_size=4))
def test_mutated_fiches_beside_good_ones_the_ingest_goes_on_and_writes_the_good(
    pipeline: Pipeline, cases: list[tuple[str, tuple[str, ...], bytes]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "in", Path(tmp) / "out"
        folder.mkdir()
        for met_id in GOOD:
            shutil.copy(_real(met_id), folder / _real(met_id).name)
        mutated = {}
        for n, (name, _mutations, data) in enumerate(cases):
            path = folder / f"zz{n}_{name}"
            path.write_bytes(data)
            mutated[display_path(path)] = data
        report = ingest([folder], out, pipeline=pipeline, with_referentials=False)

        outcomes = {o.source: o for o in report.outcomes}
        assert len(outcomes) == len(GOOD) + len(cases)
        good = {o.metier_id for o in report.outcomes if o.failure is None}
        assert set(GOOD) <= good
        for source in mutated:
            failure = outcomes[source].failure
            if failure is not None:
                assert failure.source == source and failure.message
                assert failure.line is None or failure.line >= 1
        for metier_id in good:  # every fiche written parses back (the mutated ones included)
            for ext, fmt in (("ttl", ox.RdfFormat.TURTLE), ("jsonld", ox.RdfFormat.JSON_LD)):
                assert list(ox.parse(path=str(out / "metiers" / f"{metier_id}.{ext}"), format=fmt))
        whole = list(ox.parse(path=str(out / "onisep-kg.trig"), format=ox.RdfFormat.TRIG))
        assert len({q.triple for q in whole}) == report.graph_triples
        listed = json.loads((out / "report.json").read_text(encoding="utf-8"))
        assert listed["failed"] == len(report.failures)


def test_the_inline_value_of_a_block_field_is_kept_as_an_issue() -> None:
    # found by the "insert-chars" mutation: "**Codes ROME:**\x01" lost its "\x01"; so would
    # "**Codes ROME:** I1401" its code (a block field's values are its "- " items)
    text = "# t\n**ID:** MET.1\n**Appellations:** hot liner\n- Féminin: a\n**Codes ROME:** I1401\n- I1402\n"
    record = parse_metier(text.encode(), "in/inline.md")
    assert [i.text for i in record.rome_codes] == ["I1402"]
    assert [(i.line, i.text) for i in record.issues] == [(3, "hot liner"), (5, "I1401")]
    assert record.issues[1].message == (
        "unexpected text after '**Codes ROME:**'; expected its values as '- ' items"
    )
    check_outcome(("ok", record), text.encode(), "in/inline.md")


@pytest.mark.parametrize("digits", ["٧٩٩", "７９９", "7٩9"])
def test_ids_are_made_of_ascii_digits(digits: str) -> None:
    # "\d" took any Unicode digit: "MET.٧٩٩" was ingested, as files "MET.٧٩٩.ttl" and an IRI of
    # its own, beside the shapes' violation
    data = _real("MET.799").read_bytes().replace(b"**ID:** MET.799\n", f"**ID:** MET.{digits}\n".encode())
    with pytest.raises(Exception) as caught:
        parse_metier(data, "in/digits.md")
    assert type(caught.value).__name__ == "ParseError" and caught.value.line == 2
    assert caught.value.message == f"expected '**ID:** MET.<n>', found 'MET.{digits}'"
    text = f"# t\n**ID:** MET.1\n## Formations recommandées\n- BTS (ID: FOR.{digits})\n"
    record = parse_metier(text.encode(), "in/digits.md")
    assert record.formations == [] and [i.text for i in record.issues][-1] == f"BTS (ID: FOR.{digits})"
