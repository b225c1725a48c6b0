"""The shared `Generator`: chat conversations in, texts out, cached on disk and accounted.

Explanations, verification, the relevance judge and synthesis all call models the same way, so
one class owns what they have in common: a sqlite cache (a rerun makes zero calls, an interrupted
run keeps every finished answer), call and token accounting, and failed calls returned as
`Generation.error` instead of exceptions that would lose the other answers, and the total deadline
(`GeneratorConfig.deadline_seconds`): once it has passed, requests are not sent but answered
with a counted failure, so a server that never answers cannot hold a run for long. Backends only turn
conversations into answers (`transformers_generator`, `openai_generator`); they import this module,
never the other way round (`fac_datasets.generation.load_generator` picks one).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NamedTuple

from fac_datasets.cache import cache_root
from fac_datasets.config import GenerationParams, GeneratorConfig
from fac_datasets.constants import CACHE_GENERATIONS_DIR
from fac_datasets.errors import FacInputError
from fac_datasets.generation.schema import AnswerSchema, SchemaLike, as_schema

Conversation = list[dict[str, Any]]
ACCEPTED_SPECS = (
    "'default' (the embedded SmolLM2-135M-Instruct), "
    "'hf:PATH_OR_HUB_ID' (a transformers chat model: local folder or Hub id in the local HF cache), "
    "'openai:MODEL@BASE_URL' (an OpenAI-compatible server, e.g. openai:llama3@http://localhost:8000/v1)"
)


class Generation(NamedTuple):
    """One answer. A failed call has `text=None` and `error` set; `cached` says no call was made.

    Asked with a schema, `malformed` says why the answer does not follow it (a cause of
    `generation.schema.MALFORMED_CAUSES`; None when it does): the text is kept for tolerant parsing.
    """

    text: str | None
    cached: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    malformed: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.text is not None


@dataclass
class GeneratorStats:
    """What a generator has cost so far. Tokens and seconds count real backend calls only."""

    calls: int = 0
    """Conversations sent to the backend (each once, however many retries it took)."""
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: int = 0
    """Failed generations, those not sent because the deadline had passed included."""
    not_sent: int = 0
    """Conversations not sent because the deadline had passed (also counted in errors, not in calls)."""
    retries: int = 0
    seconds: float = 0.0
    malformed: dict[str, int] = field(default_factory=dict)
    """Answers asked with a schema that did not follow it, by cause (cache hits included); flat in to_dict."""

    def to_dict(self) -> dict[str, Any]:
        """Numbers only (so two snapshots subtract): `malformed_<cause>` keys appear once a cause has occurred."""
        numbers = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "malformed"}
        return numbers | {f"malformed_{cause}": n for cause, n in sorted(self.malformed.items())}


def cache_key(
    generator_id: str, conversation: Conversation, params: GenerationParams, schema: AnswerSchema | None = None
) -> str:
    """Everything that decides an answer, hashed."""
    settings = params.model_dump()
    if not settings["continue_final_message"]:  # added later: leave the keys of plain requests as they were
        del settings["continue_final_message"]
    if schema is not None:  # added later too: requests without a schema keep their keys
        settings["schema"] = schema.json_schema
    try:
        blob = json.dumps([generator_id, conversation, settings], sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise FacInputError(f"A conversation is not JSON-serialisable ({exc}); messages must hold plain data.") from exc
    return hashlib.sha256(blob.encode()).hexdigest()


def cache_file(generator_id: str, cache_dir: str | Path | None = None) -> Path:
    """The sqlite file of one generator: <cache_dir or cache root/generations>/<sanitized id>/."""
    root = Path(cache_dir).expanduser() if cache_dir else cache_root() / CACHE_GENERATIONS_DIR
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", generator_id).strip("._-")[:80]
    digest = hashlib.sha256(generator_id.encode()).hexdigest()[:10]  # ids that sanitize alike stay apart
    return root / f"{readable}-{digest}" / "generations.sqlite3"


class GenerationCache:
    """Successful generations by cache key, in one sqlite file; every put is committed at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, text TEXT NOT NULL, "
                "prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, created REAL NOT NULL)"
            )
            conn.commit()
            self._conn = conn
        return self._conn

    def get(self, key: str) -> Generation | None:
        with self._lock:
            row = (
                self._connect()
                .execute("SELECT text, prompt_tokens, completion_tokens FROM generations WHERE key = ?", (key,))
                .fetchone()
            )
        return None if row is None else Generation(row[0], True, row[1], row[2], None)

    def put(self, key: str, generation: Generation) -> None:
        with self._lock:
            conn = self._connect()
            conn.execute(
                "INSERT OR REPLACE INTO generations VALUES (?, ?, ?, ?, ?)",
                (key, generation.text, generation.prompt_tokens, generation.completion_tokens, time.time()),
            )
            conn.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._connect().execute("SELECT COUNT(*) FROM generations").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def check_conversation(conversation: Any, index: int) -> Conversation:
    """A conversation is a non-empty list of {'role': str, 'content': str} messages."""
    hint = "pass a list of conversations, each a list of {'role': ..., 'content': ...} messages"
    if not isinstance(conversation, list) or not conversation:
        raise FacInputError(f"Conversation {index} is a {type(conversation).__name__}, not a non-empty list; {hint}.")
    for message in conversation:
        if not (
            isinstance(message, dict)
            and isinstance(message.get("role"), str)
            and isinstance(message.get("content"), str)
        ):
            shown = repr(message)[:200]
            raise FacInputError(
                f"Conversation {index} has a message that is not {{'role': str, 'content': str}}: "
                + f"{shown}; {hint}."
            )
    return conversation


DoneCallback = Callable[[int, Generation], None]


class Generator:
    """Turns chat conversations into texts; subclasses implement `_run` for one backend."""

    generator_id: str
    """Stable id of backend + model, part of the cache key and of provenance records."""

    def __init__(self, generator_id: str, config: GeneratorConfig | None = None) -> None:
        self.generator_id = generator_id
        self.config = config or GeneratorConfig()
        self.stats = GeneratorStats()
        self.cache = GenerationCache(cache_file(generator_id, self.config.cache_dir))
        self._lock = threading.Lock()
        self._started: float | None = None  # monotonic time of the first request: the deadline's clock
        self.clock: Callable[[], float] = time.monotonic
        """Seconds on the deadline's clock (a test may step it instead of waiting)."""
        self._not_sent_error = (
            f"{generator_id}: not sent, the deadline of {self.config.deadline_seconds:g} s had passed "
            "(deadline_seconds, --deadline)"
            if self.config.deadline_seconds is not None
            else ""
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.generator_id!r})"

    def generate(
        self,
        conversations: Sequence[Conversation],
        params: GenerationParams | None = None,
        *,
        progress: bool = False,
        schema: SchemaLike | AnswerSchema | None = None,
    ) -> list[Generation]:
        """One `Generation` per conversation, in order; cached answers are reused, new ones cached as they finish.

        `schema` (a pydantic model class or a JSON-schema dict) asks for answers of that shape: local
        models are constrained to it, servers get it as `response_format`; every answer is checked
        and one that does not follow it is counted by cause (`Generation.malformed`), never raised.
        """
        from tqdm.auto import tqdm

        if isinstance(conversations, (str, dict)):
            raise FacInputError("generate() takes a list of conversations; wrap a single conversation in a list.")
        params = params or GenerationParams()
        answer_schema = as_schema(schema)
        if answer_schema is not None:
            self.check_schema(answer_schema)
        convs = [check_conversation(c, i) for i, c in enumerate(conversations)]
        results: list[Generation | None] = [None] * len(convs)
        pending: dict[str, list[int]] = {}  # duplicates are generated once
        for i, conv in enumerate(convs):
            key = cache_key(self.generator_id, conv, params, answer_schema)
            hit = None if key in pending else self.cache.get(key)
            if hit is not None:
                results[i] = hit
            else:
                pending.setdefault(key, []).append(i)
        hits = len(convs) - sum(len(indices) for indices in pending.values())
        self._add(cache_hits=hits)
        if pending:
            keys = list(pending)
            bar = tqdm(total=len(convs), initial=hits, desc=self.generator_id, disable=not progress, unit="conv")

            def done(job: int, generation: Generation) -> None:
                key = keys[job]
                generation = generation._replace(cached=False)
                if generation.ok:
                    self.cache.put(key, generation)
                not_sent = bool(self._not_sent_error) and generation.error == self._not_sent_error
                with self._lock:
                    self.stats.calls += 0 if not_sent else 1
                    self.stats.not_sent += 1 if not_sent else 0
                    self.stats.prompt_tokens += generation.prompt_tokens
                    self.stats.completion_tokens += generation.completion_tokens
                    self.stats.errors += 0 if generation.ok else 1
                    for i in pending[key]:
                        results[i] = generation
                    bar.update(len(pending[key]))

            start = time.perf_counter()
            if self._started is None:
                self._started = self.clock()
            try:
                if self.deadline_passed():  # nothing is sent
                    for job in range(len(keys)):
                        done(job, self.not_sent())
                else:
                    self._run([convs[pending[key][0]] for key in keys], params, done, answer_schema)
            finally:
                self._add(seconds=time.perf_counter() - start)
                bar.close()
        missing = Generation(None, error=f"{self.generator_id}: the backend returned no answer (a bug; please report)")
        answers = [r if r is not None else missing for r in results]
        return answers if answer_schema is None else [self._checked(a, answer_schema, params) for a in answers]

    def _checked(self, generation: Generation, schema: AnswerSchema, params: GenerationParams) -> Generation:
        """The generation with `malformed` set by the schema check, counted by cause."""
        cause = schema.malformed(generation.text, generation.completion_tokens, params.max_new_tokens)
        if cause is not None:
            with self._lock:
                self.stats.malformed[cause] = self.stats.malformed.get(cause, 0) + 1
        return generation._replace(malformed=cause)

    def check_schema(self, schema: AnswerSchema) -> None:
        """Raise FacConfigError (one line naming the schema feature) if this backend cannot take the schema."""

    def _run(
        self,
        conversations: list[Conversation],
        params: GenerationParams,
        done: DoneCallback,
        schema: AnswerSchema | None = None,
    ) -> None:
        """Answer every conversation, calling `done(index, generation)` once per index as soon as it is ready.

        Failures are reported as generations with `error` set, so finished answers are cached before a crash.
        With a `schema`, constrain or request answers of that shape (the base class checks them).
        Once `deadline_passed()`, send nothing more: answer each remaining index with `not_sent()`.
        """
        raise NotImplementedError

    def time_left(self) -> float | None:
        """Seconds until the deadline (0 once passed; the clock starts at the first request); None: no deadline."""
        deadline = self.config.deadline_seconds
        if deadline is None:
            return None
        if self._started is None:
            return deadline
        return max(0.0, self._started + deadline - self.clock())

    def deadline_passed(self) -> bool:
        left = self.time_left()
        return left is not None and left <= 0

    def not_sent(self) -> Generation:
        """The failed generation of a request the deadline stopped before it was sent (counted in not_sent)."""
        return Generation(None, error=self._not_sent_error)

    def _add(self, **increments: float) -> None:
        with self._lock:
            for name, value in increments.items():
                setattr(self.stats, name, getattr(self.stats, name) + value)

    def close(self) -> None:
        """Release the cache file (and, in subclasses, connections)."""
        self.cache.close()

    def __enter__(self) -> Generator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
