"""A small in-process memo for frozen states of test sets.

A validation study scores dozens of training subsets against one test set; the test set's frozen
states do not depend on the training rows, so they are computed once per process and reused.
Keys hold everything that changes the states (model, layer, dtype, lengths, texts).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
_ENTRIES: OrderedDict[tuple, Any] = OrderedDict()
MAX_ENTRIES = 4  # a few test sets: each holds at most a few tens of MB of states


def digest(texts: Sequence[str]) -> str:
    """A content hash of an ordered list of strings."""
    h = hashlib.sha256()
    for text in texts:
        h.update(text.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def memoized(key: tuple, compute: Callable[[], T], *, enabled: bool) -> tuple[T, bool]:
    """(value, was_cached): `compute()` unless `key` was computed before (and `enabled`)."""
    if enabled and key in _ENTRIES:
        _ENTRIES.move_to_end(key)
        return _ENTRIES[key], True
    value = compute()
    if enabled:
        _ENTRIES[key] = value
        while len(_ENTRIES) > MAX_ENTRIES:
            _ENTRIES.popitem(last=False)
    return value, False


def clear() -> None:
    """Forget every memoized state (tests, or to free memory)."""
    _ENTRIES.clear()
