"""Helpers shared by the tests and the benchmarks: a free port, and the policy for a missing
system tool.

The benchmarks import this module too (``from tests.support import free_port``): the project is
installed editable, so the repository's root, and with it ``tests``, is on ``sys.path``. It
imports only the standard library at the top, so that a benchmark that measures its own memory
(``benchmarks/controller_cycle.py``) does not carry pytest.
"""

from __future__ import annotations

import os
import shutil
import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_tool(name: str) -> str:
    """The path of the system tool ``name`` (socat, mbpoll, chromium, …).

    When it is not on ``PATH``, a CI run (``CI=true``) fails, since CI must run every test;
    anywhere else the calling test is skipped, with a reason that says what to install.
    """
    import pytest  # noqa: PLC0415 (see the module's docstring)

    path = shutil.which(name)
    if path is not None:
        return path
    reason = (f"MISSING SYSTEM TOOL: {name} is not on PATH, so this test cannot run; "
              "scripts/test installs it (apt-get)")
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, where every test must run", pytrace=False)
    pytest.skip(reason)
