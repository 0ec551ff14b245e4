"""`offgrid run` killed with SIGKILL 50 times while it writes: the database stays intact and
no acknowledged command is lost (neither one the API inserted nor one the controller acked)."""

from __future__ import annotations

import os
import random
import signal
import sys
import tomllib
from pathlib import Path

import pytest
import tomlkit

from controller.service import run_site
from sitefile import load_site
from store import commands, readers
from tests.conftest import SHRIMP
from tests.support import free_port

KILLS = 50


def quiet_site(tmp_path: Path, cycle_s: float = 0.2) -> Path:
    """The shrimp site with a fast cycle and devices nobody answers for (a closed port, a
    serial port that does not exist under --pty-dir)."""
    data = tomllib.loads(SHRIMP.read_text())
    data["control"]["cycle_s"] = cycle_s
    for dev in data["devices"]:
        if dev["transport"] == "tcp":
            dev["port"] = free_port()
    path = tmp_path / "site.toml"
    path.write_text(tomlkit.dumps(data))
    return path


class Child:
    """The controller service in a forked child process (the parent has already paid for the
    imports, so 50 restarts stay cheap); its log is read from a pipe."""

    def __init__(self, site: Path, db: Path, pty_dir: Path) -> None:
        read_fd, write_fd = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: stderr into the pipe, run until killed
            os.close(read_fd)
            os.dup2(write_fd, 2)
            sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115 - until _exit
            code = 0
            try:
                run_site(load_site(site), db, pty_dir=pty_dir, verbose=True)
            except BaseException:  # noqa: BLE001 - report through the exit code only
                code = 1
            os._exit(code)
        os.close(write_fd)
        self.log = os.fdopen(read_fd, encoding="utf-8", errors="replace")

    def wait_for(self, needle: str) -> str:
        """Block on the child's log until a line contains ``needle`` (no sleeping)."""
        for line in self.log:
            if needle in line:
                return line
        raise AssertionError(f"controller ended before logging {needle!r}")

    def kill(self, sig: int = signal.SIGKILL) -> int:
        os.kill(self.pid, sig)
        _, status = os.waitpid(self.pid, 0)
        self.log.close()
        return status


@pytest.mark.slow
def test_kill_9_during_writes_keeps_db_and_commands(tmp_path: Path) -> None:
    site = quiet_site(tmp_path)
    db = tmp_path / "site.db"
    api = commands.open_database(db)
    rng = random.Random(5)
    inserted: list[int] = []
    acked_seen: set[int] = set()
    for _ in range(KILLS):
        # The API inserts commands before and while the controller runs.
        for _ in range(2):
            inserted.append(commands.insert_command(
                api, "override_load", {"load": "exchange-pump", "on": rng.random() < 0.5,
                                       "expires_s": 600}, requested_by="test"))
        proc = Child(site, db, tmp_path)
        line = proc.wait_for("command ")
        acked_seen.add(int(line.split("command ")[1].split()[0]))
        inserted.append(commands.insert_command(api, "set_threshold",
                                             {"key": "shed_soc_pct", "value": 36},
                                             requested_by="test"))
        for _ in range(rng.randint(0, 3)):
            proc.wait_for("cycle ")  # let it run a few more cycles of writes
        assert os.WTERMSIG(proc.kill()) == signal.SIGKILL
        assert api.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = {c.id: c for c in commands.read_commands(api, limit=10_000)}
        assert set(inserted) <= set(rows), "an inserted command was lost"
        for cid in acked_seen:
            assert rows[cid].status == "done" and rows[cid].acked_ts is not None
    # Restarted once more, the controller executes whatever is still pending.
    proc = Child(site, db, tmp_path)
    proc.wait_for("cycle 1 ")
    for cid in [c.id for c in commands.read_commands(api, status="pending", limit=10_000)]:
        proc.wait_for(f"command {cid} ")
    status = proc.kill(signal.SIGTERM)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert commands.read_commands(api, status="pending") == []
    assert len(readers.read_audit(api, limit=10_000)) == len(inserted)
