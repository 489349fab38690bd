"""Where ClipGen keeps files: one interface, a local folder or an S3 bucket behind it.

The lowest layer: it reads settings and nothing else of the app (no Reflex, no
database, no services, no pipeline).
"""

from __future__ import annotations

import threading

from clipgen.config import Settings, get_settings
from clipgen.storage.base import (
    InvalidKey,
    ObjectNotFound,
    Readable,
    ReadStream,
    Storage,
    StorageError,
    attachment_disposition,
    clean_download_name,
    validate_key,
    validate_prefix,
)
from clipgen.storage.local import LOCAL_FILES_ROUTE, LocalStorage, verify_local_signature
from clipgen.storage.s3 import S3Storage

__all__ = [
    "LOCAL_FILES_ROUTE",
    "InvalidKey",
    "LocalStorage",
    "ObjectNotFound",
    "ReadStream",
    "Readable",
    "S3Storage",
    "Storage",
    "StorageError",
    "attachment_disposition",
    "clean_download_name",
    "clear_storage_cache",
    "get_storage",
    "storage_from_settings",
    "validate_key",
    "validate_prefix",
    "verify_local_signature",
]

_lock = threading.Lock()
_cached: tuple[Settings, Storage] | None = None


def storage_from_settings(settings: Settings) -> Storage:
    """S3 when `STORAGE_BUCKET` is set, else the local folder `<data_dir>/files`."""
    if settings.storage_bucket:
        return S3Storage.from_settings(settings)
    return LocalStorage(settings.data_dir / "files")


def get_storage() -> Storage:
    """The app's storage, built once per settings object (reset by `get_settings.cache_clear()`)."""
    global _cached
    settings = get_settings()
    with _lock:
        if _cached is None or _cached[0] is not settings:
            _cached = (settings, storage_from_settings(settings))
        return _cached[1]


def clear_storage_cache() -> None:
    """Forget the cached storage so the next `get_storage()` builds a new one."""
    global _cached
    with _lock:
        _cached = None
