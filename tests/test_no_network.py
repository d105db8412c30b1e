"""Nothing is ever fetched: no remote JSON-LD context, no external XML entity or DTD, no entity bomb.

Every test runs with non-loopback sockets blocked (``tests/conftest.py``). Here a loopback HTTP
server counts the requests it gets, so that "not fetched" is observed, not assumed (a control
test shows it does see a request, and that rdflib, left to itself, would fetch a URL context):

* JSON-LD: ``onisep-kg query --graph FILE.jsonld`` (``pipeline.queries.load_graph_files``)
  refuses a document whose ``@context`` is a URL (a string, in an array, an ``@import``, a
  term's scoped context) in one sentence naming the file and the URL, saying it is never
  fetched and to inline the context; the store's readers (``load``, a :class:`GraphInput` of
  JSON-LD bytes) and the shapes reader refuse such a document too; no module of the package
  parses JSON-LD with rdflib, which would fetch the context;
* RDF/XML given to ``query --graph``: a DTD is refused (pyoxigraph expands internal entities: a
  billion-laughs document asked it for 4.8 GB before this), and external entities / DTDs are
  never read or fetched;
* the ROME v3 XML reader (``pipeline.referentials``) refuses a DTD, a billion-laughs bomb,
  external entities (``file:///etc/passwd``, ``http://…``), an external DTD and a parameter
  entity with an :class:`InputError` naming the file and the line (before the fix a
  ``DTDForbidden`` escaped as a bare ``ValueError``). The Idéo-Métiers reader's refusals are
  tested in ``tests/test_ideo_metiers.py``; the other inputs are Markdown and CSV.
"""

from __future__ import annotations

import ast
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from counting_server import Counting, counting_server
from rdflib import Graph, Literal, URIRef

from pipeline import resources
from pipeline.cli import main
from pipeline.errors import InputError, ShapesError
from pipeline.queries import QueryError, load_graph_files
from pipeline.referentials import load_rome_v3
from pipeline.serialize import to_jsonld
from pipeline.store import EmbeddedStore, GraphInput, StoreError
from pipeline.validate import load_shapes

ROOT = Path(__file__).resolve().parent.parent
PASSWD_MARK = "root:"  # what /etc/passwd would show, had it been read


_Counting = Counting  # (its request list: what the server was asked for)


@pytest.fixture()
def server() -> Iterator[str]:
    """A loopback HTTP server that records every request; yields its base URL."""
    with counting_server() as url:
        yield url


def nothing_fetched() -> None:
    time.sleep(0.2)  # a fetch, had one been started, would have reached the server by now
    assert _Counting.requests == []


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="onisep-kg")


# -- controls: the server counts, and rdflib alone would fetch --------------------------------------
def test_the_server_counts_requests(server: str) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{server}/control.jsonld") as response:  # noqa: S310 (loopback)
        assert b"LEAKED" in response.read()
    assert _Counting.requests == ["/control.jsonld"]


def test_rdflib_left_to_itself_would_fetch_a_url_context(server: str) -> None:
    """Why no code path of ours may hand JSON-LD to rdflib: it loads a URL context."""
    doc = json.dumps({"@context": f"{server}/context.jsonld", "@id": "http://example.org/a", "name": "x"})
    with contextlib.suppress(Exception):  # whatever rdflib makes of the answer, the request was made
        Graph().parse(data=doc, format="json-ld")
    assert _Counting.requests == ["/context.jsonld"]


# -- JSON-LD: query --graph ----------------------------------------------------------------------
def remote_documents(url: str) -> dict[str, object]:
    node = {"@id": "http://example.org/a", "name": "x"}
    return {
        "string": {"@context": f"{url}/context.jsonld", **node},
        "array": {"@context": [f"{url}/context.jsonld", {"ex": "http://example.org/"}], **node},
        "import": {"@context": {"@version": 1.1, "@import": f"{url}/context.jsonld"}, **node},
        "scoped": {
            "@context": {"p": {"@id": "http://example.org/p", "@context": f"{url}/context.jsonld"}},
            "@id": "http://example.org/a",
            "p": {"@id": "http://example.org/b", "name": "x"},
        },
        "graph": {"@graph": [{"@context": f"{url}/context.jsonld", **node}]},
    }


@pytest.mark.parametrize("kind", ["string", "array", "import", "scoped", "graph"])
def test_query_refuses_a_remote_jsonld_context_in_one_sentence(
    server: str, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / f"{kind}.jsonld"
    path.write_text(json.dumps(remote_documents(server)[kind]), encoding="utf-8")
    result = run("query", "SELECT * WHERE { ?s ?p ?o }", "--graph", str(path))
    assert result.exit_code == 2 and result.stdout == ""
    message = result.stderr.strip()
    assert message.count("\n") == 0, message
    assert message.startswith(f"Error: {path} cannot be loaded: ")
    assert f"({server}/context.jsonld)" in message
    assert "a remote @context is never fetched" in message and "inline the context" in message
    assert "LoadDocumentCallback" not in message
    nothing_fetched()


def test_load_graph_files_raises_a_query_error_and_fetches_nothing(server: str, tmp_path: Path) -> None:
    path = tmp_path / "remote.jsonld"
    path.write_text(json.dumps(remote_documents(server)["string"]), encoding="utf-8")
    with pytest.raises(QueryError, match="never fetched"):
        load_graph_files([path])
    nothing_fetched()


def test_an_inline_context_loads(tmp_path: Path) -> None:
    """Control: the JSON-LD we write (its context inline) is read, with the same triples."""
    path = tmp_path / "ours.jsonld"
    path.write_bytes(
        to_jsonld([(URIRef("https://w3id.org/onisep-kg/id/metier/MET.1"), URIRef("urn:x:p"), Literal("x"))])
    )
    store = load_graph_files([path])
    assert len(store) == 1  # the one triple, in the default graph (no named graph to merge)
    result = run("query", "SELECT ?o WHERE { ?s <urn:x:p> ?o }", "--graph", str(path), "--format", "csv")
    assert result.exit_code == 0 and result.stdout.splitlines() == ["o", "x"]


# -- JSON-LD: the other readers ------------------------------------------------------------------
def test_no_module_parses_jsonld_with_rdflib() -> None:
    """Every ``.parse(…)`` call of the package that names a format names a non-JSON-LD one, and
    none imports rdflib's JSON-LD parser: rdflib never gets a JSON-LD document of ours to fetch
    contexts for."""
    calls = 0
    for path in sorted((ROOT / "pipeline").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert "plugins.parsers.jsonld" not in source and "plugins.shared.jsonld" not in source, path
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "parse"
            ):
                for keyword in node.keywords:
                    if keyword.arg == "format" and isinstance(keyword.value, ast.Constant):
                        calls += 1
                        assert "json" not in str(keyword.value.value).lower(), (path, node.lineno)
    assert calls >= 1  # the shapes reader's rdflib parse(format="turtle") at least


def test_the_shapes_reader_reads_turtle_only_and_fetches_nothing(server: str, tmp_path: Path) -> None:
    path = tmp_path / "shapes.jsonld"
    path.write_text(json.dumps(remote_documents(server)["string"]), encoding="utf-8")
    with pytest.raises(ShapesError, match=str(path)):
        load_shapes(path)
    nothing_fetched()


def test_the_store_refuses_jsonld_with_a_remote_context(server: str, tmp_path: Path) -> None:
    doc = json.dumps(remote_documents(server)["string"]).encode()
    import pyoxigraph as ox

    graph = GraphInput("urn:x:g", doc, "remote.jsonld", "0" * 64, format=ox.RdfFormat.JSON_LD)
    with EmbeddedStore(tmp_path / "store") as store, pytest.raises(StoreError, match="remote.jsonld"):
        store.load([graph])
    path = tmp_path / "remote.jsonld"
    path.write_bytes(doc)
    result = run("load", str(path), "--store", str(tmp_path / "store2"))
    assert result.exit_code == 2 and str(path) in result.stderr
    nothing_fetched()


# -- RDF/XML given to query --graph -------------------------------------------------------------
RDF_BODY = (
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">'
    '<rdf:Description rdf:about="http://example.org/a"><ex:p>{value}</ex:p></rdf:Description></rdf:RDF>\n'
)
LOL = "".join(
    f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10)
)
BILLION_LAUGHS_RDF = (
    f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n <!ENTITY lol "lol">\n{LOL}]>\n'
    + RDF_BODY.format(value="&lol9;")
)


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE rdf:RDF [<!ENTITY leak SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE rdf:RDF [<!ENTITY leak SYSTEM "{url}/entity">]>',
        '<!DOCTYPE rdf:RDF SYSTEM "{url}/external.dtd">',
        '<!DOCTYPE rdf:RDF [<!ENTITY % pe SYSTEM "{url}/parameter.dtd"> %pe;]>',
        '<!DOCTYPE rdf:RDF [<!ENTITY leak "LEAKED">]>',
    ],
    ids=["file entity", "http entity", "external DTD", "parameter entity", "internal entity"],
)
def test_query_refuses_rdfxml_with_a_dtd(server: str, tmp_path: Path, prolog: str) -> None:
    path = tmp_path / "doc.rdf"
    path.write_text(
        f'<?xml version="1.0"?>\n{prolog.format(url=server)}\n' + RDF_BODY.format(value="&leak;"),
        encoding="utf-8",
    )
    result = run("query", "SELECT ?o WHERE { ?s ?p ?o }", "--graph", str(path))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"Error: {path}:2: refused: the RDF/XML document declares a DTD")
    assert "LEAKED" not in result.output and PASSWD_MARK not in result.output
    nothing_fetched()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "x-unknown"])
def test_an_rdfxml_billion_laughs_is_refused_before_anything_is_expanded(
    tmp_path: Path, encoding: str
) -> None:
    """In a child process capped at 1 GB of address space beyond its start: pyoxigraph expanding
    the bomb would ask for gigabytes and abort; the refusal comes first, in any encoding."""
    text = BILLION_LAUGHS_RDF.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>')
    path = tmp_path / "bomb.rdf"
    path.write_bytes(text.encode("utf-16" if encoding == "utf-16" else "utf-8"))
    script = (
        "import resource, sys\n"
        "from pipeline.cli import main\n"
        "sys.argv = ['onisep-kg', 'query', 'SELECT ?o WHERE { ?s ?p ?o }', '--graph', sys.argv[1]]\n"
        "used = int(open('/proc/self/statm').read().split()[0]) * resource.getpagesize()\n"
        "resource.setrlimit(resource.RLIMIT_AS, (used + (1 << 30), used + (1 << 30)))\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.startswith(f"Error: {path}:2: refused: the RDF/XML document declares a DTD")
    assert "lol" * 10 not in done.stdout + done.stderr


def test_rdfxml_without_a_dtd_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.rdf"
    path.write_text(
        '<?xml version="1.0"?>\n' + RDF_BODY.format(value="v &amp; w &lt;x&gt;"), encoding="utf-8"
    )
    result = run("query", "SELECT ?o WHERE { ?s ?p ?o }", "--graph", str(path), "--format", "csv")
    assert result.exit_code == 0 and result.stdout.splitlines() == ["o", "v & w <x>"]


# -- the ROME v3 XML reader ----------------------------------------------------------------------
ROME_ITEM = (
    "<item_referentiel_code_rome><code_ogr>6</code_ogr><code_rome>A1101</code_rome>"
    "<libelle>{label}</libelle><statut1>1</statut1></item_referentiel_code_rome>"
)


def rome_file(tmp_path: Path, prolog: str, label: str = "&leak;") -> Path:
    path = tmp_path / "rome.xml"
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}\n<ogr>\n{ROME_ITEM.format(label=label)}\n</ogr>\n',
        encoding="utf-8",
    )
    return path


def test_the_real_rome_file_is_read() -> None:
    """Control: the shipped export has no DTD and reads (the 532 codes the fiches may cite)."""
    labels = load_rome_v3(resources.rome_v3_file())
    assert len(labels) == 532 and labels["I1401"] == "Maintenance informatique et bureautique"


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE ogr [<!ENTITY leak SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE ogr [<!ENTITY leak SYSTEM "{url}/entity">]>',
        '<!DOCTYPE ogr SYSTEM "{url}/external.dtd">',
        '<!DOCTYPE ogr PUBLIC "-//X//Y" "{url}/public.dtd">',
        '<!DOCTYPE ogr [<!ENTITY % pe SYSTEM "{url}/parameter.dtd"> %pe;]>',
        '<!DOCTYPE ogr [<!ENTITY leak "LEAKED">]>',
        '<!DOCTYPE ogr [\n <!ENTITY lol "lol">\n' + LOL.replace("lol9", "leak") + "]>",
    ],
    ids=["file entity", "http entity", "external DTD", "public DTD", "parameter entity", "internal", "bomb"],
)
def test_the_rome_reader_refuses_dtds_and_entities(server: str, tmp_path: Path, prolog: str) -> None:
    path = rome_file(tmp_path, prolog.format(url=server) if "{url}" in prolog else prolog)
    with pytest.raises(InputError) as info:
        load_rome_v3(path)
    error = info.value
    assert (error.source, error.line) == (str(path), 2)
    assert error.message.startswith("cannot read ROME v3: refused: the document declares a DTD")
    assert "LEAKED" not in str(error) and PASSWD_MARK not in str(error) and "lol" * 10 not in str(error)
    nothing_fetched()


def test_the_rome_reader_reports_an_undeclared_entity_with_its_line(tmp_path: Path) -> None:
    path = rome_file(tmp_path, "")
    with pytest.raises(InputError) as info:
        load_rome_v3(path)
    assert info.value.line == 4 and "undefined entity" in info.value.message
