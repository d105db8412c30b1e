"""Shared fixtures: the real corpus ingested once per session, and no network, ever.

Every test runs with outbound sockets blocked except to loopback: a test that tries to reach the
network (a JSON-LD context fetched from a URL, say) fails with ``NetworkBlocked``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from pipeline import resources
from pipeline.ingest import IngestReport, Pipeline, ingest

ROOT = Path(__file__).resolve().parent.parent
METIERS = resources.metier_fiches_dir()
MET_799 = METIERS / "MET.799_hot_liner.md"


class NetworkBlocked(RuntimeError):
    """Raised when a test tries to open a connection outside loopback."""


def _is_loopback(address: object) -> bool:
    if not (isinstance(address, tuple) and address):
        return isinstance(address, (str, bytes))  # an AF_UNIX socket path is local
    host = address[0]
    if host in ("localhost", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(host.decode() if isinstance(host, bytes) else host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> Iterator[None]:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(connect):  # type: ignore[no-untyped-def]
        def wrapper(self, address):  # type: ignore[no-untyped-def]
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
                raise NetworkBlocked(f"network access blocked in tests: {address!r}")
            return connect(self, address)

        return wrapper

    socket.socket.connect = guarded(real_connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded(real_connect_ex)  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def pipeline() -> Pipeline:
    """Referentials and shapes loaded once for the whole session, now: from the repository root,
    so the sources they name do not depend on which test first needs them (some chdir)."""
    pipeline = Pipeline()
    pipeline.load()
    return pipeline


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory, pipeline: Pipeline) -> tuple[IngestReport, Path]:
    """The shipped corpus (all 1,043 real fiches) ingested once: (report, output folder)."""
    out = tmp_path_factory.mktemp("corpus-output")
    return ingest(None, out, pipeline=pipeline), out


@pytest.fixture(scope="session")
def corpus_store(corpus: tuple[IngestReport, Path]) -> ox.Store:
    """The whole graph's Turtle loaded in an in-memory pyoxigraph store, for SPARQL."""
    _report, out = corpus
    store = ox.Store()
    store.bulk_load(path=str(out / "onisep-kg.ttl"), format=ox.RdfFormat.TURTLE)
    return store
