"""The S3 storage backend (AWS or any S3-compatible service), through boto3; every failure becomes a StorageError."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

import boto3
from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from contest.config import ConfigError
from contest.storage.base import KEY_RE, MAX_KEY_LENGTH, FileMissing, StorageError, check_key, check_prefix

MAX_PRESIGNED_EXPIRES = 7 * 24 * 3600  # the longest a SigV4 presigned URL may live
_MISSING = {"404", "NoSuchKey", "NotFound"}
_NO_BUCKET = {"404", "NoSuchBucket", "NotFound"}
_ERRORS = (BotoCoreError, ClientError, Boto3Error)


class S3Storage:
    """Objects in one bucket, each under its key. Creating one touches no network."""

    name = "s3"

    def __init__(self, bucket: str, endpoint_url: str | None = None, region: str = "us-east-1",
                 access_key: str | None = None, secret_key: str | None = None,
                 addressing_style: str | None = None) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        config = Config(
            region_name=region,
            signature_version="s3v4",
            # A request to an unreachable S3 must fail within seconds, not hold a worker for minutes.
            connect_timeout=3,
            read_timeout=10,
            retries={"max_attempts": 2, "mode": "standard"},
            # "path" for services that have no per-bucket host names (a MinIO on its own host, say);
            # None lets botocore choose, which is what AWS and most hosted services expect.
            s3={"addressing_style": addressing_style} if addressing_style else None,
            # Since boto3 1.36 every upload carries a CRC32 checksum that several S3-compatible services
            # refuse; the file's SHA-256 is kept in its row anyway.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._config, self._access_key, self._secret_key, self._probe = config, access_key, secret_key, None
        try:
            # A session of our own: boto3's default session is not safe to share between threads.
            self._client = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url, aws_access_key_id=access_key,
                aws_secret_access_key=secret_key, config=config,
            )
        except (*_ERRORS, ValueError) as exc:  # e.g. an endpoint URL without its scheme
            raise ConfigError(f"cannot use S3 bucket {bucket!r} at {endpoint_url or 'AWS'}: {exc}") from exc

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    def put(self, key: str, data: bytes, content_type: str) -> None:
        check_key(key)
        with self._wrapped(f"write {key!r}"):
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        check_key(key)
        try:
            with self._wrapped(f"read {key!r}"):
                response = self._client.get_object(Bucket=self.bucket, Key=key)
                # Read inside the wrapper: a connection dropped mid-body raises from here, not from get_object.
                with contextlib.closing(response["Body"]) as body:
                    return body.read()
        except StorageError as exc:
            if _code(exc.__cause__) in _MISSING:
                raise FileMissing(f"no object {key!r} in S3 bucket {self.bucket!r}") from exc.__cause__
            raise

    def delete(self, key: str) -> None:
        check_key(key)
        with self._wrapped(f"delete {key!r}"):
            self._client.delete_object(Bucket=self.bucket, Key=key)  # S3 itself answers 204 for a missing key

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except FileMissing:
            return False
        return True

    def modified_at(self, key: str) -> datetime:
        """When the object was last written (aware, UTC): lets an orphan sweep spare uploads still in progress."""
        return self._head(key)["LastModified"]

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key under the prefix that new_key could have made; objects named otherwise are not ours."""
        check_prefix(prefix)
        with self._wrapped(f"list {prefix!r}"):
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", ()):
                    key = item["Key"]
                    if len(key) <= MAX_KEY_LENGTH and KEY_RE.fullmatch(key):
                        yield key

    def presigned_url(self, key: str, expires: int = 300, content_type: str | None = None) -> str | None:
        """A short-lived URL to GET the object directly from S3, for files the app must not make public."""
        check_key(key)
        if not 1 <= expires <= MAX_PRESIGNED_EXPIRES:
            raise ValueError(f"a presigned URL lives 1 to {MAX_PRESIGNED_EXPIRES} seconds, not {expires}")
        params = {"Bucket": self.bucket, "Key": key}
        if content_type:
            params["ResponseContentType"] = content_type
        with self._wrapped(f"sign a URL for {key!r}"):
            return self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)

    def check(self) -> None:
        # A client of its own with no retries and short timeouts: a readiness probe must answer within a load
        # balancer's timeout. Made on first use, so an app that is never probed never builds it.
        if self._probe is None:
            self._probe = boto3.session.Session().client(
                "s3", endpoint_url=self.endpoint_url, aws_access_key_id=self._access_key,
                aws_secret_access_key=self._secret_key,
                config=self._config.merge(Config(connect_timeout=2, read_timeout=2,
                                                 retries={"total_max_attempts": 1, "mode": "standard"})),
            )
        with self._wrapped("find the bucket"):
            self._probe.head_bucket(Bucket=self.bucket)

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist yet (for tests and set-up commands, never at start-up)."""
        try:
            with self._wrapped("find the bucket"):
                self._client.head_bucket(Bucket=self.bucket)
            return
        except StorageError as exc:
            if _code(exc.__cause__) not in _NO_BUCKET:
                raise
        options = {}
        if self.region != "us-east-1":  # S3 refuses a location constraint naming its default region
            options["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            with self._wrapped("create the bucket"):
                self._client.create_bucket(Bucket=self.bucket, **options)
        except StorageError as exc:
            # Another process may have made it in between: that is what we wanted.
            if _code(exc.__cause__) != "BucketAlreadyOwnedByYou":
                raise

    def _head(self, key: str) -> dict:
        check_key(key)
        try:
            with self._wrapped(f"look for {key!r}"):
                return self._client.head_object(Bucket=self.bucket, Key=key)
        except StorageError as exc:
            if _code(exc.__cause__) in _MISSING:
                raise FileMissing(f"no object {key!r} in S3 bucket {self.bucket!r}") from exc.__cause__
            raise

    @contextlib.contextmanager
    def _wrapped(self, what: str) -> Iterator[None]:
        try:
            yield
        except _ERRORS as exc:
            raise StorageError(f"S3 bucket {self.bucket!r}: could not {what}: {exc}") from exc


def _code(exc: BaseException | None) -> str | None:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return None
