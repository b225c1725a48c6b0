"""Validate what users pass as texts: plain strings or chat message lists."""

from __future__ import annotations

from typing import Any, Sequence, Union

from fac_datasets.errors import FacInputError

Message = dict
TextInput = Union[str, Sequence[Message]]


def check_item(item: Any, index: int) -> TextInput:
    """Return `item` if it is a string or a list of {'role', 'content'} messages, else raise."""
    if isinstance(item, str):
        return item
    if item is None:
        raise FacInputError(f"Row {index} is None: expected a string or a list of chat messages.")
    if isinstance(item, (list, tuple)) and all(isinstance(m, dict) for m in item):
        for turn, message in enumerate(item):
            if not isinstance(message.get("content"), str) or not isinstance(message.get("role"), str):
                raise FacInputError(
                    f"Row {index}, message {turn}: chat messages need string 'role' and 'content' "
                    f"keys, got {sorted(message)}."
                )
        return item
    raise FacInputError(
        f"Row {index} is a {type(item).__name__} ({str(item)[:60]!r}): expected a string or a "
        "list of chat messages. Check that you picked the text column."
    )
