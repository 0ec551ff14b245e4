"""One controller per database: an exclusive lock held for the process's lifetime.

:func:`writer_lock` takes ``fcntl.flock`` on ``<database>.lock`` (created next to the database,
holding the owner's pid); where that file cannot be created (a read-only or missing directory)
it locks the database file itself, opened read-only. The kernel releases the lock when the
process ends, however it ends (SIGKILL included), so a stale lock file never blocks a restart.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from store.errors import StoreError

__all__ = ["WriterLocked", "writer_lock"]


class WriterLocked(StoreError):
    """Another controller holds the database."""


def _open_lock(db: Path) -> tuple[int, bool] | None:
    """A descriptor to lock and whether it is the lock file (which gets the pid):
    ``<db>.lock``, else the database read-only, else None."""
    for path, flags in ((db.with_name(db.name + ".lock"), os.O_RDWR | os.O_CREAT),
                        (db, os.O_RDONLY)):
        try:
            return os.open(path, flags | os.O_CLOEXEC, 0o644), flags != os.O_RDONLY
        except OSError:
            continue
    return None


@contextmanager
def writer_lock(db: Path | str) -> Iterator[bool]:
    """Hold the database's writer lock; yields False when there is nothing to lock (neither
    the lock file nor the database can be opened: nobody else can write there either).

    Raises :class:`WriterLocked`, naming the holder's pid when it is known.
    """
    db = Path(db)
    opened = _open_lock(db)
    if opened is None:
        yield False
        return
    fd, lock_file = opened
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise WriterLocked(f"{db}: another controller is already running on this "
                               f"database{who}; stop it first") from None
        if lock_file:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield True
    finally:
        os.close(fd)
