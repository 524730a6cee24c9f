"""The local storage backend: files in a folder on this machine's disk, written atomically."""
from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from contest.storage.base import KEY_RE, FileMissing, StorageError, check_key, check_prefix

FILE_MODE = 0o640  # readable by the app's group (e.g. a web server sending files), never by everyone
FOLDER_MODE = 0o750
TEMP_PREFIX = ".tmp-"  # a dot: never a valid key, so keys() cannot mistake a temp file for a stored one


class LocalStorage:
    """Files under one root folder; a key's "/" separators become sub-folders."""

    name = "local"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        # Absolute now, so that a later change of working directory cannot move the store.
        self.root = Path(os.path.abspath(root))

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """The file a key names, for serving it with send_file; the key is checked, so it cannot escape the root."""
        return self.root.joinpath(*check_key(key).split("/"))

    def put(self, key: str, data: bytes, content_type: str) -> None:
        # The content type lives in the file's row; a folder has nowhere to keep it.
        target = self.path(key)
        temp = target.parent / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
        try:
            target.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            # A reader sees the old file or the whole new one, never half of it, even if we crash here.
            os.replace(temp, target)
            _fsync_folder(target.parent)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise StorageError(f"could not write {key!r} to {self.root}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise FileMissing(f"no file {key!r} in {self.root}") from exc
        except OSError as exc:
            raise StorageError(f"could not read {key!r} from {self.root}: {exc}") from exc

    def delete(self, key: str) -> None:
        # Empty folders are left behind on purpose: removing one could race with a put that has just made it.
        try:
            os.unlink(self.path(key))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            pass
        except OSError as exc:
            raise StorageError(f"could not delete {key!r} from {self.root}: {exc}") from exc

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except OSError as exc:
            raise StorageError(f"could not look for {key!r} in {self.root}: {exc}") from exc

    def modified_at(self, key: str) -> datetime:
        """When the file was last written (aware, UTC): lets an orphan sweep spare uploads still in progress."""
        try:
            return datetime.fromtimestamp(self.path(key).stat().st_mtime, tz=UTC)
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise FileMissing(f"no file {key!r} in {self.root}") from exc
        except OSError as exc:
            raise StorageError(f"could not look for {key!r} in {self.root}: {exc}") from exc

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every stored key starting with the prefix (matched as S3 matches it: by string, not by folder)."""
        check_prefix(prefix)
        folder, _, _ = prefix.rpartition("/")
        start = self.root.joinpath(*folder.split("/")) if folder else self.root

        def fail(exc: OSError) -> None:
            # A missing folder holds no keys; an unreadable one must not pass for an empty one.
            if not isinstance(exc, (FileNotFoundError, NotADirectoryError)):
                raise StorageError(f"could not list {prefix!r} in {self.root}: {exc}") from exc

        for dirpath, dirnames, filenames in os.walk(start, onerror=fail):
            relative = Path(dirpath).relative_to(self.root).as_posix()
            base = "" if relative == "." else relative + "/"
            dirnames[:] = sorted(d for d in dirnames if KEY_RE.fullmatch(d))
            for filename in sorted(filenames):
                key = base + filename
                if KEY_RE.fullmatch(filename) and key.startswith(prefix):
                    yield key

    def presigned_url(self, key: str, expires: int = 300, content_type: str | None = None) -> str | None:
        return None  # the app serves local files itself, after checking who may see them

    def check(self) -> None:
        # The folder is made by the first put; until then the nearest folder that exists must take it.
        folder = self.root
        while not folder.exists() and folder.parent != folder:
            folder = folder.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise StorageError(f"cannot write files under {self.root}")


def _fsync_folder(folder: Path) -> None:
    # The rename lives in the folder's entry list: without this a power cut can lose a file already reported saved.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some platforms and file systems cannot open a folder; the file itself is already on disk
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
