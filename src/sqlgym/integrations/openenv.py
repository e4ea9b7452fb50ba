"""sqlgym over the network: the OpenEnv client of ``python -m sqlgym.serve`` and a Gymnasium env that proxies to it.

    from sqlgym.integrations.openenv import SQLGymClient
    with SQLGymClient("http://127.0.0.1:8000").sync() as client:          # one session on the server
        result = client.reset(seed=0, scenario="easy/point_lookup")       # Text2SQL servers: question=...
        result = client.step('{"action_type": "list_queries", "payload": {}}')
        result.observation.text, result.reward, result.done, result.observation.metadata   # metadata: the env's info

    env = gym.make("SQLIndex-v0", remote="http://127.0.0.1:8000", scenario="easy/point_lookup")

The remote env gives the observations, rewards and info of ``gym.make`` in this process for the same
seed and actions, bit for bit (values cross the wire through :mod:`sqlgym.integrations.wire`), but for
wall-time keys (``info["wall_ms"]`` with ``record_wall_time``) and what a wall-time deadline decides (an
agent statement stopped at its deadline, machine-dependent in-process too). Constructor arguments other than the
scenario or question are the server's (``--env-kwargs``); asking for different ones is an error that
says so. The server's token is ``token=`` or ``$SQLGYM_SERVE_TOKEN``.

Importing this module imports ``openenv`` (the ``serve`` extra), which takes seconds (it imports gradio);
``import sqlgym`` never does.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import gymnasium as gym
import numpy as np
from openenv.core.client_types import StepResult
from openenv.core.env_client import EnvClient
from openenv.core.env_server.types import Action, Observation, State
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.protocol import State as WSState

from sqlgym.errors import ConfigError, SqlgymError
from sqlgym.integrations.wire import TOKEN_ENV, decode, encode, space_from_json
from sqlgym.tasks import task

EXPIRED = "SESSION_EXPIRED"  # the error code of a session the server closed for idleness
EXPIRED_MESSAGE = "sqlgym session expired"  # how the server's error for a call on such a session begins


# -- what the server and the client exchange ------------------------------------------------------
class SQLGymAction(Action):
    """One env action, wire-encoded: a JSON action string (or dict) for the text envs, an int for SQLIndexDiscrete-v0."""

    action: Any = None


class SQLGymObservation(Observation):
    """What ``env.step`` returned: ``text`` is the observation of a Text-space env; ``value`` the wire-encoded
    observation of any other (SQLIndexDiscrete-v0's feature vector); ``metadata`` the info dict; ``done`` is
    ``terminated or truncated``, both also given."""

    text: str = ""
    value: Any = None
    terminated: bool = False
    truncated: bool = False
    exact_reward: Any = None  # the reward as the wire encodes it (``reward`` is null for a non-finite one)


class SQLGymState(State):
    """The session: which env it serves with which constructor arguments, its spaces, and the episode's step count."""

    env_id: str = ""
    item: str = ""  # the reset argument naming what an episode plays: "scenario" or "question"
    env_kwargs: dict[str, Any] = {}
    observation_space: dict[str, Any] = {}
    action_space: dict[str, Any] = {}
    session_timeout: float | None = None
    version: str = ""


# -- errors -----------------------------------------------------------------------------------------
class RemoteError(SqlgymError):
    """What a ``python -m sqlgym.serve`` server answered instead of an observation (or why it could not be reached)."""

    code = "REMOTE"


class ServerBusy(RemoteError):
    """Every session of the server is in use (``--max-sessions``)."""

    code = "CAPACITY_REACHED"


class SessionExpired(RemoteError):
    """The server closed this session after ``--session-timeout`` seconds without a reset or step."""

    code = EXPIRED


class ConnectionLost(RemoteError):
    """The WebSocket closed under this client (the server restarted, or closed an idle session)."""

    code = "CONNECTION_LOST"


class Unauthorized(RemoteError):
    """The server needs a token (``--token`` / ``$SQLGYM_SERVE_TOKEN``) and this client sent none or another."""

    code = "UNAUTHORIZED"


def _server_error(data: dict[str, Any], url: str | None) -> RemoteError:
    code, message = str(data.get("code", "")), str(data.get("message", "unknown error"))
    if code == ServerBusy.code:
        return ServerBusy(f"the server at {url} is full: {message} Retry later, or start it with a larger "
                          f"--max-sessions (it must cover every env open at once: all rollouts of a generation batch)")
    if code == SessionExpired.code or message.startswith(EXPIRED_MESSAGE):
        return SessionExpired(f"{message} (server {url}); reset() opens a new session")
    return RemoteError(f"the server at {url} answered an error ({code}): {message}")


# -- the client -------------------------------------------------------------------------------------
class SQLGymClient(EnvClient[Any, SQLGymObservation, SQLGymState]):
    """The OpenEnv client of a ``python -m sqlgym.serve`` server: one WebSocket, one server-side env.

    Async by default (``await client.reset(...)``); ``.sync()`` gives the blocking client, a context
    manager. ``reset(seed=..., scenario=...)`` (``question=...`` on a text-to-SQL server) and
    ``step(action)`` return OpenEnv's ``StepResult``: ``.observation.text`` is the env's observation
    (``.observation.value`` for SQLIndexDiscrete-v0's array), ``.reward``, ``.done``, and the env's
    info in ``.observation.metadata``. Errors are :class:`RemoteError` subclasses that say what to do.
    """

    def __init__(self, base_url: str, token: str | None = None, **kwargs: Any) -> None:
        headers = dict(kwargs.pop("headers", None) or {})
        if token is None and "Authorization" not in headers:  # a session's copy (new_session) keeps its header
            token = os.environ.get(TOKEN_ENV) or None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("mode", "simulation")  # reset/step messages, whatever OPENENV_CLIENT_MODE says
        super().__init__(base_url=base_url, headers=headers or None, **kwargs)

    # OpenEnv's abstract conversions
    def _step_payload(self, action: Any) -> dict[str, Any]:
        if isinstance(action, SQLGymAction):
            return action.model_dump()
        return {"action": encode(action)}

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[SQLGymObservation]:
        o = dict(payload.get("observation") or {})
        info = decode(o.pop("metadata", None) or payload.get("metadata") or {})
        exact = decode(o.get("exact_reward"))
        obs = SQLGymObservation(text=o.get("text", ""), value=decode(o.get("value")), terminated=o.get("terminated", False),
                                truncated=o.get("truncated", False), exact_reward=exact, done=payload.get("done", False),
                                reward=payload.get("reward"), metadata=info)
        return StepResult(observation=obs, reward=exact if exact is not None else payload.get("reward"),
                          done=bool(payload.get("done", False)), metadata=info)

    def _parse_state(self, payload: dict[str, Any]) -> SQLGymState:
        return SQLGymState(**payload)

    # errors that say what happened
    async def _connect_async(self) -> SQLGymClient:
        try:
            await super()._connect_async()
        except ConnectionError as e:
            raise self._connect_failure(e) from None
        return self

    def _connect_failure(self, e: Exception) -> RemoteError:
        cause = e.__cause__
        if isinstance(cause, InvalidStatus) and cause.response.status_code in (401, 403):
            return Unauthorized(f"the server at {self.base_url} refused this client ({cause.response.status_code}): it "
                                f"needs its token, as token= or ${TOKEN_ENV}")
        return RemoteError(f"cannot reach a sqlgym server at {self.base_url}: {cause or e}. Is "
                           f"`python -m sqlgym.serve` running there?")

    async def _send_and_receive(self, message: dict[str, Any]) -> dict[str, Any]:
        ws: Any = getattr(self, "_ws", None)
        if message.get("type") != "reset" and ws is not None and ws.state in (WSState.CLOSING, WSState.CLOSED):
            # OpenEnv would reconnect, to a new session without this episode: say what happened instead
            self._ws, self._ws_loop = None, None
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 0.5))  # the server's last word, if any
            except Exception:
                frame = {}
            if frame.get("type") == "error":
                raise _server_error(frame.get("data") or {}, self.base_url)
            raise ConnectionLost(f"the server at {self.base_url} closed this session's connection, and its episode "
                                 f"with it; reset() opens a new session")
        try:
            try:
                await self._send(message)
            except ConnectionClosed:
                pass  # a refused session sends its error frame, then closes: read the frame
            response = await self._receive()
        except ConnectionClosed as e:
            raise ConnectionLost(f"the server at {self.base_url} closed the connection ({e}); reset() reconnects") from None
        except asyncio.TimeoutError:
            raise RemoteError(f"no answer from {self.base_url} within {self._message_timeout:g} s "
                              f"(message_timeout_s); the connection was dropped") from None
        if response.get("type") == "error":
            raise _server_error(response.get("data") or {}, self.base_url)
        return response


# -- the Gymnasium env ------------------------------------------------------------------------------
class RemoteEnv(gym.Env):
    """An env id played on a ``python -m sqlgym.serve`` server: what ``gym.make(env_id, remote=URL, ...)`` makes.

    ``scenario=`` / ``question=`` (the task's item) is what every reset plays unless ``reset(options=...)``
    names another; any other constructor argument must equal the server's (``--env-kwargs``). One session
    per env, opened here and closed by ``close()``; a session the server closed for idleness is reopened by
    the next ``reset()`` (a step raises :class:`SessionExpired`: the episode is gone).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, remote: str, env_id: str, token: str | None = None, connect_timeout_s: float = 10.0,
                 message_timeout_s: float = 120.0, **kwargs: Any) -> None:
        t = task(env_id)
        self.env_id, self.url, self._item_name = env_id, remote, t.item
        item = kwargs.pop(t.item, None)
        if item is not None and not isinstance(item, str):
            raise ConfigError(f"remote= takes {t.item} ids (strings), not a {type(item).__name__}: the server loads it")
        self._item = item
        self._client = SQLGymClient(remote, token=token, connect_timeout_s=connect_timeout_s,
                                    message_timeout_s=message_timeout_s).sync()
        try:
            state = self._client.state()
            self._check(state, kwargs)
        except BaseException:
            self._client.close()
            raise
        self.server_kwargs = dict(state.env_kwargs)
        self.observation_space = space_from_json(state.observation_space)
        self.action_space = space_from_json(state.action_space)
        self._info: dict[str, Any] = {}
        self._closed = False
        if isinstance(self.action_space, gym.spaces.Discrete):  # as SQLIndexDiscrete-v0 (what MaskablePPO looks for)
            self.action_masks = self._action_masks

    def _check(self, state: SQLGymState, kwargs: dict[str, Any]) -> None:
        if state.env_id != self.env_id:
            raise ConfigError(f"the server at {self.url} serves {state.env_id}, not {self.env_id}")
        for k, v in kwargs.items():
            if k not in state.env_kwargs:
                raise ConfigError(f"{self.env_id} takes no argument {k!r} (the server at {self.url} knows "
                                  f"{', '.join(sorted(state.env_kwargs))})")
            if state.env_kwargs[k] != v:
                raise ConfigError(f"the server at {self.url} runs {self.env_id} with {k}={state.env_kwargs[k]!r}, not "
                                  f"{k}={v!r}: start it with --env-kwargs '{{\"{k}\": ...}}' to play that")

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        item = (options or {}).get(self._item_name, self._item)
        args: dict[str, Any] = {"seed": seed}
        if item is not None:
            args[self._item_name] = item
        try:
            result = self._client.reset(**args)
        except (SessionExpired, ConnectionLost):  # a new episode needs no old session: open a fresh one
            self._client.disconnect()
            result = self._client.reset(**args)
        return self._unpack(result)[0], self._info

    def step(self, action):
        obs, result = self._unpack(self._client.step(action))
        o = result.observation
        return obs, result.reward, o.terminated, o.truncated, self._info

    def _unpack(self, result: StepResult) -> tuple[Any, StepResult]:
        o = result.observation
        self._info = o.metadata
        return (o.value if o.value is not None else o.text), result

    def _action_masks(self) -> np.ndarray:
        """The last info's action mask (SQLIndexDiscrete-v0's ``action_masks()``, what MaskablePPO calls)."""
        if "action_mask" not in self._info:
            raise ConfigError(f"{self.env_id} gives no action mask (or reset() was not called)")
        return np.array(self._info["action_mask"], copy=True)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._client.close()
