"""API key tokens, pure: make one, parse its id, hash it, check it in constant time.

A key reads ``ogk_<id>_<secret>``: a 12-hex-digit public id and 32 random bytes of secret
(URL-safe base64, 43 characters). The secret cannot be guessed, so a plain SHA-256 is enough
(a slow hash would add nothing but latency). No framework and no database here: the site API
(:mod:`api.keys`) and the fleet hub (:mod:`hub.keys`) both store the hash and check with these.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Final

KEY_RE: Final = re.compile(r"^ogk_([0-9a-f]{12})_[A-Za-z0-9_\-]{43}$")
"""A well-formed key; group 1 is its public id."""
KEY_ID_PATTERN: Final = r"^[0-9a-f]{12}$"
"""A key's public id."""
MAX_KEY_CHARS: Final = 200
"""Longer presented keys are refused before any work [characters]."""


def make_key() -> tuple[str, str]:
    """A new key: ``(key_id, key)``; show the key once and keep only :func:`hash_key` of it."""
    key_id = secrets.token_hex(6)
    return key_id, f"ogk_{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(key: str) -> str | None:
    """The public id of a well-formed ``key``, or None."""
    if len(key) > MAX_KEY_CHARS:
        return None
    m = KEY_RE.match(key)
    return None if m is None else m.group(1)


def hash_key(key: str) -> str:
    """The stored form of ``key``: its SHA-256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def matches(key: str, stored_hash: str) -> bool:
    """Whether ``key`` hashes to ``stored_hash`` (compared in constant time)."""
    return hmac.compare_digest(stored_hash, hash_key(key))
