"""argilla-server's command line with an engine that works against osmem-server. Runs in the server venv only.

osmem-server (an in-memory OpenSearch-compatible server) answers every request argilla-server
sends except `_update` with a painless script, which argilla-server uses in exactly three places
(search_engine/commons.py): save a response, delete a response, delete a suggestion. This module
re-registers the "opensearch" engine with a subclass that performs those three updates as
get `_source` + modify + index (refresh=true), and refuses any other script loudly. The launcher
(`fac_datasets.review.stack`) runs this file as the server's and the worker's entry point, and with
`--each` to run the one-shot setup commands (migrate, create the owner, reindex) in one process.
Not for production: read-modify-write is not atomic.
"""

from __future__ import annotations

import re

from argilla_server.constants import SEARCH_ENGINE_OPENSEARCH
from argilla_server.search_engine.base import SearchEngine
from argilla_server.search_engine.opensearch import OpenSearchEngine

_DELETE_SUGGESTION = re.compile(r'ctx\._source\["suggestions"\]\.remove\("(?P<name>[^"]+)"\)')


@SearchEngine.register(engine_name=SEARCH_ENGINE_OPENSEARCH)
class OsmemCompatOpenSearchEngine(OpenSearchEngine):
    """OpenSearchEngine whose scripted updates are done client-side (osmem has no painless)."""

    async def _update_document_request(self, index_name: str, id: str, body: dict):
        script = body.get("script") if isinstance(body, dict) else None
        if script is None:
            return await super()._update_document_request(index_name, id, body)

        document = await self.client.get(index=index_name, id=id)
        source = document["_source"]
        if isinstance(script, str):
            match = _DELETE_SUGGESTION.fullmatch(script.strip())
            if not match:
                raise NotImplementedError(f"osmem engine shim: unsupported script {script!r}")
            (source.get("suggestions") or {}).pop(match.group("name"), None)
        else:
            text = script.get("source", "")
            response = script.get("params", {}).get("response")
            if response is None or "params.response.id" not in text:
                raise NotImplementedError(f"osmem engine shim: unsupported script {text!r}")
            # params hold Python objects (UUID, enums), _source their JSON forms: compare as strings
            responses = [r for r in (source.get("responses") or []) if str(r.get("id")) != str(response["id"])]
            if "responses.add(params.response)" in text:
                responses.append(response)
            source["responses"] = responses
        await self.client.index(index=index_name, id=id, body=source, refresh=True)


if __name__ == "__main__":
    import sys

    from argilla_server.cli.__main__ import app

    if sys.argv[1:2] == ["--each"]:  # `--each CMD --then CMD`: one interpreter, one (slow) server import
        commands, current = [], []
        for arg in sys.argv[2:]:
            if arg == "--then":
                commands.append(current)
                current = []
            else:
                current.append(arg)
        for command in [*commands, current]:
            app(command, standalone_mode=False)  # a failing command raises: exit code 1 with its traceback
    else:
        app()
