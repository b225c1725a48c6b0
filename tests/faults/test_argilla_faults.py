"""Argilla: a server that dies mid-push is one line with a count (17.4); the local stack's secrets stay private (17.7).

The server tests share the session's real local stack (`argilla_stack` in tests/conftest.py); a
real HTTP proxy started here stands between the client and it and drops the connection after N
record batches, as a server killed mid-push does.
"""

from __future__ import annotations

import http.client
import socket
import stat
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))
from review_data import write_run  # noqa: E402

from fac_datasets.config import ArgillaConfig  # noqa: E402
from fac_datasets.review.credentials import owner_credentials  # noqa: E402
from fac_datasets.review.push import find_dataset  # noqa: E402

WORKSPACE = "fac"
RAW = ("RemoteProtocolError(",)  # an exception's repr is not a message


class DroppingProxy(ThreadingHTTPServer):
    """Forwards every request to the real server; drops the connection (no answer) on the `drop_after`+1-th match."""

    daemon_threads = True

    def __init__(self, upstream: str, pattern: str, drop_after: int) -> None:
        host_port = upstream.split("//", 1)[1]
        self.upstream = (host_port.split(":")[0], int(host_port.split(":")[1]))
        self.pattern, self.drop_after, self.seen = pattern, drop_after, 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Forward)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _forward(self) -> None:
        proxy: DroppingProxy = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if proxy.pattern in self.path:
            with proxy.lock:
                proxy.seen += 1
                drop = proxy.seen > proxy.drop_after
            if drop:  # the server "dies": the request was read, no answer ever comes
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
        upstream = http.client.HTTPConnection(*proxy.upstream, timeout=120)
        skip = {"host", "connection", "transfer-encoding", "content-length"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        upstream.close()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in skip:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward


@pytest.fixture()
def proxy_factory():
    started = []

    def make(upstream: str, pattern: str, drop_after: int) -> DroppingProxy:
        proxy = DroppingProxy(upstream, pattern, drop_after)
        proxy.thread.start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.shutdown()
        proxy.server_close()


# ------------------------------------------------------------------ 17.4: the server dies mid-push
@pytest.mark.slow
def test_a_server_that_dies_mid_push_is_one_line_with_the_count_and_a_repush_completes(
    fac, argilla_stack, owner_client, proxy_factory, tmp_path
):  # fmt: skip
    run = write_run(tmp_path / "run")
    proxy = proxy_factory(argilla_stack.url, "/records/bulk", drop_after=2)
    push = ["review", "push", "--kind", "samples", "--data", str(run), "--dataset", "dies-mid-push"]
    push += ["--workspace", WORKSPACE, "--api-key", argilla_stack.api_key, "--batch-size", "1"]
    cut = fac(*push, "--url", proxy.url)
    line = cut.error_line(
        f"The Argilla server at {proxy.url} stopped answering", "2 of 4 records reached it", "again", absent=RAW
    )
    assert "RemoteProtocolError" in line  # what happened, in a word
    on_server = list(find_dataset(owner_client, "dies-mid-push", WORKSPACE).records())
    assert len(on_server) == 2  # the count in the message is what the server holds

    again = fac(*push, "--url", argilla_stack.url)
    assert again.exit_code == 0, again.output
    assert "4 records (2 new, 2 updated)" in again.output
    assert len(list(find_dataset(owner_client, "dies-mid-push", WORKSPACE).records())) == 4


@pytest.mark.slow
def test_a_server_that_dies_mid_pull_is_one_line_and_writes_nothing(
    fac, argilla_stack, proxy_factory, tmp_path
):  # fmt: skip
    run = write_run(tmp_path / "run")
    common = ["--kind", "samples", "--data", str(run), "--dataset", "dies-mid-pull", "--workspace", WORKSPACE]
    common += ["--api-key", argilla_stack.api_key]
    pushed = fac("review", "push", *common, "--url", argilla_stack.url)
    assert pushed.exit_code == 0, pushed.output
    proxy = proxy_factory(argilla_stack.url, "/records", drop_after=0)
    out = tmp_path / "pulled"
    cut = fac("review", "pull", *common, "--out", str(out), "--url", proxy.url)
    cut.error_line(f"The Argilla server at {proxy.url} stopped answering", "nothing was written", absent=RAW)
    assert not out.exists()


# ------------------------------------------------------------------ 17.7: the local stack's credentials
def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.slow
def test_the_local_stack_keeps_a_random_key_private_and_never_prints_it(fac, argilla_stack):
    state = argilla_stack.state_dir
    key = argilla_stack.api_key
    assert key and key != "owner.apikey.123" and len(key) >= 32
    assert _mode(state) == 0o700
    private = [state / "stack.json", state / "credentials.json", *(state / "data").glob("argilla.db*")]
    private += list((state / "run").glob("*.log")) + list((state / "run").glob("*.pid"))
    assert len(private) >= 8
    for path in private:
        assert _mode(path) == 0o600, f"{path} is {oct(_mode(path))}"
    for path in [state / "stack.json", *(state / "run").glob("*.log"), *(state / "run").glob("*.pid")]:
        assert key not in path.read_text(errors="replace"), f"the API key is written in {path}"
    status = fac("argilla", "status", "--state-dir", str(state))
    as_json = fac("argilla", "status", "--state-dir", str(state), "--json")
    assert status.exit_code == 0 and as_json.exit_code == 0
    assert key not in status.output and key not in as_json.output and "--show-key" in status.output
    shown = fac("argilla", "status", "--state-dir", str(state), "--show-key")
    assert shown.output.strip() == key


def test_credentials_are_random_per_state_dir_kept_or_taken_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("ARGILLA_API_KEY", raising=False)
    monkeypatch.delenv("ARGILLA_OWNER_PASSWORD", raising=False)
    (tmp_path / "a").mkdir()
    first = owner_credentials(tmp_path / "a", "owner", creating=True)
    assert first.source == "random" and len(first.api_key) >= 32 and len(first.password) >= 16
    assert _mode(tmp_path / "a" / "credentials.json") == 0o600
    assert owner_credentials(tmp_path / "a", "owner", creating=False) == first  # up/down: the same owner
    assert owner_credentials(tmp_path / "a", "owner", creating=True) == first  # --fresh keeps the state dir's key
    (tmp_path / "b").mkdir()
    other = owner_credentials(tmp_path / "b", "owner", creating=True)
    assert other.api_key != first.api_key and other.password != first.password
    monkeypatch.setenv("ARGILLA_API_KEY", "my.own.key.123456")
    monkeypatch.setenv("ARGILLA_OWNER_PASSWORD", "my-own-password")
    (tmp_path / "c").mkdir()
    given = owner_credentials(tmp_path / "c", "owner", creating=True)
    assert (given.api_key, given.password, given.source) == ("my.own.key.123456", "my-own-password", "environment")


def test_a_non_loopback_host_needs_allow_remote_and_is_warned_about(fac, tmp_path):
    from helpers import free_ports

    port, search_port, redis_port = free_ports(3)
    ports = ["--port", str(port), "--search-port", str(search_port), "--redis-port", str(redis_port)]
    up = ["argilla", "up", "--host", "0.0.0.0", "--state-dir", str(tmp_path / "state"), *ports]
    refused = fac(*up)
    refused.error_line("--host 0.0.0.0", "--allow-remote", absent=RAW)
    assert not (tmp_path / "state").exists()  # nothing was started or written
    with socket.socket() as busy:  # the search port is taken, so the allowed start stops right after the warning
        busy.bind(("0.0.0.0", search_port))
        busy.listen()
        allowed = fac(*up, "--allow-remote")
    assert "warning: the stack listens on 0.0.0.0" in allowed.output, allowed.output
    allowed.error_line(f"Port {search_port} on 0.0.0.0", absent=RAW)
    assert ArgillaConfig(host="127.0.0.1").allow_remote is False
