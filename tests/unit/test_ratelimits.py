"""The in-memory rate-limit storage: limits' own, with its expiry timer started under a lock."""
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from contest.ratelimits import LockedTimerMemoryStorage


def test_the_memory_storage_counts_and_starts_its_timer_under_the_lock():
    storage = storage_from_string("contest-memory://")
    assert isinstance(storage, LockedTimerMemoryStorage)
    entered = []

    class Witness:
        def __enter__(self):
            entered.append(True)

        def __exit__(self, *exc):
            return False

    storage._timer_lock = Witness()
    limiter = MovingWindowRateLimiter(storage)
    assert [limiter.hit(parse("2/minute"), "voter:1") for _ in range(3)] == [True, True, False]
    assert len(entered) == 3  # each hit scheduled the expiry through the lock
