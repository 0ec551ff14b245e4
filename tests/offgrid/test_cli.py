"""The command line's shape: every command registered in one place, command modules that do not
import the registry, and a start-up that loads no engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from offgrid.cli import app
from tests.conftest import ROOT
from tests.test_house import PACKAGES, imports_by_module

# Loaded only by the command that needs them: the web stack, the store's SQLite layer, the
# numeric stack and the Modbus stack.
ENGINES = ("fastapi", "uvicorn", "sqlite_utils", "numpy", "pandas", "scipy", "pvlib", "numba",
           "matplotlib", "pymodbus")


def test_every_command_is_registered() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    assert sorted(root.commands) == ["check", "demo", "fleet-demo", "fleetsim", "hub", "keys",
                                     "run", "serve", "sim", "size"]
    groups = {name: cmd for name, cmd in root.commands.items() if isinstance(cmd, TyperGroup)}
    assert sorted(groups["size"].commands) == ["optimize", "report", "simulate"]
    assert sorted(groups["keys"].commands) == ["create", "list", "revoke"]
    assert sorted(groups["hub"].commands) == ["enroll", "keys", "run", "serve"]


def test_command_modules_do_not_import_the_registry() -> None:
    imports = imports_by_module(ROOT, PACKAGES)
    modules = [m for m in imports
               if m.startswith("offgrid.") and m not in ("offgrid.cli", "offgrid.__main__")]
    assert "offgrid.common" in modules and "offgrid.keys_cmd" in modules
    assert [m for m in modules if "offgrid.cli" in imports[m]] == []


def test_start_up_loads_no_engine() -> None:
    """Building the whole command tree (what ``offgrid --help`` does) imports none of the
    engines, so every command starts fast and ``offgrid run`` stays small."""
    code = ("import sys, typer; from offgrid.cli import app; typer.main.get_command(app); "
            f"print(' '.join(m for m in {ENGINES!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == []


def test_demo_of_a_bad_site_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[site]\nname = "x"\nlatitude = 100\nlongitude = 0\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["demo", "--site", str(bad), "--port", "0"])
    assert res.exit_code == 2
    assert "site.latitude" in res.stderr and "Traceback" not in res.output
