"""Helpers shared by the tests and the benchmarks: a free port, the policy for a missing
system tool, and waiting for a real process or server.

The benchmarks import this module too (``from tests.support import free_port``): the project is
installed editable, so the repository's root, and with it ``tests``, is on ``sys.path``. It
imports only the standard library at the top, so that a benchmark that measures its own memory
(``benchmarks/controller_cycle.py``) does not carry pytest.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def on_local_ports(data: dict[str, Any], tmp_path: Path) -> None:
    """Point a site mapping's devices at this machine: TCP devices on free ports, the RS485
    bus on a pty under ``tmp_path`` (the simulator makes it with socat) with a 5 ms gap, and
    0.5 s timeouts."""
    for dev in data["devices"]:
        dev["timeout_s"] = 0.5
        if dev["transport"] == "tcp":
            dev["port"] = free_port()
        else:
            dev["serial_port"] = str(tmp_path / "ttyUSB0")
            dev["request_gap_s"] = 0.005


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


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A fresh tmpfs of ``size`` (``"2m"``) mounted on ``path`` (created), unmounted after:
    a real filesystem that a test can fill up or remount read-only (:func:`remount`).

    Mounting needs root (CI runs as root). Where it is not permitted, a CI run fails and any
    other run skips the calling test, loudly, as :func:`require_tool` does.
    """
    import pytest  # noqa: PLC0415 (see the module's docstring)

    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = (f"CANNOT MOUNT A TMPFS ({done.stderr.strip()}): this test needs root to "
                  "mount a small filesystem it can fill or make read-only")
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true, where every test must run", pytrace=False)
        pytest.skip(reason)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount(path: Path, mode: str) -> None:
    """Remount the tmpfs at ``path`` ``ro`` or ``rw``."""
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True)


def fill(path: Path) -> Path:
    """Fill the filesystem holding ``path`` (a directory) with one file until it is full;
    returns the file (delete it to give the space back)."""
    filler = path / "filler"
    with filler.open("wb", buffering=0) as f:
        for chunk in (65536, 4096, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
    return filler


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = 60.0, *,
             step_s: float = 0.2, between: Callable[[], object] | None = None) -> Any:
    """Poll ``check`` until it returns something truthy, and return that; fail naming ``what``
    after ``timeout_s`` [s]. For real processes, servers and brokers, which keep their own
    time (logic with a clock of ours steps virtual time instead): between two polls, wait
    ``step_s`` [s], or run ``between`` (e.g. pump a simulated fleet for a moment)."""
    import pytest  # noqa: PLC0415 (the benchmarks import this module without pytest)

    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout_s:g} s for {what}")
        if between is not None:
            between()
        else:
            time.sleep(step_s)
