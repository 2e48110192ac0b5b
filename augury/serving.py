"""Serving a local HTTP server in the foreground (``python -m collector``, the read API)."""

from __future__ import annotations

from typing import Protocol


class _Server(Protocol):
    def serve_forever(self) -> None: ...

    def server_close(self) -> None: ...


def serve_until_interrupted(server: _Server) -> int:
    """Serve until Ctrl-C, then close the socket; the exit status (0)."""
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
