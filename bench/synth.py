"""Synthetic corpus for the pipeline benchmark: the real fiches métiers, copied ``factor`` times.

    .venv/bin/python bench/synth.py --factor 100 [--out DIR] [--seed 0] [--limit N] [--check]

Writes ``factor`` × (the 1,043 shipped fiches) files to ``DIR`` (default ``bench/.corpus-<factor>x/``,
git-ignored). Copy ``k`` of a fiche:

* gets a new MET id, unique and disjoint from the real ones (the real ids stay below
  :data:`FIRST_ID`): the ``**ID:** MET.n`` line and the file name ``MET.n_<slug>.md`` carry it;
* has its name lines varied — the title, every ``- Féminin:``/``- Masculin:`` form and the
  ``### <appellation>`` headings of "Autres appellations" end with a tag such as ``(Azur 3)`` —
  and about a third of its long prose sentences end with an extra sentence, chosen from the seed
  and the new id, so the copy's triples differ from the original's;
* keeps its structure (fields, sections, salary and access-route lines are untouched) and the
  FOR ids and ROME codes it cites, so the referentials still link.

The output is deterministic for a given ``(factor, seed, sources)``. ``--check`` parses every
written fiche with :func:`pipeline.parse.parse_metier` and fails if one does not parse (about a
half-minute for 100,000 fiches; writing them takes about ten seconds).

Importable: :func:`make_corpus` (``bench/pipeline.py`` uses it) and :func:`check_corpus`.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))  # the `pipeline` package, not bench/pipeline.py

from pipeline import resources  # noqa: E402
from pipeline.errors import InputError  # noqa: E402
from pipeline.ingest import collect_fiches  # noqa: E402
from pipeline.parse import parse_metier  # noqa: E402

FIRST_ID = 1_000_000  # synthetic MET ids start here; the real ones are below 10,000
MANIFEST = "corpus.json"  # written beside the fiches: what was generated (not a *.md, so not a fiche)
GENERATOR_VERSION = 1
SENTENCE_SHARE = 0.33  # share of long prose lines that get an extra sentence
LONG_LINE = 81  # prose lines at least this long may be varied (access routes are ≤ 80 chars)

TAGS = (
    "Azur", "Brume", "Cèdre", "Dune", "Érable", "Falaise", "Givre", "Houle", "Iris", "Jade",
    "Lagune", "Mistral", "Nacre", "Orge", "Pollen", "Quartz", "Roseau", "Saule", "Tilleul", "Vallon",
)  # fmt: skip
SENTENCES = (
    "Cette variante sert au banc d'essai du pipeline.",
    "Les conditions d'exercice varient selon la région et l'employeur.",
    "Une expérience préalable est souvent appréciée par les recruteurs.",
    "Le travail en équipe y occupe une place importante.",
    "Des évolutions de carrière sont possibles avec l'expérience.",
    "La maîtrise des outils numériques devient indispensable.",
)

_ID_RE = re.compile(r"^\*\*ID:\*\*\s*MET\.\d+\s*$")
_GENDER_RE = re.compile(r"^- (?:Féminin|Masculin)\s*:\s*\S")
_SALARY_HEADING = "salaire du débutant"
_OTHER_NAMES = "## Autres appellations"


@dataclass(frozen=True, slots=True)
class _Template:
    """One real fiche, split into lines, with the lines a copy changes."""

    slug: str
    lines: tuple[str, ...]
    id_line: int
    name_lines: tuple[int, ...]  # title, gendered forms, appellation headings: always tagged
    prose_lines: tuple[int, ...]  # long sentences: some get an extra sentence


def default_out(factor: int) -> Path:
    """``bench/.corpus-<factor>x/``."""
    return Path(__file__).resolve().parent / f".corpus-{factor}x"


def real_fiches() -> list[Path]:
    """The shipped fiches métiers, sorted."""
    files, _missing = collect_fiches([resources.metier_fiches_dir()])
    return files


def _template(path: Path) -> _Template:
    lines = path.read_bytes().decode("utf-8-sig").split("\n")
    id_line: int | None = None
    title_seen = False
    names: list[int] = []
    prose: list[int] = []
    section = ""
    after_salary = False
    for i, raw in enumerate(lines):
        text = raw.strip()
        if not text:
            continue
        if not title_seen:
            if not raw.startswith("# "):
                raise ValueError(f"{path}: expected the title line '# <nom du métier>' first")
            title_seen = True
            names.append(i)
            continue
        if id_line is None and _ID_RE.match(raw):
            id_line = i
        elif raw.startswith("## "):
            section = raw.rstrip()
        elif _GENDER_RE.match(raw) or (section == _OTHER_NAMES and raw.startswith("### ")):
            names.append(i)
        elif (
            len(text) >= LONG_LINE
            and text.endswith(".")
            and not after_salary
            and text[0] not in "#-*"
            and not text.lower().startswith("niveau")
        ):
            prose.append(i)
        after_salary = text.lstrip("#").strip().lower() == _SALARY_HEADING
    if id_line is None:
        raise ValueError(f"{path}: no '**ID:** MET.<n>' line")
    slug = path.stem.split("_", 1)[1] if "_" in path.stem else "metier"
    return _Template(slug, tuple(lines), id_line, tuple(names), tuple(prose))


def _copy(template: _Template, number: int, tag: str, rng: random.Random) -> str:
    lines = list(template.lines)
    lines[template.id_line] = f"**ID:** MET.{number}"
    for i in template.name_lines:
        lines[i] = f"{lines[i].rstrip()} ({tag})"
    for i in template.prose_lines:
        if rng.random() < SENTENCE_SHARE:
            lines[i] = f"{lines[i].rstrip()} {rng.choice(SENTENCES)} ({tag})"
    return "\n".join(lines)


def make_corpus(
    factor: int,
    out: Path,
    seed: int = 0,
    *,
    limit: int | None = None,
    sources: Sequence[Path] | None = None,
) -> list[Path]:
    """Write ``factor`` synthetic copies of each source fiche into ``out``; return their paths.

    ``sources`` are the fiches to grow from (default: the shipped corpus), ``limit`` keeps the
    first ``limit`` of them. Copy ``k`` (1-based) of source ``i`` gets the id
    ``MET.<FIRST_ID + (k - 1) × len(sources) + i>``. Fiches (``MET.*.md``) left in ``out`` by an
    earlier run are removed first; a ``corpus.json`` manifest records what was written.
    """
    if factor < 1:
        raise ValueError("factor must be at least 1")
    chosen = list(sources) if sources is not None else real_fiches()
    if limit is not None:
        chosen = chosen[:limit]
    templates = [_template(p) for p in chosen]
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("MET.*.md"):
        old.unlink()
    written: list[Path] = []
    for k in range(1, factor + 1):
        tag = f"{random.Random(seed * 1_000_003 + k).choice(TAGS)} {k}"
        for i, template in enumerate(templates):
            number = FIRST_ID + (k - 1) * len(templates) + i
            text = _copy(template, number, tag, random.Random(seed * 1_000_003 + number))
            path = out / f"MET.{number}_{template.slug}.md"
            path.write_bytes(text.encode("utf-8"))
            written.append(path)
    manifest = {
        "generator": GENERATOR_VERSION,
        "factor": factor,
        "seed": seed,
        "sources": len(templates),
        "fiches": len(written),
        "first_id": FIRST_ID,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return written


def corpus_is_current(out: Path, factor: int, seed: int = 0, *, sources: int | None = None) -> bool:
    """Whether ``out`` already holds the corpus :func:`make_corpus` would write (by its manifest)."""
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    expected = sources if sources is not None else len(real_fiches())
    return (
        manifest.get("generator") == GENERATOR_VERSION
        and manifest.get("factor") == factor
        and manifest.get("seed") == seed
        and manifest.get("sources") == expected
        and sum(1 for _ in out.glob("MET.*.md")) == factor * expected
    )


def check_corpus(paths: Sequence[Path]) -> list[str]:
    """Parse every fiche; return one message per fiche that does not parse (empty: all good)."""
    problems: list[str] = []
    for path in paths:
        try:
            parse_metier(path.read_bytes(), str(path))
        except (OSError, InputError) as exc:
            problems.append(f"{path}: {exc}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--factor", type=int, required=True, help="copies of each real fiche")
    parser.add_argument("--out", type=Path, help="output folder (default bench/.corpus-<factor>x/)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, help="grow from the first N real fiches only")
    parser.add_argument("--check", action="store_true", help="parse every written fiche")
    args = parser.parse_args(argv)
    out = args.out or default_out(args.factor)
    started = time.perf_counter()
    paths = make_corpus(args.factor, out, args.seed, limit=args.limit)
    print(f"wrote {len(paths)} fiches to {out} in {time.perf_counter() - started:.1f} s")
    if args.check:
        started = time.perf_counter()
        problems = check_corpus(paths)
        for problem in problems[:20]:
            print(problem, file=sys.stderr)
        print(f"parsed {len(paths)} fiches in {time.perf_counter() - started:.1f} s: {len(problems)} failed")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
