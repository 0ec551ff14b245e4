"""The house's import rules (DESIGN.md §1): each package imports only from the floors below it.

Every module of the project's packages is parsed with ``ast`` (nothing is imported), and every
``import`` statement counts: at the top, inside a function, under ``if TYPE_CHECKING``. A
violation reads ``module: imports X``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Of the project, what each package may import besides its own modules (a name allows its
# submodules too). `controller.devices` (register maps, codec, natures) is its own floor below
# the store: the simulator serves the same maps the controller reads (DESIGN.md §3.6), but never
# imports the controller's runtime.
# `ieee1366` (the reliability indices and the programme's targets) is the floor under
# `sitefile`: everyone may import it, it imports nothing of ours.
# `fleetwire` (the wire format between sites and the hub) is a ground floor too (the site
# file checks an uplink's site id with its one definition); `hub` reads
# it and the site file's definitions, and only the command line imports the hub. The site's
# uplink (in `controller`) speaks `fleetwire`; the hub reuses the site API's roles, key tokens
# and HTTP errors (`api.roles`, `api.tokens`, `api.errors`: no I/O); `fleetsim` (light
# simulated sites for load tests) speaks `fleetwire` and takes the site figures from
# `store.contract` (pure data).
ALLOWED: dict[str, tuple[str, ...]] = {
    "ieee1366": (),
    "sitefile": ("ieee1366", "fleetwire.topics", "fleetwire.errors"),
    "sizing": ("sitefile", "ieee1366"),
    "controller.devices": ("sitefile", "controller.errors"),
    "store": ("sitefile", "ieee1366"),
    "controller": ("sitefile", "store", "ieee1366", "fleetwire"),
    "hardware_sim": ("sitefile", "sizing", "controller.devices"),
    "api": ("sitefile", "ieee1366", "store.readers", "store.commands", "store.contract",
            "store.errors"),
    "offgrid": ("sitefile", "ieee1366", "sizing", "controller", "store", "hardware_sim", "api",
                "fleetwire", "hub", "fleetsim"),
    "fleetwire": (),
    "hub": ("fleetwire", "ieee1366", "sitefile", "api.roles", "api.tokens", "api.errors"),
    "fleetsim": ("fleetwire", "store.contract"),
}
PACKAGES = ("ieee1366", "sitefile", "sizing", "controller", "store", "hardware_sim", "api",
            "fleetwire", "hub", "fleetsim", "offgrid")


def within(name: str, prefix: str) -> bool:
    """``name`` is the module ``prefix`` or one of its submodules."""
    return name == prefix or name.startswith(prefix + ".")


def floor_of(module: str, rules: Mapping[str, tuple[str, ...]]) -> str:
    """The entry of ``rules`` that governs ``module`` (the longest that contains it)."""
    return max((f for f in rules if within(module, f)), key=len)


def module_name(path: Path, root: Path) -> str:
    """``controller/devices/codec.py`` → ``controller.devices.codec``; a package's
    ``__init__.py`` → the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Every module of ``packages`` under ``root``, by dotted name."""
    return {module_name(p, root): p for pkg in packages
            for p in sorted((root / pkg).rglob("*.py"))}


def imported_names(source: str, module: str, is_package: bool,
                   known: set[str] | frozenset[str]) -> Iterator[str]:
    """Each module that ``source`` (the module ``module``) imports, wherever the statement is.

    ``from X import Y`` names ``X.Y`` when that is a module in ``known``, else ``X``; relative
    imports are resolved against ``module``'s package.
    """
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
            yield from subs or [target]


@cache
def imports_by_module(root: Path, packages: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """What each module of ``packages`` imports (each file parsed once per session)."""
    modules = project_modules(root, packages)
    known = frozenset(modules)
    return {module: frozenset(imported_names(path.read_text(encoding="utf-8"), module,
                                             path.name == "__init__.py", known))
            for module, path in modules.items()}


def violations(root: Path, packages: tuple[str, ...], rules: Mapping[str, tuple[str, ...]],
               floor: str) -> list[str]:
    """``module: imports X`` for each import of another project package that ``floor``'s rule
    does not allow, over the modules that rule governs."""
    found = set()
    for module, names in imports_by_module(root, packages).items():
        if floor_of(module, rules) != floor:
            continue
        for name in names:
            if name.split(".")[0] not in packages or within(name, floor):
                continue
            if not any(within(name, allowed) for allowed in rules[floor]):
                found.add(f"{module}: imports {name}")
    return sorted(found)


@pytest.mark.parametrize("floor", list(ALLOWED))
def test_each_package_imports_only_from_the_floors_below(floor: str) -> None:
    problems = violations(ROOT, PACKAGES, ALLOWED, floor)
    assert not problems, (f"{floor} may import, of the project, only {ALLOWED[floor]}:\n"
                          + "\n".join(problems))


def test_nothing_imports_the_command_line() -> None:
    """``offgrid/`` is the top floor: no other package's module imports it."""
    problems = [p for floor in ALLOWED if floor != "offgrid"
                for p in violations(ROOT, PACKAGES, ALLOWED, floor)
                if within(p.split()[-1], "offgrid")]
    assert not problems, "\n".join(problems)


def test_every_package_on_disk_has_a_rule() -> None:
    """A new top-level package (for example ``hub/``) must be given its floor here."""
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert on_disk <= set(PACKAGES), sorted(on_disk - set(PACKAGES))


def test_the_checker_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The checker itself: imports in functions, relative imports, submodules named by
    ``from package import module``, and a rule broken on purpose."""
    (tmp_path / "low").mkdir()
    (tmp_path / "low" / "__init__.py").write_text("")
    (tmp_path / "low" / "part.py").write_text("X = 1\n")
    (tmp_path / "high").mkdir()
    (tmp_path / "high" / "__init__.py").write_text("from . import util\n")
    (tmp_path / "high" / "util.py").write_text("import os\n")
    source = ("from __future__ import annotations\n"
              "from low import part\n"
              "from .util import helper\n"
              "def f() -> None:\n"
              "    import low.part\n"
              "    from low import X\n")
    known = frozenset(project_modules(tmp_path, ("low", "high")))
    assert known == {"low", "low.part", "high", "high.util"}
    names = list(imported_names(source, "high.mod", False, known))
    assert names == ["__future__", "low.part", "high.util", "low.part", "low"]
    assert list(imported_names("from . import util\n", "high", True, known)) == ["high.util"]
    (tmp_path / "low" / "bad.py").write_text("def g() -> None:\n    from high import util\n")
    rules: dict[str, tuple[str, ...]] = {"low": (), "high": ("low",)}
    assert violations(tmp_path, ("low", "high"), rules, "low") == ["low.bad: imports high.util"]
    assert violations(tmp_path, ("low", "high"), rules, "high") == []
