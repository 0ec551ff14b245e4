"""A validated site round-trips through ``model_dump`` → ``parse_site``, and changes only by
building a new one: ``Site.with_control`` for the settable thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitefile import SETTABLE_CONTROL_KEYS, Control, SiteFileError, load_site, parse_site
from tests.conftest import EXAMPLES, SHRIMP
from tests.sitefile.test_checks import good

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_round_trips_exactly(path: Path) -> None:
    site = load_site(path)
    again = parse_site(site.model_dump(), file=site.source)
    assert again == site
    assert again.model_dump() == site.model_dump()


def test_a_site_built_in_memory_round_trips() -> None:
    data = good()
    data["loads"].append({"name": "home", "kind": "appliance", "preset": "vn_rural_home"})
    data["battery"] = {"chemistry": "lead_acid", "kwh": 30, "min_soc_pct": 50,
                       "initial_soc_pct": 60}
    data["control"]["shed_soc_pct"] = 55
    data["control"]["reconnect_soc_pct"] = 70
    site = parse_site(data)
    assert parse_site(site.model_dump()) == site
    assert parse_site(site.model_dump(mode="json")) == site  # JSON-safe too (the API's view)


SHRIMP_SITE = load_site(SHRIMP)


def _bounds(key: str) -> tuple[float, float]:
    """The limits pydantic puts on a ``[control]`` key."""
    lo, hi = 0.0, 10_000.0  # timers: up to almost three hours
    for meta in Control.model_fields[key].metadata:
        lo, hi = float(getattr(meta, "ge", lo)), float(getattr(meta, "le", hi))
    return lo, hi


@st.composite
def change(draw: st.DrawFn) -> tuple[str, float]:
    key = draw(st.sampled_from(SETTABLE_CONTROL_KEYS))
    lo, hi = _bounds(key)
    return key, draw(st.floats(lo, hi, allow_nan=False))


# A change that breaks a cross-check is refused at the key or at its partner in a band.
PARTNERS = {"shed_soc_pct": "reconnect_soc_pct", "gen_start_soc_pct": "gen_stop_soc_pct",
            "do_on_mg_l": "do_off_mg_l"}
PARTNERS |= {v: k for k, v in PARTNERS.items()}


@settings(max_examples=200, deadline=None)
@given(change())
def test_with_control_changes_that_key_only_and_never_self(kv: tuple[str, float]) -> None:
    key, value = kv
    before = SHRIMP_SITE.model_dump()
    try:
        new = SHRIMP_SITE.with_control(**{key: value})
    except SiteFileError as e:
        paths = {p.path for p in e.problems}
        assert paths <= {f"control.{key}", f"control.{PARTNERS[key]}"}, paths
        assert all(p.value in (value, getattr(SHRIMP_SITE.control, PARTNERS[key]))
                   for p in e.problems)
    else:
        assert getattr(new.control, key) == value
        expected = SHRIMP_SITE.model_dump()
        expected["control"][key] = value
        assert new.model_dump() == expected
        assert new.source == SHRIMP_SITE.source
    assert SHRIMP_SITE.model_dump() == before


def test_with_control_inside_the_band_is_accepted() -> None:
    c = SHRIMP_SITE.control
    mid = (c.shed_soc_pct + c.reconnect_soc_pct) / 2
    new = SHRIMP_SITE.with_control(shed_soc_pct=mid - 1, reconnect_soc_pct=mid + 1)
    assert (new.control.shed_soc_pct, new.control.reconnect_soc_pct) == (mid - 1, mid + 1)
    assert (c.shed_soc_pct, c.reconnect_soc_pct) != (mid - 1, mid + 1)


@pytest.mark.parametrize(("changes", "key", "words"), [
    ({"stale_after_s": 30}, "control.stale_after_s", "not a settable threshold"),
    ({"cycle_s": 1}, "control.cycle_s", "not a settable threshold"),
    ({"shed_soc_pct": 150}, "control.shed_soc_pct", "less than or equal to 100"),
    ({"do_on_mg_l": "high"}, "control.do_on_mg_l", "valid number"),
    ({"reconnect_soc_pct": 5}, "control.reconnect_soc_pct", "above control.shed_soc_pct"),
])
def test_with_control_refusal_names_the_key(changes: dict[str, Any], key: str,
                                            words: str) -> None:
    with pytest.raises(SiteFileError) as e:
        SHRIMP_SITE.with_control(**changes)
    assert [p.path for p in e.value.problems] == [key]
    assert words in e.value.problems[0].message
    assert str(SHRIMP) in str(e.value)


def test_settable_keys_are_control_keys() -> None:
    assert set(SETTABLE_CONTROL_KEYS) <= set(Control.model_fields)
