"""The local Argilla stack: osmem-server, redis-server, argilla-server (SQLite) and its worker, by pid.

`fac argilla up|down|status`. Every component runs in its own process group with its log under
`<state>/run/` (appended, so earlier runs stay readable) and a pid file that also records the
process's start time, so `down` never signals a process that merely reused the pid. `up` checks
that every port is free before it starts anything, waits for each component's health check, and
on any failure stops what it started and names the component and its log. The database lives in
`<state>/data` and is kept between runs (the in-memory search indices are rebuilt from it);
`fresh=True` starts empty. The state dir is the user's alone (0700; database, logs, pid files and
stack.json 0600); the owner's key is random per state dir (`review.credentials`), never printed or
logged. Only loopback hosts unless `allow_remote`. Linux only (process groups, /proc).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from fac_datasets.cache import cache_root
from fac_datasets.config import ArgillaConfig
from fac_datasets.constants import ARGILLA_STACK_STATE
from fac_datasets.errors import FacConfigError, FacServiceError
from fac_datasets.processes import alive as _alive
from fac_datasets.processes import proc_stat as _proc_stat
from fac_datasets.processes import start_time as _start_time
from fac_datasets.review.credentials import (
    credentials_path,
    load_credentials,
    open_private_log,
    owner_credentials,
    private_dir,
    write_private,
)

Progress = Callable[[str], None]

# Runs the engine shim as __main__ without putting its folder on sys.path (-I: no cwd, no user site).
_RUN_SHIM = "import runpy, sys; runpy.run_path(sys.argv.pop(1), run_name='__main__')"
_STOP_GRACE_SECONDS = 10.0
_PRIVATE_UMASK = 0o077  # what the servers write (database, logs, redis dumps) is the user's alone


class Component(NamedTuple):
    """One process of the stack: `name` is the stem of its pid and log files."""

    name: str
    title: str
    port_option: str | None  # the option that moves it to another port


SEARCH = Component("search", "osmem-server (search engine)", "--search-port")
REDIS = Component("redis", "redis-server (job queue)", "--redis-port")
SERVER = Component("server", "argilla-server (API and UI)", "--port")
WORKER = Component("worker", "argilla-server worker", None)
COMPONENTS = (SEARCH, REDIS, SERVER, WORKER)


class ComponentStatus(NamedTuple):
    """What `status` found for one component."""

    name: str
    title: str
    pid: int | None
    running: bool
    """The recorded process is alive (and is the one that was started)."""
    healthy: bool
    """It answers its health check (HTTP, redis PING; the worker: running)."""
    address: str | None
    log: Path


@dataclass
class StackStatus:
    """The stack as `status` sees it; `up` is true when every component is healthy."""

    url: str
    api_key: str | None
    """The owner's key (never in `to_dict`: `fac argilla status --show-key` prints it alone)."""
    state_dir: Path
    components: list[ComponentStatus] = field(default_factory=list)
    seconds: float | None = None

    @property
    def up(self) -> bool:
        return bool(self.components) and all(c.healthy for c in self.components)

    @property
    def stopped(self) -> bool:
        return not any(c.running for c in self.components)

    def to_dict(self) -> dict:
        return {
            "url": self.url,
            "credentials": str(credentials_path(self.state_dir)),
            "state_dir": str(self.state_dir),
            "up": self.up,
            "components": [{**c._asdict(), "log": str(c.log)} for c in self.components],
            **({"start_seconds": self.seconds} if self.seconds is not None else {}),
        }


# ------------------------------------------------------------------ processes (Linux /proc)
def _group_members(pgid: int) -> list[int]:
    """Live processes of a process group (a server's forked workers outlive a killed leader)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat and int(stat[2]) == pgid and stat[0] not in ("Z", "X"):
                members.append(int(entry.name))
    return members


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# ------------------------------------------------------------------ health checks
def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _redis_ok(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a just-stopped server's TIME_WAIT is free
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _log_tail(log: Path, lines: int = 3) -> str:
    try:
        tail = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()][-lines:]
    except OSError:
        return ""
    return " | ".join(tail)[-400:]


class ArgillaStack:
    """Start, stop and inspect the local stack described by an `ArgillaConfig`."""

    def __init__(self, config: ArgillaConfig | None = None, progress: Progress | None = None) -> None:
        self.config = config or ArgillaConfig()
        self.state_dir = Path(self.config.state_dir) if self.config.state_dir else cache_root() / "argilla"
        self.run_dir = self.state_dir / "run"
        self.data_dir = self.state_dir / "data"
        self._progress = progress or (lambda message: None)
        self._t0 = time.monotonic()

    # ------------------------------------------------------------ layout
    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.config.port}"

    def log_path(self, component: Component) -> Path:
        return self.run_dir / f"{component.name}.log"

    def _pid_path(self, component: Component) -> Path:
        return self.run_dir / f"{component.name}.pid"

    def _state(self) -> dict | None:
        try:
            return json.loads((self.state_dir / ARGILLA_STACK_STATE).read_text())
        except (OSError, ValueError):
            return None

    @property
    def api_key(self) -> str | None:
        """The owner's API key: from the state dir's credentials (an older running stack recorded it in stack.json)."""
        stored = load_credentials(self.state_dir)
        if stored is not None:
            return stored.api_key
        return (self._state() or {}).get("api_key") or self.config.owner_api_key

    def _say(self, message: str) -> None:
        self._progress(f"[{time.monotonic() - self._t0:6.1f}s] {message}")

    # ------------------------------------------------------------ status
    def _recorded(self, component: Component) -> tuple[int | None, int | None]:
        try:
            facts = json.loads(self._pid_path(component).read_text())
            return int(facts["pid"]), facts.get("start_time")
        except (OSError, ValueError, KeyError, TypeError):
            return None, None

    def _addresses(self, state: dict | None) -> dict[str, tuple[str, int] | None]:
        facts = state or self.config.model_dump()
        host = facts["host"]
        return {
            SEARCH.name: (host, facts["search_port"]),
            REDIS.name: (host, facts["redis_port"]),
            SERVER.name: (host, facts["port"]),
            WORKER.name: None,
        }

    def _healthy(self, component: Component, address: tuple[str, int] | None) -> bool:
        if component is SEARCH:
            return _http_ok(f"http://{address[0]}:{address[1]}/")
        if component is REDIS:
            return _redis_ok(*address)
        if component is SERVER:
            return _http_ok(f"http://{address[0]}:{address[1]}/api/v1/version")
        return True  # the worker has no port: running is all it can show

    def status(self) -> StackStatus:
        """Each component's pid, liveness and health, read from the pid files and the ports in use."""
        state = self._state()
        addresses = self._addresses(state)
        components = []
        for component in COMPONENTS:
            pid, start_time = self._recorded(component)
            running = pid is not None and _alive(pid, start_time)
            address = addresses[component.name]
            healthy = running and self._healthy(component, address)
            where = f"{address[0]}:{address[1]}" if address else None
            components.append(
                ComponentStatus(component.name, component.title, pid, running, healthy, where, self.log_path(component))
            )
        url = state["url"] if state else self.url
        return StackStatus(url, self.api_key, self.state_dir, components)

    # ------------------------------------------------------------ up
    def _server_env_vars(self) -> dict[str, str]:
        """The environment of every server process: the user's ARGILLA_* client settings are not server settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ARGILLA_", "PYTHON", "VIRTUAL_ENV"))}
        c = self.config
        env.update(
            ARGILLA_HOME_PATH=str(self.data_dir),
            ARGILLA_DATABASE_URL=f"sqlite+aiosqlite:///{self.data_dir / 'argilla.db'}?check_same_thread=False",
            ARGILLA_SEARCH_ENGINE="opensearch",
            ARGILLA_ELASTICSEARCH=f"http://{c.host}:{c.search_port}",
            ARGILLA_REDIS_URL=f"redis://{c.host}:{c.redis_port}/0",
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_HUB_OFFLINE="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
        )
        return env

    def _spawn(self, component: Component, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = self.log_path(component)
        with open_private_log(log) as out:
            out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(command)}\n")
            out.flush()
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                umask=_PRIVATE_UMASK,
            )
        facts = {"pid": process.pid, "start_time": _start_time(process.pid), "command": command}
        write_private(self._pid_path(component), json.dumps(facts))
        return process

    def _wait_healthy(self, component: Component, process: subprocess.Popen, address: tuple[str, int] | None) -> None:
        deadline = time.monotonic() + self.config.start_timeout
        while True:
            code = process.poll()
            if code is not None:
                raise self._failed(component, f"exited with code {code}")
            if self._healthy(component, address):
                where = f" on {address[0]}:{address[1]}" if address else ""
                self._say(f"{component.title} up{where} (pid {process.pid})")
                return
            if time.monotonic() > deadline:
                raise self._failed(component, f"did not answer its health check within {self.config.start_timeout:g} s")
            time.sleep(0.2)

    def _failed(self, component: Component, what: str) -> FacServiceError:
        log = self.log_path(component)
        tail = _log_tail(log)
        return FacServiceError(
            f"Local Argilla stack: {component.title} {what}; see {log}" + (f" (last lines: {tail})" if tail else "")
        )

    def _run_once(self, name: str, command: list[str], env: dict[str, str], secrets: tuple[str, ...] = ()) -> None:
        """One-shot server commands (migrate, then create the owner or reindex), logged like a component.

        `secrets` (the owner's password and key) are written to the log as ***, in the command and in
        its output (`users create` prints the user it made, key included).
        """
        log = self.run_dir / f"{name}.log"
        shown = " ".join("***" if part in secrets else part for part in command)
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            timeout=600,
            umask=_PRIVATE_UMASK,
            text=True,
            errors="replace",
        )
        output = result.stdout or ""
        for secret in secrets:
            output = output.replace(secret, "***")
        with open_private_log(log) as out:
            out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {shown}\n{output}")
        if result.returncode != 0:
            raise FacServiceError(
                f"Local Argilla stack: argilla-server {name} failed (exit code {result.returncode}); see {log} "
                f"(last lines: {_log_tail(log)})"
            )

    def _check_ports(self) -> None:
        c = self.config
        ports = {SEARCH: c.search_port, REDIS: c.redis_port, SERVER: c.port}
        if len(set(ports.values())) < len(ports):
            raise FacServiceError(f"The stack's ports must differ, got {', '.join(map(str, ports.values()))}.")
        for component, port in ports.items():
            if not _port_free(c.host, port):
                raise FacServiceError(
                    f"Port {port} on {c.host} for {component.title} is taken by another process: stop it, or start "
                    f"the stack on another port ({component.port_option} PORT); see {self.log_path(component)} "
                    "for earlier runs. `fac argilla status` shows what this stack runs."
                )

    def up(self) -> StackStatus:
        """Start every component (installing what is missing first) and wait until each is healthy."""
        from fac_datasets.review.install import ensure_server_env, ensure_system_packages

        self._t0 = time.monotonic()
        self._check_host()
        current = self.status()
        if current.up:
            state = self._state() or {}
            wanted = {k: getattr(self.config, k) for k in ("host", "port", "search_port", "redis_port")}
            if any(state.get(k) != v for k, v in wanted.items()):
                raise FacServiceError(
                    f"A local Argilla stack from {self.state_dir} already runs at {current.url} with other ports; "
                    "`fac argilla down` first."
                )
            self._say(f"already running at {current.url}")
            return current
        if not current.stopped:
            self._say("some components are down: restarting the stack")
            self.down()
        private_dir(self.state_dir)
        private_dir(self.run_dir)
        ensure_system_packages(self.config.install_system_packages, self.run_dir / "apt.log", self._say)
        server = ensure_server_env(self._say)
        self._check_ports()
        if self.config.fresh and self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        kept = (self.data_dir / "argilla.db").exists()
        private_dir(self.data_dir)
        for stored in self.data_dir.glob("argilla.db*"):  # a database made before the stack kept it private
            stored.chmod(0o600)
        env = self._server_env_vars()
        c = self.config
        owner = owner_credentials(
            self.state_dir, c.owner, creating=not kept, api_key=c.owner_api_key, password=c.owner_password
        )
        if owner.source == "legacy":
            self._say(
                "warning: this database's owner has the old fixed API key; `fac argilla up --fresh` gives it a "
                "random one"
            )
        argilla = [str(server.python), "-I", "-c", _RUN_SHIM, str(Path(__file__).with_name("engine_shim.py"))]
        try:
            search = self._spawn(
                SEARCH,
                [str(server.osmem_binary), "--addr", f"{c.host}:{c.search_port}", "--no-stdin-watch", "--no-ja"],
                env,
            )
            redis = self._spawn(
                REDIS,
                [shutil.which("redis-server") or "redis-server", "--bind", c.host, "--port", str(c.redis_port)]
                + ["--save", "", "--appendonly", "no", "--dir", str(self.run_dir), "--daemonize", "no"],
                env,
            )
            self._wait_healthy(SEARCH, search, (c.host, c.search_port))
            self._wait_healthy(REDIS, redis, (c.host, c.redis_port))
            if kept:  # the search engine is in memory: its indices are rebuilt from the kept database
                then = ["search-engine", "reindex"]
            else:
                then = ["database", "users", "create", "--username", c.owner, "--password", owner.password]
                then += ["--role", "owner", "--first-name", c.owner, "--api-key", owner.api_key]
            secrets = (owner.password, owner.api_key)
            self._run_once("setup", [*argilla, "--each", "database", "migrate", "--then", *then], env, secrets)
            self._say(
                "database migrated, " + ("search indices rebuilt from it" if kept else f"owner {c.owner!r} created")
            )
            server_process = self._spawn(
                SERVER, [*argilla, "start", "--host", c.host, "--port", str(c.port), "--no-access-log"], env
            )
            worker = self._spawn(WORKER, [*argilla, "worker", "--num-workers", str(c.workers)], env)
            self._wait_healthy(SERVER, server_process, (c.host, c.port))
            if worker.poll() is not None:
                raise self._failed(WORKER, f"exited with code {worker.returncode}")
        except BaseException:
            self.down()
            if not kept:  # a database this start created is empty; half set up, it would lack its owner
                shutil.rmtree(self.data_dir, ignore_errors=True)
            raise
        state = {
            "url": self.url,
            "owner": c.owner,
            **{k: getattr(c, k) for k in ("host", "port", "search_port", "redis_port")},
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        write_private(self.state_dir / ARGILLA_STACK_STATE, json.dumps(state, indent=2))
        status = self.status()
        status.seconds = round(time.monotonic() - self._t0, 1)
        self._say(
            f"Argilla is up at {self.url} (owner {c.owner}; its API key: `fac argilla status --show-key`, "
            f"or {credentials_path(self.state_dir)})"
        )
        return status

    def _check_host(self) -> None:
        """Loopback only, unless the user asked for a remote-reachable stack (then say what that means)."""
        host = self.config.host
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return
        if not self.config.allow_remote:
            raise FacConfigError(
                f"--host {host} lets other machines reach the local Argilla stack, whose owner key opens every "
                "dataset: pass --allow-remote as well to mean it, or keep the default --host 127.0.0.1."
            )
        self._say(
            f"warning: the stack listens on {host}: anyone who can reach port {self.config.port} can try the owner's "
            "API key; keep it secret and firewall the port"
        )

    # ------------------------------------------------------------ down
    def down(self) -> list[str]:
        """Stop every recorded component by its pid (TERM its group, then KILL); names of those stopped."""
        targets = []
        for component in reversed(COMPONENTS):  # the worker first, the search engine last
            pid, start_time = self._recorded(component)
            if pid is not None and _alive(pid, start_time):
                _signal_group(pid, signal.SIGTERM)
                targets.append((component, pid))
        deadline = time.monotonic() + _STOP_GRACE_SECONDS
        while any(_alive(pid) or _group_members(pid) for _, pid in targets) and time.monotonic() < deadline:
            time.sleep(0.1)
        for component, pid in targets:
            if _alive(pid) or _group_members(pid):
                self._say(f"{component.title} (pid {pid}) ignored TERM: killing it")
                _signal_group(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while any(_alive(pid) or _group_members(pid) for _, pid in targets) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [f"{component.title} (pid {pid})" for component, pid in targets if _alive(pid) or _group_members(pid)]
        for component in COMPONENTS:
            self._pid_path(component).unlink(missing_ok=True)
        (self.state_dir / ARGILLA_STACK_STATE).unlink(missing_ok=True)
        if left:
            raise FacServiceError(f"Could not stop {', '.join(left)}; stop them by hand.")
        return [component.name for component, _ in targets]


def local_endpoint(config: ArgillaConfig | None = None) -> tuple[str, str | None]:
    """(url, api key) of the local stack: as recorded by the running stack, else as the config would start it.

    The key is None when no stack was ever started in that state dir.
    """
    stack = ArgillaStack(config)
    state = stack._state()
    return (state["url"] if state else stack.url), stack.api_key
