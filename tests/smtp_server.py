"""A small SMTP server on loopback for the tests: it speaks enough of RFC 5321 for smtplib, keeps what it receives,
and can be down (its port closed), come back on the same port, or refuse some recipients."""
from __future__ import annotations

import email
import socketserver
import threading
import time
from email import policy
from email.message import EmailMessage


class _Session(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        owner: SmtpServer = self.server.owner
        self.reply("220 test.example.org ESMTP ready")
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self.reply("250-test.example.org")
                self.reply("250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 test.example.org")
            elif verb in ("MAIL", "RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "RCPT":
                address = command.partition(":")[2].strip().strip("<>")
                if address in owner.refuse:
                    self.reply("550 no such mailbox")
                else:
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data[1:] if data.startswith(b"..") else data)
                time.sleep(owner.delay)
                owner.keep(email.message_from_bytes(b"".join(lines), policy=policy.default))
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class SmtpServer:
    """`start()` listens on `port` (chosen at first), `stop()` closes it: a server that is down refuses connections."""

    def __init__(self) -> None:
        self.port = 0
        self.received: list[EmailMessage] = []
        self.refuse: set[str] = set()  # recipients answered 550
        self.delay = 0.0  # seconds each mail takes to be accepted
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def keep(self, message: EmailMessage) -> None:
        with self._lock:
            self.received.append(message)

    def start(self) -> SmtpServer:
        self._server = _Server(("127.0.0.1", self.port), _Session)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> SmtpServer:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None
        return self

    def message_ids(self) -> list[str]:
        with self._lock:
            return [message["Message-ID"] for message in self.received]
