"""The real local Argilla stack, started once per session on free ports and always stopped."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_data import free_ports


@pytest.fixture(scope="session")
def argilla_stack(tmp_path_factory):
    """A running stack of its own (state dir in tmp, free ports); everything it started is stopped at the end."""
    from fac_datasets.config import ArgillaConfig
    from fac_datasets.review.stack import ArgillaStack

    port, search_port, redis_port = free_ports(3)
    config = ArgillaConfig(
        state_dir=str(tmp_path_factory.mktemp("argilla-state")),
        port=port,
        search_port=search_port,
        redis_port=redis_port,
        fresh=True,
    )
    stack = ArgillaStack(config, progress=print)
    pids = []
    try:
        status = stack.up()  # stops what it started if any component fails
        pids = [c.pid for c in status.components]
        print(f"local Argilla stack up in {status.seconds} s at {status.url}")
        yield stack
    finally:
        stack.down()
        left = [pid for pid in pids if Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)]
        assert not left, f"processes of the test stack still running: {left}"


def _state(pid: int) -> str:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "Z"
    return text[text.rindex(")") + 2]


@pytest.fixture(scope="session")
def owner_client(argilla_stack):
    from fac_datasets.review.connection import connect

    return connect(argilla_stack.url, argilla_stack.config.owner_api_key, argilla_stack.config)
