"""The site file refuses what cannot work (issue 12 §6): every input in the table below either
exits 2 naming its key (and file, line and column where it is a file's content), with no
traceback, or works and gives the right figures."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from offgrid.cli import app
from offgrid.common import print_json
from sitefile import MAX_LOADS
from tests.conftest import HOME

runner = CliRunner()

HOURS = 8760
KW = 1.5  # the profile loads' constant power [kW]
CHECK = ("check",)
SIMULATE = ("size", "simulate", "--json")
OPTIMIZE = ("size", "optimize", "--json")

_MONTHLY = re.compile(r"monthly_ghi_kwh_m2_day = .*\nmonthly_temp_c = .*\n")
_LOADS = re.compile(r"\[\[loads\]\].*?(?=\[\[devices\]\])", re.DOTALL)
PROFILE_LOAD = '[[loads]]\nname = "p"\nkind = "profile"\nprofile = "p.csv"\n\n'


def home(*changes: tuple[str, str]) -> str:
    """The household example with each ``(old, new)`` text replaced once (``old`` must be
    there)."""
    text = HOME.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, f"{old!r} not in {HOME.name}"
        text = text.replace(old, new, 1)
    return text


def with_loads(text: str, loads: str) -> str:
    """``text`` with its ``[[loads]]`` replaced by ``loads``."""
    return _LOADS.sub(lambda _: loads, text, count=1)


def profile_site() -> str:
    """The household with one profile load, ``p.csv``."""
    return with_loads(home(), PROFILE_LOAD)


def weather_file_site() -> str:
    """The household with its weather from ``w.epw``."""
    return _MONTHLY.sub('file = "w.epw"\n', home(), count=1)


def epw(rows: int = HOURS, bad: tuple[int, int, str] | None = None) -> str:
    """An EPW file of ``rows`` hours from 1 January, 500 W/m² by day; ``bad`` puts a text at
    (row, 0-based field)."""
    header = ["LOCATION,Con Dao,BV,VNM,test,0,8.68,106.61,7.0,10.0", "DESIGN CONDITIONS,0",
              "TYPICAL/EXTREME PERIODS,0", "GROUND TEMPERATURES,0",
              "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0", "COMMENTS 1,test", "COMMENTS 2,test",
              "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31"]
    days = [(m, d) for m, n in enumerate((31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), 1)
            for d in range(1, n + 1)]
    lines = []
    for k in range(rows):
        (month, day), hour = days[k // 24], k % 24 + 1
        sun = 500 if 7 <= hour <= 17 else 0
        fields: list[Any] = [2025, month, day, hour, 0, "?", 28, 24, 80, 101325, 0, 0, 400,
                             sun, sun // 2, sun // 2, 0, 0, 0, 0, 180, 2, 5, 5, 9999, 99999, 9,
                             999999999, 10, 0.1, 0, 88, 0.2, 0, 0]
        if bad is not None and bad[0] == k:
            fields[bad[1]] = bad[2]
        lines.append(",".join(map(str, fields)))
    return "\n".join(header + lines) + "\n"


def nested(depth: int) -> str:
    return f"x = {'[' * depth}{']' * depth}\n"


def many_loads(n: int, priority: bool = True) -> str:
    """``n`` one-watt aerators (half by day, all at night: 18 Wh a day each)."""
    extra = "priority = 50\n" if priority else ""
    return "".join(f'[[loads]]\nname = "a{i}"\nkind = "aerator"\nkw_per_unit = 0.001\n'
                   f"units = 1\ncritical = false\n{extra}\n" for i in range(n))


def json_out(out: str) -> dict[str, Any]:
    """The command's JSON, refusing ``NaN`` and ``Infinity`` (not JSON)."""
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in the JSON output")
    data: dict[str, Any] = json.loads(out, parse_constant=refuse)
    return data


def load_kwh(kwh: float) -> Callable[[dict[str, Any]], None]:
    def check(data: dict[str, Any]) -> None:
        assert data["load_kwh"] == pytest.approx(kwh, rel=1e-9)
    return check


def pv_by_day(data: dict[str, Any]) -> None:
    assert data["pv_ac_kwh"] > 0


@dataclass(frozen=True)
class Case:
    """A site file (``site.toml``, with other ``files`` beside it), the commands to run on it
    (arguments before the site file), and what they must do: exit 2 naming ``key`` (and each
    of ``words``) on one line, or, with ``key`` None, work, each JSON output passing
    ``works``."""

    site: str
    commands: tuple[tuple[str, ...], ...]
    key: str | None
    words: tuple[str, ...] = ()
    files: dict[str, str | bytes] = field(default_factory=dict)
    works: Callable[[dict[str, Any]], None] | None = None


SEMICOLON_CSV = "giờ;kW\n" + "".join(f"{h};1,5\n" for h in range(HOURS))
QUOTED_CSV = "hour,kw\n" + "".join(f'{h},"1,5"\n' for h in range(HOURS))
# One column from a Vietnamese Excel: decimal commas, and whole numbers without one.
EXCEL_ONE_COLUMN = "kW\n" + "".join("2\n" if h % 2 else "1,5\n" for h in range(HOURS))
EXCEL_ALL_COMMAS = "".join("0,5\n" for _ in range(HOURS))


def profile(cell: str, line: int = 5) -> str:
    """An hourly profile of 1.5 kW with ``cell`` on file line ``line`` (line 1: the header)."""
    rows = ["kw"] + ["1.5"] * HOURS
    rows[line - 1] = cell
    return "\n".join(rows) + "\n"


CASES: dict[str, Case] = {
    "inf": Case(home(("kwp = 2.4", "kwp = inf")), (CHECK, SIMULATE), "pv.kwp",
                ("finite number",)),
    "nan-in-list": Case(home(("25.5, 26.0, 27.0, 28.5", "25.5, 26.0, 27.0, nan")), (CHECK,),
                        "weather.monthly_temp_c[3]", ("finite number",)),
    "minus-inf-nested": Case(home(("power_w = 9,", "power_w = -inf,")), (CHECK,),
                             "loads[0].appliances[0].power_w", ("finite number",)),
    "inf-search-step": Case(home(("step = 0.2", "step = inf")), (CHECK, OPTIMIZE),
                            "search.kwp.step", ("finite number",)),
    "monthly-ghi-above-clear-sky": Case(home(("5.0, 5.8, 6.3,", "5.0, 5.8, 9.5,")),
                                        (CHECK, SIMULATE), "weather.monthly_ghi_kwh_m2_day",
                                        ("March 9.5 kWh/m²/day is above",)),
    "unit-id-0": Case(home(("unit_id = 1", "unit_id = 0")), (CHECK,), "devices[0].unit_id",
                      ("greater than or equal to 1",)),
    "empty-night": Case(home(("[control]\n", '[control]\nnight_start = "19:00:00"\n'
                                             'night_end = "19:00:00"\n')),
                        (CHECK, SIMULATE), "control.night_end", ("night window would be empty",)),
    "semicolon-decimal-comma": Case(profile_site(), (CHECK, SIMULATE), None,
                                    files={"p.csv": SEMICOLON_CSV},
                                    works=load_kwh(KW * HOURS)),
    "quoted-decimal-comma": Case(profile_site(), (CHECK, SIMULATE), None,
                                 files={"p.csv": QUOTED_CSV}, works=load_kwh(KW * HOURS)),
    "excel-one-column": Case(profile_site(), (CHECK, SIMULATE), "loads[0].profile",
                             ("p.csv, line 2:", "decimal comma"),
                             files={"p.csv": EXCEL_ONE_COLUMN}),
    "excel-every-cell-comma": Case(profile_site(), (CHECK,), "loads[0].profile",
                                   ("p.csv, line 1, column 1:", "decimal comma"),
                                   files={"p.csv": EXCEL_ALL_COMMAS}),
    "appliance-window-empty": Case(home(("{ start_h = 11, end_h = 15 }",
                                          "{ start_h = 11, end_h = 11 }")), (CHECK,),
                                   "loads[0].appliances[1].windows[0]",
                                   ("the window would be empty",)),
    "profile-inf": Case(profile_site(), (CHECK, SIMULATE), "loads[0].profile",
                        ("p.csv, line 5, column 1:", "not a finite number (got 'inf')"),
                        files={"p.csv": profile("inf")}),
    "profile-negative": Case(profile_site(), (CHECK,), "loads[0].profile",
                             ("line 7, column 1:", "must not be negative (got '-2')"),
                             files={"p.csv": profile("-2", line=7)}),
    "profile-not-a-number": Case(profile_site(), (CHECK,), "loads[0].profile",
                                 ("line 5, column 1:", "not a number (got 'abc')"),
                                 files={"p.csv": profile("abc")}),
    "profile-empty": Case(profile_site(), (CHECK,), "loads[0].profile", ("no values",),
                          files={"p.csv": ""}),
    "profile-wrong-length": Case(profile_site(), (CHECK,), "loads[0].profile",
                                 ("100 rows of values", "expected 24 (one typical day"),
                                 files={"p.csv": "\n".join(["1"] * 100)}),
    "profile-not-utf8": Case(profile_site(), (CHECK,), "loads[0].profile",
                             ("line 4:", "not UTF-8"),
                             files={"p.csv": "kw\n1\n1\nc\xf4ng su\xe2t\n".encode("latin-1")}),
    "profile-folder": Case(profile_site(), (CHECK,), "loads[0].profile",
                           ("a folder, not a file",), files={"p.csv/x": "1"}),
    "weather-file-works": Case(weather_file_site(), (CHECK, SIMULATE), None,
                               files={"w.epw": epw()}, works=pv_by_day),
    "weather-truncated": Case(weather_file_site(), (CHECK, SIMULATE), "weather.file",
                              ("w.epw, line 4008:", "4000 hourly rows"),
                              files={"w.epw": epw(rows=4000)}),
    "weather-missing-code": Case(weather_file_site(), (CHECK,), "weather.file",
                                 ("w.epw, line 109, column 14:", "ghi", "(got 9999)"),
                                 files={"w.epw": epw(bad=(100, 13, "9999"))}),
    "weather-text-cell": Case(weather_file_site(), (CHECK,), "weather.file",
                              ("w.epw, line 209, column 7:", "temp_air", "(got 'hot')"),
                              files={"w.epw": epw(bad=(200, 6, "hot"))}),
    "weather-other-format": Case(weather_file_site(), (CHECK,), "weather.file",
                                 ("cannot read as epw",), files={"w.epw": QUOTED_CSV}),
    "site-file-folder": Case("", (CHECK,), "(file)", ("cannot read",),
                             files={"site.toml/x": "1"}),
    "site-file-not-utf8": Case("", (CHECK,), "(file)", ("not UTF-8",),
                               files={"site.toml": b"[site]\nname = \"C\xf4n \xd0\xe3o\"\n"}),
    "toml-nested-5000-deep": Case(nested(5000), (CHECK,), "(toml)", ("nested too deeply",)),
    "sim-start-9999": Case(home(("[api]", "[sim]\nstart = 9999-01-01T00:00:00Z\n\n[api]")),
                           (CHECK,), "sim.start", ("2000–2100",)),
    "1000-loads": Case(with_loads(home(), many_loads(1000)), (CHECK, SIMULATE), "loads",
                       (f"at most {MAX_LOADS} items",)),
    f"{MAX_LOADS}-loads-work": Case(with_loads(home(), many_loads(MAX_LOADS)), (SIMULATE,),
                                    None, works=load_kwh(MAX_LOADS * 0.018 * 365)),
    "150-loads-default-priorities": Case(with_loads(home(), many_loads(150, priority=False)),
                                         (CHECK,), None),
    "search-step-1e-9": Case(home(("step = 0.2", "step = 1e-9")), (CHECK, OPTIMIZE),
                             "search.kwp", ("use a larger step",)),
    "search-grid-too-big": Case(home(("max_saidi_minutes = 150",
                                      "max_saidi_minutes = 150\nmax_candidates = 500")),
                                (CHECK, OPTIMIZE), "search",
                                ("15 search.kwp × 12 search.kwh × 5 search.inverter_kw",
                                 "search.max_candidates = 500")),
    "appliance-count-huge": Case(home(("count = 5,", "count = 1_000_000_000,")), (CHECK,),
                                 "loads[0].appliances[0].count", ("less than or equal to",)),
}


def _write(tmp_path: Path, case: Case) -> Path:
    site = tmp_path / "site.toml"
    for name, content in case.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    if case.site:
        site.write_text(case.site, encoding="utf-8")
    return site


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_exits_2_naming_the_key_or_works(tmp_path: Path, case: Case) -> None:
    site = _write(tmp_path, case)
    for command in case.commands:
        result = runner.invoke(app, [*command, str(site)])
        said = result.stdout + result.stderr
        assert "Traceback" not in said
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            command, result.exception)
        if case.key is None:
            assert result.exit_code == 0, (command, said)
            if "--json" in command and case.works is not None:
                case.works(json_out(result.stdout))
            continue
        assert result.exit_code == 2, (command, said)
        assert result.stdout == "", command  # nothing half-done on stdout
        line = next((x for x in result.stderr.splitlines()
                     if x.startswith(f"{site}: {case.key}: ")), None)
        assert line is not None, (command, result.stderr)
        for word in case.words:
            assert word in line, (command, word, line)


def test_json_output_has_no_inf_or_nan(capsys: pytest.CaptureFixture[str]) -> None:
    print_json({"unmet_load_fraction": float("nan"), "p90": [float("inf"), -float("inf"), 1.5]})
    assert json_out(capsys.readouterr().out) == {"unmet_load_fraction": None,
                                                 "p90": [None, None, 1.5]}
