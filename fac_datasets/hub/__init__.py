"""Publishing to the Hugging Face Hub: a synthesized dataset, a feature catalog or an SAE, with a card.

folder -> kind (`kinds.py`) -> bundle: the files and the card's facts, built locally (`bundle.py`,
`card_data.py`) -> licences of the inputs (`licenses.py`) -> card rendered and checked (`cards.py`)
-> preflight: token, repo id, Hub reachable, repo state, Hub card validation (`preflight.py`) ->
one commit (`push.py`). Nothing here touches the network unless `push` is called.
"""

from importlib import import_module

_LAZY = {
    "push": "fac_datasets.hub.push",
    "PushResult": "fac_datasets.hub.push",
    "detect_kind": "fac_datasets.hub.kinds",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
