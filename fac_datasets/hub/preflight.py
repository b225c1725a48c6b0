"""Everything checked before the first upload (as sae-lens' upload_saes_to_huggingface does), in order:
token present, repo id valid (no network); Hub reachable and token accepted; repo state against
--exists; card accepted by the Hub's validator. A push that fails here has changed nothing.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fac_datasets.constants import HUB_CARD_FILENAME, HUB_KIND_TAGS, HUB_TAGS, HUB_TOKEN_ENV
from fac_datasets.errors import FacConfigError, FacError, FacOfflineError

NO_TOKEN = f"no token: set {HUB_TOKEN_ENV} or pass --token (a write token from https://huggingface.co/settings/tokens)."


def resolve_token(token: str | None) -> str:
    """--token, else HF_TOKEN, else the token `hf auth login` saved; none is a FacConfigError (no network)."""
    from huggingface_hub import get_token

    token = (token or "").strip() or get_token()
    if not token:
        raise FacConfigError(NO_TOKEN)
    return token


def check_repo_id(repo_id: str) -> str:
    """owner/name, as the Hub spells repo ids; the owner is explicit so the exists check looks at the right repo."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    fix = "Pass --repo OWNER/NAME (letters, digits, '-', '_', '.'; at most 96 characters)."
    if not isinstance(repo_id, str) or repo_id.count("/") != 1:
        raise FacConfigError(f"--repo {repo_id!r} is not a Hub repo id: it must be 'owner/name'. {fix}")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise FacConfigError(f"--repo {repo_id!r} is not a valid Hub repo id: {exc} {fix}") from exc
    return repo_id


def endpoint_of(configured: str | None) -> str:
    from huggingface_hub import constants

    return (configured or constants.ENDPOINT).rstrip("/")


def connect(endpoint: str, token: str):
    """An HfApi on `endpoint`; HF_HUB_OFFLINE set is a FacOfflineError (fac push is the one command that needs it)."""
    from huggingface_hub import HfApi, constants

    if constants.is_offline_mode():
        raise FacOfflineError(
            "HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set, and `fac push` needs the Hub: unset it for this command."
        )
    return HfApi(endpoint=endpoint, token=token)


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


@contextmanager
def hub_call(what: str, endpoint: str, hint: str = "") -> Iterator[None]:
    """Turn the Hub client's errors into one FacError line saying what was being done and what to do."""
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    hint = f" {hint}" if hint else ""
    try:
        yield
    except FacError:
        raise
    except OfflineModeIsEnabled as exc:
        raise FacOfflineError(f"{what}: {exc}{hint}") from exc
    except HfHubHTTPError as exc:
        status = _status(exc)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if status == 401:
            raise FacConfigError(
                f"{what}: the Hub at {endpoint} rejected the token (401). Pass a valid write token.{hint}"
            ) from exc
        if status == 403:
            raise FacConfigError(
                f"{what}: the token may not write there (403): {first}. Use a write token of the repo's owner.{hint}"
            ) from exc
        raise FacError(f"{what}: the Hub at {endpoint} answered {status}: {first}{hint}") from exc
    except Exception as exc:  # the HTTP stack's own errors (httpx/httpx2 transport, hf_xet) are not FacErrors
        unreachable = (ConnectionRefusedError, TimeoutError, socket.gaierror)
        if type(exc).__module__.split(".")[0] in ("httpx", "httpx2", "httpcore") or isinstance(exc, unreachable):
            raise FacOfflineError(
                f"{what}: cannot reach the Hub at {endpoint} ({type(exc).__name__}: {exc}). "
                f"Check the network, or --endpoint / HF_ENDPOINT.{hint}"
            ) from exc
        if isinstance(exc, OSError):
            raise FacError(
                f"{what}: failed talking to the Hub at {endpoint} ({type(exc).__name__}: {exc}).{hint}"
            ) from exc
        raise


def check_token(api, endpoint: str) -> str:
    """The user the token belongs to (a rejected token fails here, before anything is written)."""
    with hub_call("checking the token", endpoint):
        return api.whoami()["name"]


@dataclass
class RepoState:
    """What is at the repo id now: nothing, or a repo with its head commit, files and card tags."""

    exists: bool
    sha: str | None = None
    files: list[str] = field(default_factory=list)
    tags: list[str] | None = None  # None: no card
    private: bool | None = None


def repo_state(api, repo_id: str, repo_type: str, endpoint: str) -> RepoState:
    from huggingface_hub.errors import RepositoryNotFoundError

    with hub_call(f"looking up {repo_type} repo {repo_id}", endpoint):
        try:
            info = api.repo_info(repo_id, repo_type=repo_type)
        except RepositoryNotFoundError:
            return RepoState(exists=False)
    files = [sibling.rfilename for sibling in info.siblings or []]
    card_data = getattr(info, "card_data", None)
    tags = list(getattr(card_data, "tags", None) or []) if HUB_CARD_FILENAME in files else None
    return RepoState(True, info.sha, files, tags, getattr(info, "private", None))


def check_exists(state: RepoState, repo_id: str, kind: str, policy: str) -> None:
    """--exists fail refuses any existing repo; update refuses a card fac-datasets did not write, or another kind."""
    if not state.exists:
        return
    if policy == "fail":
        raise FacConfigError(
            f"{repo_id} already exists on the Hub (nothing was changed). Pass --exists update to publish a new "
            "commit that replaces what fac push wrote there, or pick another --repo."
        )
    if state.tags is not None and not set(HUB_TAGS) & set(state.tags):
        raise FacConfigError(
            f"{repo_id} has a card fac-datasets did not write; --exists update would replace it (nothing was changed). "
            "Push to another --repo, or move that card away first."
        )
    other = [k for k, tag in HUB_KIND_TAGS.items() if k != kind and tag in (state.tags or [])]
    if other:
        raise FacConfigError(
            f"{repo_id} holds a {other[0]}, not a {kind}: updating it would mix the two (nothing was changed). "
            "Push to another --repo."
        )


def _fields_in(message: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'"([A-Za-z_][\w.\-]*)"', message)))


def validate_on_hub(card, repo_type: str, endpoint: str, token: str) -> None:
    """The Hub's own card validation (as RepoCard.validate, on this endpoint); a rejected field is named."""
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    headers = {**build_hf_headers(token=token), "Accept": "text/plain"}
    with hub_call("validating the card", endpoint):
        response = get_session().post(
            f"{endpoint}/api/validate-yaml", json={"repoType": repo_type, "content": str(card)}, headers=headers
        )
        if response.status_code == 400:
            message = " ".join(response.text.split())
            fields = _fields_in(message)
            named = f"card field(s) {', '.join(repr(f) for f in fields)}" if fields else "the card metadata"
            raise FacConfigError(f"the Hub rejected {named}: {message} (nothing was uploaded).")
        hf_raise_for_status(response)
