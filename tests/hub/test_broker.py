"""Enrolment: a password entry by mosquitto_passwd and an ACL block per user."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.broker import acl_with, enroll
from hub.errors import EnrollError
from tests.support import require_tool


def test_enrolling_again_renews_the_password_and_keeps_one_block(tmp_path: Path) -> None:
    require_tool("mosquitto_passwd")
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    first = enroll(passwd, acl, "site-a")
    enroll(passwd, acl, "hub", "hub")
    second = enroll(passwd, acl, "site-a")
    assert first.password != second.password
    users = [line.split(":")[0] for line in passwd.read_text().splitlines()]
    assert sorted(users) == ["hub", "site-a"]
    text = acl.read_text()
    assert text.count("user site-a") == 1 and text.count("user hub") == 1
    assert "topic write offgrid/v1/site-a/batch" in text
    assert "topic read offgrid/v1/+/batch" in text


def test_a_name_keeps_its_role_and_a_bad_site_id_is_refused() -> None:
    text = acl_with("", "hub", "x1")
    with pytest.raises(EnrollError, match="already enrolled as a hub"):
        acl_with(text, "site", "x1")
    with pytest.raises(ValueError, match="site id"):
        enroll(Path("/nonexistent/p"), Path("/nonexistent/a"), "Bad Site")
