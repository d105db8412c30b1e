"""The ``onisep-kg`` command line, run in-process with click's ``CliRunner``.

Each test first moves to a known working directory (the repository root, or its temporary
folder), so the paths the commands print are the short relative ones a user would type and the
expected output can be written out exactly.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import shlex
import shutil
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner, Result

from pipeline import resources
from pipeline.cli import main

ROOT = Path(__file__).resolve().parent.parent
METIERS = resources.metier_fiches_dir()
README = ROOT / "README.md"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="onisep-kg")


def real(met_id: str) -> Path:
    (path,) = METIERS.glob(f"{met_id}_*.md")
    return path


def rel(path: Path) -> str:
    """``path`` relative to the repository root, as the commands print it from there."""
    return path.relative_to(ROOT).as_posix()


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    return ROOT


@pytest.fixture
def at_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- help and version ------------------------------------------------------------------------------
def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Usage: onisep-kg [OPTIONS] COMMAND [ARGS]..."
    commands = lines[lines.index("Commands:") + 1 :]
    assert [line.split()[0] for line in commands] == [
        "doctor",
        "ingest",
        "links",
        "load",
        "query",
        "serve",
        "validate",
    ]
    options = lines[lines.index("Options:") + 1 : lines.index("Commands:")]
    assert any(line.strip().startswith("--version") for line in options)
    assert any(line.strip().startswith("-h, --help") for line in options)
    assert run("-h").stdout == result.stdout


def test_ingest_help_lists_its_options() -> None:
    result = run("ingest", "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: onisep-kg ingest [OPTIONS] [PATHS]...\n")
    options = result.stdout.split("Options:\n", 1)[1]
    assert [line.split()[0] for line in options.splitlines() if line.startswith("  -")] == [
        "--out",
        "--strict",
        "--fiches-only",
        "--store",
        "--quiet",
        "--pyshacl",
        "--full",
        "--follow-symlinks",
        "-h,",
    ]
    assert "[default:" in options and "output]" in options


def test_validate_help_lists_its_options() -> None:
    result = run("validate", "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: onisep-kg validate [OPTIONS] FILES...\n")
    assert "Exit" in result.stdout and "codes: 0 no violation" in result.stdout.replace("\n  ", " ")
    options = result.stdout.split("Options:\n", 1)[1]
    assert [line.split()[0] for line in options.splitlines() if line.startswith("  -")] == [
        "--pyshacl",
        "-h,",
    ]


def test_version_comes_from_the_package_metadata() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"onisep-kg, version {importlib.metadata.version('onisep-kg')}\n"


def test_unknown_command_exits_2() -> None:
    result = run("frobnicate")
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.stderr


# -- validate --------------------------------------------------------------------------------------
def test_validate_met_799_finds_no_issue(at_root: Path) -> None:
    result = run("validate", rel(real("MET.799")))
    assert (result.exit_code, result.stdout) == (0, "No issues found\n")


def test_validate_prints_warnings_and_exits_0(at_root: Path) -> None:
    # MET.108 cites no ROME code: a warning (124 real fiches have none), not a violation
    fiche = real("MET.108")
    assert "**Codes ROME:**" not in fiche.read_text(encoding="utf-8")
    result = run("validate", rel(fiche))
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[-1] == "0 violations, 1 warning, 0 infos"
    assert len(lines) == 2
    assert lines[0].startswith(f"[WARNING] [{rel(fiche)}:2] ")  # line 2: the fiche's **ID:**
    assert "ROME" in lines[0]


def _fiches_citing(code: str) -> list[tuple[Path, int]]:
    hits = []
    for path in sorted(METIERS.glob("*.md")):
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            if line == f"- {code}":
                hits.append((path, number))
    return hits


@pytest.mark.parametrize("code", ["A15", "K15"])
def test_validate_a_malformed_rome_code_is_a_violation_at_its_line(at_root: Path, code: str) -> None:
    (fiche, line), *others = _fiches_citing(code)
    assert others == [], f"{code} is cited by more than one fiche"
    result = run("validate", rel(fiche))
    assert result.exit_code == 1, result.stdout
    lines = result.stdout.splitlines()
    prefix = f"[VIOLATION] [{rel(fiche)}:{line}] "
    assert [ln for ln in lines if ln.startswith(prefix)], f"no line starting {prefix!r}:\n{result.stdout}"
    violations = sum(1 for ln in lines if ln.startswith("[VIOLATION] "))
    assert re.fullmatch(rf"{violations} violations?, \d+ warnings?, \d+ infos?", lines[-1])


def test_validate_an_empty_file_exits_2(at_tmp: Path) -> None:
    Path("empty.md").write_bytes(b"")
    result = run("validate", "empty.md")
    assert result.exit_code == 2
    assert result.stdout.startswith("[ERROR] [empty.md:1] empty file")
    assert len(result.stdout.splitlines()) == 1


def test_validate_a_latin1_file_exits_2_at_the_first_bad_byte(at_tmp: Path) -> None:
    text = real("MET.102").read_text(encoding="utf-8")
    Path("latin1.md").write_bytes(text.encode("latin-1"))
    number = next(n for n, line in enumerate(text.split("\n"), 1) if not line.isascii())
    assert number == 5  # "- Féminin: collaboratrice …"
    result = run("validate", "latin1.md")
    assert result.exit_code == 2
    assert result.stdout.startswith("[ERROR] [latin1.md:5] not UTF-8: byte 0xE9 at column 4 ")
    assert len(result.stdout.splitlines()) == 1


def test_validate_a_missing_file_exits_2(at_tmp: Path) -> None:
    result = run("validate", "missing.md")
    assert result.exit_code == 2
    assert result.stdout == "[ERROR] [missing.md] cannot read: No such file or directory\n"


def test_validate_unusable_beats_violation(at_tmp: Path) -> None:
    shutil.copy(real("MET.323"), "a15.md")
    Path("empty.md").write_bytes(b"")
    result = run("validate", "a15.md", "empty.md")
    assert result.exit_code == 2
    assert "[ERROR] [empty.md:1] empty file" in result.stdout
    assert "[VIOLATION] [a15.md:23] " in result.stdout


# -- ingest ----------------------------------------------------------------------------------------
THREE = ("MET.799", "MET.323", "MET.108")  # clean; a malformed ROME code; no ROME code


def _ingest_three(folder: Path) -> Result:
    (folder / "in").mkdir()
    for met_id in THREE:
        shutil.copy(real(met_id), folder / "in" / real(met_id).name)
    return run("ingest", "in", "--out", "out", "--fiches-only")


def test_ingest_three_fiches_prints_the_summary_and_writes_the_files(at_tmp: Path) -> None:
    result = _ingest_three(at_tmp)
    assert result.exit_code == 0, result.output
    out = at_tmp / "out"
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    cache = [
        f".onisep-kg/{name}" for name in ("distinct.bin", "manifest.json", "referentials.json", "triples.bin")
    ]
    assert written == sorted(
        ["onisep-kg.jsonld", "onisep-kg.trig", "onisep-kg.ttl", "report.json", *cache]
        + [f"metiers/{m}{ext}" for m in THREE for ext in (".jsonld", ".ttl")]
    )
    triples = len(set(ox.parse(path=str(out / "onisep-kg.ttl"), format=ox.RdfFormat.TURTLE)))
    findings = json.loads((out / "report.json").read_text(encoding="utf-8"))["findings"]
    severities = Counter(f["severity"] for f in findings)
    by_shape = Counter((f["severity"], f["shape"]) for f in findings)
    assert severities["Violation"] >= 1 and severities["Warning"] >= 1

    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "fiches: 3 read, 3 ingested, 0 failed",
        f"triples: {triples} in the whole graph",
        "written: out/ (10 files)",
        "findings by shape:",
    ]
    rank = {"Violation": 0, "Warning": 1, "Info": 2}
    expected_rows = sorted(by_shape.items(), key=lambda kv: (rank[kv[0][0]], kv[0][1]))
    rows = lines[4 : 4 + len(expected_rows)]
    assert [tuple(row.split()) for row in rows] == [(s, shape, str(n)) for (s, shape), n in expected_rows]
    tally = ", ".join(
        f"{n} {word}{'' if n == 1 else 's'}"
        for n, word in (
            (severities["Violation"], "violation"),
            (severities["Warning"], "warning"),
            (severities["Info"], "info"),
        )
    )
    assert lines[4 + len(expected_rows)] == f"findings: {tally} (all of them in out/report.json)"
    timing = next(i for i, line in enumerate(lines) if line.startswith("time: "))
    violation_lines = lines[5 + len(expected_rows) : timing]
    assert len(violation_lines) == severities["Violation"]
    # Last, the time table: one row per stage with its item count.
    stages = [line.split() for line in lines[timing + 1 :]]
    assert [(row[0], row[3], row[4]) for row in stages] == [
        ("survey", "3", "fiches"),
        ("fiches", "3", "fiches"),
        ("write", f"{triples:,}", "triples"),
    ]
    assert all(line.startswith("  [VIOLATION] [in/MET.323_") for line in violation_lines)
    assert any(line.startswith(f"  [VIOLATION] [in/{real('MET.323').name}:23] ") for line in violation_lines)


def test_ingest_strict_exits_1_on_a_violation(at_tmp: Path) -> None:
    (at_tmp / "in").mkdir()
    shutil.copy(real("MET.323"), at_tmp / "in" / "a15.md")
    assert run("ingest", "in", "--out", "out", "--fiches-only").exit_code == 0
    result = run("ingest", "in", "--out", "out", "--fiches-only", "--strict")
    assert result.exit_code == 1
    assert "[VIOLATION] [in/a15.md:23] " in result.stdout


def test_ingest_a_missing_path_is_a_failure(at_tmp: Path) -> None:
    result = run("ingest", "nowhere", "--out", "out", "--fiches-only")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "fiches: 1 read, 0 ingested, 1 failed"
    assert "  nowhere: no such file or folder" in result.stdout.splitlines()


# -- the README ------------------------------------------------------------------------------------
def _readme_block(marker: str) -> list[list[str]] | None:
    """The shell steps (split on ``&&``) of the code block after ``<!-- marker -->``, if any."""
    text = README.read_text(encoding="utf-8")
    m = re.search(rf"<!-- {marker} -->\s*```[a-z]*\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    if m is None:
        return None
    steps = []
    for line in m[1].splitlines():
        line = line.strip().removeprefix("$ ")
        if line and not line.startswith("#"):
            steps += [shlex.split(step) for step in line.split("&&")]
    return steps


def _check_install(step: list[str], extras: dict[str, list[str]]) -> None:
    target = step[step.index("-e") + 1]
    m = re.fullmatch(r"\.(?:\[(?P<extras>[\w,-]+)\])?", target)
    assert m is not None, f"pip installs {target!r}, not this checkout"
    for extra in (m["extras"] or "").split(","):
        assert not extra or extra in extras, f"no optional dependency group {extra!r} in pyproject.toml"


def test_readme_main_and_test_commands_exist(at_root: Path) -> None:
    tomllib = pytest.importorskip("tomllib")
    main_steps, test_steps = _readme_block("main-command"), _readme_block("test-command")
    if main_steps is None and test_steps is None:
        pytest.skip("README.md has no main-command / test-command code block yet")
    assert main_steps and test_steps, "README.md has only one of the main and test commands"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    for step in main_steps + test_steps:
        program = Path(step[0]).name
        if program == "pip":
            _check_install(step, extras)
        elif program in project["scripts"]:
            assert project["scripts"][program] == "pipeline.cli:main"
            sub = [a for a in step[1:] if not a.startswith("-")][:1]
            result = run(*sub, "--help")
            assert result.exit_code == 0, f"README step {shlex.join(step)}: {result.output}"
        elif step[1:3] == ["-m", "pytest"] or program == "pytest":
            assert any(re.match(r"pytest\b", dep) for dep in extras.get("test", []))
            for arg in step[1:]:
                if arg.endswith(".py") or arg.startswith("tests"):
                    assert (ROOT / arg.split("::")[0]).exists(), f"README test path {arg} does not exist"
    assert any(Path(s[0]).name == "onisep-kg" for s in main_steps), "no onisep-kg in the main command"
    assert any("pytest" in s for s in test_steps), "no pytest in the test command"


# -- links -----------------------------------------------------------------------------------------
def test_links_counts_every_link_type_and_lists_the_unresolved() -> None:
    result = run("links", "--show", "50")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "links (resolved / total):"
    rows = {
        m[1]: (int(m[2]), int(m[3])) for m in re.finditer(r"^  (\S.*?)\s+(\d+) / (\d+)", result.stdout, re.M)
    }
    assert rows["métier → formation"] == (2394, 2433)
    assert rows["métier → ROME v3"] == (405, 407)
    assert rows["métier → ESCO"] == (918, 1043)
    assert rows["appellation → ESCO"] == (11118, 11118)
    assert rows["Idéo-Métiers item → métier"] == (1489, 1489)
    # the 39 FOR ids no formation source describes are each listed with the reason
    dangling = re.findall(
        r"^      (FOR\.\d+): no formation fiche nor Idéo record has this FOR id$", result.stdout, re.M
    )
    assert len(dangling) == 39
    assert "      A15: malformed ROME code: expected a letter and four digits (e.g. I1401)" in lines
