"""``onisep-kg doctor``: contradictions inside the fiches, as warnings with file and line.

The real corpus first (the figures below were checked by hand against the fiches and the
referentials, one by one), then each kind on a copy of the hot liner's fiche (MET.799) edited
in place so that its line numbers stay those of the real fiche, then the command line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import MET_799, METIERS, ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import resources
from pipeline.cli import main
from pipeline.doctor import (
    ERROR,
    FORMATION_BELOW,
    FORMATION_TWICE,
    KINDS,
    ROME_NOT_IN_V4,
    ROME_TWICE,
    ROUTE_BELOW,
    SALARY_RANGE,
    UNREADABLE,
    WARNING,
    DoctorReferentials,
    DoctorReport,
    Problem,
    check_record,
    doctor,
    load_doctor_referentials,
    route_level,
)
from pipeline.errors import InputError
from pipeline.ingest import display_path
from pipeline.levels import level_of
from pipeline.parse import parse_metier

# What the shipped corpus holds, each warning read against its fiche and referential by hand.
CORPUS_COUNTS = {
    FORMATION_BELOW: 4,  # MET.200 FOR.9877, MET.7859 FOR.795, MET.8076 FOR.1614, MET.812 FOR.795
    ROUTE_BELOW: 39,
    SALARY_RANGE: 4,  # MET.325, MET.351, MET.612, MET.934
    ROME_NOT_IN_V4: 2,  # A15 (MET.323), K15 (MET.8099): domain codes, in neither version
    FORMATION_TWICE: 0,
    ROME_TWICE: 0,
}


@pytest.fixture(scope="module")
def refs() -> DoctorReferentials:
    return load_doctor_referentials()


@pytest.fixture(scope="module")
def corpus_report(refs: DoctorReferentials) -> DoctorReport:
    """The shipped corpus checked from the repository root (its paths are relative to it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        return doctor(None, refs)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def real(met_id: str) -> Path:
    (path,) = METIERS.glob(f"{met_id}_*.md")
    return path


def derive(folder: Path, *edits: tuple[str, str], name: str = MET_799.name) -> Path:
    """A copy of MET.799 with each ``old`` line (found exactly once) replaced by ``new``."""
    text = MET_799.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, line: int) -> str:
    return path.read_text(encoding="utf-8").split("\n")[line - 1]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["doctor", *args], prog_name="onisep-kg")


# -- the real corpus ----------------------------------------------------------------------------
def test_the_corpus_counts_per_kind_are_those_verified_by_hand(corpus_report: DoctorReport) -> None:
    assert corpus_report.checked == 1043
    assert corpus_report.errors == []
    assert corpus_report.counts() == CORPUS_COUNTS
    assert len(corpus_report.problems) == sum(CORPUS_COUNTS.values()) == 49


def test_every_corpus_warning_names_a_real_file_and_the_line_it_is_about(
    corpus_report: DoctorReport,
) -> None:
    """Each warning's line is in its file and holds what the kind is about."""
    expected_line = {
        FORMATION_BELOW: re.compile(r"^- .* \(ID: FOR\.\d+\)$"),
        ROUTE_BELOW: re.compile(r"^\s+(?:#+ )?Niveau ", re.IGNORECASE),  # text or a heading
        SALARY_RANGE: re.compile(r"^\s+Entre \d+ et \d+ euros"),
        ROME_NOT_IN_V4: re.compile(r"^- [A-Z]\d+$"),
    }
    for problem in corpus_report.problems:
        path = ROOT / problem.source
        assert path.is_file(), problem
        lines = path.read_text(encoding="utf-8").split("\n")
        assert problem.line is not None and 1 <= problem.line <= len(lines), problem
        assert expected_line[problem.kind].match(lines[problem.line - 1]), problem
        # and the minimum access level line it names is the fiche's
        m = re.search(r"minimum access level \"([^\"]+)\" \(niveau \d, line (\d+)\)", problem.message)
        if problem.kind in (FORMATION_BELOW, ROUTE_BELOW):
            assert m is not None, problem
            assert lines[int(m[2]) - 1] == f"**Niveau d'accès minimum:** {m[1]}"


def test_the_corpus_warnings_are_sorted_by_file_then_line(corpus_report: DoctorReport) -> None:
    keys = [(p.source, p.line or 0) for p in corpus_report.problems]
    assert keys == sorted(keys)
    assert len({p.source for p in corpus_report.problems}) == 42


def test_real_warnings_word_for_word(corpus_report: DoctorReport) -> None:
    by_place = {(Path(p.source).name.split("_")[0], p.line): p for p in corpus_report.problems}
    assert by_place["MET.8076", 29].message == (
        "recommended formation FOR.1614 (chef de produit pour les entreprises de mode et "
        'd\'habillement) is at niveau 6 (certified niveau 6, exit level "bac + 4"), below the minimum '
        'access level "bac + 5" (niveau 7, line 22)'
    )
    assert by_place["MET.200", 96].message == (
        "recommended formation FOR.9877 (BPA ouvrier maraîcher) is at niveau 3 (certified niveau 3, "
        'exit level "CAP ou équivalent"), below the minimum access level "bac ou équivalent" '
        "(niveau 4, line 88)"
    )
    assert by_place["MET.612", 67].message == (
        'starting salary minimum 3333 is above its maximum 2830: "Entre 3333 et 2830 euros brut par mois"'
    )
    assert by_place["MET.323", 23].message == (
        "ROME code A15 is in neither ROME v4.60 nor ROME v3.46: it has the form of a ROME domain "
        "(a letter and 2 digits), not of a fiche code (a letter and 4 digits); the ROME v4.60 codes "
        "under A15 are A1501, A1502, A1503, A1504, A1505 and 6 more"
    )
    # a no-break-space spelling ("bac\xa0+\xa02") is read, and printed with plain spaces
    assert "\xa0" in line_of(real("MET.935"), 74)
    assert by_place["MET.935", 74].message == (
        'access route "Niveau bac + 2" (niveau 5) is below the minimum access level "bac + 5" '
        "(niveau 7, line 82)"
    )


def test_medical_doctorates_are_not_below_bac_plus_9(
    refs: DoctorReferentials, corpus_report: DoctorReport
) -> None:
    """The RNCP certifies the médecine doctorate at niveau 7 though it takes 9+ years: its exit
    level ("bac + 9 et plus", niveau 8) is what meets the médecin fiches' minimum."""
    medecine = refs.formations["FOR.794"]
    assert (medecine.certification, medecine.exit_wording, medecine.level) == (7, "bac + 9 et plus", 8)
    citing = [p for p in METIERS.glob("*.md") if "(ID: FOR.794)" in p.read_text(encoding="utf-8")]
    assert len(citing) == 17
    # nine of them ask for "bac + 9 et plus": the certification alone (niveau 7) would be below
    nine_years = [p for p in citing if "**Niveau d'accès minimum:** bac + 9 et plus" in p.read_text("utf-8")]
    assert len(nine_years) == 9
    assert medecine.certification is not None and medecine.certification < 8 == level_of("bac + 9 et plus")
    flagged = {p.source for p in corpus_report.problems if "FOR.794" in p.message}
    assert flagged == set()
    # FOR.795 (docteur en pharmacie, bac + 6) is below "bac + 9 et plus", and is reported
    assert {p.source for p in corpus_report.problems if "FOR.795" in p.message} == {
        rel(real("MET.7859")),
        rel(real("MET.812")),
    }


def test_every_minimum_wording_of_the_corpus_maps_to_a_level_but_autre_formation(
    corpus_report: DoctorReport,
) -> None:
    wordings = {
        m[1]
        for p in METIERS.glob("*.md")
        for m in re.finditer(r"^\*\*Niveau d'accès minimum:\*\* (.*)$", p.read_text(encoding="utf-8"), re.M)
    }
    assert len(wordings) == 16
    assert {w for w in wordings if level_of(w) is None} == {"autre formation"}


# -- level wordings -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("wording", "level"),
    [
        ("Niveau bac + 2", 5),
        ("Niveau bac+2", 5),
        ("Niveau Bac + 2", 5),
        ("Niveau bac +2", 5),
        ("Niveau bac+ 2", 5),
        ("Niveau bac\xa0+\xa02", 5),
        ("Niveau BAC", 4),
        ("Niveau baccalauréat", 4),
        ("Niveau bac : poste de chef d'équipe", 4),
        ("Niveau CAP-BEP", 3),
        ("Niveau CAP, bac pro", 4),  # the highest of the two
        ("Niveau bac + 4/5", 7),
        ("Niveau Bac +4/ 5", 7),
        ("Niveau bac + 4 et 5", 7),
        ("Niveau bac + 2/3", 6),
        ("Niveau bac + 5, bac + 6", 7),
        ("Niveau bac + 3 (reconnu bac + 2)", 6),
        ("Niveau bac + 4 au minimum", 6),
        ("Niveau bac + 6 minimum", 7),
        ("Niveau bac + 11", 8),
        ("Niveau bac + 5 et plus", None),  # open upwards: never below
        ("Niveau bac + 5 et +", None),
        ("Niveau bac\xa0+\xa06 et plus", None),
    ],
)
def test_route_level_reads_every_spelling_of_the_corpus(wording: str, level: int | None) -> None:
    assert route_level(wording) == level


# -- each kind on a fiche derived from MET.799 --------------------------------------------------
def test_the_real_hot_liner_fiche_has_no_warning(refs: DoctorReferentials) -> None:
    report = doctor([MET_799], refs)
    assert (report.checked, report.problems) == (1, [])


def test_spelling_variants_of_one_level_are_no_contradiction(
    refs: DoctorReferentials, tmp_path: Path
) -> None:
    """ "bac + 2", "Bac+2", "bac\xa0+\xa02"… are one level: no false warning from how it is written."""
    for minimum, route in [
        ("Bac+2", "Niveau bac+2"),
        ("bac\xa0+\xa02", "Niveau Bac + 2"),
        ("bac +2", "Niveau bac+ 2"),
    ]:
        path = derive(
            tmp_path,
            ("**Niveau d'accès minimum:** bac + 2", f"**Niveau d'accès minimum:** {minimum}"),
            ("            Niveau bac + 2", f"            {route}"),
        )
        report = doctor([path], refs)
        assert (report.checked, report.problems) == (1, []), minimum


def test_a_formation_below_the_minimum_is_reported_at_its_line(
    refs: DoctorReferentials, tmp_path: Path
) -> None:
    """Raise the hot liner's minimum to bac + 3: its BTS and its TP (niveau 5) fall below."""
    path = derive(tmp_path, ("**Niveau d'accès minimum:** bac + 2", "**Niveau d'accès minimum:** bac + 3"))
    report = doctor([path], refs)
    below = [p for p in report.problems if p.kind == FORMATION_BELOW]
    assert [p.line for p in below] == [106, 107, 111, 112]
    assert [re.search(r"FOR\.\d+", p.message)[0] for p in below] == [
        "FOR.5337",
        "FOR.5987",
        "FOR.8472",
        "FOR.9176",
    ]  # type: ignore[index]
    assert below[0] == Problem(
        FORMATION_BELOW,
        WARNING,
        display_path(path),
        106,
        "recommended formation FOR.5337 (BTS services informatiques aux organisations option B "
        "solutions logicielles et applications métiers) is at niveau 5 (certified niveau 5, exit "
        'level "bac + 2"), below the minimum access level "bac + 3" (niveau 6, line 102)',
    )
    # the BUT (niveau 6) meet it; the route "Niveau bac + 2" (line 88) is below it too
    assert [(p.kind, p.line) for p in report.problems if p.kind != FORMATION_BELOW] == [(ROUTE_BELOW, 88)]


def test_an_access_route_below_the_minimum_is_reported_at_its_line(
    refs: DoctorReferentials, tmp_path: Path
) -> None:
    path = derive(tmp_path, ("            Niveau bac + 2", "            Niveau bac"))
    report = doctor([path], refs)
    assert report.problems == [
        Problem(
            ROUTE_BELOW,
            WARNING,
            display_path(path),
            88,
            'access route "Niveau bac" (niveau 4) is below the minimum access level "bac + 2" '
            "(niveau 5, line 102)",
        )
    ]


def test_a_salary_range_upside_down_is_reported_at_its_line(refs: DoctorReferentials, tmp_path: Path) -> None:
    path = derive(
        tmp_path, ("A partir de 1801 euros brut par mois", "Entre 2100 et 1801,50 euros brut par mois")
    )
    report = doctor([path], refs)
    assert report.problems == [
        Problem(
            SALARY_RANGE,
            WARNING,
            display_path(path),
            72,
            "starting salary minimum 2100 is above its maximum 1801.50: "
            '"Entre 2100 et 1801,50 euros brut par mois"',
        )
    ]
    # a range in order, or equal bounds, is no contradiction
    for sentence in ("Entre 1801 et 2100 euros brut par mois", "Entre 1801 et 1801 euros brut par mois"):
        ok = derive(tmp_path, ("A partir de 1801 euros brut par mois", sentence))
        assert doctor([ok], refs).problems == []


def test_a_rome_code_of_neither_version_is_reported_at_its_line(
    refs: DoctorReferentials, tmp_path: Path
) -> None:
    domain = derive(tmp_path, ("- I1401\n", "- I14\n"))
    (problem,) = doctor([domain], refs).problems
    assert (problem.kind, problem.line) == (ROME_NOT_IN_V4, 19)
    assert problem.message == (
        "ROME code I14 is in neither ROME v4.60 nor ROME v3.46: it has the form of a ROME domain "
        "(a letter and 2 digits), not of a fiche code (a letter and 4 digits); the ROME v4.60 codes "
        "under I14 are I1401, I1402, I1403, I1404, I1405 and 5 more"
    )
    unknown = derive(tmp_path, ("- I1401\n", "- Z9999\n"))
    (problem,) = doctor([unknown], refs).problems
    assert (problem.line, problem.message) == (19, "ROME code Z9999 is in neither ROME v4.60 nor ROME v3.46")


def test_a_rome_code_retired_by_v4_names_its_successors(refs: DoctorReferentials, tmp_path: Path) -> None:
    """A ROME v4.60 without I1401's own row: I1401 is then in v3.46 only. Its successors are the
    v4.60 métiers filed under it (I1403…I1409) and where its appellations went (I1303, I1319,
    M1867: appellations whose v3 fiche was I1401)."""
    real_csv = resources.rome_v4_metiers_file().read_text(encoding="utf-8").split("\n")
    kept = [line for line in real_csv if not line.startswith('"I1401",')]
    assert len(kept) == len(real_csv) - 1
    trimmed = tmp_path / "rome_v4.csv"
    trimmed.write_text("\n".join(kept), encoding="utf-8")
    retired = load_doctor_referentials(rome_v4_metiers=trimmed)
    (problem,) = doctor([MET_799], retired).problems
    assert (problem.kind, problem.line) == (ROME_NOT_IN_V4, 19)
    assert problem.message == (
        "ROME code I1401 (Maintenance informatique et bureautique) is in ROME v3.46 but not in ROME "
        "v4.60, which retired it; its successors in ROME v4.60: "
        "I1303 (Technicien / Technicienne de maintenance de distributeurs automatiques), "
        "I1319 (Technicien / Technicienne de maintenance réseaux mobiles), "
        "I1403 (Technicien / Technicienne Datacenter), "
        "I1404 (Conseiller / Conseillère support technique informatique), "
        "I1405 (Administrateur / Administratrice bureautique), "
        "I1406 (Superviseur / Superviseuse hot line en informatique), "
        "I1409 (Agent / Agente de maintenance en bureautique), "
        "M1867 (Responsable des systèmes d'information (SI))"
    )


def test_codes_and_formations_given_twice_are_reported_at_the_second(
    refs: DoctorReferentials, tmp_path: Path
) -> None:
    path = derive(
        tmp_path,
        ("- I1401\n", "- I1401\n- I1401\n"),
        (
            "- TP technicien supérieur systèmes et réseaux (ID: FOR.9176)\n",
            "- TP technicien supérieur systèmes et réseaux (ID: FOR.9176)\n"
            "- BTS SIO option B (ID: FOR.5337)\n"
            "- TP technicien supérieur systèmes et réseaux (ID: FOR.9176)\n",
        ),
    )
    report = doctor([path], refs)
    assert [(p.kind, p.line, p.message) for p in report.problems] == [
        (ROME_TWICE, 20, "ROME code I1401 is listed twice (lines 19 and 20)"),
        (
            FORMATION_TWICE,
            114,
            'FOR.5337 is cited twice (lines 107 and 114) with different labels: "BTS services '
            'informatiques aux organisations option B solutions logicielles et …" and '
            '"BTS SIO option B"',
        ),
        (FORMATION_TWICE, 115, "FOR.9176 is cited twice (lines 113 and 115)"),
    ]


def test_a_fiche_that_does_not_parse_is_an_error_and_the_others_are_checked(
    refs: DoctorReferentials, tmp_path: Path
) -> None:
    derive(tmp_path, ("A partir de 1801 euros brut par mois", "Entre 2100 et 1801 euros brut par mois"))
    derive(tmp_path, ("**ID:** MET.799", "**ID:** 799"), name="MET.1_broken.md")
    (tmp_path / "MET.2_empty.md").write_bytes(b"")
    report = doctor([tmp_path, tmp_path / "missing.md"], refs)
    assert report.checked == 1
    assert [(Path(p.source).name, p.line, p.kind, p.severity) for p in report.problems] == [
        ("MET.1_broken.md", 2, UNREADABLE, ERROR),
        ("MET.2_empty.md", 1, UNREADABLE, ERROR),
        ("MET.799_hot_liner.md", 72, SALARY_RANGE, WARNING),
        ("missing.md", None, UNREADABLE, ERROR),
    ]
    assert report.problems[0].message == "expected '**ID:** MET.<n>', found '799'"


# -- any values: the checks agree with an independent oracle, and never crash -----------------
HOT_LINER = MET_799.read_text(encoding="utf-8")


def _checked(text: str, refs: DoctorReferentials) -> list[Problem]:
    return check_record(parse_metier(text.encode("utf-8"), "MET.799_hot_liner.md"), refs)


@settings(max_examples=150, deadline=None)
@given(low=st.integers(0, 10**6), high=st.integers(0, 10**6))
def test_any_salary_range_is_reported_exactly_when_upside_down(
    refs: DoctorReferentials, low: int, high: int
) -> None:
    text = HOT_LINER.replace("A partir de 1801 euros", f"Entre {low} et {high} euros")
    kinds = [(p.kind, p.line) for p in _checked(text, refs)]
    assert kinds == ([(SALARY_RANGE, 72)] if low > high else [])


@settings(max_examples=150, deadline=None)
@given(
    minimum=st.integers(0, 12),
    route=st.integers(0, 12),
    spelling=st.sampled_from(["bac + {}", "bac+{}", "Bac + {}", "bac +{}", "bac+ {}", "bac\xa0+\xa0{}"]),
)
def test_any_route_is_below_exactly_when_its_level_is(
    refs: DoctorReferentials, minimum: int, route: int, spelling: str
) -> None:
    """Whatever the years and however they are spelt, a route is reported iff its level (the
    mapper's level_of) is below the minimum's."""
    text = HOT_LINER.replace(
        "**Niveau d'accès minimum:** bac + 2", f"**Niveau d'accès minimum:** {spelling.format(minimum)}"
    ).replace("            Niveau bac + 2\n", f"            Niveau {spelling.format(route)}\n")
    routes = [p.line for p in _checked(text, refs) if p.kind == ROUTE_BELOW]
    floor = level_of(f"bac + {minimum}")
    assert floor is not None
    expected = [88] if level_of(f"bac + {route}") < floor else []  # type: ignore[operator]
    expected += [96] if level_of("bac + 3") < floor else []  # type: ignore[operator]  # the fiche's other route
    assert routes == expected


@settings(max_examples=100, deadline=None)
@given(line=st.integers(1, 120), junk=st.text(st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_any_inserted_line_never_breaks_the_check(refs: DoctorReferentials, line: int, junk: str) -> None:
    """A line of anything, anywhere: the fiche is checked or refused with a ParseError, and each
    warning points inside the fiche."""
    lines = HOT_LINER.split("\n")
    lines.insert(line, junk)
    text = "\n".join(lines)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # as the parser reads them
    try:
        problems = _checked(text, refs)
    except InputError as exc:
        assert exc.line is not None and 1 <= exc.line <= len(lines)
        return
    assert all(p.line is not None and 1 <= p.line <= len(lines) for p in problems)


# -- the command line ---------------------------------------------------------------------------
@pytest.fixture
def at_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


SUMMARY_ZERO = "".join(f"  {kind:<26}  {0:>5}\n" for kind in KINDS)


def test_cli_prints_each_problem_then_the_summary(at_tmp: Path) -> None:
    derive(at_tmp, ("A partir de 1801 euros brut par mois", "Entre 2100 et 1801 euros brut par mois"))
    derive(at_tmp, ("**ID:** MET.799", "**ID:** 799"), name="MET.1_broken.md")
    result = run(".")
    assert result.exit_code == 1
    assert result.stdout == (
        "[ERROR] [MET.1_broken.md:2] expected '**ID:** MET.<n>', found '799' (unreadable)\n"
        "[WARNING] [MET.799_hot_liner.md:72] starting salary minimum 2100 is above its maximum 1801: "
        '"Entre 2100 et 1801 euros brut par mois" (salary-min-above-max)\n'
        "fiches: 1 checked, 1 unreadable; 1 warning\n"
        "  formation-below-minimum         0\n"
        "  access-route-below-minimum      0\n"
        "  salary-min-above-max            1\n"
        "  rome-code-not-in-v4             0\n"
        "  formation-cited-twice           0\n"
        "  rome-code-listed-twice          0\n"
    )


def test_cli_warnings_alone_exit_0_and_strict_makes_them_fail(at_tmp: Path) -> None:
    derive(at_tmp, ("            Niveau bac + 2", "            Niveau bac"))
    line = (
        '[WARNING] [MET.799_hot_liner.md:88] access route "Niveau bac" (niveau 4) is below the minimum '
        'access level "bac + 2" (niveau 5, line 102) (access-route-below-minimum)\n'
    )
    result = run("MET.799_hot_liner.md")
    assert (result.exit_code, result.stdout.split("fiches:")[0]) == (0, line)
    assert run("--strict", "MET.799_hot_liner.md").exit_code == 1
    clean = run(str(MET_799), "--strict")
    assert clean.exit_code == 0
    assert clean.stdout == "fiches: 1 checked, 0 unreadable; 0 warnings\n" + SUMMARY_ZERO


def test_cli_json_lists_every_problem(at_tmp: Path) -> None:
    derive(at_tmp, ("- I1401\n", "- I1401\n- I1401\n"))
    result = run("--format", "json", ".", "missing.md")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {
            "kind": ROME_TWICE,
            "severity": "warning",
            "file": "MET.799_hot_liner.md",
            "line": 20,
            "message": "ROME code I1401 is listed twice (lines 19 and 20)",
        },
        {
            "kind": UNREADABLE,
            "severity": "error",
            "file": "missing.md",
            "line": None,
            "message": "no such file or folder",
        },
    ]


def test_cli_an_unreadable_referential_stops_the_run_with_exit_2(
    at_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resources, "rome_v4_metiers_file", lambda: at_tmp / "gone.csv")
    result = run(str(MET_799))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "Error: gone.csv: cannot read: No such file or directory\n"


def test_cli_on_the_shipped_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run()
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-7:] == [
        "fiches: 1043 checked, 0 unreadable; 49 warnings",
        *(f"  {kind:<26}  {n:>5}" for kind, n in CORPUS_COUNTS.items()),
    ]
    assert len(lines) == 49 + 7
    assert lines[0] == (
        "[WARNING] [seeds/onisep-fiches/metiers/MET.100_développeureuse_rurale_humanitaire.md:71] "
        'access route "Niveau bac + 2" (niveau 5) is below the minimum access level "bac + 3" '
        "(niveau 6, line 89) (access-route-below-minimum)"
    )
    assert run("--strict").exit_code == 1
