"""One run per output folder: a lock file naming the pid (and its start time) of the run that holds it.

A second run into the same folder is refused with one line naming the first one's pid. A lock left
by a run that died (kill -9, a crash) is taken over: its pid is gone, or a live process with that
pid started at another time (the pid was reused), which `processes.alive` tells apart.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from fac_datasets.constants import RUN_LOCK_FILENAME
from fac_datasets.errors import FacInputError
from fac_datasets.processes import alive, start_time


class RunLock:
    """`with RunLock(out_dir, "annotate-dataset"):` holds `out_dir/.fac-run.lock` for the run."""

    def __init__(self, folder: str | Path, what: str) -> None:
        self.folder = Path(folder)
        self.path = self.folder / RUN_LOCK_FILENAME
        self.what = what
        self._held = False

    def _facts(self) -> dict:
        pid = os.getpid()
        return {
            "pid": pid,
            "start_time": start_time(pid),
            "host": socket.gethostname(),
            "command": self.what,
            "since": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }

    def _holder(self) -> dict | None:
        """The live run holding the lock, or None when the lock is free or stale (then it is removed)."""
        try:
            facts = json.loads(self.path.read_text())
            pid, started = int(facts["pid"]), facts.get("start_time")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            facts, pid, started = {}, None, None  # unreadable: a run that died while writing it
        same_host = facts.get("host", socket.gethostname()) == socket.gethostname()
        if pid is not None and (not same_host or alive(pid, started)):
            return facts
        self.path.unlink(missing_ok=True)
        return None

    def acquire(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for _ in range(3):  # a stale lock is removed, then created again with O_EXCL: one of two racers wins
            holder = self._holder()
            if holder is not None:
                where = "" if holder.get("host") == socket.gethostname() else f" on {holder.get('host')}"
                raise FacInputError(
                    f"{self.folder} is in use by another {holder.get('command', 'run')} (pid {holder['pid']}{where}, "
                    f"since {holder.get('since', '?')}): wait for it to finish or stop it, or pass another --out."
                )
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(json.dumps(self._facts()))
            self._held = True
            return
        raise FacInputError(f"{self.folder}: could not take the run lock {self.path}; try again.")

    def release(self) -> None:
        if self._held:
            self.path.unlink(missing_ok=True)
            self._held = False

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
