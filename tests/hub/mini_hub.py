"""A small in-memory server speaking the part of the Hub HTTP protocol `fac push` and `load_dataset` use.

Written from ../shared/recipes/hub-standin (traced against huggingface_hub 2.x with
HF_HUB_DISABLE_XET=1 and datasets 5.x), on the standard library like helpers.ChatServer. It runs
the real client code over real HTTP: whoami, create_repo, repo_info (with the card's metadata as
cardData), preupload, LFS batch + PUT, commit (with parentCommit), tree, paths-info, resolve (with
ranges), validate-yaml. It is not the Hub: auth is a token set, validation is a few rules the
tests choose, and storage is a dict.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

TOKEN = "hf_test_token"  # the token tests pass; MiniHub(tokens={TOKEN}) accepts only it
TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
_REPO = r"(?P<ns>[^/]+)/(?P<name>[^/]+)"
_API = rf"/api/(?P<plural>models|datasets|spaces)/{_REPO}"
_PREFIX = r"(?:/(?P<prefix>datasets|spaces))?"


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def front_matter(text: str) -> dict:
    """The YAML metadata of a card (its front matter), {} when it has none."""
    match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, re.DOTALL)
    return (yaml.safe_load(match.group(1)) or {}) if match else {}


class Repo:
    def __init__(self, private: bool) -> None:
        self.commits = [uuid.uuid4().hex + "00000000"]
        self.files: dict[str, bytes] = {".gitattributes": b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"}
        self.lfs: set[str] = set()
        self.private = private

    @property
    def sha(self) -> str:
        return self.commits[-1]


class MiniHub:
    """`hub.url` is the endpoint; `tokens` (None: any) are accepted; `card_rules` {field: message} reject cards."""

    def __init__(self, tokens: set[str] | None = None) -> None:
        self.tokens = tokens
        self.card_rules: dict[str, str] = {}
        self.repos: dict[tuple[str, str], Repo] = {}
        self.blobs: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.routes = [
            ("GET", r"/api/whoami-v2", self.whoami),
            ("GET", r"/api/agent-harnesses", lambda **_: self.json({"standardEnvVars": [], "harnesses": {}})),
            ("POST", r"/api/validate-yaml", self.validate_yaml),
            ("POST", r"/api/repos/create", self.create_repo),
            ("DELETE", r"/api/repos/delete", self.delete_repo),
            ("GET", rf"{_API}/refs", self.refs),
            ("POST", rf"{_API}/preupload/(?P<rev>.+)", self.preupload),
            ("POST", rf"{_API}/commit/(?P<rev>.+)", self.commit),
            ("GET", rf"{_API}/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?", self.tree),
            ("POST", rf"{_API}/paths-info/(?P<rev>.+)", self.paths_info),
            ("GET", rf"{_API}(?:/revision/(?P<rev>.+))?", self.repo_info),
            ("POST", rf"{_PREFIX}/{_REPO}\.git/info/lfs/objects/batch", self.lfs_batch),
            ("PUT", r"/lfs-storage/(?P<oid>[0-9a-f]{64})", self.lfs_put),
            ("GET", rf"{_PREFIX}/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)", self.resolve),
        ]
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> MiniHub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def repo(self, repo_type: str, repo_id: str) -> Repo | None:
        return self.repos.get((repo_type, repo_id))

    # ------------------------------------------------------------ plumbing
    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 30

            def log_message(self, *args) -> None:
                pass

            def body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if not size:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def handle_any(self) -> None:
                parts = urlsplit(self.path)
                path, query = unquote(parts.path), parse_qs(parts.query)
                method = "GET" if self.command == "HEAD" else self.command
                body = self.body() if self.command in ("POST", "PUT", "DELETE") else b""
                status, headers, payload = 501, {}, json.dumps({"error": f"mini hub: {path} not implemented"}).encode()
                for verb, pattern, route in hub.routes:
                    match = re.fullmatch(pattern, path)
                    if verb == method and match:
                        status, headers, payload = route(request=self, query=query, body=body, **match.groupdict())
                        break
                with hub.lock:
                    hub.requests.append(f"{self.command} {self.path} -> {status}")
                self.send_response(status)
                headers.setdefault("Content-Type", "application/json")
                headers["Content-Length"] = str(len(payload))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = handle_any

        return Handler

    @staticmethod
    def json(payload, status: int = 200, **headers: str):
        return status, dict(headers), json.dumps(payload).encode()

    def not_found(self, code: str = "RepoNotFound", message: str = "Repository not found"):
        return self.json({"error": message}, 404, **{"X-Error-Code": code, "X-Error-Message": message})

    def authorized(self, request) -> bool:
        auth = request.headers.get("Authorization", "")
        return self.tokens is None or (auth.startswith("Bearer ") and auth[7:] in self.tokens)

    def find(self, plural: str | None, ns: str, name: str, prefix: str | None = None) -> Repo | None:
        repo_type = TYPES.get(plural or prefix or "models", "model")
        return self.repo(repo_type, f"{ns}/{name}")

    # ------------------------------------------------------------ routes
    def whoami(self, request, **_):
        if not self.authorized(request):
            return self.json({"error": "Invalid credentials in Authorization header"}, 401)
        auth = {"type": "access_token", "accessToken": {"displayName": "t", "role": "write"}}
        return self.json({"type": "user", "name": "tester", "fullname": "Tester", "orgs": [], "auth": auth})

    def validate_yaml(self, request, body: bytes, **_):
        content = json.loads(body).get("content", "")
        try:
            metadata = front_matter(content)
        except yaml.YAMLError as exc:
            errors = [f"YAML front matter does not parse: {exc}"]
        else:
            errors = [f'"{field}" {message}' for field, message in self.card_rules.items() if field in metadata]
        if errors:
            text = "Invalid metadata in README.md.\n- " + "\n- ".join(errors)
            return 400, {"Content-Type": "text/plain"}, text.encode()
        return self.json({"errors": [], "warnings": []})

    def create_repo(self, request, body: bytes, **_):
        if not self.authorized(request):
            return self.json({"error": "Invalid credentials"}, 401)
        data = json.loads(body)
        repo_type = data.get("type") or "model"
        repo_id = f"{data.get('organization') or 'tester'}/{data['name']}"
        url = f"{self.url}/{'' if repo_type == 'model' else repo_type + 's/'}{repo_id}"
        with self.lock:
            if (repo_type, repo_id) in self.repos:
                return self.json({"error": "You already created this repo", "url": url}, 409)
            private = data.get("private") or data.get("visibility") == "private"
            self.repos[(repo_type, repo_id)] = Repo(bool(private))
        return self.json({"url": url, "name": repo_id, "id": repo_id})

    def delete_repo(self, request, body: bytes, **_):
        if not self.authorized(request):
            return self.json({"error": "Invalid credentials"}, 401)
        data = json.loads(body)
        key = (data.get("type") or "model", f"{data.get('organization') or 'tester'}/{data['name']}")
        with self.lock:
            if self.repos.pop(key, None) is None:
                return self.not_found()
        return self.json({})

    def repo_info(self, plural: str, ns: str, name: str, rev: str | None = None, **_):
        repo = self.find(plural, ns, name)
        if repo is None:
            return self.not_found()
        if rev not in (None, "main", "refs/heads/main") and rev not in repo.commits:
            return self.not_found("RevisionNotFound", "Revision not found")
        card = repo.files.get("README.md")
        return self.json(
            {
                "id": f"{ns}/{name}",
                "_id": uuid.uuid5(uuid.NAMESPACE_URL, f"{ns}/{name}").hex[:24],
                "sha": repo.sha,
                "private": repo.private,
                "disabled": False,
                "gated": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "author": ns,
                "lastModified": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "siblings": [{"rfilename": path} for path in sorted(repo.files)],
                "cardData": front_matter(card.decode()) if card else {},
            }
        )

    def refs(self, plural: str, ns: str, name: str, **_):
        repo = self.find(plural, ns, name)
        if repo is None:
            return self.not_found()
        main = {"name": "main", "ref": "refs/heads/main", "targetCommit": repo.sha}
        return self.json({"branches": [main], "tags": [], "converts": []})

    def preupload(self, plural: str, ns: str, name: str, body: bytes, **_):
        repo = self.find(plural, ns, name)
        if repo is None:
            return self.not_found()
        files = []
        for item in json.loads(body)["files"]:
            sample = base64.b64decode(item["sample"])
            binary = b"\0" in sample or item["path"].endswith((".parquet", ".arrow", ".safetensors", ".png"))
            files.append({"path": item["path"], "uploadMode": "lfs" if binary else "regular", "shouldIgnore": False})
        return self.json({"files": files, "commitOid": repo.sha})

    def lfs_batch(self, body: bytes, **_):
        objects = []
        for item in json.loads(body)["objects"]:
            entry = {"oid": item["oid"], "size": item["size"]}
            if item["oid"] not in self.blobs:
                upload = {"href": f"{self.url}/lfs-storage/{item['oid']}", "header": {}}
                entry |= {"authenticated": True, "actions": {"upload": upload}}
            objects.append(entry)
        payload = json.dumps({"transfer": "basic", "objects": objects}).encode()
        return 200, {"Content-Type": "application/vnd.git-lfs+json"}, payload

    def lfs_put(self, oid: str, body: bytes, **_):
        if hashlib.sha256(body).hexdigest() != oid:
            return self.json({"error": "sha256 mismatch"}, 400)
        with self.lock:
            self.blobs[oid] = body
        return self.json({})

    def commit(self, request, plural: str, ns: str, name: str, body: bytes, **_):
        repo = self.find(plural, ns, name)
        if repo is None:
            return self.not_found()
        if not self.authorized(request):
            return self.json({"error": "Invalid credentials"}, 401)
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        header = lines[0]["value"]
        with self.lock:
            if header.get("parentCommit") and header["parentCommit"] != repo.sha:
                return self.json({"error": "parent commit is not the head of main"}, 412)
            files, lfs = dict(repo.files), set(repo.lfs)
            for item in lines[1:]:
                key, value = item["key"], item["value"]
                if key == "file":
                    files[value["path"]] = base64.b64decode(value["content"])
                    lfs.discard(value["path"])
                elif key == "lfsFile":
                    if value["oid"] not in self.blobs:
                        return self.json({"error": f"LFS object {value['oid']} missing"}, 422)
                    files[value["path"]] = self.blobs[value["oid"]]
                    lfs.add(value["path"])
                elif key == "deletedFile":
                    files.pop(value["path"], None)
                    lfs.discard(value["path"])
                elif key == "deletedFolder":
                    for path in [p for p in files if p.startswith(value["path"].rstrip("/") + "/")]:
                        files.pop(path)
                        lfs.discard(path)
                else:
                    return self.json({"error": f"unsupported commit operation {key}"}, 400)
            listing = json.dumps(sorted((p, git_blob_oid(d)) for p, d in files.items()))
            sha = hashlib.sha1(listing.encode() + repo.sha.encode()).hexdigest()
            repo.files, repo.lfs = files, lfs
            repo.commits.append(sha)
        prefix = "" if plural == "models" else f"{plural}/"
        url = f"{self.url}/{prefix}{ns}/{name}/commit/{sha}"
        return self.json({"commitUrl": url, "commitOid": sha, "commitMessage": header.get("summary")})

    def entry(self, repo: Repo, path: str) -> dict:
        data = repo.files[path]
        item = {"type": "file", "oid": git_blob_oid(data), "size": len(data), "path": path}
        if path in repo.lfs:
            item["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
        return item

    def tree(self, plural: str, ns: str, name: str, query: dict, path: str | None = None, **_):
        repo = self.find(plural, ns, name)
        if repo is None:
            return self.not_found()
        prefix = (path or "").strip("/")
        if prefix in repo.files:
            return self.not_found("EntryNotFound", "not a directory")
        recursive = query.get("recursive", ["false"])[0] in ("1", "true", "True")
        out, dirs = [], set()
        for file in sorted(repo.files):
            if prefix and not file.startswith(prefix + "/"):
                continue
            parts = (file[len(prefix) + 1 :] if prefix else file).split("/")
            for depth in range(1, len(parts)):
                if recursive or depth == 1:
                    dirs.add("/".join(([prefix] if prefix else []) + parts[:depth]))
            if recursive or len(parts) == 1:
                out.append(self.entry(repo, file))
        if prefix and not out and not dirs:
            return self.not_found("EntryNotFound", "Entry not found")
        folders = [{"type": "directory", "oid": git_blob_oid(d.encode()), "size": 0, "path": d} for d in sorted(dirs)]
        return self.json(folders + out)

    def paths_info(self, plural: str, ns: str, name: str, request, body: bytes, **_):
        repo = self.find(plural, ns, name)
        if repo is None:
            return self.not_found()
        if "json" in request.headers.get("Content-Type", ""):
            paths = json.loads(body).get("paths", [])
        else:
            paths = parse_qs(body.decode()).get("paths", [])
        out = []
        for path in (p.strip("/") for p in paths):
            if path in repo.files:
                out.append(self.entry(repo, path))
            elif path == "" or any(f.startswith(path + "/") for f in repo.files):
                out.append({"type": "directory", "oid": git_blob_oid(path.encode()), "path": path, "size": 0})
        return self.json(out)

    def resolve(self, request, ns: str, name: str, rev: str, path: str, prefix: str | None = None, **_):
        repo = self.find(None, ns, name, prefix)
        if repo is None:
            return self.not_found()
        if path not in repo.files:
            return self.not_found("EntryNotFound", "Entry not found")
        data = repo.files[path]
        etag = hashlib.sha256(data).hexdigest() if path in repo.lfs else git_blob_oid(data)
        headers = {"ETag": f'"{etag}"', "X-Repo-Commit": repo.sha, "Accept-Ranges": "bytes"}
        headers["Content-Type"] = "application/octet-stream"
        if path in repo.lfs:
            headers |= {"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(data))}
        match = re.match(r"bytes=(\d*)-(\d*)", request.headers.get("Range") or "")
        if not match:
            return 200, headers, data
        size = len(data)
        start = int(match.group(1)) if match.group(1) else max(0, size - int(match.group(2)))
        end = min(int(match.group(2)) if match.group(1) and match.group(2) else size - 1, size - 1)
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return 206, headers, data[start : end + 1]


def hub_env(tmp_path: Path, endpoint: str, token: str | None = TOKEN, **extra: str) -> dict[str, str | None]:
    """The environment of a process talking to `endpoint`, as overrides of os.environ (None unsets; set before
    huggingface_hub is imported, as the recipe says): Xet off, offline mode off, its own HF_HOME (no saved token,
    no shared cache)."""
    drop = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "PYTHONPATH")
    env: dict[str, str | None] = dict.fromkeys(drop)
    env.update(
        HF_ENDPOINT=endpoint,
        HF_HUB_DISABLE_XET="1",
        HF_HOME=str(tmp_path / "hf_home"),
        HF_DATASETS_CACHE=str(tmp_path / "hf_datasets"),
        FAC_DATASETS_CACHE=str(tmp_path / "fac_cache"),
        OMP_NUM_THREADS="1",
        **extra,
    )
    if token:
        env["HF_TOKEN"] = token
    return env
