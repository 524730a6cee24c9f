"""Entries and their files stay together: on S3 (moto's server over HTTP) and on local disk, through
failures in the middle of a submission, and with the orphans command for a process that died."""
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from contest.extensions import db
from contest.models import Entry, Image, ImageFile
from contest.services.entries import EntryData, Upload, submit_entry
from contest.storage import storage
from tests.helpers import count_rows, log_in, make_call, picture_bytes, post_form, submit_design, zh


def moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def s3_settings(endpoint: str) -> dict:
    return {"STORAGE_BACKEND": "s3", "S3_BUCKET": "contest-entries", "S3_ENDPOINT_URL": endpoint,
            "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test"}


@pytest.fixture
def s3_app(app_factory):
    server, endpoint = moto_server()
    app = app_factory(**s3_settings(endpoint))
    with app.app_context():
        storage().ensure_bucket()
        yield app, server
    server.stop()


def test_a_submission_on_s3(s3_app, citizen, transport_commission):
    app, _server = s3_app
    call = make_call(transport_commission)
    client = app.test_client()
    log_in(client, citizen.email)
    assert submit_design(client, call, images=[picture_bytes(1), picture_bytes(2)]).status_code == 302
    files = db.session.scalars(select(ImageFile)).all()
    assert len(files) == 8 and {f.backend for f in files} == {"s3"}
    with app.app_context():  # the test's own context is the default app's (the fixtures made it)
        assert sorted(storage().keys("images/")) == sorted(f.key for f in files)
    image_id = files[0].image_id
    assert client.get(f"/media/{image_id}/gallery").status_code == 200  # the author sees their own
    original = client.get(f"/media/{image_id}/original")
    assert original.status_code == 404  # originals are for the call's staff only


def test_s3_failing_in_the_middle_of_a_submission_leaves_no_half_entry(s3_app, citizen, transport_commission):
    app, server = s3_app
    call = make_call(transport_commission)
    client = app.test_client()
    log_in(client, citizen.email)
    with app.app_context():
        backend = storage()
    real_put, puts = backend.put, []

    def put_then_lose_s3(key, data, content_type):
        if len(puts) == 3:
            server.stop()  # S3 goes away for real: the next request is refused by the network
        puts.append(key)
        return real_put(key, data, content_type)

    backend.put = put_then_lose_s3
    response = submit_design(client, call, images=[picture_bytes(1), picture_bytes(2)])
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert zh("Your images could not be stored just now. Nothing was saved; please try again in a few "
              "minutes.") in response.get_data(as_text=True)
    assert count_rows(Entry) == 0 and count_rows(Image) == 0 and count_rows(ImageFile) == 0


def test_a_failed_transaction_deletes_the_files_it_wrote(app, citizen, transport_commission):
    call = make_call(transport_commission)
    root = Path(app.config["UPLOAD_DIR"])
    with app.test_request_context():
        submit_entry(citizen, call, EntryData(title="会失败的投稿"), [Upload(picture_bytes(3), "图")],
                     accepted_terms=True)
        assert len([p for p in root.rglob("*") if p.is_file()]) == 4
        db.session.rollback()  # e.g. the commit failed
    assert [p for p in root.rglob("*") if p.is_file()] == []
    assert count_rows(Entry) == 0


def test_the_orphans_command_removes_files_no_row_refers_to(app, runner, citizen, transport_commission):
    call = make_call(transport_commission)
    with app.test_request_context():
        submit_entry(citizen, call, EntryData(title="正常投稿"), [Upload(picture_bytes(4), "图")],
                     accepted_terms=True)
        db.session.commit()
    backend = storage()
    backend.put("images/left-by-a-dead-process.jpg", b"x", "image/jpeg")
    backend.put("images/still-being-uploaded.jpg", b"y", "image/jpeg")
    an_hour_ago = time.time() - 2 * 3600
    os.utime(backend.path("images/left-by-a-dead-process.jpg"), (an_hour_ago, an_hour_ago))
    listed = runner.invoke(args=["orphans"])
    assert "images/left-by-a-dead-process.jpg" in listed.output and "still-being-uploaded" not in listed.output
    assert backend.exists("images/left-by-a-dead-process.jpg")  # listing deletes nothing
    runner.invoke(args=["orphans", "--delete"])
    assert not backend.exists("images/left-by-a-dead-process.jpg")
    assert backend.exists("images/still-being-uploaded.jpg")
    assert all(backend.exists(f.key) for f in db.session.scalars(select(ImageFile)))


def test_a_withdrawn_entry_keeps_no_files_on_s3(s3_app, citizen, transport_commission):
    app, _server = s3_app
    call = make_call(transport_commission)
    client = app.test_client()
    log_in(client, citizen.email)
    with app.app_context():  # moto's servers share one store in a process: other tests' files may be there
        before = set(storage().keys("images/"))
    assert submit_design(client, call, images=[picture_bytes(1), picture_bytes(2)]).status_code == 302
    entry = db.session.scalar(select(Entry))
    keys = {f.key for p in entry.images for f in p.image.files}
    with app.app_context():
        assert len(keys) == 8 and set(storage().keys("images/")) == before | keys
    response = post_form(client, f"/entries/{entry.id}/withdraw", page="/my/entries")
    assert response.status_code == 302
    assert client.get("/my/entries").status_code == 200
    with app.app_context():
        assert set(storage().keys("images/")) == before
    assert count_rows(Image) == 0 and count_rows(ImageFile) == 0
