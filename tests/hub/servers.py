"""The hub's real test servers, from :mod:`offgrid.localservers` (PostgreSQL run as a non-root
user in a temporary folder; Mosquitto with TLS from its own CA, passwords and ACL), with the
tests' policy for a missing system tool: a CI run fails, any other run skips the test
(:func:`tests.support.require_tool`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from offgrid import localservers
from offgrid.localservers import Broker, MissingToolError, make_certificates, restart_broker
from tests.support import require_tool

__all__ = ["Broker", "make_certificates", "mosquitto", "postgres", "restart_broker",
           "tools_required"]


@contextlib.contextmanager
def tools_required() -> Iterator[None]:
    """Turn a :class:`MissingToolError` raised in the block into the tests' skip (or CI
    failure)."""
    try:
        yield
    except MissingToolError as e:
        require_tool(e.tool)
        raise


@contextlib.contextmanager
def postgres(settings: Mapping[str, str] | None = None) -> Iterator[str]:
    """:func:`offgrid.localservers.postgres`; a missing tool skips (or fails in CI)."""
    with contextlib.ExitStack() as stack:
        with tools_required():
            dsn = stack.enter_context(localservers.postgres(settings))
        yield dsn


@contextlib.contextmanager
def mosquitto(folder: Path, sites: Sequence[str], hubs: Sequence[str]) -> Iterator[Broker]:
    """:func:`offgrid.localservers.mosquitto`; a missing tool skips (or fails in CI)."""
    with contextlib.ExitStack() as stack:
        with tools_required():
            broker = stack.enter_context(localservers.mosquitto(folder, sites, hubs))
        yield broker
