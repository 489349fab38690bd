"""Storage in a local folder, with HMAC-signed URLs served by the app's own file route."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlencode

from clipgen.config import get_settings
from clipgen.storage.base import (
    DEFAULT_CONTENT_TYPE,
    DEFAULT_URL_EXPIRY_S,
    MAX_URL_EXPIRY_S,
    InvalidKey,
    ObjectNotFound,
    Readable,
    Storage,
    StorageError,
    StrPath,
    validate_expiry,
    validate_key,
    validate_prefix,
)

LOCAL_FILES_ROUTE = "/files"
CHUNK_SIZE = 1024 * 1024
_TEMP_PREFIX = ".tmp-"
_SIGNING_CONTEXT = b"clipgen.storage.local-url.v1"


def _signing_key() -> bytes:
    """A key for file URLs only, derived from the app's secret key."""
    secret = get_settings().effective_secret_key().encode("utf-8")
    return hmac.new(secret, _SIGNING_CONTEXT, hashlib.sha256).digest()


def _signature(key: str, expires: int, name: str) -> str:
    """HMAC-SHA256 over key, expiry and download name (newlines cannot occur in the first two)."""
    message = f"{key}\n{expires}\n{name}".encode()
    return hmac.new(_signing_key(), message, hashlib.sha256).hexdigest()


def verify_local_signature(
    key: str, expires: int | str, sig: str, name: str = "", *, now: float | None = None
) -> bool:
    """Whether `sig` is this app's unexpired signature for key, expiry and download name."""
    try:
        validate_key(key)
        expires_at = int(expires)
    except (InvalidKey, TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if expires_at <= current or expires_at > current + MAX_URL_EXPIRY_S + 60:
        return False
    if not isinstance(sig, str) or not isinstance(name, str):
        return False
    expected = _signature(key, expires_at, name)
    return hmac.compare_digest(expected.encode("ascii"), sig.encode("utf-8", "replace"))


def _copy_chunks(source: Readable, target: BinaryIO) -> None:
    """Copy `source` into `target` one chunk at a time."""
    while True:
        chunk = source.read(CHUNK_SIZE)
        if not chunk:
            return
        target.write(chunk)


def _write_atomically(target: Path, source: Readable) -> None:
    """Write `source` to a temp file next to `target`, then move it into place."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=_TEMP_PREFIX, suffix=".part")
    except OSError as exc:
        raise StorageError(f"Cannot write {target.name!r}: {exc.strerror or exc}.") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            _copy_chunks(source, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, target)
    except BaseException as exc:
        with suppress(OSError):
            os.unlink(temp_name)
        if isinstance(exc, OSError):
            raise StorageError(f"Cannot write {target.name!r}: {exc.strerror or exc}.") from exc
        raise


class LocalStorage(Storage):
    """Objects as files under one root folder (`<data_dir>/files` by default)."""

    def __init__(self, root: StrPath) -> None:
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"LocalStorage(root={str(self.root)!r})"

    def path_for(self, key: str) -> Path:
        """The file path for `key`, refusing keys that would resolve outside the root."""
        validate_key(key)
        try:
            path = (self.root / key).resolve()
        except (OSError, RuntimeError) as exc:
            raise InvalidKey(f"Storage key {key!r} cannot be resolved: {exc}.") from exc
        if path == self.root or not path.is_relative_to(self.root):
            raise InvalidKey(f"Storage key {key!r} resolves outside the storage folder.")
        return path

    def put_file(self, key: str, path: StrPath, content_type: str = DEFAULT_CONTENT_TYPE) -> None:
        """Copy the local file at `path` under `key` (the content type is not kept locally)."""
        target = self.path_for(key)
        with open(path, "rb") as source:
            _write_atomically(target, source)

    def put_stream(
        self, key: str, fileobj: Readable, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> None:
        """Copy `fileobj` under `key` chunk by chunk (the content type is not kept locally)."""
        _write_atomically(self.path_for(key), fileobj)

    def get_to_path(self, key: str, path: StrPath) -> Path:
        """Copy the object under `key` to `path` atomically and return that path."""
        destination = Path(path)
        with self.open_read(key) as source:
            _write_atomically(destination, source)
        return destination

    def open_read(self, key: str) -> BinaryIO:
        """Open the file under `key` for binary reading; the caller closes it."""
        path = self.path_for(key)
        try:
            return open(path, "rb")  # noqa: SIM115 - the caller owns the handle
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def read_bytes(self, key: str) -> bytes:
        """Return the whole file under `key`."""
        with self.open_read(key) as handle:
            return handle.read()

    def exists(self, key: str) -> bool:
        """Whether a file is stored under `key`."""
        return self.path_for(key).is_file()

    def size(self, key: str) -> int:
        """The size in bytes of the file under `key`."""
        try:
            info = self.path_for(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        if not stat.S_ISREG(info.st_mode):
            raise ObjectNotFound(key)
        return info.st_size

    def delete(self, key: str) -> None:
        """Delete the file under `key`; a missing file is not an error."""
        path = self.path_for(key)
        if path.is_dir():
            return
        with suppress(FileNotFoundError, NotADirectoryError):
            path.unlink()

    def delete_prefix(self, prefix: str) -> int:
        """Delete the folder `prefix` with everything in it and return how many objects went."""
        folder = self.path_for(validate_prefix(prefix))
        if not folder.is_dir() or folder.is_symlink():
            return 0
        deleted = 0
        for dirpath, dirnames, filenames in os.walk(folder, topdown=False):
            for filename in filenames:
                with suppress(FileNotFoundError):
                    os.unlink(os.path.join(dirpath, filename))
                    if not filename.startswith("."):
                        deleted += 1
            for dirname in dirnames:
                child = os.path.join(dirpath, dirname)
                with suppress(OSError):
                    if os.path.islink(child):
                        os.unlink(child)
                    else:
                        os.rmdir(child)
        with suppress(OSError):
            folder.rmdir()
        return deleted

    def presigned_url(
        self, key: str, *, expires_s: int = DEFAULT_URL_EXPIRY_S, download_name: str | None = None
    ) -> str:
        """A signed path of the app's file route: `/files/<key>?expires=…&sig=…[&name=…]`."""
        validate_key(key)
        expires = int(time.time()) + validate_expiry(expires_s)
        name = download_name or ""
        query = {"expires": str(expires), "sig": _signature(key, expires, name)}
        if name:
            query["name"] = name
        return f"{LOCAL_FILES_ROUTE}/{quote(key, safe='/')}?{urlencode(query, quote_via=quote)}"
