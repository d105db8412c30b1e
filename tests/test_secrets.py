"""Remote-store credentials never show: not in output, errors, tracebacks, files, nor after a redirect.

``ONISEP_KG_USER`` / ``ONISEP_KG_PASSWORD`` hold a recognisable secret; the real command line
(``onisep-kg load --endpoint URL``, the only command that talks to a server: ``query`` and
``serve`` work on the embedded store) runs in a child process against:

* a loopback port where nothing listens;
* a tiny loopback server (a raw socket, so it can also answer what is not HTTP) that echoes the
  ``Authorization`` header it got back in every answer: 401, 500, a redirect to another host,
  SPARQL results / Turtle / HTML that do not parse, bytes that are not HTTP, a closed
  connection, no answer at all (``--timeout``), and a server that answers queries but fails the
  Graph Store PUT.

Neither the secret nor its base64 basic-auth form appears in stdout, stderr, any file written
under the run's folder, nor in the text, ``repr`` or traceback of the exception the library
raises for the same cases. The server checks that the credentials were sent (to the URL given),
and that the host a redirect points to got nothing. A URL holding ``user:pass@`` is refused
without being repeated.

``tests/test_store.py::test_credentials_never_appear_in_output_or_errors`` covers a 401 and a
redirect in-process; these cases add the child process, the other answers and the files.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipeline.ingest import Pipeline, ingest
from pipeline.store import Endpoint, RemoteStore, RemoteStoreError, load_ingest_output

ROOT = Path(__file__).resolve().parent.parent
MET_799 = ROOT / "seeds" / "onisep-fiches" / "metiers" / "MET.799_hot_liner.md"
USER = "loader"
SECRET = "s3cr3t-" + os.urandom(6).hex() + "-Pa55"
TOKEN = base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
FORMS = (SECRET, TOKEN, f"{USER}:{SECRET}")

EMPTY_RESULTS = b'{"head": {"vars": ["g", "digest", "sources", "when"]}, "results": {"bindings": []}}'


def _http(status: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class EchoServer:
    """A loopback TCP server answering every request as ``mode`` says, echoing its credentials.

    ``seen`` keeps the ``Authorization`` header of every request (None when absent).
    """

    def __init__(self, mode: str, host: str = "127.0.0.1", redirect: str | None = None) -> None:
        self.mode, self.redirect = mode, redirect
        self.seen: list[str | None] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.url = f"http://{host}:{self.sock.getsockname()[1]}"
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
                length = int(headers.get("content-length", "0"))
                while len(rest) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    rest += chunk
                self.seen.append(headers.get("authorization"))
                conn.sendall(self._reply(lines[0], headers.get("authorization") or "", rest))
            except OSError:
                return

    def _reply(self, request_line: str, auth: str, body: bytes) -> bytes:
        echo = f"{auth} | {request_line} | {auth.removeprefix('Basic ')} | {SECRET_IF_DECODED(auth)}"
        mode = self.mode
        if mode == "put500":
            mode = "results" if "/query" in request_line else "500"
        if mode == "results":
            return _http("200 OK", EMPTY_RESULTS, {"Content-Type": "application/sparql-results+json"})
        if mode == "401":
            return _http(
                "401 Unauthorized", f"denied: {echo}".encode(), {"WWW-Authenticate": 'Basic realm="x"'}
            )
        if mode == "500":
            return _http("500 Internal Server Error", f"boom: {echo} {body[:200]!r}".encode())
        if mode == "redirect":
            return _http(
                "302 Found", f"moved: {echo}".encode(), {"Location": f"{self.redirect}/query?{echo}"}
            )
        if mode == "garbage-json":
            return _http(
                "200 OK", f"{{garbage {echo}".encode(), {"Content-Type": "application/sparql-results+json"}
            )
        if mode == "garbage-xml":
            body = f"<sparql>{echo}".encode()
            return _http("200 OK", body, {"Content-Type": "application/sparql-results+xml"})
        if mode == "garbage-turtle":
            return _http("200 OK", f"<a> <b> {echo} .".encode(), {"Content-Type": "text/turtle"})
        if mode == "garbage-html":
            return _http("200 OK", f"<html>{echo}</html>".encode(), {"Content-Type": f"text/html; x={auth}"})
        if mode == "not-http":
            return f"{echo}\r\n{echo}\r\n\r\n".encode()
        if mode == "close":
            return b""
        if mode == "hang":
            self.stopped.wait(10)
            return b""
        raise AssertionError(mode)

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()


def SECRET_IF_DECODED(auth: str) -> str:  # noqa: N802 (reads as what it echoes)
    """The password the header carries, decoded: what a careless server would print."""
    try:
        return base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")[2]
    except ValueError:
        return ""


@contextmanager
def echo_server(mode: str, redirect: str | None = None, host: str = "127.0.0.1") -> Iterator[EchoServer]:
    server = EchoServer(mode, host, redirect)
    try:
        yield server
    finally:
        server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def assert_clean(text: str, where: str) -> None:
    for form in FORMS:
        assert form not in text, f"{where} shows a credential: …{text[max(0, text.find(form) - 80) :][:200]}…"


def assert_no_file_shows_a_secret(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for form in FORMS:
                assert form.encode() not in data, path


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory, pipeline: Pipeline) -> Path:
    """What ingest writes for MET.799 (no referentials): a small TriG to load."""
    out = tmp_path_factory.mktemp("secrets") / "out"
    report = ingest([MET_799], out, pipeline=pipeline, with_referentials=False, parallel=False)
    assert report.ingested == 1
    return out


def run_load(output: Path, endpoint: str, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ONISEP_KG_USER=USER, ONISEP_KG_PASSWORD=SECRET, PYTHONPATH=str(ROOT))
    env.pop("http_proxy", None)
    env.pop("HTTP_PROXY", None)
    script = "import sys; from pipeline.cli import main; sys.argv[0] = 'onisep-kg'; main()"
    done = subprocess.run(
        [sys.executable, "-c", script, "load", str(output), "--endpoint", endpoint, "--timeout", "3", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        check=False,
    )
    assert_clean(done.stdout, "stdout")
    assert_clean(done.stderr, "stderr")
    assert_no_file_shows_a_secret(cwd)
    assert_no_file_shows_a_secret(output)
    return done


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The run failed with exit code 2 and one ``Error:`` sentence, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    return lines[0]


def test_nothing_listening(output: Path, tmp_path: Path) -> None:
    port = free_port()
    message = one_error_line(run_load(output, f"http://127.0.0.1:{port}", tmp_path))
    assert f"127.0.0.1:{port}" in message and "cannot connect" in message


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("401", "HTTP 401"),
        ("500", "HTTP 500"),
        ("put500", "HTTP 500"),
        ("garbage-json", "unreadable"),
        ("garbage-xml", "unreadable"),
        ("garbage-turtle", "unreadable"),
        ("garbage-html", "unexpected answer type text/html"),
        ("not-http", ""),
        ("close", ""),
        ("hang", "timed out"),
    ],
)
def test_the_cli_never_shows_the_credentials(output: Path, tmp_path: Path, mode: str, expected: str) -> None:
    with echo_server(mode) as server:
        message = one_error_line(run_load(output, server.url, tmp_path))
        assert expected in message
        # the credentials were sent, so the server could have echoed them: the check is real
        assert server.seen and server.seen[0] == f"Basic {TOKEN}"


def test_a_redirect_to_another_host_gets_no_credentials(output: Path, tmp_path: Path) -> None:
    with (
        echo_server("results", host="127.0.0.2") as elsewhere,
        echo_server("redirect", elsewhere.url) as server,
    ):
        message = one_error_line(run_load(output, server.url, tmp_path))
        assert "HTTP 302" in message and "redirects are not followed" in message
        assert server.seen == [f"Basic {TOKEN}"]
        assert elsewhere.seen == []


def test_a_url_with_credentials_is_refused_without_repeating_them(output: Path, tmp_path: Path) -> None:
    with echo_server("results") as server:
        url = server.url.replace("http://", f"http://{USER}:{SECRET}@")
        message = one_error_line(run_load(output, url, tmp_path))
        assert "credentials do not belong in the URL" in message and "ONISEP_KG_PASSWORD" in message
        assert server.seen == []  # refused before anything is sent


@pytest.mark.parametrize(
    "mode",
    [
        "401",
        "500",
        "put500",
        "garbage-json",
        "garbage-xml",
        "garbage-turtle",
        "garbage-html",
        "not-http",
        "close",
    ],
)
def test_the_library_errors_never_show_the_credentials(
    output: Path, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The exception raised (always a RemoteStoreError), its repr, its traceback and the log are clean."""
    caplog.set_level(logging.DEBUG)
    with echo_server(mode) as server:
        store = RemoteStore(Endpoint.for_server(server.url), user=USER, password=SECRET, timeout=3)
        assert_clean(repr(store), "repr")
        actions = [lambda: load_ingest_output(output, store)]
        if mode != "put500":  # (that server answers queries)
            actions.append(lambda: store.query("ASK {}"))
        for action in actions:
            with pytest.raises(RemoteStoreError) as caught:
                action()
            exc = caught.value
            assert_clean(str(exc), "the message")
            assert_clean(repr(exc), "the repr")
            assert_clean(
                "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)), "the traceback"
            )
        assert server.seen and set(server.seen) == {f"Basic {TOKEN}"}
    assert_clean(caplog.text, "the log")
