"""With Redis configured, rate-limit counters live in Redis, so every app server sees the same count."""
import secrets

import pytest
import redis

from tests.helpers import log_in

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix():
    connection = redis.Redis.from_url(REDIS_URL)
    connection.ping()  # Redis runs on this machine and in CI: a failure here is a failure, not a skip
    prefix = f"contest-test-{secrets.token_hex(4)}"
    yield prefix
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)
    connection.close()


def test_failed_logins_are_counted_across_app_servers_in_redis(app_factory, redis_prefix, citizen):
    settings = {"REDIS_URL": REDIS_URL, "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_prefix}
    first_server = app_factory(**settings).test_client()
    second_server = app_factory(**settings).test_client()
    for attempt in range(5):
        assert log_in(first_server, citizen.email, "wrong").status_code == 200, attempt
        assert log_in(second_server, citizen.email, "wrong").status_code == 200, attempt
    assert log_in(first_server, citizen.email, "wrong").status_code == 429
    keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(f"*{redis_prefix}*"))
    assert keys, "the counters should be in Redis"
