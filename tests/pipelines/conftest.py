"""distilabel's pipeline run replaces the root logger's handlers with a QueueHandler on a queue it closes
when the run ends; later tests that log (argilla logs every login) then print '--- Logging error ---'
tracebacks. Each test here gets the root logger back as it was."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(autouse=True)
def root_logging_restored():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
