"""What the local stack needs on disk: argilla-server's own venv (cached) and Debian's redis-server.

argilla-server 2.8.0 pins click<8.2, urllib3<2 and pydantic~=2.9, so it gets a venv of its own
under the fac cache dir, keyed by the requirements and the Python version: built once, reused by
every later `fac argilla up`, rebuilt from scratch if an install was interrupted (the stamp file
is written last). A file lock keeps two starts from building it at the same time.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fac_datasets.cache import cache_root
from fac_datasets.constants import ARGILLA_SERVER_REQUIREMENTS, ARGILLA_SYSTEM_PACKAGES
from fac_datasets.errors import FacServiceError

STAMP = ".fac-installed.json"


@dataclass(frozen=True)
class ServerEnv:
    """The server venv: its interpreter and the osmem-server binary its wheel ships."""

    python: Path
    osmem_binary: Path


def server_env_dir() -> Path:
    """Where the venv for these requirements and this Python lives (a new pin gets a new venv)."""
    key = f"{sys.version_info.major}.{sys.version_info.minor} " + " ".join(ARGILLA_SERVER_REQUIREMENTS)
    return cache_root() / "argilla-server" / f"venv-{hashlib.sha1(key.encode()).hexdigest()[:12]}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_logged(command: list[str], log: Path, what: str, env: dict | None = None) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    if result.returncode != 0:
        raise FacServiceError(f"{what} failed (exit code {result.returncode}); see {log}.")


def ensure_server_env(progress=print) -> ServerEnv:
    """The server venv, installed on first use (argilla-server, osmem-server, their pins) and cached."""
    venv = server_env_dir()
    with _locked(venv.parent / f".{venv.name}.lock"):
        stamp = venv / STAMP
        if stamp.is_file():
            facts = json.loads(stamp.read_text())
            env = ServerEnv(Path(facts["python"]), Path(facts["osmem_binary"]))
            if env.python.exists() and env.osmem_binary.exists():
                return env
        shutil.rmtree(venv, ignore_errors=True)  # a half-built venv from an interrupted install
        venv.parent.mkdir(parents=True, exist_ok=True)
        log = venv.parent / f"{venv.name}.install.log"
        progress(f"installing argilla-server into {venv} (once; log: {log})")
        _run_logged([sys.executable, "-m", "venv", str(venv)], log, "Creating the argilla-server venv")
        python = venv / "bin" / "python"
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        _run_logged([*pip, *ARGILLA_SERVER_REQUIREMENTS], log, "Installing argilla-server (pip)")
        found = subprocess.run(
            [str(python), "-c", "import osmem_server; print(osmem_server.resolve_binary())"],
            capture_output=True,
            text=True,
        )
        binary = Path(found.stdout.strip())
        if found.returncode != 0 or not binary.is_file():
            raise FacServiceError(f"osmem-server installed but its binary was not found: {found.stderr.strip()[-300:]}")
        facts = {"python": str(python), "osmem_binary": str(binary), "requirements": ARGILLA_SERVER_REQUIREMENTS}
        stamp.write_text(json.dumps(facts, indent=2))
        return ServerEnv(python, binary)


def ensure_system_packages(install: bool, log: Path, progress=print) -> None:
    """redis-server from Debian when it is missing: apt-get as root if allowed, else an error saying how."""
    missing = [package for package in ARGILLA_SYSTEM_PACKAGES if shutil.which(package) is None]
    if not missing:
        return
    command = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]
    if not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise FacServiceError(
            f"{', '.join(missing)} is not installed and cannot be installed here; run "
            f"`sudo apt-get install {' '.join(missing)}` (Debian/Ubuntu) and start again."
        )
    progress(f"installing {' '.join(missing)} (apt-get; log: {log})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        _run_logged(command, log, "apt-get install", env)
    except FacServiceError:  # an image without package lists: fetch them once, then retry
        _run_logged(["apt-get", "update", "-qq"], log, "apt-get update", env)
        _run_logged(command, log, f"apt-get install {' '.join(missing)}", env)
