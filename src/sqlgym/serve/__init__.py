"""``python -m sqlgym.serve``: any sqlgym env id as an OpenEnv server, one env per WebSocket session.

    python -m sqlgym.serve --env SQLIndex-v0 --port 8000 --max-sessions 64 --session-timeout 300

The server is :mod:`sqlgym.serve.app` (the ``serve`` extra: ``pip install 'sqlgym-rl[serve]'``); its
clients are :mod:`sqlgym.integrations.openenv` (``SQLGymClient``, and ``gym.make(env_id, remote=URL)``).
Nothing here is imported by ``import sqlgym``.
"""
