"""Reviewers for the tests: users created through the SDK, answers sent through the HTTP API the web UI uses."""

from __future__ import annotations

import warnings

import httpx

PASSWORD = "annot-pass-123"  # a local test value


def add_annotator(client, username: str, workspace: str) -> str:
    """An annotator user in `workspace` (created once per server); returns the username."""
    import argilla as rg

    with warnings.catch_warnings():  # "not found" is the expected answer on a fresh server
        warnings.simplefilter("ignore", UserWarning)
        user = client.users(username)
    if user is None:
        user = rg.User(username=username, password=PASSWORD, role="annotator", client=client).create()
    ws = client.workspaces(workspace) or rg.Workspace(name=workspace, client=client).create()
    if username not in {u.username for u in ws.users}:
        ws.add_user(user)
    return username


class Reviewer:
    """Logs in like the web UI (password form -> bearer token) and answers records like it does."""

    def __init__(self, url: str, username: str) -> None:
        token = httpx.post(f"{url}/api/v1/token", data={"username": username, "password": PASSWORD})
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        self.http = httpx.Client(base_url=url, headers=headers, timeout=30)

    def queue(self, dataset_id: str) -> dict[str, dict]:
        """{external id: record} of the pending records, from the search endpoint the annotation page lists."""
        body = {
            "filters": {
                "and": [{"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": ["pending"]}]
            }
        }
        found = self.http.post(f"/api/v1/me/datasets/{dataset_id}/records/search", json=body, params={"limit": 100})
        found.raise_for_status()
        return {item["record"]["external_id"]: item["record"] for item in found.json()["items"]}

    def answer(self, record: dict, values: dict, status: str = "submitted") -> None:
        body = {"values": {q: {"value": v} for q, v in values.items()}, "status": status}
        self.http.post(f"/api/v1/records/{record['id']}/responses", json=body).raise_for_status()

    def close(self) -> None:
        self.http.close()
