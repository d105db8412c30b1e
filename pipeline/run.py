"""Ingest and load in one run: what ``onisep-kg ingest --store`` does."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .ingest import IngestReport, ingest
from .progress import Progress
from .store import TRIG_NAME, EmbeddedStore, LoadReport, load_ingest_output


def ingest_and_load(
    paths: Sequence[Path] | None,
    out_dir: Path,
    store: EmbeddedStore,
    *,
    progress: Progress | None = None,
    **options: Any,
) -> tuple[IngestReport, LoadReport]:
    """:func:`~pipeline.ingest.ingest` (``options`` are its own), then the result into ``store``.

    Into an empty store, the TriG is loaded while the ingest writes it
    (:meth:`~pipeline.store.EmbeddedStore.fresh_load`): its bulk loads take the core that waits
    for the referentials, and the file is not read again. If the ingest fails, the store is
    emptied again. Into a store that holds graphs already, the output is loaded after the run
    (:func:`~pipeline.store.load_ingest_output`: unchanged graphs are skipped).
    """
    fresh = store.fresh_load(out_dir / TRIG_NAME) if store.is_empty() else None
    try:
        report = ingest(
            paths, out_dir, progress=progress, on_trig=fresh.feed if fresh is not None else None, **options
        )
    except BaseException:
        if fresh is not None:
            fresh.abort()
        raise
    if progress is not None:
        progress.stage("loading into the store")
    loaded: LoadReport | None = None
    if fresh is not None and fresh.fed:
        loaded = fresh.finish()  # None for graphs with blank nodes, which load the usual way
    elif fresh is not None:
        fresh.abort()  # this run wrote no graph: what is loaded is an earlier run's TriG, if any
    if loaded is None:
        loaded = load_ingest_output(out_dir, store)
    return report, loaded
