"""Broker credentials: each site's own user and ACL, and the hub's.

Mosquitto reads a password file (made with its own ``mosquitto_passwd``) and an ACL file; it
reloads both on ``SIGHUP``. In the ACL file, each user's lines are a block that starts with a
comment ``# offgrid <role> <name>``, so that enrolling a name again replaces its block (a new
password, the same rights) and a site's name can never be taken over by a hub user.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fleetwire.topics import check_site_id, hub_acl, site_acl
from hub.errors import EnrollError

Role = Literal["site", "hub"]


@dataclass(frozen=True, slots=True)
class Credentials:
    """A broker user: its name (a site's id, or the hub's user), role and password."""

    username: str
    role: Role
    password: str


def _header(role: Role, name: str) -> str:
    return f"# offgrid {role} {name}"


def _blocks(text: str) -> list[list[str]]:
    """The ACL file's blocks: runs of lines separated by blank lines."""
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o600)
    os.replace(tmp, path)


def acl_with(text: str, role: Role, name: str) -> str:
    """The ACL file ``text`` with ``name``'s block (for ``role``) added or replaced; refuses a
    name that is already enrolled with the other role."""
    lines = site_acl(name) if role == "site" else hub_acl(name)
    kept = []
    for block in _blocks(text):
        head = block[0].split()
        if head[:2] == ["#", "offgrid"] and len(head) == 4 and head[3] == name:
            if head[2] != role:
                raise EnrollError(f"{name!r} is already enrolled as a {head[2]}, not a {role}")
            continue
        kept.append(block)
    kept.append([_header(role, name), *lines])
    return "\n\n".join("\n".join(b) for b in kept) + "\n"


def enroll(passwd_file: Path, acl_file: Path, name: str, role: Role = "site") -> Credentials:
    """Create (or renew) ``name``'s broker user: a new random password in ``passwd_file`` and
    its ACL block in ``acl_file`` (both created if missing). A site may publish only under its
    own topics and read only its own commands and acknowledgements; a hub reads every site's
    messages and writes every site's commands and acknowledgements. Reload the broker
    (``SIGHUP``) afterwards."""
    if role == "site":
        check_site_id(name)
    elif not name or any(c in name for c in " \t\n:#+/"):
        raise EnrollError(f"hub user {name!r}: must be non-empty, without spaces, ':', '#', "
                          "'+' or '/'")
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        raise EnrollError("mosquitto_passwd is not on PATH: install the mosquitto package")
    acl_text = acl_with(acl_file.read_text(encoding="utf-8") if acl_file.exists() else "",
                        role, name)
    password = secrets.token_urlsafe(24)
    create = [] if passwd_file.exists() else ["-c"]
    done = subprocess.run([tool, *create, "-b", str(passwd_file), name, password],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise EnrollError(f"mosquitto_passwd failed on {passwd_file}: "
                          f"{(done.stderr or done.stdout).strip()}")
    _write_atomically(acl_file, acl_text)
    return Credentials(username=name, role=role, password=password)
