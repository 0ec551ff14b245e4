"""Reading and writing site files: ``load_site``, ``write_site`` and ``relocate_files``."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sitefile import SiteFileError, load_site, relocate_files, write_site
from sitefile.io import NEW_SECTION_NOTE
from tests.conftest import HOME

SOURCE = """# a site with files beside it
[site]
name = "files"
latitude = 10.0
longitude = 106.0

[weather]
file = "data/weather.epw"   # the TMY file

[pv]
kwp = 2.0

[battery]
kwh = 10      # LFP, power limits left to the preset
initial_soc_pct = 60

[inverter]
kw = 2.0
surge_kw = 5.0

[generator]
kw = 3.0

[[loads]]
name = "house"
kind = "profile"
profile = "data/house.csv"

[[loads]]
name = "shop"
kind = "profile"
profile = "{absolute}"
"""


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A site file in ``tmp_path/src`` naming two files relative to it and one absolute."""
    src = tmp_path / "src"
    (src / "data").mkdir(parents=True)
    (src / "data" / "weather.epw").write_text("not read by the site file package\n")
    (src / "data" / "house.csv").write_text("kw\n0.1\n")
    shop = tmp_path / "shop.csv"
    shop.write_text("kw\n0.2\n")
    path = src / "site.toml"
    path.write_text(SOURCE.format(absolute=shop), encoding="utf-8")
    return path


def test_written_elsewhere_the_file_names_the_same_files(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "deeper" / "site.toml"
    target.parent.mkdir(parents=True)
    before = load_site(source)
    written = write_site(source, target, {"pv": {"kwp": 3.0}})
    after = load_site(target)
    assert written == after
    assert after.weather is not None and before.weather is not None
    assert after.weather.file == before.weather.file == source.parent / "data" / "weather.epw"
    assert [getattr(ld, "profile") for ld in after.loads] == [  # noqa: B009
        getattr(ld, "profile") for ld in before.loads]  # noqa: B009
    raw = tomllib.loads(target.read_text(encoding="utf-8"))
    assert raw["weather"]["file"] == "../../src/data/weather.epw"  # still relative
    assert raw["loads"][1]["profile"] == str(tmp_path / "shop.csv")  # absolute stays
    # Apart from the change, the written site is the source's (its database, relative to the
    # site file, is beside the new file).
    assert after.pv is not None and after.pv.kwp == 3.0
    assert after.model_dump(exclude={"pv", "api"}) == before.model_dump(exclude={"pv", "api"})
    assert after.api.database == target.parent / "offgrid.db"


def test_comments_and_untouched_text_are_kept(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "site.toml"
    write_site(source, target, {"battery": {"kwh": 20}})
    text = target.read_text(encoding="utf-8")
    assert "# a site with files beside it" in text and "# the TMY file" in text
    assert "kwh = 20      # LFP, power limits left to the preset" in text
    assert text.replace("kwh = 20 ", "kwh = 10 ").replace(
        '"src/data/', '"data/') == source.read_text(encoding="utf-8")


def test_unchanged_values_keep_the_file_spelling(source: Path) -> None:
    target = source.parent / "copy.toml"
    write_site(source, target, {"inverter": {"kw": 2, "surge_kw": 5}, "battery": {"kwh": 10.0}})
    assert target.read_text(encoding="utf-8") == source.read_text(encoding="utf-8")


def test_a_key_left_to_its_default_stays_out_when_the_default_agrees(
        source: Path, tmp_path: Path) -> None:
    target = tmp_path / "site.toml"
    site = write_site(source, target, {
        "battery": {"kwh": 20, "max_charge_kw": 10.0, "max_discharge_kw": 8.0},
        "inverter": {"kw": 4.0, "surge_kw": 10.0},
    })
    raw = tomllib.loads(target.read_text(encoding="utf-8"))
    # 10 kW is 0.5 C of 20 kWh, the default: not written. 8 kW is not: written.
    assert "max_charge_kw" not in raw["battery"] and raw["battery"]["max_discharge_kw"] == 8
    assert raw["inverter"] == {"kw": 4, "surge_kw": 10}  # given in the source: rewritten
    assert site.battery is not None
    assert (site.battery.max_charge_kw, site.battery.max_discharge_kw) == (10.0, 8.0)


def test_sections_are_added_and_removed(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "site.toml"
    site = write_site(source, target, {"generator": None})
    assert site.generator is None and "[generator]" not in target.read_text(encoding="utf-8")
    home = tmp_path / "home.toml"
    home.write_text(HOME.read_text(encoding="utf-8"), encoding="utf-8")
    site = write_site(home, target, {"generator": {"kw": 2.5}})
    assert site.generator is not None and site.generator.kw == 2.5
    assert site.generator.fuel_l_per_h_idle == pytest.approx(0.2)  # the default, per kW
    text = target.read_text(encoding="utf-8")
    assert f"[generator]\n# {NEW_SECTION_NOTE}\nkw = 2.5\n" in text


def test_an_invalid_result_writes_nothing(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "site.toml"
    with pytest.raises(SiteFileError) as e:
        write_site(source, target, {"battery": {"min_soc_pct": 80}})  # above initial 60
    assert "battery.initial_soc_pct" in str(e.value)
    assert not target.exists()


def test_relocate_files_in_the_same_folder_changes_nothing(tmp_path: Path) -> None:
    data = {"weather": {"file": "w.epw"}, "loads": [{"profile": "p.csv"}, {"kind": "pump"}]}
    relocate_files(data, tmp_path, tmp_path / ".")
    assert data == {"weather": {"file": "w.epw"},
                    "loads": [{"profile": "p.csv"}, {"kind": "pump"}]}
    relocate_files(data, tmp_path / "a", tmp_path / "b" / "c")
    assert data == {"weather": {"file": "../../a/w.epw"},
                    "loads": [{"profile": "../../a/p.csv"}, {"kind": "pump"}]}


@pytest.mark.parametrize(("content", "key", "words"), [
    (None, "(file)", "cannot read"),
    (b"\xff\xfe[site]", "(file)", "not UTF-8 text"),
    (b"[site]\nname = = 1\n", "(toml)", "syntax error"),
])
def test_load_site_reports_an_unreadable_file(tmp_path: Path, content: bytes | None, key: str,
                                              words: str) -> None:
    path = tmp_path / "site.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SiteFileError) as e:
        load_site(path)
    assert [p.path for p in e.value.problems] == [key]
    assert words in str(e.value) and str(path) in str(e.value)
