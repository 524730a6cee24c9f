"""What every storage backend shares: the Storage protocol, its errors and the shape of a key."""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

# Keys are made by new_key, never from what a user typed, so they can be held to a strict shape: lowercase
# segments that start with a letter or digit. That rules out absolute paths, "." and "..", empty segments,
# backslashes, NUL and hidden files (the local backend's temp files start with a dot), on every backend alike,
# so that a file can move between backends under the same key.
KEY_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*(?:/[a-z0-9][a-z0-9_.-]*)*")
# A listing prefix is the start of such a key: empty, ending in "/", or ending part-way through a segment.
PREFIX_RE = re.compile(r"(?:[a-z0-9][a-z0-9_.-]*/)*(?:[a-z0-9][a-z0-9_.-]*)?")
EXTENSION_RE = re.compile(r"[a-z0-9]{1,10}")
MAX_KEY_LENGTH = 255  # the length of ImageFile.key

class StorageError(Exception):
    """Any failure of a storage backend (S3 unreachable, disk full, ...), wrapping the original error."""


class FileMissing(StorageError):
    """The key names no stored file."""


class InvalidKey(StorageError):
    """The key is not one new_key could have made (and might escape the storage's root)."""


@runtime_checkable
class Storage(Protocol):
    name: str  # "local" or "s3": recorded in each stored file's row

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def keys(self, prefix: str = "") -> Iterator[str]: ...

    def presigned_url(self, key: str, expires: int = 300, content_type: str | None = None) -> str | None: ...

    def check(self) -> None:
        """Raise StorageError unless files can be stored now (for the readiness check: cheap, writes nothing)."""


def check_key(key: str) -> str:
    """Return the key if it has the shape new_key gives, else raise InvalidKey."""
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not KEY_RE.fullmatch(key):
        raise InvalidKey(f"not a storage key: {key!r}")
    return key


def check_prefix(prefix: str) -> str:
    """Return the listing prefix if it stays inside the key space, else raise InvalidKey."""
    if not isinstance(prefix, str) or len(prefix) > MAX_KEY_LENGTH or not PREFIX_RE.fullmatch(prefix):
        raise InvalidKey(f"not a storage key prefix: {prefix!r}")
    return prefix


def new_key(prefix: str, extension: str) -> str:
    """A random, unguessable key under a prefix: "entries/12/<32 hex>.jpg"."""
    if not KEY_RE.fullmatch(prefix) or not EXTENSION_RE.fullmatch(extension):
        raise ValueError(f"a key is made of a key-safe prefix and extension, not {prefix!r} and {extension!r}")
    return check_key(f"{prefix}/{secrets.token_hex(16)}.{extension}")
