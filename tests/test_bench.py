"""The benchmark's own code: the synthetic corpus is valid and new, and the table has every row.

``bench/`` is not a package (and ``bench/pipeline.py`` would shadow the ``pipeline`` package on
``sys.path``), so its modules are loaded by path or run as scripts.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from rdflib import Literal

from pipeline.mapper import Mapper
from pipeline.parse import parse_metier
from pipeline.referentials import load_referentials

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SUBSET = 20


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _literals(graph) -> set[str]:  # type: ignore[no-untyped-def]
    return {str(o) for o in graph.objects() if isinstance(o, Literal)}


def test_synthetic_corpus_parses_with_new_ids_and_new_triples(tmp_path: Path) -> None:
    synth = _load("synth")
    real = synth.real_fiches()
    paths = synth.make_corpus(1, tmp_path / "corpus", limit=SUBSET)
    assert len(paths) == SUBSET
    assert synth.check_corpus(paths) == []

    real_ids = {p.name.split("_", 1)[0] for p in real}
    mapper = Mapper(load_referentials(formations={}))
    ids = []
    for original_path, path in zip(real[:SUBSET], paths, strict=True):
        original = parse_metier(original_path.read_bytes(), str(original_path))
        copy = parse_metier(path.read_bytes(), str(path))
        ids.append(copy.metier_id)
        assert path.name.startswith(f"{copy.metier_id}_")
        assert int(copy.metier_id.removeprefix("MET.")) >= synth.FIRST_ID
        # same structure, same references: only the names and some sentences change
        assert [f.formation_id for f in copy.formations] == [f.formation_id for f in original.formations]
        assert [i.text for i in copy.rome_codes] == [i.text for i in original.rome_codes]
        assert len(copy.issues) == len(original.issues)
        assert copy.title.text != original.title.text
        original_graph = mapper.map_metier(original).graph
        copy_graph = mapper.map_metier(copy).graph
        assert len(copy_graph) == len(original_graph)
        assert set(copy_graph) != set(original_graph)
        assert _literals(copy_graph) - {copy.metier_id, copy.sha256} != _literals(original_graph) - {
            original.metier_id,
            original.sha256,
        }
    assert len(set(ids)) == SUBSET
    assert not set(ids) & real_ids

    again = synth.make_corpus(1, tmp_path / "again", limit=SUBSET)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]  # deterministic
    assert synth.corpus_is_current(tmp_path / "again", 1, sources=SUBSET)


def test_pipeline_benchmark_prints_every_stage_and_ratio(tmp_path: Path) -> None:
    synth = _load("synth")
    corpus = tmp_path / "tiny"
    synth.make_corpus(1, corpus, limit=8)
    record = tmp_path / "bench.json"
    cmd = [
        sys.executable,
        str(BENCH / "pipeline.py"),
        *("--corpus", str(corpus), "--out", str(tmp_path / "work"), "--json", str(record)),
        *("--stages-only", "--no-referentials", "--in-process"),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    bench = _load("pipeline")
    header = next(line for line in out.splitlines() if line.startswith("stage "))
    for name, _width in bench.COLUMNS:
        assert name in header
    for _key, label in bench.ROWS:
        assert label in out
    assert "speed-up" in header and "x floor" in header
    assert "pyoxigraph" in out and "CPUs" in out

    figures = json.loads(record.read_text(encoding="utf-8"))["corpora"][0]
    assert figures["fiches"] == 8
    assert set(figures["stages"]) >= {"parse", "map", "validate", "turtle", "jsonld", "load"}
    assert {"speed_up", "x_floor"} <= set(figures["ratios"]["turtle"])
    assert figures["naive"]["triples"] == figures["triples"]
