"""Time every named query on the whole graph, in memory or in a persistent embedded store.

    .venv/bin/python bench/queries.py [GRAPH.ttl|.trig] [--repeat N]
    .venv/bin/python bench/queries.py --store DIR [--repeat N] [--warmup N] [--budget MS] [--strict]

(``--queries-dir DIR`` times the ``.rq`` files of another folder, e.g. an older copy, instead.)

With a graph file (default ``output/onisep-kg.ttl``, written by ``onisep-kg ingest``), the graph
is loaded in an in-memory pyoxigraph store; each named query of ``queries/`` runs with the
parameters of its header's first example (or of its parameters' examples), and the rows, the
fastest and the median time in milliseconds are printed.

With ``--store DIR`` (a store filled by ``onisep-kg load`` or ``onisep-kg ingest --store``), the
store is opened read-only and each query is bound and run exactly as ``onisep-kg query --store
DIR`` does (:func:`pipeline.queries.bind` then :func:`pipeline.queries.run`, parameters passed
as pyoxigraph substitutions). Each documented parameter set is timed: the header's first
``@example`` and, when they differ, the ``e.g.`` examples of its ``@param`` lines. After
``--warmup`` runs, ``--repeat`` runs are timed, each until the last row is read; the median,
the rows and whether the median is within ``--budget`` milliseconds (default 50) are printed.
``--strict`` makes the exit status 1 when a median is over the budget.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import queries as Q  # noqa: E402


def example_values(query: Q.NamedQuery) -> dict[str, str]:
    """The parameter values of the query's first example (``--param name=value``), else each
    parameter's own example."""
    values: dict[str, str] = {}
    if query.examples:
        words = shlex.split(query.examples[0])
        for i, word in enumerate(words):
            if word in ("--param", "-p") and i + 1 < len(words):
                name, value = Q.split_assignment(words[i + 1])
                values[name] = value
    for p in query.params:
        if p.name not in values and p.example_value is not None:
            values[p.name] = p.example_value
    return values


def documented_values(query: Q.NamedQuery) -> list[dict[str, str]]:
    """Every documented parameter set of the query: its first example's, then its ``@param``
    lines' examples when they make another set."""
    sets = [example_values(query)]
    own = {p.name: p.example_value for p in query.params if p.example_value is not None}
    if len(own) == len(query.params) and own not in sets:
        sets.append(own)
    return sets


def count_rows(result: Q.Result) -> int:
    """Read the whole answer; the number of rows (triples for a graph, 1 for a boolean)."""
    return 1 if isinstance(result, ox.QueryBoolean) else sum(1 for _ in result)


def time_query(
    store: ox.Store, query: Q.NamedQuery, values: dict[str, str], repeat: int, warmup: int
) -> tuple[int, list[float]]:
    """Rows and the times in milliseconds of ``repeat`` runs (after ``warmup`` untimed runs)."""
    bindings = Q.bind(query, values)
    rows = 0
    for _ in range(warmup):
        rows = count_rows(Q.run(store, query, bindings))
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        rows = count_rows(Q.run(store, query, bindings))
        times.append((time.perf_counter() - started) * 1000)
    return rows, times


def bench_graph(graph: Path, repeat: int, folder: Path | None = None) -> int:
    if not graph.is_file():
        print(f"{graph}: no such file (run `onisep-kg ingest` first)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    store = ox.Store()
    fmt = ox.RdfFormat.from_extension(graph.suffix.lstrip("."))
    store.bulk_load(path=str(graph), format=fmt)
    print(f"loaded {len(store)} quads from {graph} in {time.perf_counter() - started:.1f} s")
    print(f"{'query':<32} {'rows':>6} {'min ms':>8} {'median ms':>10}")
    for query in Q.list_queries(folder):
        rows, times = time_query(store, query, example_values(query), repeat, warmup=0)
        print(f"{query.name:<32} {rows:>6} {min(times):>8.1f} {statistics.median(times):>10.1f}")
    return 0


def _label(values: dict[str, str]) -> str:
    return " ".join(f"{name}={value}" for name, value in values.items()) or "-"


def bench_store(
    directory: Path, repeat: int, warmup: int, budget: float, strict: bool, folder: Path | None = None
) -> int:
    started = time.perf_counter()
    try:
        store = Q.open_store(directory)  # read-only, as `onisep-kg query --store` opens it
    except Q.QueryError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    print(f"opened the store {directory} read-only in {(time.perf_counter() - started) * 1000:.0f} ms")
    print(f"median of {repeat} runs after {warmup} warm-up runs; budget {budget:g} ms")
    head = f"{'query':<30} {'parameters':<34} {'rows':>6} {'min ms':>8} {'median ms':>10}  within"
    print(head)
    print("-" * len(head))
    over = []
    total = 0
    for query in Q.list_queries(folder):
        for values in documented_values(query):
            rows, times = time_query(store, query, values, repeat, warmup)
            median = statistics.median(times)
            within = median <= budget
            total += 1
            if not within:
                over.append(f"{query.name} ({_label(values)})")
            label = _label(values)
            label = label if len(label) <= 34 else label[:33] + "…"
            print(
                f"{query.name:<30} {label:<34} {rows:>6} {min(times):>8.1f} {median:>10.1f}  "
                f"{'yes' if within else 'NO'}",
                flush=True,
            )
    summary = f"{total - len(over)} of {total} within {budget:g} ms"
    print(summary + (f"; over: {', '.join(over)}" if over else ""))
    return 1 if strict and over else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("graph", nargs="?", default="output/onisep-kg.ttl", type=Path)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--store", type=Path, default=None, metavar="DIR", help="time the queries on this persistent store"
    )
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first (with --store)")
    parser.add_argument("--budget", type=float, default=50.0, metavar="MS", help="the time a median may take")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a median is over the budget")
    parser.add_argument(
        "--queries-dir", type=Path, default=None, metavar="DIR", help="named queries (default: queries/)"
    )
    args = parser.parse_args()
    if args.repeat < 1 or args.warmup < 0:
        parser.error("--repeat must be at least 1 and --warmup at least 0")
    if args.store is not None:
        return bench_store(args.store, args.repeat, args.warmup, args.budget, args.strict, args.queries_dir)
    return bench_graph(args.graph, args.repeat, args.queries_dir)


if __name__ == "__main__":
    raise SystemExit(main())
