"""The ``[uplink]`` section: off unless enabled, its defaults, and a bad value that names its key
and the reason (the site id checked with the wire's one definition)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sitefile import SiteFileError, parse_site

UPLINK = {"enabled": True, "host": "hub.example", "site_id": "ly-son-1",
          "password_file": "broker.pw", "ca_file": "ca.crt"}


def site(uplink: dict[str, Any] | None, base_dir: Path | None = None) -> Any:
    data: dict[str, Any] = {"site": {"name": "v", "latitude": 15.4, "longitude": 109.1,
                                     "province": "Quảng Ngãi"}}
    if uplink is not None:
        data["uplink"] = uplink
    return parse_site(data, base_dir)


def test_the_uplink_takes_its_defaults_and_files_relative_to_the_site(tmp_path: Path) -> None:
    s = site(UPLINK, tmp_path)
    u = s.uplink
    assert u is not None and u.enabled and s.site.province == "Quảng Ngãi"
    assert (u.username, u.port, u.batch_interval_s, u.resolution_s) == ("ly-son-1", 8883, 900, 60)
    assert u.password_file == tmp_path / "broker.pw" and u.ca_file == tmp_path / "ca.crt"


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("site_id", "Ly Son", "lower-case letters, digits or hyphens"),
    ("site_id", "site/1", "lower-case letters, digits or hyphens"),
    ("site_id", "-x", "starting with a letter or digit"),
    ("port", 0, "greater than or equal to 1"),
    ("batch_interval_s", 5, "greater than or equal to 10"),
    ("clock", "gps", "'rtc' or 'ntp'"),
])
def test_a_bad_uplink_value_names_its_key_and_reason(key: str, value: Any, reason: str) -> None:
    with pytest.raises(SiteFileError) as err:
        site({**UPLINK, key: value})
    text = str(err.value)
    assert f"uplink.{key}" in text and str(value) in text and reason in text


def test_an_unknown_uplink_key_is_refused() -> None:
    with pytest.raises(SiteFileError) as err:
        site({**UPLINK, "broker": "x"})
    assert "uplink.broker" in str(err.value)
