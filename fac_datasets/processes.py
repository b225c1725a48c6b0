"""Is the process we recorded by pid still that process? (Linux /proc; a pid alone can be reused.)

A pid file records the pid and the process's start time (clock ticks since boot, field 22 of
/proc/<pid>/stat); a live process with that pid but another start time is someone else. Used by the
local Argilla stack's pid files and by the run locks of output folders.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state first), or None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return text[text.rindex(")") + 2 :].split()


def start_time(pid: int) -> int | None:
    """When `pid` started (clock ticks since boot), or None if it is not running."""
    stat = proc_stat(pid)
    return int(stat[19]) if stat else None


def reap(pid: int) -> None:
    """Collect our own exited child (tests start processes in-process); others are not ours to wait for."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def alive(pid: int, started: int | None = None) -> bool:
    """`pid` runs (not a zombie) and, when `started` is given, is the process that started then."""
    reap(pid)
    stat = proc_stat(pid)
    if stat is None or stat[0] in ("Z", "X"):
        return False
    return started is None or int(stat[19]) == started
