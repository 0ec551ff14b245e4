"""``offgrid hub enroll`` prints the credentials once and writes the broker's files; a bad
site id is bad input (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from offgrid.cli import app
from tests.support import free_port, require_tool


def test_enroll_prints_credentials_and_refuses_a_bad_site_id(tmp_path: Path) -> None:
    require_tool("mosquitto_passwd")
    files = ["--passwd", str(tmp_path / "passwd"), "--acl", str(tmp_path / "acl")]
    done = CliRunner().invoke(app, ["hub", "enroll", "site-7", *files, "--json"])
    assert done.exit_code == 0, done.output
    creds = json.loads(done.stdout)
    assert creds["username"] == "site-7" and len(creds["password"]) >= 24
    assert creds["publish"][0] == "offgrid/v1/site-7/batch"
    assert (tmp_path / "passwd").read_text().startswith("site-7:$")
    bad = CliRunner().invoke(app, ["hub", "enroll", "Site 7", *files])
    assert bad.exit_code == 2 and "site id" in bad.output


def test_run_reports_bad_input_and_an_unreachable_database(tmp_path: Path) -> None:
    password = tmp_path / "pw"
    password.write_text("secret\n")
    bad = CliRunner().invoke(app, ["hub", "run", "--dsn", "x", "--password-file", str(password),
                                   "--broker", "no-port"])
    assert bad.exit_code == 2 and "HOST:PORT" in bad.output
    dsn = f"host=127.0.0.1 port={free_port()} user=postgres connect_timeout=5"
    down = CliRunner().invoke(app, ["hub", "run", "--dsn", dsn, "--password-file",
                                    str(password)])
    assert down.exit_code == 1 and "the hub's database" in down.output
