"""What crosses the network between ``python -m sqlgym.serve`` and a remote env, exactly as it left.

JSON alone would not do: info holds numpy arrays (``SQLIndexDiscrete-v0``'s action mask and
observation), numpy scalars, tuples, and possibly non-finite floats (which Pydantic writes as
``null``) or strings with lone surrogates (which UTF-8 cannot carry). :func:`encode` turns such a
value into JSON-able data with small tags, :func:`decode` turns it back into the same value: same
types, same bits (finite floats already survive JSON exactly, as shortest round-trip decimals).

    >>> import numpy as np
    >>> decode(encode({"mask": np.array([True, False]), "cost": 1 / 3, "pair": (1, "a")}))["pair"]
    (1, 'a')

Spaces travel as small descriptions (:func:`space_to_json`, :func:`space_from_json`): ``Text`` (and
sqlgym's ``TextSpace``), ``Box`` and ``Discrete``, the ones sqlgym's envs use. No third-party import
beyond numpy and Gymnasium, so both sides (and their tests) can use it without ``openenv``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from gymnasium import spaces

from sqlgym.envs.text import TextSpace

TOKEN_ENV = "SQLGYM_SERVE_TOKEN"  # the environment variable holding a server's shared token (server and clients)
TAGS = ("__float__", "__ndarray__", "__numpy__", "__tuple__", "__dict__", "__str__")


def encode(x: Any) -> Any:
    """A JSON-able form of ``x`` that :func:`decode` turns back into an equal value of the same types."""
    if isinstance(x, np.ndarray):
        return {"__ndarray__": encode(x.tolist()), "dtype": x.dtype.str, "shape": list(x.shape)}
    if isinstance(x, np.generic):  # before float: np.float64 is a float
        return {"__numpy__": x.dtype.str, "value": encode(x.item())}
    if x is None or isinstance(x, bool):
        return x
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        return float(x) if math.isfinite(x) else {"__float__": repr(float(x))}
    if isinstance(x, str):
        if x.isascii():
            return x
        try:
            x.encode("utf-8")
            return x
        except UnicodeEncodeError:  # lone surrogates: JSON escapes carry them
            return {"__str__": json.dumps(x)}
    if isinstance(x, list):
        return [encode(v) for v in x]
    if isinstance(x, tuple):
        return {"__tuple__": [encode(v) for v in x]}
    if isinstance(x, dict):
        if all(isinstance(k, str) for k in x) and not any(k in TAGS for k in x):
            return {k: encode(v) for k, v in x.items()}
        return {"__dict__": [[encode(k), encode(v)] for k, v in x.items()]}
    raise TypeError(f"cannot send a {type(x).__name__} over the wire (JSON values, tuples and numpy arrays can go)")


def decode(x: Any) -> Any:
    """The value :func:`encode` was given."""
    if isinstance(x, list):
        return [decode(v) for v in x]
    if not isinstance(x, dict):
        return x
    if "__ndarray__" in x and set(x) == {"__ndarray__", "dtype", "shape"}:
        return np.array(decode(x["__ndarray__"]), dtype=np.dtype(x["dtype"])).reshape(x["shape"])
    if "__numpy__" in x and set(x) == {"__numpy__", "value"}:
        return np.dtype(x["__numpy__"]).type(decode(x["value"]))
    if set(x) == {"__float__"}:
        return float(x["__float__"])
    if set(x) == {"__tuple__"}:
        return tuple(decode(v) for v in x["__tuple__"])
    if set(x) == {"__dict__"}:
        return {decode(k): decode(v) for k, v in x["__dict__"]}
    if set(x) == {"__str__"}:
        return json.loads(x["__str__"])
    return {k: decode(v) for k, v in x.items()}


def space_to_json(space: spaces.Space) -> dict[str, Any]:
    """A description of a Text, Box or Discrete space that :func:`space_from_json` rebuilds exactly."""
    if isinstance(space, spaces.Text):
        return {"type": "Text", "min_length": space.min_length, "max_length": space.max_length,
                "charset": "".join(sorted(space.character_set)), "live": isinstance(space, TextSpace)}
    if isinstance(space, spaces.Box):
        return {"type": "Box", "low": encode(space.low), "high": encode(space.high), "shape": list(space.shape),
                "dtype": np.dtype(space.dtype).str}
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    raise TypeError(f"cannot describe a {type(space).__name__} space for a remote env (Text, Box, Discrete can go)")


def space_from_json(d: dict[str, Any]) -> spaces.Space:
    kind = d.get("type")
    if kind == "Text":
        cls = TextSpace if d.get("live", True) else spaces.Text  # TextSpace: what the envs' observations use
        return cls(max_length=d["max_length"], min_length=d["min_length"], charset=frozenset(d["charset"]))
    if kind == "Box":
        return spaces.Box(decode(d["low"]), decode(d["high"]), tuple(d["shape"]), dtype=np.dtype(d["dtype"]))
    if kind == "Discrete":
        return spaces.Discrete(d["n"], start=d["start"])
    raise ValueError(f"unknown space description {kind!r}")
