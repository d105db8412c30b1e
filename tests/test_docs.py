"""The README is part of the product: its commands, its CLI reference and its Turtle are checked."""

from __future__ import annotations

import re
import subprocess

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from conftest import MET_799, ROOT

from pipeline.cli import main
from pipeline.serialize import context, to_turtle

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block_after(marker: str) -> str:
    m = re.search(rf"<!-- {marker} -->\s*```sh\n(.*?)\n```", README, re.S)
    assert m is not None, f"README has no ```sh block under <!-- {marker} -->"
    return m[1].strip()


def test_readme_gives_the_two_setup_commands_first() -> None:
    main_cmd, test_cmd = _block_after("main-command"), _block_after("test-command")
    assert "onisep-kg ingest" in main_cmd and "pip install -e ." in main_cmd
    assert "pytest" in test_cmd and "pip install -e '.[test]'" in test_cmd
    # "the README's first lines": both blocks come before the first section heading
    assert README.index("<!-- test-command -->") < README.index("\n## ")


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    extract = re.search(r"cmd=\$\((awk .*?)\)\n", script)
    assert extract is not None
    out = subprocess.run(["bash", "-c", extract[1]], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == _block_after("test-command")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_and_is_in_the_readme(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) > 3
    assert f"### `onisep-kg {command}" in README


def test_readme_turtle_excerpt_is_real_output(pipeline) -> None:  # type: ignore[no-untyped-def]
    """Every triple of the README's MET.799 excerpt is in the graph the pipeline writes."""
    m = re.search(r"```turtle\n(.*?)```", README, re.S)
    assert m is not None
    prefixes = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in context().items())
    excerpt = set(ox.parse((prefixes + m[1]).encode(), format=ox.RdfFormat.TURTLE))
    _outcome, triples = pipeline.process(MET_799.read_bytes(), str(MET_799))
    assert triples is not None
    actual = set(ox.parse(to_turtle(triples), format=ox.RdfFormat.TURTLE))
    assert len(excerpt) > 30
    assert excerpt - actual == set()
