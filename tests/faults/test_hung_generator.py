"""A generator server that accepts connections and never answers must not hold a run for long (issue 17.6).

Found by hand: such a server blocked `fac synthesize` for 677 s (120 s times 5 attempts) with no option
for the timeout, the retries or a total deadline, and no report.json was written. Here a real local
server accepts every connection and never answers; the limits bound the run, every failure is counted,
and synthesis still leaves its report.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import threading
import time

import pytest
from helpers import TEXTS

from fac_datasets.config import GenerationParams, GeneratorConfig
from fac_datasets.generation import load_generator

GENERATING_COMMANDS = ("synthesize", "interpret", "relevance", "demo")
PARAMS = GenerationParams(max_new_tokens=8, temperature=0.0)


class HungServer:
    """Listens on 127.0.0.1, accepts every connection, reads what is sent and never answers."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.base_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"
        self.stopped = threading.Event()
        self.connections: list[socket.socket] = []
        self.requests = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._accept, daemon=True)]

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(0.05)
            with self.lock:
                self.connections.append(conn)
            reader = threading.Thread(target=self._read, args=(conn,), daemon=True)
            self.threads.append(reader)
            reader.start()

    def _read(self, conn: socket.socket) -> None:
        while not self.stopped.is_set():
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.requests += data.count(b"POST ")

    def start(self) -> HungServer:
        self.threads[0].start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        for thread in list(self.threads):
            thread.join(timeout=5)
        for conn in self.connections:
            conn.close()
        self.listener.close()


@pytest.fixture()
def hung_server():
    server = HungServer().start()
    yield server
    server.stop()


def conversations(n: int, tag: str = "") -> list[list[dict]]:
    return [[{"role": "user", "content": f"question {tag}{i}"}] for i in range(n)]


def test_the_deadline_turns_pending_requests_into_counted_failures_without_sending_them(chat_server, tmp_path):
    config = GeneratorConfig(cache_dir=str(tmp_path), deadline_seconds=0.5, max_retries=0)
    generator = load_generator(f"openai:m@{chat_server.base_url}", config)
    first = generator.generate(conversations(2), PARAMS)  # starts the deadline's clock
    assert all(g.ok for g in first) and len(chat_server.requests) == 2
    while generator.time_left() > 0:
        time.sleep(0.05)
    late = generator.generate(conversations(3, "late "), PARAMS)
    assert len(chat_server.requests) == 2  # nothing more was sent
    assert all(g.text is None and "deadline of 0.5 s had passed" in g.error for g in late)
    stats = generator.stats
    assert (stats.calls, stats.errors, stats.not_sent) == (2, 3, 3)
    assert [g.text for g in generator.generate(conversations(2), PARAMS)] == [g.text for g in first]  # cache


def test_the_deadline_stops_retries_and_queued_requests_to_a_hung_server(hung_server, tmp_path):
    # Without a deadline: 4 requests one after another, each 1 + 1 + 1 + 2 + 1 s (timeouts and backoff).
    config = GeneratorConfig(
        cache_dir=str(tmp_path), concurrency=1, timeout_seconds=1, max_retries=2, deadline_seconds=2.5
    )
    generator = load_generator(f"openai:m@{hung_server.base_url}", config)
    start = time.perf_counter()
    out = generator.generate(conversations(4), PARAMS)
    elapsed = time.perf_counter() - start
    assert 2.0 <= elapsed < 5.0, elapsed
    assert all(g.text is None for g in out)
    assert "deadline of 2.5 s (deadline_seconds, --deadline) stopped retries" in out[0].error
    assert "failed after 2 attempts" in out[0].error
    assert re.search(r"last: timed out after 0\.\d+s", out[0].error)  # the second try waited only the time left
    assert all("not sent" in g.error for g in out[1:])
    stats = generator.stats
    assert (stats.calls, stats.not_sent, stats.errors, stats.retries) == (1, 3, 4, 1)
    assert hung_server.requests == 2  # the first try and one retry; the backoff to a third passed the deadline


def test_a_local_model_stops_between_batches_at_the_deadline(tiny_model_dir, tmp_path):
    # The deadline's clock steps one second per reading, so the deadline (2.5 s) falls inside the first
    # batch whatever the machine's speed (a random model may also stop at EOS after a token or two).
    config = GeneratorConfig(cache_dir=str(tmp_path), batch_size=1, deadline_seconds=2.5)
    generator = load_generator(f"hf:{tiny_model_dir}", config)
    ticks = itertools.count()
    generator.clock = lambda: float(next(ticks))  # start 0, generate's check 1, batch 1's 2 (sent), batch 2's 3
    out = generator.generate(conversations(3), GenerationParams(max_new_tokens=64, temperature=0.0))
    assert sum(g.ok for g in out) == 1
    assert sum(g.text is None and "not sent" in g.error for g in out) == 2
    assert (generator.stats.calls, generator.stats.not_sent, generator.stats.errors) == (1, 2, 2)


def test_fac_synthesize_against_a_hung_server_stops_early_and_leaves_its_report(
    fac, hung_server, tmp_path, monkeypatch, tiny
):
    monkeypatch.setenv("FAC_DATASETS_CACHE", str(tmp_path / "cache"))
    (tmp_path / "anchor.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS if t))
    (tmp_path / "current.jsonl").write_text(json.dumps({"text": "Hi."}) + "\n")
    out = tmp_path / "out"
    start = time.perf_counter()
    result = fac(
        "synthesize", "--anchor", tmp_path / "anchor.jsonl", "--current", tmp_path / "current.jsonl",
        "--task", "instruction_following", "--out", out, *tiny.args, "--max-features", "1",
        "--generator", f"openai:m@{hung_server.base_url}",
        "--timeout", "1", "--max-retries", "1", "--deadline", "5",
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    assert elapsed < 60, elapsed  # it was 677 s with the defaults
    line = result.error_line("timed out after 1s", str(out / "report.json"))
    assert line.startswith("error: Every call of a round to openai:m@"), line
    report = json.loads((out / "report.json").read_text())
    generator = report["generator"]
    assert generator["calls"] > 0 and generator["errors"] == generator["calls"] + generator["not_sent"]
    assert report["stop_reason"] == "generator failed" and "timed out after 1s" in report["error"]
    assert report["samples"]["accepted"] == 0
    assert [f["status"] for f in report["features"]] == ["generator_failed"]
    assert report["features"][0]["failed_calls"] == report["calls"]["total"] > 0
    assert hung_server.requests == 2 * generator["calls"]  # each sent call: one try, one retry


def test_fac_interpret_and_relevance_take_the_limits(fac, hung_server, tmp_path, monkeypatch, tiny):
    monkeypatch.setenv("FAC_DATASETS_CACHE", str(tmp_path / "cache"))
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS if t))
    spec = f"openai:m@{hung_server.base_url}"
    limits = ("--timeout", "1", "--max-retries", "0", "--deadline", "2")
    start = time.perf_counter()
    result = fac(
        "interpret", "--corpus", tmp_path / "corpus.jsonl", "--out", tmp_path / "cat", *tiny.args,
        "--generator", spec, "--features", "top:12", *limits,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - start < 60
    summary = json.loads(result.output[result.output.index("{") :])
    explain, generator = summary["explain"], summary["generator"]
    # 4 requests at a time (the default concurrency), 1 s each: two rounds fit in the 2 s deadline.
    assert explain["features"] == explain["failed_calls"] == generator["calls"] + generator["not_sent"]
    assert (generator["calls"], generator["retries"]) == (8, 0) and generator["not_sent"] > 0
    assert "verify" in summary and generator["errors"] == explain["features"]  # no explanation: nothing to verify

    sent, start = hung_server.requests, time.perf_counter()
    result = fac(
        "relevance", "--catalog", tmp_path / "cat", "--anchor", tmp_path / "corpus.jsonl", "--task", "toxicity",
        "--method", "llm", "--features", "top:12", "--generator", spec, *tiny.args, *limits,
    )  # fmt: skip
    assert time.perf_counter() - start < 30
    assert "Traceback" not in result.output  # every judgement failed: no verdicts (a one-line error today)
    assert hung_server.requests - sent == 8  # two rounds of 4 within the deadline, the other 4 never sent


@pytest.mark.parametrize("command", GENERATING_COMMANDS)
def test_every_generating_command_offers_the_generator_limits(fac, command):
    result = fac(command, "--help", env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.replace("│", " ").split())
    for flag, field in (("--timeout", "timeout_seconds"), ("--max-retries", "max_retries")):
        assert flag in flat
        assert GeneratorConfig.model_fields[field].description in flat
        assert f"[default: {GeneratorConfig.default_of(field)}]" in flat
    assert "--deadline" in flat and GeneratorConfig.model_fields["deadline_seconds"].description in flat
