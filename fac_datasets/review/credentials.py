"""The local stack's owner credentials: random per state dir (or from the environment), readable by the user only.

The API key opens every dataset on the server, so it is never a fixed string, never printed and
never logged: `up` creates it once per state dir (kept across `down`/`up`, and across `--fresh`),
takes ARGILLA_API_KEY / ARGILLA_OWNER_PASSWORD instead when they are set as the owner is created,
and stores it in `<state>/credentials.json` (0600). `fac argilla status --show-key` prints it.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from fac_datasets.constants import ARGILLA_API_KEY_ENV, ARGILLA_CREDENTIALS, ARGILLA_PASSWORD_ENV

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
# What releases before random keys created: a state dir whose database has no credentials file holds this owner.
_LEGACY_PASSWORD, _LEGACY_API_KEY = "12345678", "owner.apikey.123"


@dataclass(frozen=True)
class Credentials:
    """The owner account of one state dir; `source` says where the secrets came from (random, environment, legacy)."""

    owner: str
    password: str
    api_key: str
    source: str


def private_dir(path: Path) -> Path:
    """`path` created if missing and made 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    path.chmod(PRIVATE_DIR)
    return path


def write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner can read (also when it existed with wider permissions)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def open_private_log(path: Path):
    """A log file opened for appending, readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    return os.fdopen(fd, "a")


def credentials_path(state_dir: Path) -> Path:
    return state_dir / ARGILLA_CREDENTIALS


def load_credentials(state_dir: Path) -> Credentials | None:
    try:
        return Credentials(**json.loads(credentials_path(state_dir).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def owner_credentials(
    state_dir: Path, owner: str, *, creating: bool, api_key: str | None = None, password: str | None = None
) -> Credentials:
    """The credentials `up` uses: stored for a kept database; for a new owner the given, environment or random ones.

    A kept database without a credentials file was made with the old fixed key: it is recorded as
    'legacy' (start with --fresh to replace it).
    """
    stored = load_credentials(state_dir)
    if not creating:
        found = stored or Credentials(owner, _LEGACY_PASSWORD, _LEGACY_API_KEY, "legacy")
    else:
        api_key = api_key or os.environ.get(ARGILLA_API_KEY_ENV)
        password = password or os.environ.get(ARGILLA_PASSWORD_ENV)
        if stored and not api_key and not password and stored.owner == owner:
            return stored  # a --fresh start keeps the state dir's key
        source = "environment" if api_key or password else "random"
        found = Credentials(
            owner, password or secrets.token_urlsafe(18), api_key or f"fac.{secrets.token_urlsafe(32)}", source
        )
    if found != stored:
        write_private(credentials_path(state_dir), json.dumps(asdict(found), indent=2))
    return found
