"""A TCP forwarder a test puts between the app and a server (PostgreSQL, S3) to take the server away mid-run.

`cut()` behaves like the server restarting: what already reached the server is answered, then every connection
is dropped, and new ones are closed as soon as they are made until `restore()`.
"""
from __future__ import annotations

import contextlib
import socket
import threading
import time


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._up = True
        self._closed = False
        self.connections = 0  # made through the proxy since it started
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def up(self) -> bool:
        return self._up

    def cut(self, drain: float = 0.2) -> None:
        """Forward nothing more to the server, let its answers already on their way arrive, then drop it all."""
        with self._lock:
            self._up = False
        time.sleep(drain)
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for client, server in pairs:
            _close(client)
            _close(server)

    def restore(self) -> None:
        with self._lock:
            self._up = True

    def close(self) -> None:
        self._closed = True
        self.cut(drain=0)
        _close(self._listener)
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up:
                _close(client)  # the server is away: refused at once, as a stopped server's port would be
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.add((client, server))
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, towards_server: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if towards_server and not self._up:
                    break  # cut: what the app sends now never reaches the server
                sink.sendall(data)
        except OSError:
            pass
        finally:
            # One side finished or failed: end both, as a dropped connection would.
            with self._lock:
                self._pairs.discard((source, sink) if towards_server else (sink, source))
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
