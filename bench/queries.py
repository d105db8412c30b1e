"""Time every named query on the whole graph in the embedded (in-memory) pyoxigraph store.

    .venv/bin/python bench/queries.py [GRAPH.ttl|.trig] [--repeat N]

Loads the graph written by ``onisep-kg ingest`` (default ``output/onisep-kg.ttl``), runs each
named query of ``queries/`` with the parameters of its header's first example (or of its
parameters' examples), and prints rows, the fastest and the median time in milliseconds.
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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("graph", nargs="?", default="output/onisep-kg.ttl", type=Path)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if not args.graph.is_file():
        print(f"{args.graph}: no such file (run `onisep-kg ingest` first)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    store = ox.Store()
    fmt = ox.RdfFormat.from_extension(args.graph.suffix.lstrip("."))
    store.bulk_load(path=str(args.graph), format=fmt)
    print(f"loaded {len(store)} quads from {args.graph} in {time.perf_counter() - started:.1f} s")
    print(f"{'query':<32} {'rows':>6} {'min ms':>8} {'median ms':>10}")
    for query in Q.list_queries():
        bindings = Q.bind(query, example_values(query))
        times, rows = [], 0
        for _ in range(args.repeat):
            t = time.perf_counter()
            result = Q.run(store, query, bindings)
            rows = 1 if isinstance(result, ox.QueryBoolean) else sum(1 for _ in result)
            times.append((time.perf_counter() - t) * 1000)
        print(f"{query.name:<32} {rows:>6} {min(times):>8.1f} {statistics.median(times):>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
