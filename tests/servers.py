"""Real processes for the tests that need them: free ports, app servers' start and death, a private Redis."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis
import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answers(url: str, process: subprocess.Popen, name: str, log_path: Path) -> None:
    """Wait until `url` answers 200, or fail with the server's log when it died or took over a minute."""
    deadline = time.monotonic() + 60  # a busy machine starts slowly
    while True:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise AssertionError(f"{name} did not start:\n{log_path.read_text()}")
        time.sleep(0.1)


def kill_group(process: subprocess.Popen) -> None:
    """kill -9 of a server started with start_new_session, master and workers at once, as a machine dying would."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


class PrivateRedis:
    """A redis-server of the test's own, on a free port, that the test may stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.port, self.folder, self.process = free_port(), folder, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()

    def keys(self) -> list[bytes]:
        return list(redis.Redis(port=self.port).scan_iter("*"))
