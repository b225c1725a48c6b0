"""`OpenAIGenerator`: any OpenAI-compatible chat server (vLLM, TGI, llama.cpp server, Ollama, OpenAI).

Plain `httpx` (no `openai` package in the core deps); a bounded thread pool keeps `concurrency`
requests in flight; connection errors, timeouts, 429 and 5xx are retried with exponential backoff,
other 4xx are not (retrying a bad request or a bad key only wastes time). With a deadline, each
request waits at most the time left, backoff stops at the deadline, and queued requests are not sent.

Structured output: a request with a schema carries the standard `response_format` (json_schema)
plus the servers' own guided-decoding fields (vLLM's `structured_outputs` and older `guided_json`,
llama.cpp's `json_schema`). A server that refuses them (HTTP 400/422: OpenAI rejects unknown fields)
is asked again at once with `response_format` only, then with no schema field at all; the level
that works is remembered for the rest of the generator's life. Answers are checked by the base
class either way, so a server that ignores the schema only costs malformed answers, counted.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import httpx

from fac_datasets.config import GenerationParams, GeneratorConfig
from fac_datasets.errors import FacConfigError
from fac_datasets.generation.generator import ACCEPTED_SPECS, Conversation, DoneCallback, Generation, Generator
from fac_datasets.generation.schema import AnswerSchema

API_KEY_ENV = ("FAC_OPENAI_API_KEY", "OPENAI_API_KEY")
MAX_BACKOFF_SECONDS = 60.0
SCHEMA_LEVELS = ("response_format and server fields", "response_format only", "no schema field")
"""What a request with a schema carries, from most to least; a server that refuses one level gets the next."""


def parse_openai_spec(spec: str) -> tuple[str, str]:
    """'openai:MODEL@BASE_URL' -> (model, base_url without trailing slash)."""
    model, sep, base_url = spec.removeprefix("openai:").partition("@")
    model, base_url = model.strip(), base_url.strip().rstrip("/")
    if not sep or not model or not base_url.startswith(("http://", "https://")):
        raise FacConfigError(
            f"Bad OpenAI-compatible spec {spec!r}: expected 'openai:MODEL@BASE_URL' with an http(s) base URL "
            f"(usually ending in /v1). Accepted forms: {ACCEPTED_SPECS}."
        )
    return model, base_url


def api_key_from_env() -> str | None:
    """FAC_OPENAI_API_KEY, else OPENAI_API_KEY; local servers often need none."""
    return next((os.environ[name] for name in API_KEY_ENV if os.environ.get(name)), None)


class OpenAIGenerator(Generator):
    """POSTs each conversation to {base_url}/chat/completions."""

    def __init__(
        self, model: str, base_url: str, config: GeneratorConfig | None = None, api_key: str | None = None
    ) -> None:
        base_url = base_url.rstrip("/")
        super().__init__(f"openai:{model}@{base_url}", config)
        self.model = model
        self.url = f"{base_url}/chat/completions"
        self.api_key = api_key if api_key is not None else api_key_from_env()
        self.schema_level = 0
        """Index in SCHEMA_LEVELS of what requests with a schema carry (raised when a server refuses a level)."""

    def _run(
        self,
        conversations: list[Conversation],
        params: GenerationParams,
        done: DoneCallback,
        schema: AnswerSchema | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        workers = self.config.concurrency
        limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
        with httpx.Client(timeout=self.config.timeout_seconds, headers=headers, limits=limits) as client:
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fac-openai")
            try:
                futures = {
                    pool.submit(self._request, client, conv, params, schema): i for i, conv in enumerate(conversations)
                }
                for future in as_completed(futures):
                    try:
                        generation = future.result()
                    except Exception as exc:  # a bug in parsing must not lose the other answers
                        generation = Generation(None, error=f"{self.url}: unexpected {type(exc).__name__}: {exc}")
                    done(futures[future], generation)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)  # on Ctrl-C, queued requests are not sent

    def _payload(
        self, conversation: Conversation, params: GenerationParams, schema: AnswerSchema | None = None, level: int = 0
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": conversation,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": params.seed,
        }
        if params.stop:
            payload["stop"] = list(params.stop)
        if params.continue_final_message:  # vLLM's chat extension; other servers may ignore or refuse it
            payload.update(continue_final_message=True, add_generation_prompt=False)
        if schema is not None and level < 2:
            json_schema = schema.json_schema
            payload["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.name, "schema": json_schema},
            }
            if level == 0:  # vLLM >= 0.10.2, older vLLM, llama.cpp server; each ignores the others' fields
                payload.update(structured_outputs={"json": json_schema}, guided_json=json_schema)
                payload["json_schema"] = json_schema
        return payload

    def _request(
        self, client: httpx.Client, conversation: Conversation, params: GenerationParams, schema: AnswerSchema | None
    ) -> Generation:
        """One conversation; a server that refuses the schema fields is asked again with fewer (see the module doc)."""
        level = self.schema_level
        while True:
            generation, refused = self._send(client, self._payload(conversation, params, schema, level))
            if refused and schema is not None and level + 1 < len(SCHEMA_LEVELS):
                level += 1  # asked again at once, with less
                self._add(retries=1)
                continue
            if not refused and level > self.schema_level:  # remembered only when asking with less worked
                with self._lock:
                    self.schema_level = max(self.schema_level, level)
            return generation

    def _send(self, client: httpx.Client, payload: dict[str, Any]) -> tuple[Generation, bool]:
        """(the answer, whether the server refused the request as bad: HTTP 400 or 422); retried until the deadline."""
        attempts = self.config.max_retries + 1
        last_error, retry_after = "", 0.0
        for attempt in range(attempts):
            if attempt:
                delay = min(max(self.config.backoff_seconds * 2 ** (attempt - 1), retry_after), MAX_BACKOFF_SECONDS)
                left = self.time_left()
                if left is not None and delay >= left:
                    return self._stopped(attempt, last_error), False
                self._add(retries=1)
                time.sleep(delay)
            left = self.time_left()
            if left is not None and left <= 0:
                return (self.not_sent() if attempt == 0 else self._stopped(attempt, last_error)), False
            timeout = self.config.timeout_seconds if left is None else min(self.config.timeout_seconds, left)
            retry_after = 0.0
            try:
                response = client.post(self.url, json=payload, timeout=timeout)
            except httpx.TimeoutException as exc:
                last_error = f"timed out after {timeout:.3g}s ({type(exc).__name__})"
                continue
            except httpx.TransportError as exc:
                last_error = f"connection failed ({type(exc).__name__}: {exc})"
                continue
            status = response.status_code
            if status == 429 or status >= 500:
                last_error = f"HTTP {status}: {response.text[:200]}"
                retry_after = _seconds(response.headers.get("retry-after"))
                continue
            if status >= 400:
                return Generation(None, error=self._client_error(response)), status in (400, 422)
            return self._parse(response), False
        return Generation(None, error=f"{self.url} failed after {attempts} attempts; last: {last_error}"), False

    def _stopped(self, attempts: int, last_error: str) -> Generation:
        deadline = f"the deadline of {self.config.deadline_seconds:g} s (deadline_seconds, --deadline)"
        return Generation(
            None, error=f"{self.url} failed after {attempts} attempts, {deadline} stopped retries; last: {last_error}"
        )

    def _client_error(self, response: httpx.Response) -> str:
        status, body = response.status_code, response.text[:300]
        if status in (401, 403):
            have = "the key that was sent" if self.api_key else "no API key (none was set)"
            return (
                f"HTTP {status} from {self.url}: the server refused {have}. Set FAC_OPENAI_API_KEY "
                f"(or OPENAI_API_KEY) to a key this server accepts. Server said: {body}"
            )
        if status == 404:
            return (
                f"HTTP 404 from {self.url}: check the base URL (OpenAI-compatible servers usually serve it "
                f"under /v1) and the model name {self.model!r}. Server said: {body}"
            )
        return f"HTTP {status} from {self.url} (not retried): {body}"

    def _parse(self, response: httpx.Response) -> Generation:
        try:
            data = response.json()
            text = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            error = f"{self.url} answered without choices[0].message.content ({exc!r}): {response.text[:200]}"
            return Generation(None, error=error)
        if not isinstance(text, str):
            return Generation(None, error=f"{self.url} answered with no text content (got {text!r:.100})")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return Generation(text, False, _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens")), None)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _seconds(value: str | None) -> float:
    """Retry-After as seconds (the HTTP-date form is ignored)."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0
