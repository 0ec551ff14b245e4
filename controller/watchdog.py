"""systemd notification (``sd_notify``) without a dependency: one datagram per message."""

from __future__ import annotations

import socket


class Notifier:
    """Sends ``READY=1``, ``WATCHDOG=1``, ``STATUS=…`` to systemd's ``NOTIFY_SOCKET``.

    ``address`` is the socket path (``@name`` for the abstract namespace); None disables it.
    """

    def __init__(self, address: str | None) -> None:
        self.address = address
        self.sent = 0

    def notify(self, message: str) -> bool:
        """Send one message; False when disabled or the socket is gone."""
        if not self.address:
            return False
        path = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message.encode(), path)
        except OSError:
            return False
        self.sent += 1
        return True
