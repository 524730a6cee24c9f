"""The in-memory rate-limit storage, with the expiry timer of limits' own started under a lock.

limits 5.8.0's MemoryStorage checks whether its expiry timer is alive and starts a new one without a lock, so two
request threads can start the same timer: one of them fails with "RuntimeError: threads can only be started once",
and its request with a 500 (bench/votes.py met it about once in 50,000 votes from gunicorn's threads). limits has
fixed it upstream (alisaifee/limits pull request 352), in no release yet: once one has it, delete this module and
configure "memory://" again.
"""
from __future__ import annotations

import threading

from limits.storage import MemoryStorage


class LockedTimerMemoryStorage(MemoryStorage):
    """limits' MemoryStorage, at "contest-memory://"; only the start of its expiry timer is serialised."""

    STORAGE_SCHEME = ["contest-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        self._timer_lock = threading.Lock()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    def _MemoryStorage__schedule_expiry(self) -> None:
        # Overrides the private method every hit calls (limits is pinned, so its name is known).
        with self._timer_lock:
            super()._MemoryStorage__schedule_expiry()

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        del state["_timer_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self._timer_lock = threading.Lock()
        super().__setstate__(state)
