"""Small builders several test folders share (SAEs with known behaviour, example texts)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import torch

from fac_datasets.sae.model import SAEConfig, TopKSAE

TEXTS = [
    "Write a poem about the sea.",
    "How do I reverse a list in Python?",
    "The quick brown fox jumps over the lazy dog.",
    "",
    "Summarize the report in three bullet points.",
    "She sells sea shells by the sea shore.",
]


# General prose and a themed anchor: enrichment of SEA_POEMS against GENERAL picks the theme's features.
GENERAL = [
    "The committee met on Tuesday to discuss the annual budget.",
    "Rain is expected across the north of the country tomorrow.",
    "The museum opened a new wing devoted to modern sculpture.",
    "He walked to the station and waited for the early train.",
    "The recipe calls for two cups of flour and a pinch of salt.",
    "Scientists measured the temperature of the lake every hour.",
]
SEA_POEMS = [
    "Write a poem about the sea.",
    "Write a short poem about the ocean at night.",
    "Write a poem about the wind and the waves.",
    "Write a song about the sea shore.",
]


def random_sae(d_in=16, d_sae=64, k=4, seed=0, **cfg) -> TopKSAE:
    gen = torch.Generator().manual_seed(seed)
    sae = TopKSAE(SAEConfig(d_in=d_in, d_sae=d_sae, k=k, model_name="tiny", layer=2, **cfg))
    for name in ("W_enc", "b_enc", "W_dec", "b_dec"):
        param = getattr(sae, name)
        param.data.copy_(torch.randn(param.shape, generator=gen) * 0.5)
    return sae


def dense(top_acts, top_indices, d_sae):
    out = torch.zeros(top_acts.shape[0], d_sae)
    return out.scatter_(1, top_indices, top_acts)


def identity_sae(d_in: int, k: int | None = None) -> TopKSAE:
    """W_enc = [I, -I]: with k = d_in it reconstructs any x exactly (FVU 0); smaller k keeps
    each token's k largest coordinates (sparser features, FVU < 1)."""
    sae = TopKSAE(SAEConfig(d_in=d_in, d_sae=2 * d_in, k=k or d_in, apply_b_dec_to_input=False, layer=2))
    eye = torch.eye(d_in)
    sae.W_enc.data.copy_(torch.cat([eye, -eye], dim=1))
    sae.W_dec.data.copy_(torch.cat([eye, -eye], dim=0))
    return sae


def environ(overrides: Mapping[str, str | None]) -> dict[str, str]:
    """os.environ with `overrides` applied, a None value unsetting the variable: a subprocess's whole environment."""
    env = {**os.environ, **overrides}
    return {key: value for key, value in env.items() if value is not None}


def run_python(code: str, cwd: Path, offline: bool, python: str = sys.executable, **extra_env: str) -> str:
    """Run `code` in a fresh interpreter with its own evaluate modules cache (evaluate reads its paths at import)."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_EVALUATE_OFFLINE", "PYTHONPATH")}
    env.update(HF_MODULES_CACHE=str(cwd / "hf_modules"), FAC_DATASETS_CACHE=str(cwd / "fac_cache"), OMP_NUM_THREADS="1")
    # Any attempt to reach the Hub fails at once instead of hanging: nothing listens there.
    env.update(HF_ENDPOINT="http://127.0.0.1:9", **extra_env)
    if offline:
        env["HF_EVALUATE_OFFLINE"] = "1"
    proc = subprocess.run(
        [python, "-c", textwrap.dedent(code)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


class ChatServer:
    """A real HTTP server on 127.0.0.1; `script(question, n_seen)` decides each answer.

    The script returns "ok", an HTTP status code, or "drop" (close the connection without answering);
    `reply_text(body, question)` writes the answer of an "ok" (tests script a model's answers with it).
    """

    def __init__(self) -> None:
        self.script: Callable[[str, int], object] = lambda question, seen: "ok"
        self.reply_text: Callable[[dict, str], str] = lambda body, question: f"answer to {question}"
        self.delay: Callable[[str], float] = lambda question: 0.0
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                question = body["messages"][-1]["content"]
                with owner.lock:
                    seen = sum(r["messages"][-1]["content"] == question for r in owner.requests)
                    owner.requests.append(body)
                    owner.headers.append(dict(self.headers))
                    owner.in_flight += 1
                    owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
                try:
                    time.sleep(owner.delay(question))
                    action = owner.script(question, seen) if self.path == "/v1/chat/completions" else 404
                    if action == "drop":
                        self.close_connection = True
                        return
                    if action == "ok":
                        self.reply(200, owner.answer(body, question))
                    else:
                        self.reply(int(action), {"error": {"message": f"canned {action}"}})
                finally:
                    with owner.lock:
                        owner.in_flight -= 1

            def reply(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def answer(self, body: dict, question: str) -> dict:
        words = sum(len(m["content"].split()) for m in body["messages"])
        return {
            "id": "x",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply_text(body, question)}}],
            "usage": {"prompt_tokens": words, "completion_tokens": 3, "total_tokens": words + 3},
        }

    def count(self, question: str) -> int:
        return sum(r["messages"][-1]["content"] == question for r in self.requests)


CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Write a short poem about the ocean at night.",
    "How do I reverse a list in Python?",
    "She sells sea shells by the sea shore, said the teacher.",
    "Summarize the report in three bullet points for the committee.",
]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"
)


def build_tiny_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS * 4, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token="<unk>",
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_model(tokenizer, n_layers: int = 4, hidden: int = 32, seed: int = 0):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=64,
        num_hidden_layers=n_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(config).eval()


def free_ports(n: int) -> list[int]:
    """n distinct ports nothing listens on right now (the OS picks them)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
