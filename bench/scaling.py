"""Scaling benchmark: ``onisep-kg ingest`` on the synthetic corpora, 1x to 100x, as a user runs it.

    .venv/bin/python bench/scaling.py [--factors 1 10 100] [--store] [--out DIR] [--json FILE]

For each factor (a corpus of FACTOR × 1,043 fiches made by ``bench/synth.py`` in
``bench/.corpus-<FACTOR>x/``, made when missing and reused after), one cold run of the command
``onisep-kg ingest --quiet --out DIR CORPUS`` in a new process (``--store``: with ``--store``,
loading the embedded store too), and a table of:

* wall time, and CPU time (user + system of that process and the processes it waited for);
* throughput: fiches per second and triples (of the whole graph) per second;
* ``vs 1x``: the throughput divided by the first factor's (1.00 = linear scaling; the first factor
  also pays the fixed costs — the referential graphs are the same size at every factor);
* peak memory: the RSS high-water mark of the biggest of those processes (``ru_maxrss`` from
  ``wait4``), and the bytes written.

``bench/pipeline.py`` times each stage and the baselines on one corpus; this one only asks how
the whole run grows with the corpus. The 100x run writes about 6 GB (the output folder is
removed after each run unless ``--keep``) and takes about a quarter of an hour on 2 CPUs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))

import synth  # noqa: E402  (bench/synth.py, beside this file)

MAIN = "import sys; from pipeline.cli import main; sys.argv[0] = 'onisep-kg'; main()"


def corpus(factor: int) -> Path:
    """The synthetic corpus of ``factor`` × the shipped fiches, made if missing."""
    folder = synth.default_out(factor)
    if not synth.corpus_is_current(folder, factor):
        print(f"  making the {factor}x synthetic corpus in {folder} …", file=sys.stderr)
        synth.make_corpus(factor, folder)
    return folder


@dataclass(frozen=True)
class CommandRun:
    """One ``onisep-kg`` command run in a new process, as a user runs it."""

    seconds: float  # wall time, interpreter start included
    cpu_seconds: float  # user + system of that process and the processes it waited for
    peak_mb: float  # the RSS high-water mark of the biggest of them (ru_maxrss from wait4)
    exit_code: int
    stderr_tail: str  # the end of what it printed on stderr

    def figures(self) -> dict[str, float]:
        return {
            "seconds": round(self.seconds, 4),
            "cpu_seconds": round(self.cpu_seconds, 4),
            "peak_mb": round(self.peak_mb, 1),
        }


def run_command(args: list[str]) -> CommandRun:
    """``onisep-kg ARGS`` (this checkout's package) in a new process: its own times and peak."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        command = [sys.executable, "-c", MAIN, *args]
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _pid, status, usage = os.wait4(child.pid, 0)  # this child's own CPU time and peak
        seconds = time.perf_counter() - started
        child.returncode = code = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        tail = errors.read().decode(errors="replace").strip()[-500:]
    return CommandRun(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code, tail)


def run_ingest(fiches: Path, out: Path, *, store: bool) -> dict[str, Any]:
    """One cold ``onisep-kg ingest`` of ``fiches`` into ``out``, in a new process."""
    shutil.rmtree(out, ignore_errors=True)
    args = ["ingest", "--quiet", "--out", str(out)]
    if store:
        args += ["--store", str(out / "store")]
    run = run_command([*args, str(fiches)])
    if run.exit_code not in (0, 1):  # 1: some fiche failed or a finding: still a complete run
        code, tail = run.exit_code, run.stderr_tail
        raise SystemExit(f"onisep-kg ingest {fiches} failed with exit code {code}: {tail}")
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    written = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return run.figures() | {
        "exit_code": run.exit_code,
        "fiches": report["fiches"],
        "failed": report["failed"],
        "triples": report["triples"],
        "written_mb": round(written / 1e6, 1),
    }


def table(rows: list[tuple[int, dict[str, Any]]]) -> str:
    header = (
        f"{'factor':>6} {'fiches':>9} {'triples':>12} {'wall s':>8} {'cpu s':>8} {'fiches/s':>9} "
        f"{'triples/s':>10} {'vs 1x':>6} {'peak MB':>8} {'written MB':>11}"
    )
    lines = [header, "-" * len(header)]
    base = None
    for factor, r in rows:
        rate = r["fiches"] / r["seconds"]
        base = base or rate
        lines.append(
            f"{factor:>5}x {r['fiches']:>9,} {r['triples']:>12,} "
            f"{r['seconds']:>8.1f} {r['cpu_seconds']:>8.1f} "
            f"{rate:>9.1f} {r['triples'] / r['seconds']:>10,.0f} {rate / base:>6.2f} {r['peak_mb']:>8,.0f} "
            f"{r['written_mb']:>11,.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 10, 100], metavar="FACTOR")
    parser.add_argument("--store", action="store_true", help="also load the embedded store (ingest --store)")
    parser.add_argument("--out", type=Path, default=BENCH / "_work" / "scaling", help="working folder")
    parser.add_argument("--keep", action="store_true", help="keep each factor's output folder")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} CPUs, load {[round(x, 2) for x in load]}; Python {sys.version.split()[0]}"
    )
    rows: list[tuple[int, dict[str, Any]]] = []
    for factor in args.factors:
        fiches = corpus(factor)
        out = args.out / f"{factor}x"
        print(
            f"  {factor}x: onisep-kg ingest{' --store' if args.store else ''} …", file=sys.stderr, flush=True
        )
        rows.append((factor, run_ingest(fiches, out, store=args.store)))
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({str(f): r for f, r in rows}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
