"""The storage backends: one suite run on a local folder and on S3 (moto's server, spoken to over HTTP)."""
from __future__ import annotations

import errno
import logging
import os
import re
import secrets
import socket
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import BotoCoreError

from contest import create_app
from contest.config import ConfigError
from contest.storage import FileMissing, Storage, StorageError, init_storage, new_key, storage
from contest.storage.local import LocalStorage
from contest.storage.s3 import S3Storage

# Every byte value, CR/LF and NUL included, so that nothing can pass for text on the way.
PICTURE = bytes(range(256)) * 40 + b"\r\n\x00\xff"
OTHER_PICTURE = b"\xff\xd8\xff\xe0" + secrets.token_bytes(5000)

KEYS_A_USER_COULD_TYPE = [
    "../outside.jpg",
    "entries/../../outside.jpg",
    "entries/./a.jpg",
    "/etc/passwd",
    "entries\\..\\..\\outside.jpg",
    "entries/a.jpg\x00.png",
    "entries//a.jpg",
    "entries/a.jpg/",
    ".hidden",
    "entries/.tmp-0123456789abcdef",
    "Entries/A.JPG",
    "entries/照片.jpg",
    "",
]


def app_settings(**overrides) -> dict:
    settings = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    settings.update(overrides)
    return settings


@pytest.fixture(scope="session")
def s3_endpoint():
    """A moto S3 server on a free port of this machine, for the whole run."""
    from moto.server import ThreadedMotoServer

    # Werkzeug, under moto, logs every request at INFO: a failing test's report would drown in them.
    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    werkzeug_log.setLevel(level)


def s3_storage(endpoint: str, bucket: str) -> S3Storage:
    return S3Storage(bucket, endpoint_url=endpoint, access_key="test", secret_key="test")


@pytest.fixture
def local(tmp_path) -> LocalStorage:
    return LocalStorage(str(tmp_path / "uploads"))


@pytest.fixture
def s3(s3_endpoint) -> S3Storage:
    # A bucket per test, so that no test sees another's files in a listing.
    s3 = s3_storage(s3_endpoint, f"contest-test-{secrets.token_hex(4)}")
    s3.ensure_bucket()
    return s3


@pytest.fixture(params=["local", "s3"])
def store(request) -> Storage:
    return request.getfixturevalue(request.param)


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Both backends ----------------------------------------------------------------------------------

def test_the_backend_meets_the_storage_protocol(store):
    assert isinstance(store, Storage)
    assert store.name in {"local", "s3"}


def test_a_stored_picture_comes_back_byte_for_byte(store):
    key = new_key("entries/12", "jpg")
    store.put(key, PICTURE, "image/jpeg")
    assert store.get(key) == PICTURE


def test_storing_under_a_used_key_replaces_the_file(store):
    key = new_key("entries/12", "jpg")
    store.put(key, PICTURE, "image/jpeg")
    store.put(key, OTHER_PICTURE, "image/jpeg")
    assert store.get(key) == OTHER_PICTURE
    assert list(store.keys("entries/")) == [key]


def test_exists_says_whether_a_key_holds_a_file(store):
    key = new_key("entries/12", "jpg")
    assert not store.exists(key)
    store.put(key, PICTURE, "image/jpeg")
    assert store.exists(key)
    assert not store.exists("entries/12")  # a folder on disk, a mere prefix on S3: neither is a file


def test_deleting_removes_the_file_and_deleting_again_is_no_error(store):
    key = new_key("entries/12", "jpg")
    store.put(key, PICTURE, "image/jpeg")
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)
    store.delete(new_key("entries/12", "jpg"))  # never stored at all


def test_reading_a_missing_file_raises_a_storage_error(store):
    with pytest.raises(StorageError) as raised:
        store.get(new_key("entries/12", "jpg"))
    assert isinstance(raised.value, FileMissing)


def test_a_file_tells_when_it_was_written(store):
    key = new_key("entries/12", "jpg")
    store.put(key, PICTURE, "image/jpeg")
    assert abs(store.modified_at(key) - datetime.now(UTC)) < timedelta(minutes=1)
    with pytest.raises(FileMissing):
        store.modified_at(new_key("entries/12", "jpg"))


def test_keys_lists_exactly_the_files_under_a_prefix(store):
    in_entry_1 = {new_key("entries/1", "jpg"), new_key("entries/1", "png")}
    in_entry_12 = {new_key("entries/12", "jpg")}
    elsewhere = {new_key("entries/2", "jpg"), new_key("avatars/1", "jpg")}
    for key in in_entry_1 | in_entry_12 | elsewhere:
        store.put(key, PICTURE, "image/jpeg")

    assert set(store.keys("entries/1/")) == in_entry_1
    assert set(store.keys("entries/1")) == in_entry_1 | in_entry_12  # a prefix matches as text, as on S3
    assert set(store.keys()) == in_entry_1 | in_entry_12 | elsewhere
    assert sorted(store.keys()) == sorted(set(store.keys()))  # each key once
    assert list(store.keys("calls/")) == []


@pytest.mark.parametrize("key", KEYS_A_USER_COULD_TYPE)
def test_a_key_not_made_by_new_key_is_refused(store, key):
    for attempt in (lambda: store.put(key, PICTURE, "image/jpeg"), lambda: store.get(key),
                    lambda: store.delete(key), lambda: store.exists(key)):
        with pytest.raises(StorageError):
            attempt()
    with pytest.raises(StorageError):
        list(store.keys("../"))
    assert list(store.keys()) == []


# Keys -------------------------------------------------------------------------------------------

def test_new_keys_are_random_and_carry_only_the_prefix_and_the_extension():
    keys = {new_key("entries/12", "jpg") for _ in range(1000)}
    assert len(keys) == 1000
    for key in keys:
        assert re.fullmatch(r"entries/12/[0-9a-f]{32}\.jpg", key)


@pytest.mark.parametrize(("prefix", "extension"), [
    ("../entries", "jpg"), ("/entries", "jpg"), ("entries/", "jpg"), ("entries", ".jpg"),
    ("entries", "jpg/../x"), ("entries", "JPG"), ("我的作品", "jpg"), ("", "jpg"),
])
def test_new_key_refuses_anything_that_is_not_key_safe(prefix, extension):
    with pytest.raises(ValueError):
        new_key(prefix, extension)


# The local folder ------------------------------------------------------------------------------

@pytest.mark.parametrize("key", KEYS_A_USER_COULD_TYPE)
def test_nothing_is_written_outside_the_upload_folder(local, tmp_path, key):
    absolute = "/" + (tmp_path / "outside.jpg").as_posix().lstrip("/")
    for attempt in (key, absolute):
        with pytest.raises(StorageError):
            local.put(attempt, PICTURE, "image/jpeg")
    assert files_under(tmp_path) == []


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(local, monkeypatch):
    kept = new_key("entries/12", "jpg")
    local.put(kept, PICTURE, "image/jpeg")
    never_written = new_key("entries/12", "jpg")

    def disk_full(source, target):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(StorageError):
        local.put(kept, OTHER_PICTURE, "image/jpeg")
    with pytest.raises(StorageError):
        local.put(never_written, OTHER_PICTURE, "image/jpeg")
    monkeypatch.undo()

    assert local.get(kept) == PICTURE
    assert not local.exists(never_written)
    assert files_under(local.root) == [kept]


def test_a_temp_file_left_by_a_crash_is_not_listed_as_a_key(local):
    key = new_key("entries/12", "jpg")
    local.put(key, PICTURE, "image/jpeg")
    (local.path(key).parent / ".tmp-0123456789abcdef").write_bytes(PICTURE[:100])
    assert list(local.keys()) == [key]


def test_local_files_are_not_readable_by_everyone(local):
    key = new_key("entries/12", "jpg")
    local.put(key, PICTURE, "image/jpeg")
    assert local.path(key).stat().st_mode & 0o007 == 0


def test_local_files_have_no_presigned_url(local):
    key = new_key("entries/12", "jpg")
    local.put(key, PICTURE, "image/jpeg")
    assert local.presigned_url(key) is None


# S3 -------------------------------------------------------------------------------------------

def test_a_presigned_url_serves_the_file_with_its_type(s3, s3_endpoint):
    key = new_key("entries/12", "jpg")
    s3.put(key, PICTURE, "image/jpeg")

    url = s3.presigned_url(key, expires=60)
    assert url.startswith(s3_endpoint + "/")
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == PICTURE
        assert response.headers["Content-Type"] == "image/jpeg"

    as_download = s3.presigned_url(key, content_type="application/octet-stream")
    with urllib.request.urlopen(as_download, timeout=5) as response:
        assert response.read() == PICTURE
        assert response.headers["Content-Type"] == "application/octet-stream"


def test_an_unreachable_s3_fails_fast_with_a_storage_error(s3_endpoint):
    unreachable = s3_storage(f"http://127.0.0.1:{free_port()}", "contest-test")  # makes no connection yet

    started = time.monotonic()
    with pytest.raises(StorageError) as raised:
        unreachable.put(new_key("entries/12", "jpg"), PICTURE, "image/jpeg")
    assert time.monotonic() - started < 5
    assert isinstance(raised.value.__cause__, BotoCoreError)

    with pytest.raises(StorageError):
        list(unreachable.keys("entries/"))


def test_a_missing_bucket_is_a_storage_error_until_it_is_made(s3_endpoint):
    s3 = s3_storage(s3_endpoint, f"contest-test-{secrets.token_hex(4)}")
    with pytest.raises(StorageError):
        s3.put(new_key("entries/12", "jpg"), PICTURE, "image/jpeg")
    s3.ensure_bucket()
    s3.ensure_bucket()  # a second time is no error
    key = new_key("entries/12", "jpg")
    s3.put(key, PICTURE, "image/jpeg")
    assert s3.get(key) == PICTURE


# In the app -------------------------------------------------------------------------------------

def test_the_app_hands_out_its_configured_backend_and_the_one_a_file_names(s3_endpoint):
    app = create_app(app_settings(STORAGE_BACKEND="s3", S3_BUCKET="contest-test", S3_ENDPOINT_URL=s3_endpoint,
                                  S3_ACCESS_KEY_ID="test", S3_SECRET_ACCESS_KEY="test"))
    with app.app_context():
        configured = storage()
        assert isinstance(configured, S3Storage)
        assert configured.bucket == "contest-test"
        assert storage() is configured
        assert storage("s3") is configured

        local = storage("local")
        assert isinstance(local, LocalStorage)
        assert local.root == Path(app.config["UPLOAD_DIR"])
        assert storage("local") is local

        with pytest.raises(StorageError):
            storage("ftp")

        # The app's settings reach the S3 service: its credentials and endpoint work.
        configured.ensure_bucket()
        key = new_key("entries/12", "jpg")
        configured.put(key, PICTURE, "image/jpeg")
        assert storage("s3").get(key) == PICTURE


def test_init_storage_keeps_the_configured_backend_on_the_app(tmp_path):
    app = create_app(app_settings(STORAGE_BACKEND="local", UPLOAD_DIR=str(tmp_path / "uploads")))
    init_storage(app)
    backend = app.extensions["contest_storage"]
    assert isinstance(backend, LocalStorage)
    assert backend.root == tmp_path / "uploads"
    assert not backend.root.exists()  # nothing is made on disk before the first file
    with app.app_context():
        assert storage() is backend


@pytest.mark.parametrize("settings", [{"STORAGE_BACKEND": "ftp"}, {"STORAGE_BACKEND": "s3", "S3_BUCKET": None}])
def test_a_storage_setting_that_cannot_work_stops_the_app(settings):
    with pytest.raises(ConfigError):
        init_storage(create_app(app_settings(**settings)))
