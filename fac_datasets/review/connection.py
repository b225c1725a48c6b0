"""Reaching an Argilla server: which one (options, environment, the local stack), and is it usable.

The server and the key are checked with two plain HTTP calls before the SDK is touched (it calls
`/api/v1/me` on construction and would fail with a long httpx traceback), so "server down" and
"wrong API key" are one clear line each, raised before anything is read or written.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, NamedTuple

from fac_datasets.config import ArgillaConfig
from fac_datasets.constants import ARGILLA_API_KEY_ENV, ARGILLA_API_URL_ENV
from fac_datasets.errors import FacConfigError, FacServiceError

if TYPE_CHECKING:
    import argilla as rg

_TIMEOUT_SECONDS = 10


class Endpoint(NamedTuple):
    """A server to talk to and where its address came from (said in errors)."""

    url: str
    api_key: str
    source: str


def resolve_endpoint(
    url: str | None = None, api_key: str | None = None, config: ArgillaConfig | None = None
) -> Endpoint:
    """--url/--api-key, else ARGILLA_API_URL/ARGILLA_API_KEY, else the local stack (`fac argilla up`)."""
    from fac_datasets.review.stack import local_endpoint

    url = url or os.environ.get(ARGILLA_API_URL_ENV)
    api_key = api_key or os.environ.get(ARGILLA_API_KEY_ENV)
    local_url, local_key = local_endpoint(config)
    if not url:
        return Endpoint(local_url, api_key or local_key, "the local stack (`fac argilla up`)")
    url = url.rstrip("/")
    if not api_key:
        if url != local_url or not local_key:
            raise FacConfigError(
                f"No API key for the Argilla server at {url}: pass --api-key or set {ARGILLA_API_KEY_ENV}."
            )
        api_key = local_key
    return Endpoint(url, api_key, "--url / " + ARGILLA_API_URL_ENV)


def _get(url: str, api_key: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"X-Argilla-Api-Key": api_key} if api_key else {})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def check_server(endpoint: Endpoint) -> dict:
    """The key's user ({username, role, ...}); FacServiceError when the server is down or refuses the key."""
    try:
        status, body = _get(f"{endpoint.url}/api/v1/version")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FacServiceError(
            f"No Argilla server answers at {endpoint.url} (from {endpoint.source}: {reason}). Start the local one "
            f"with `fac argilla up`, or pass --url/--api-key ({ARGILLA_API_URL_ENV}/{ARGILLA_API_KEY_ENV}) of a "
            "running server. Nothing was read or changed."
        ) from None
    try:
        version = json.loads(body).get("version") if status == 200 else None
    except ValueError:
        version = None
    if not version:
        raise FacServiceError(f"{endpoint.url} answers but is not an Argilla server (GET /api/v1/version: {status}).")
    status, body = _get(f"{endpoint.url}/api/v1/me", endpoint.api_key)
    if status in (401, 403):
        raise FacServiceError(
            f"The Argilla server at {endpoint.url} refused the API key (HTTP {status}): pass the key of a user "
            f"there with --api-key or {ARGILLA_API_KEY_ENV} (the local stack's owner key is printed by "
            "`fac argilla status --show-key`). Nothing was read or changed."
        )
    if status != 200:
        raise FacServiceError(f"The Argilla server at {endpoint.url} failed GET /api/v1/me (HTTP {status}).")
    return {**json.loads(body), "server_version": version}


def connect(url: str | None = None, api_key: str | None = None, config: ArgillaConfig | None = None) -> rg.Argilla:
    """A checked SDK client of the chosen server (argilla 2.8, the `argilla` extra)."""
    endpoint = resolve_endpoint(url, api_key, config)
    check_server(endpoint)
    try:
        import argilla as rg
    except ImportError as exc:
        raise FacConfigError(f"The Argilla SDK is not installed ({exc}): pip install 'fac-datasets[argilla]'.") from exc
    return rg.Argilla(api_url=endpoint.url, api_key=endpoint.api_key)
