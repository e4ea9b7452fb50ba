"""Who may reach a server: loopback unless asked otherwise, and an optional shared token (no third-party import)."""

from __future__ import annotations

import ipaddress

from sqlgym.errors import ConfigError
from sqlgym.integrations.wire import TOKEN_ENV

__all__ = ["TOKEN_ENV", "check_bind", "is_loopback"]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses; a host name may resolve anywhere, so it is not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, allow_remote: bool, token: str | None) -> str | None:
    """Refuse a non-loopback bind without ``allow_remote``; return a warning for one without a token."""
    if token is not None and not token:
        raise ConfigError("the token is empty; give a secret, or no token")
    if is_loopback(host):
        return None
    if not allow_remote:
        raise ConfigError(f"--host {host} would accept connections from other machines; sqlgym binds to 127.0.0.1 "
                          f"unless you pass --allow-remote (and set a shared token: --token or ${TOKEN_ENV})")
    if not token:
        return (f"warning: serving on {host} without a token: anyone who reaches this port can open sessions "
                f"(set --token or ${TOKEN_ENV})")
    return None
