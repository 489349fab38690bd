"""The one storage interface, its errors and the key rules both backends share.

Keys are `/`-separated relative paths such as `users/12/videos/34/original.mp4`.
Every backend validates keys the same way, so a key that works on a laptop
(local folder) works in production (S3) and the other way round.
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from os import PathLike
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

MAX_KEY_LENGTH = 512
MAX_SEGMENT_LENGTH = 200
MAX_DOWNLOAD_NAME_LENGTH = 150
DEFAULT_CONTENT_TYPE = "application/octet-stream"
DEFAULT_URL_EXPIRY_S = 300
MAX_URL_EXPIRY_S = 7 * 24 * 3600

# A segment is letters, digits, `.`, `_`, `-` and `=`, and never starts with a dot:
# that rules out `.` and `..` and leaves dot-names free for the local backend's temp files.
_SEGMENT = re.compile(r"[A-Za-z0-9_=-][A-Za-z0-9._=-]*")


class StorageError(RuntimeError):
    """A storage operation failed for a reason other than a missing object or a bad key."""


class InvalidKey(ValueError):
    """A key (or prefix) breaks the key rules."""


class ObjectNotFound(KeyError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"No stored object under key {self.key!r}."


class Readable(Protocol):
    """A binary file-like object that can be read in chunks."""

    def read(self, size: int = -1, /) -> bytes: ...


class ReadStream(Readable, Protocol):
    """A readable binary stream the caller must close (a file or an S3 body)."""

    def close(self) -> None: ...


StrPath = str | PathLike[str]


def validate_key(key: str) -> str:
    """Return `key` unchanged if it obeys the key rules, else raise `InvalidKey`."""
    if not isinstance(key, str):
        raise InvalidKey(f"Storage keys must be strings, not {type(key).__name__}.")
    if not key:
        raise InvalidKey("Storage keys must not be empty.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"Storage keys must be at most {MAX_KEY_LENGTH} characters long.")
    if "\\" in key:
        raise InvalidKey(f"Storage key {key!r} must use '/' as separator, not backslashes.")
    if key.startswith("/"):
        raise InvalidKey(f"Storage key {key!r} must be relative, not absolute.")
    for segment in key.split("/"):
        if not segment:
            raise InvalidKey(f"Storage key {key!r} has an empty path segment.")
        if segment in (".", ".."):
            raise InvalidKey(f"Storage key {key!r} must not contain '.' or '..' segments.")
        if len(segment) > MAX_SEGMENT_LENGTH:
            raise InvalidKey(
                f"Storage key {key!r} has a segment longer than {MAX_SEGMENT_LENGTH} characters."
            )
        if not _SEGMENT.fullmatch(segment):
            raise InvalidKey(
                f"Storage key {key!r} may only use letters, digits, '.', '_', '-' and '=' "
                "in each segment, and no segment may start with '.'."
            )
    return key


def validate_prefix(prefix: str) -> str:
    """Return the folder-like `prefix` without a trailing `/`, or raise `InvalidKey`."""
    if isinstance(prefix, str) and prefix.endswith("/"):
        prefix = prefix[:-1]
    if not prefix:
        raise InvalidKey("Refusing an empty prefix: it would cover every stored object.")
    return validate_key(prefix)


def validate_expiry(expires_s: int) -> int:
    """Return `expires_s` if it is a sane URL lifetime in seconds, else raise `ValueError`."""
    if isinstance(expires_s, bool) or not isinstance(expires_s, int):
        raise ValueError("expires_s must be an integer number of seconds.")
    if not 1 <= expires_s <= MAX_URL_EXPIRY_S:
        raise ValueError(f"expires_s must be between 1 and {MAX_URL_EXPIRY_S} seconds.")
    return expires_s


def clean_download_name(name: str) -> str:
    """A download file name without path separators, control characters or excess length."""
    name = unicodedata.normalize("NFC", name)
    name = "".join(
        "_" if ch in '/\\"' or unicodedata.category(ch).startswith("C") else ch for ch in name
    )
    name = name.strip().strip(".") or "download"
    if len(name) > MAX_DOWNLOAD_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_DOWNLOAD_NAME_LENGTH - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_DOWNLOAD_NAME_LENGTH]
    return name


def attachment_disposition(download_name: str) -> str:
    """A `Content-Disposition: attachment` value with an ASCII fallback and RFC 6266 `filename*`."""
    name = clean_download_name(download_name)
    fallback = "".join(
        ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\;%' else "_"
        for ch in unicodedata.normalize("NFKD", name)
        if not unicodedata.combining(ch)
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


class Storage(ABC):
    """Where ClipGen keeps files: a local folder in development, an S3 bucket in production."""

    @abstractmethod
    def put_file(self, key: str, path: StrPath, content_type: str = DEFAULT_CONTENT_TYPE) -> None:
        """Store the local file at `path` under `key`, replacing any existing object."""

    @abstractmethod
    def put_stream(
        self, key: str, fileobj: Readable, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> None:
        """Store everything read from `fileobj` under `key`, in chunks, replacing any object."""

    @abstractmethod
    def get_to_path(self, key: str, path: StrPath) -> Path:
        """Download the object under `key` to the local `path` and return that path."""

    @abstractmethod
    def open_read(self, key: str) -> ReadStream:
        """Open the object under `key` as a readable binary stream; the caller closes it."""

    @abstractmethod
    def read_bytes(self, key: str) -> bytes:
        """Return the whole object under `key` (meant for small objects)."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""

    @abstractmethod
    def size(self, key: str) -> int:
        """The size in bytes of the object under `key`."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete the object under `key`; deleting a missing object is not an error."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under the folder-like `prefix` and return how many went."""

    @abstractmethod
    def presigned_url(
        self, key: str, *, expires_s: int = DEFAULT_URL_EXPIRY_S, download_name: str | None = None
    ) -> str:
        """A short-lived URL that lets a browser download the object under `key`."""
