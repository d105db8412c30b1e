"""The progress line: drawn on a terminal with counts, rate and ETA; silent anywhere else."""

from __future__ import annotations

import io

from pipeline.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_terminal_gets_counts_rate_and_eta_then_a_cleared_line() -> None:
    out, clock = Terminal(), Clock()
    with Progress(1000, "fiches", stream=out, clock=clock) as bar:
        clock.now += 2.0
        bar.advance(250)
        assert bar.line() == "fiches  250/1000  25%  125/s  ETA 6s"
        assert out.getvalue().endswith("\rfiches  250/1000  25%  125/s  ETA 6s")
        clock.now += 0.01  # within the redraw interval: no new drawing
        drawn = out.getvalue()
        bar.advance(1)
        assert out.getvalue() == drawn
        clock.now += 6.0
        bar.advance(749)  # the last one is always drawn
        assert out.getvalue().rstrip(" ").endswith("\rfiches  1000/1000  100%  125/s")  # padded over
        bar.stage("validate referentials", 3)
        assert out.getvalue().endswith("\rvalidate referentials  0/3  0%")
    assert out.getvalue().endswith("\r" + " " * len("validate referentials  0/3  0%") + "\r")


def test_no_terminal_or_quiet_means_no_output() -> None:
    piped = io.StringIO()  # isatty() is False
    with Progress(10, "fiches", stream=piped) as bar:
        for _ in range(10):
            bar.advance()
    assert piped.getvalue() == ""
    quiet = Terminal()
    with Progress(10, "fiches", stream=quiet, enabled=False) as bar:
        bar.advance(10)
    assert quiet.getvalue() == ""
    assert bar.line().startswith("fiches  10/10  100%")  # still counted, for the summary


def test_long_runs_show_minutes_and_hours() -> None:
    clock = Clock()
    bar = Progress(100_000, "fiches", stream=io.StringIO(), clock=clock)
    clock.now += 60.0
    bar.advance(1000)  # 16.7/s, 99,000 to go: 99 min
    assert bar.line().endswith("ETA 1h39m")
    bar.stage("write")
    clock.now += 1.0
    bar.advance(5)
    assert bar.line() == "write  5  5.0/s"


def test_ingest_draws_its_stages_and_times_them(tmp_path, pipeline) -> None:  # type: ignore[no-untyped-def]
    from conftest import METIERS

    from pipeline.ingest import ingest

    fiches = sorted(METIERS.glob("MET.*.md"))[:3]
    out = Terminal()
    with Progress(stream=out) as bar:
        report = ingest(fiches, tmp_path / "out", pipeline=pipeline, with_referentials=False, progress=bar)
    drawn = out.getvalue()
    assert "reading fiches  3/3  100%" in drawn and "fiches  3/3  100%" in drawn
    assert "writing the whole graph" in drawn
    assert drawn.endswith("\r")  # cleared at the end
    assert [(s.name, s.items, s.unit) for s in report.stages] == [
        ("survey", 3, "fiches"),
        ("fiches", 3, "fiches"),
        ("write", report.graph_triples, "triples"),
    ]
    assert all(s.seconds > 0 for s in report.stages)
    assert "stages" not in report.to_json()  # report.json stays byte-identical between runs
