"""`push`: a synthesized dataset, a feature catalog or an SAE folder -> one Hub repo, card included, in one commit.

Order matters: every local check (folder, repo id, token, card fields) runs before the first
request; every remote check (token accepted, repo state, the Hub's card validation) before the
first write. The upload is a single commit, so a failure leaves the repo as it was (a repo
created for it stays empty), and the user's folder is only ever read.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from fac_datasets.config import HubPushConfig
from fac_datasets.constants import HUB_CARD_FILENAME
from fac_datasets.hub.bundle import Bundle, build_bundle
from fac_datasets.hub.card_data import title_of
from fac_datasets.hub.cards import render_card
from fac_datasets.hub.kinds import detect_kind
from fac_datasets.hub.licenses import InputLicense, declared_license, lookup_licenses
from fac_datasets.hub.preflight import (
    RepoState,
    check_exists,
    check_repo_id,
    check_token,
    connect,
    endpoint_of,
    hub_call,
    repo_state,
    resolve_token,
    validate_on_hub,
)


@dataclass
class PushResult:
    """Attributes:
    url: the repo's page; commit: the commit id; created: whether this push created the repo.
    files: every path written in the repo (card included); deleted: stale files removed on update.
    """

    kind: str
    repo_id: str
    repo_type: str
    url: str
    commit: str
    created: bool
    files: list[str]
    deleted: list[str]
    license: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _card(bundle: Bundle, repo_id: str, title: str, inputs: list[InputLicense], config: HubPushConfig):
    license_, sentence = declared_license(inputs, config.license)
    return render_card(bundle.card, repo_id, title, license_, sentence, inputs), license_


def _stale(state: RepoState, bundle: Bundle) -> list[str]:
    """Files an earlier push wrote in this kind's folders that this push does not write again."""
    return [
        path
        for path in state.files
        if path not in bundle.files and any(path == m or path.startswith(f"{m}/") for m in bundle.managed)
    ]


def _commit(api, repo_id: str, bundle: Bundle, card, state: RepoState, message: str):
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    operations = [CommitOperationAdd(HUB_CARD_FILENAME, str(card).encode("utf-8"))]
    operations += [CommitOperationAdd(name, str(path)) for name, path in sorted(bundle.files.items())]
    stale = _stale(state, bundle)
    operations += [CommitOperationDelete(path) for path in stale]
    info = api.create_commit(
        repo_id,
        operations,
        commit_message=message,
        repo_type=bundle.repo_type,
        parent_commit=state.sha,  # a concurrent change to the repo fails the commit instead of being overwritten
    )
    return info, stale


def push(
    folder: str | Path, repo_id: str, config: HubPushConfig | None = None, *, token: str | None = None
) -> PushResult:
    """Publish `folder` (a `fac synthesize` output, a feature catalog or an SAE) to the Hub repo `repo_id`.

    The token is `token`, else HF_TOKEN, else the saved login. With `config.exists='fail'` (default)
    an existing repo is an error; with 'update' one new commit replaces what an earlier push wrote.
    """
    config = config or HubPushConfig()
    folder = Path(folder)
    kind = detect_kind(folder)
    repo_id = check_repo_id(repo_id)
    token = resolve_token(token)
    endpoint = endpoint_of(config.endpoint)
    title = title_of(kind, repo_id, config)
    with tempfile.TemporaryDirectory(prefix="fac-push-") as staging:
        bundle = build_bundle(kind, folder, Path(staging), config)
        _card(bundle, repo_id, title, bundle.card.inputs, config)  # every card field checked before any request
        api = connect(endpoint, token)
        user = check_token(api, endpoint)
        with hub_call("looking up the inputs' licences", endpoint):
            inputs = lookup_licenses(api, bundle.card.inputs)
        card, license_ = _card(bundle, repo_id, title, inputs, config)
        state = repo_state(api, repo_id, bundle.repo_type, endpoint)
        check_exists(state, repo_id, kind, config.exists)
        validate_on_hub(card, bundle.repo_type, endpoint, token)

        if not state.exists:
            with hub_call(f"creating {bundle.repo_type} repo {repo_id}", endpoint):
                api.create_repo(repo_id, repo_type=bundle.repo_type, private=config.private, exist_ok=False)
        hint = (
            f"The repo {repo_id} was created but is empty; nothing changed locally. Rerun with --exists update."
            if not state.exists
            else f"The repo {repo_id} is unchanged; nothing changed locally."
        )
        message = f"fac push: {kind} from {folder.name} by {user}"
        with hub_call(f"uploading {len(bundle.files) + 1} files to {repo_id}", endpoint, hint):
            info, stale = _commit(api, repo_id, bundle, card, state, message)
    url = f"{endpoint}/{'datasets/' if bundle.repo_type == 'dataset' else ''}{repo_id}"
    return PushResult(
        kind=kind,
        repo_id=repo_id,
        repo_type=bundle.repo_type,
        url=url,
        commit=info.oid,
        created=not state.exists,
        files=[HUB_CARD_FILENAME, *sorted(bundle.files)],
        deleted=stale,
        license=license_,
    )
