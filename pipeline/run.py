"""Ingest and load in one run: what ``onisep-kg ingest --store`` does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .ingest import IngestReport, ingest, load_into_store, remember_digests
from .progress import Progress
from .store import TRIG_NAME, EmbeddedStore, GraphInput, LoadReport


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
    emptied again. Into a store that holds graphs already, when the run's manifest knows every
    graph's digest (a first load leaves them in it), the output is loaded while the ingest's
    files are synced, before they are renamed into place: the store reads nothing of the graphs
    it holds already (:func:`~pipeline.ingest.load_into_store`); else it is loaded after the
    run, from the TriG file (unchanged graphs are skipped), and the digests are remembered.
    """
    fresh = store.fresh_load(out_dir / TRIG_NAME) if store.is_empty() else None
    loaded: LoadReport | None = None

    def load_while_synced(run: IngestReport, graph: Callable[[str], GraphInput]) -> None:
        # Into a store that holds graphs: loaded while the ingest's files are synced, when the
        # digests are known (the changed graphs alone are read); else after, from the TriG.
        nonlocal loaded
        if run.manifest is not None and run.manifest.has_digests:
            if progress is not None:
                progress.stage("loading into the store")
            loaded = load_into_store(run, out_dir, store, graph)

    try:
        report = ingest(
            paths,
            out_dir,
            progress=progress,
            on_trig=fresh.feed if fresh is not None else None,
            before_commit=load_while_synced if fresh is None else None,
            **options,
        )
    except BaseException:
        if fresh is not None:
            fresh.abort()
        raise
    if progress is not None and loaded is None:
        progress.stage("loading into the store")
    if fresh is not None and fresh.fed:
        loaded = fresh.finish()  # None for graphs with blank nodes, which load the usual way
    elif fresh is not None:
        fresh.abort()  # this run wrote no graph: what is loaded is an earlier run's TriG, if any
    if loaded is None:
        loaded = load_into_store(report, out_dir, store)  # known digests: unchanged graphs unread
    remember_digests(report, out_dir, store)  # (for the next run's load; nothing when known)
    return report, loaded
