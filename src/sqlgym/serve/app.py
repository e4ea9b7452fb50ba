"""The OpenEnv server of one env id: sessions, their limits, and what keeps one session from touching another.

Built on ``openenv.core.env_server`` (the ``serve`` extra): :class:`SQLGymEnvironment` is its
``Environment``, one instance per WebSocket session, each owning its own Gymnasium env (made by
``gym.make`` exactly as in-process, so a remote episode is the in-process episode);
:class:`SessionServer` is its ``HTTPEnvServer`` with an idle-session reaper that also closes the
reaped session's socket, and :func:`make_app` the FastAPI app (what ``create_app`` makes, in production
mode: ``/ws`` sessions, ``/health``, ``/schema``, ``/metadata``, and ``/sqlgym``, this server's state).
OpenEnv's stateless HTTP ``/reset`` and ``/step`` are not served: an episode needs a session, and each
call would make an env outside ``--max-sessions``.

Why sessions are isolated:

- Each session owns its env: its database connections, its episode state, its RNG.
- Calls into the envs take one process-wide FIFO turn (:class:`FairLock`). SQLite's heap limit and
  memory accounting, which bound an agent statement, are process-wide (``sqlgym/db/sandbox.py``), and
  the per-scenario caches (snapshot, cost cache, index sizes) are shared: one call at a time keeps a
  statement's bounds, and every number, what they are in-process, whatever other sessions do. A
  session waits at most for the sessions ahead of it, each bounded by the sandbox (a step's SQL has a
  VM-step budget and a wall-time deadline). Scale with processes (one server per core behind a load
  balancer), not threads.
- Whatever a session sends becomes an observation (the envs' error boundary) or an error frame to that
  session (a reset it cannot do, a message that is not one); the server and the other sessions go on.
- A client chooses what a reset plays only among curated and generated scenarios (or the dataset's
  questions): ids that read the server's files (``sqlite://``) or build databases of any size
  (``benchmark://``) are the operator's (:func:`check_item`).
- Limits per session: the env's own (steps per episode, the sandbox), a message size (``WS_MAX_SIZE``),
  and the idle timeout; the session count is ``--max-sessions``, and a client past it gets an error
  frame (``CAPACITY_REACHED``) at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import hmac
import inspect
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
from openenv.core.env_server.http_server import HTTPEnvServer
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import EnvironmentMetadata

import sqlgym
from sqlgym.errors import ConfigError
from sqlgym.integrations.openenv import EXPIRED, EXPIRED_MESSAGE, SQLGymAction, SQLGymObservation, SQLGymState
from sqlgym.integrations.wire import decode, encode, space_to_json
from sqlgym.tasks import load, task

WS_MAX_SIZE = 1 << 20  # bytes of one WebSocket message: actions are at most 16,000 characters
log = logging.getLogger("sqlgym.serve")


class FairLock:
    """A lock that threads get in the order they asked for it (``threading.Lock`` makes no such promise)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next = 0
        self._serving = 0

    def __enter__(self) -> FairLock:
        with self._cond:
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                self._cond.wait()
        return self

    def __exit__(self, *exc: Any) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()


@dataclass(frozen=True)
class ServerSpec:
    """What every session of a server shares: the env id, its constructor arguments, its spaces."""

    env_id: str
    make_kwargs: dict[str, Any]  # what gym.make gets (the operator's --env-kwargs)
    env_kwargs: dict[str, Any]  # every JSON-able constructor argument with its value here (clients check theirs)
    observation_space: dict[str, Any]
    action_space: dict[str, Any]
    session_timeout: float | None
    turn: FairLock = field(default_factory=FairLock, compare=False)

    @property
    def item(self) -> str:
        return task(self.env_id).item


def constructor_args(cls: type) -> dict[str, inspect.Parameter]:
    """The keyword arguments an env class takes, following ``*args, **kwargs`` constructors up the MRO."""
    out: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = list(inspect.signature(init).parameters.values())[1:]
        for p in params:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                out.setdefault(p.name, p)
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return out


def server_spec(env_id: str, env_kwargs: dict[str, Any] | None = None, session_timeout: float | None = 300.0) -> ServerSpec:
    """Check ``env_kwargs`` against the env's constructor and make one env (a bad argument fails here, at startup)."""
    t = task(env_id)
    kwargs = dict(env_kwargs or {})
    params = constructor_args(load(t.entry_point))
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        from sqlgym.errors import unknown_name

        raise unknown_name(f"{env_id} argument", unknown[0], sorted(params))
    effective = {}
    for name, p in params.items():
        value = {**t.kwargs, **kwargs}.get(name, p.default)
        if value is None or isinstance(value, (str, int, float, bool, dict, list)):
            effective[name] = value
    env = gym.make(env_id, **kwargs)
    try:
        obs_space, act_space = space_to_json(env.observation_space), space_to_json(env.action_space)
    finally:
        env.close()
    return ServerSpec(env_id, kwargs, effective, obs_space, act_space, session_timeout)


GENERATED = "generator://index/"


def check_item(spec: ServerSpec, chosen: Any) -> None:
    """What a client may ask a reset to play: a curated or generated scenario, or a question of the server's
    dataset. Scenario ids with another scheme (``sqlite://`` reads a file of the server's disk,
    ``benchmark://`` builds a database of the size asked for) are the operator's to choose (``--env-kwargs``)."""
    if not isinstance(chosen, str):
        raise ValueError(f"{spec.item} is an id (a string), not {chosen!r}")
    if spec.item == "scenario" and "://" in chosen and not chosen.startswith(GENERATED) \
            and chosen != spec.make_kwargs.get("scenario"):
        raise ValueError(f"this server plays curated and {GENERATED}<n> scenarios; {chosen.split('://')[0]}:// ids "
                         f"read the server's files or build databases of any size, so only its operator may name "
                         f"one (--env-kwargs '{{\"scenario\": ...}}')")


# -- sockets that the reaper can close --------------------------------------------------------------
class _Socket:
    """One WebSocket connection's receive, which the reaper can end: the client gets an error frame saying why,
    the app a disconnect (so its session is destroyed and the socket closed)."""

    def __init__(self, receive: Callable, send: Callable) -> None:
        self._receive, self._send = receive, send
        self._ended = asyncio.Event()
        self.reason = ""
        self.told = False  # the client already got an error saying the session expired

    def end(self, reason: str) -> None:  # on the event loop
        self.reason = reason
        self._ended.set()

    async def receive(self) -> dict[str, Any]:
        if not self._ended.is_set():
            message = asyncio.ensure_future(self._receive())
            ended = asyncio.ensure_future(self._ended.wait())
            done, _ = await asyncio.wait({message, ended}, return_when=asyncio.FIRST_COMPLETED)
            if message in done:
                ended.cancel()
                return message.result()
            message.cancel()
        if not self.told:
            self.told = True
            frame = {"type": "error", "data": {"message": self.reason, "code": EXPIRED}}
            with contextlib.suppress(Exception):
                await self._send({"type": "websocket.send", "text": json.dumps(frame)})
        return {"type": "websocket.disconnect", "code": 1000}


_SOCKET: contextvars.ContextVar[_Socket | None] = contextvars.ContextVar("sqlgym_socket", default=None)


class SocketMiddleware:
    """ASGI middleware: gives each WebSocket connection a :class:`_Socket` (found by the session it opens)."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        sock = _Socket(receive, send)
        token = _SOCKET.set(sock)
        try:
            await self.app(scope, sock.receive, send)
        finally:
            _SOCKET.reset(token)


class TokenGate:
    """ASGI middleware: every request but ``/health`` carries ``Authorization: Bearer <token>``, or is refused
    (HTTP 401; a WebSocket handshake gets 403)."""

    def __init__(self, app: Callable, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("path") != "/health":
            sent = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(sent, self._expected):
                if scope["type"] == "websocket":
                    await receive()  # websocket.connect
                    await send({"type": "websocket.close", "code": 1008})
                else:
                    body = b'{"detail": "this server needs its token: Authorization: Bearer <token>"}'
                    await send({"type": "http.response.start", "status": 401,
                                "headers": [(b"content-type", b"application/json"),
                                            (b"content-length", str(len(body)).encode())]})
                    await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


# -- one session's env ------------------------------------------------------------------------------
class SQLGymEnvironment(Environment[SQLGymAction, SQLGymObservation, SQLGymState]):
    """One session: a Gymnasium env of the server's id, made on the first reset, played one call at a time.

    ``SUPPORTS_CONCURRENT_SESSIONS`` is true because each session owns its own env (and calls into the
    envs take the server's turn, see the module docstring); nothing of one session's episode is shared.
    """

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self, spec: ServerSpec) -> None:
        super().__init__()
        self.spec = spec
        self.socket: _Socket | None = None  # set by SessionServer when the session comes from a WebSocket
        self.busy = False  # a call is running or waiting for its turn (the reaper leaves it alone)
        self._env: gym.Env | None = None
        self._expired: str | None = None
        self._closed = False
        self._episode: str | None = None
        self._steps = 0

    # openenv's interface
    def reset(self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any) -> SQLGymObservation:
        item = self.spec.item
        options = kwargs.pop("options", None) or {}
        if not isinstance(options, dict) or set(options) - {item}:
            raise ValueError(f"reset options may name the {item} only, not {sorted(options) if isinstance(options, dict) else options!r}")
        if item in kwargs:
            options = {**options, item: kwargs.pop(item)}
        if kwargs:
            raise ValueError(f"reset takes seed and {item}, not {', '.join(sorted(kwargs))}")
        if options.get(item) is not None:
            check_item(self.spec, options[item])
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed is an integer, not {seed!r}")
        with self._turn():
            if self._env is None:
                self._env = gym.make(self.spec.env_id, **self.spec.make_kwargs)
            obs, info = self._env.reset(seed=seed, options=options or None)
            self._episode, self._steps = episode_id or str(uuid.uuid4()), 0
            return _observation(obs, None, False, False, info)

    def step(self, action: SQLGymAction, timeout_s: float | None = None, **kwargs: Any) -> SQLGymObservation:
        value = decode(action.action)
        with self._turn():
            if self._env is None:
                self._env = gym.make(self.spec.env_id, **self.spec.make_kwargs)  # its step says: reset first
            obs, reward, terminated, truncated, info = self._env.step(value)
            self._steps += 1
            return _observation(obs, reward, terminated, truncated, info)

    @property
    def state(self) -> SQLGymState:
        s = self.spec
        return SQLGymState(episode_id=self._episode, step_count=self._steps, env_id=s.env_id, item=s.item,
                           env_kwargs=s.env_kwargs, observation_space=s.observation_space, action_space=s.action_space,
                           session_timeout=s.session_timeout, version=sqlgym.__version__)

    def get_metadata(self) -> EnvironmentMetadata:
        doc = (inspect.getdoc(load(task(self.spec.env_id).entry_point)) or "").split("\n")[0]
        return EnvironmentMetadata(name=f"sqlgym {self.spec.env_id}", description=doc, version=sqlgym.__version__)

    def close(self) -> None:
        self._closed = True
        env, self._env = self._env, None
        if env is not None:
            with self.spec.turn:
                env.close()

    # sessions
    def expire(self, reason: str) -> None:
        """Mark the session reaped (the reaper then closes it): a later call says why instead of playing."""
        self._expired = reason
        if self.socket is not None:
            self.socket.end(reason)

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        self.busy = True
        try:
            self._check_live()
            with self.spec.turn:
                self._check_live()
                yield
        finally:
            self.busy = False

    def _check_live(self) -> None:
        if self._expired is not None or self._closed:
            if self.socket is not None:
                self.socket.told = True
            raise RuntimeError(self._expired or f"{EXPIRED_MESSAGE}: the session is closed")


def _observation(obs: Any, reward: Any, terminated: bool, truncated: bool, info: dict[str, Any]) -> SQLGymObservation:
    text = obs if isinstance(obs, str) else ""
    value = encode(obs)
    finite = isinstance(reward, (int, float)) and reward == reward and abs(reward) != float("inf")
    return SQLGymObservation(text=text if value is obs else "", value=None if value is obs else value,
                             terminated=bool(terminated), truncated=bool(truncated), done=bool(terminated or truncated),
                             reward=float(reward) if finite else None, exact_reward=encode(reward), metadata=encode(info))


# -- the server -----------------------------------------------------------------------------------
class SessionServer(HTTPEnvServer):
    """OpenEnv's server with an idle reaper that checks often enough for short timeouts, leaves a session
    whose call is running or queued alone, and closes the reaped session's socket with an error frame."""

    async def _create_session(self) -> tuple[str, Environment]:
        session_id, env = await super()._create_session()
        if isinstance(env, SQLGymEnvironment):
            env.socket = _SOCKET.get()
        return session_id, env

    def idle_sessions(self, now: float) -> list[str]:
        timeout = self._session_idle_timeout_s
        assert timeout is not None
        return [sid for sid, info in self._session_info.items()
                if sid not in self._session_websocket_attachments and now - info.last_activity_at > timeout
                and not getattr(self._sessions.get(sid), "busy", False)]

    async def _reap_idle_sessions(self) -> None:
        timeout = self._session_idle_timeout_s
        if timeout is None:
            return
        interval = min(max(timeout / 4, 0.05), 5.0)
        while True:
            try:
                await asyncio.sleep(interval)
                async with self._session_lock:
                    stale = self.idle_sessions(time.time())
                for sid in stale:
                    async with self._session_lock:
                        if sid not in self.idle_sessions(time.time()):
                            continue  # activity since the first look
                        env = self._sessions.get(sid)
                    if isinstance(env, SQLGymEnvironment):
                        env.expire(f"{EXPIRED_MESSAGE}: no reset or step for {timeout:g} s (--session-timeout); "
                                   f"the server closed it")
                    log.info("reaped idle session %s", sid)
                    await self._destroy_session(sid)
            except asyncio.CancelledError:
                break
            except Exception as exc:  # the reaper must outlive any one failure
                log.warning("idle-session reaper: %s (will retry)", exc)


def make_app(env_id: str = "SQLIndex-v0", *, max_sessions: int = 64, session_timeout: float | None = 300.0,
             token: str | None = None, env_kwargs: dict[str, Any] | None = None):
    """The FastAPI app serving ``env_id``: at most ``max_sessions`` sessions, each closed after
    ``session_timeout`` idle seconds (None: never), every request but ``/health`` needing ``token`` if given."""
    from fastapi import FastAPI
    from openenv.core.env_server.types import ConcurrencyConfig

    if max_sessions < 1:
        raise ConfigError(f"--max-sessions must be at least 1, not {max_sessions}")
    if session_timeout is not None and session_timeout <= 0:
        raise ConfigError(f"--session-timeout must be more than 0 seconds, not {session_timeout}")
    if token is not None and not token:
        raise ConfigError("the token is empty; give a secret, or no token")
    spec = server_spec(env_id, env_kwargs, session_timeout)
    server = SessionServer(functools.partial(SQLGymEnvironment, spec), SQLGymAction, SQLGymObservation,
                           concurrency_config=ConcurrencyConfig(max_concurrent_envs=max_sessions,
                                                                session_timeout=session_timeout),
                           env_name=env_id, state_cls=SQLGymState)
    app = FastAPI(title=f"sqlgym {env_id}", version=sqlgym.__version__,
                  description=f"sqlgym's {env_id} over OpenEnv: sessions on /ws (python -m sqlgym.serve)")
    server.register_routes(app, mode="production")

    @app.get("/sqlgym", tags=["Environment Info"], summary="this server: env id, sessions, limits")
    async def sqlgym_info() -> dict[str, Any]:
        return {"env_id": env_id, "item": spec.item, "env_kwargs": spec.env_kwargs, "version": sqlgym.__version__,
                "active_sessions": server.active_sessions, "max_sessions": max_sessions,
                "session_timeout": session_timeout}

    app.add_middleware(SocketMiddleware)
    if token:
        app.add_middleware(TokenGate, token=token)  # added last: it runs first
    app.state.sqlgym = server
    app.state.spec = spec
    return app


# -- running it -----------------------------------------------------------------------------------
def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: a free one; read it back from ``getsockname()``)."""
    family, kind, proto, _, address = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as e:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {e}") from None
    sock.listen(2048)
    return sock


def uvicorn_server(app, max_sessions: int, log_level: str = "warning"):
    import uvicorn

    config = uvicorn.Config(app, log_level=log_level, ws_max_size=WS_MAX_SIZE, ws_ping_interval=20.0,
                            ws_ping_timeout=20.0, limit_concurrency=max_sessions + 64, lifespan="on")
    return uvicorn.Server(config)


class RunningServer:
    """A server on a thread of this process (tests, benchmarks, a trainer that hosts its own envs).

        with RunningServer(make_app("Text2SQL-v0"), port=0) as srv:
            env = gym.make("Text2SQL-v0", remote=srv.url, question="pet_shop/001")
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> None:
        self.app = app
        self.sock = bind(host, port)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self.server = uvicorn_server(app, app.state.sqlgym.max_concurrent_envs, log_level)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True,
                                       name=f"sqlgym-serve-{self.port}")
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on {self.url} did not start")
            time.sleep(0.01)

    @property
    def sessions(self) -> SessionServer:
        return self.app.state.sqlgym

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
