"""Real processes for the tests that need them: free ports, app servers' start and death, a private Redis."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
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


ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def site_environment(database_url: str, upload_dir: Path, **settings: str) -> dict:
    """The environment of an app server on the suite's database: this one's uploads, mail to the log, no Redis."""
    return dict(os.environ, CONTEST_DATABASE_URL=database_url, CONTEST_SECRET_KEY="test server secret",
                CONTEST_UPLOAD_DIR=str(upload_dir), CONTEST_STORAGE="local", CONTEST_MAIL_BACKEND="log",
                CONTEST_REDIS_URL="", **settings)


@dataclass
class AppServer:
    """The site (wsgi:app) under gunicorn, master and workers in a process group of their own, logging to a file."""

    name: str
    port: int
    env: dict
    log_path: Path
    options: tuple[str, ...] = ()  # gunicorn's own, besides the address it listens on
    ready_path: str = "/healthz"  # answers 200 once the server takes requests
    host: str = "127.0.0.1"  # the name visitors reach it by
    process: subprocess.Popen | None = None
    stopping: bool = False

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self.stopping = False
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [str(GUNICORN), *self.options, "--bind", f"127.0.0.1:{self.port}", "--no-control-socket", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_up(self) -> None:
        wait_until_answers(f"http://127.0.0.1:{self.port}{self.ready_path}", self.process, self.name, self.log_path)

    def kill(self) -> None:
        kill_group(self.process)

    def ask_to_stop(self) -> None:
        if self.process is not None and self.process.poll() is None and not self.stopping:
            os.killpg(self.process.pid, signal.SIGTERM)  # gunicorn's graceful stop
            self.stopping = True

    def stop(self) -> None:
        self.ask_to_stop()
        if self.process is not None and self.process.poll() is None:
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


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
