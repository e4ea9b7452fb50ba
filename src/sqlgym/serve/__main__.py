"""``python -m sqlgym.serve``: serve one env id over OpenEnv (WebSocket sessions on ``/ws``).

    python -m sqlgym.serve --env SQLIndex-v0 --host 127.0.0.1 --port 8000 --max-sessions 64 --session-timeout 300
    python -m sqlgym.serve --env Text2SQL-v0 --env-kwargs '{"reward": "shaped"}'      # what TRL's tools train on
    SQLGYM_SERVE_TOKEN=... python -m sqlgym.serve --host 0.0.0.0 --allow-remote       # other machines, with a token

Binds to 127.0.0.1 unless ``--allow-remote``; with a token (``--token`` or ``$SQLGYM_SERVE_TOKEN``) every
request but ``/health`` must carry ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from sqlgym.errors import ConfigError, SqlgymError
from sqlgym.serve.access import TOKEN_ENV, check_bind


def parser() -> argparse.ArgumentParser:
    from sqlgym.tasks import env_ids

    p = argparse.ArgumentParser(prog="python -m sqlgym.serve", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="SQLIndex-v0", help=f"environment id: {', '.join(env_ids())} (default SQLIndex-v0)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; any other needs --allow-remote)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: a free one, printed)")
    p.add_argument("--max-sessions", type=int, default=64,
                   help="sessions (envs) open at once; one more gets a CAPACITY_REACHED error (default 64)")
    p.add_argument("--session-timeout", type=float, default=300.0,
                   help="seconds without a reset or step after which a session is closed (default 300; 0: never)")
    p.add_argument("--env-kwargs", default=None, metavar="JSON",
                   help="constructor arguments of every session's env, as a JSON object (e.g. '{\"reward\": \"shaped\"}'); "
                        "clients may choose only the scenario or question")
    p.add_argument("--allow-remote", action="store_true", help="allow binding to an address other machines can reach")
    p.add_argument("--token", default=None, help=f"shared secret clients must send (default ${TOKEN_ENV}; "
                                                 f"prefer the variable: arguments show in ps)")
    p.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        from sqlgym.tasks import task

        task(args.env)  # a misspelt id: "did you mean"
        token = args.token if args.token is not None else (os.environ.get(TOKEN_ENV) or None)
        warning = check_bind(args.host, args.allow_remote, token)
        if not 0 <= args.port <= 65535:
            raise ConfigError(f"--port must be 0..65535, not {args.port}")
        env_kwargs = _json_object(args.env_kwargs)
        from sqlgym.serve.app import bind, make_app, uvicorn_server

        app = make_app(args.env, max_sessions=args.max_sessions,
                       session_timeout=args.session_timeout or None, token=token, env_kwargs=env_kwargs)
        sock = bind(args.host, args.port)
        port = sock.getsockname()[1]
        if warning:
            print(warning, file=sys.stderr, flush=True)
        host = f"[{args.host}]" if ":" in args.host else args.host
        print(f"sqlgym.serve: {args.env} on http://{host}:{port} (sessions on ws://{host}:{port}/ws), "
              f"{args.max_sessions} sessions, idle timeout {args.session_timeout or 'none'} s"
              f"{', token required' if token else ''}", flush=True)
        uvicorn_server(app, args.max_sessions, args.log_level).run(sockets=[sock])
        return 0
    except ModuleNotFoundError as e:
        print(f"error: python -m sqlgym.serve needs the serve extra (pip install 'sqlgym-rl[serve]'): {e}", file=sys.stderr)
        return 2
    except SqlgymError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _json_object(text: str | None) -> dict:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"--env-kwargs is not JSON: {e}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"--env-kwargs is a JSON object of constructor arguments, not {type(value).__name__}")
    return value


if __name__ == "__main__":
    sys.exit(main())
