"""Storage in an S3 (or S3-compatible) bucket through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from boto3.exceptions import Boto3Error, S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.exceptions import TransferNotDoneError

from clipgen.storage.base import (
    DEFAULT_CONTENT_TYPE,
    DEFAULT_URL_EXPIRY_S,
    ObjectNotFound,
    Readable,
    ReadStream,
    Storage,
    StorageError,
    StrPath,
    attachment_disposition,
    validate_expiry,
    validate_key,
    validate_prefix,
)

if TYPE_CHECKING:
    from clipgen.config import Settings

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB
MAX_PART_SIZE = 5 * 1024 * MIB
DEFAULT_MULTIPART_THRESHOLD = 64 * MIB
DEFAULT_MULTIPART_CHUNKSIZE = 16 * MIB
DEFAULT_MAX_CONCURRENCY = 8
DELETE_BATCH_SIZE = 1000
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


def make_s3_client(
    *,
    endpoint_url: str | None = None,
    region_name: str = "us-east-1",
    access_key: str | None = None,
    secret_key: str | None = None,
    max_pool_connections: int = 10,
) -> Any:
    """A boto3 S3 client; path-style addressing when a custom endpoint is given."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"} if endpoint_url else None,
        retries={"mode": "standard"},
        max_pool_connections=max_pool_connections,
    )
    # A session of its own: boto3's default session is not safe to share across threads.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region_name or None,
        aws_access_key_id=access_key or None,
        aws_secret_access_key=secret_key or None,
        config=config,
    )


class S3Storage(Storage):
    """Objects in one S3 bucket; large transfers go multipart, in parallel parts."""

    def __init__(
        self,
        bucket: str,
        *,
        client: Any = None,
        endpoint_url: str | None = None,
        region_name: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        multipart_chunksize: int = DEFAULT_MULTIPART_CHUNKSIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    ) -> None:
        if not bucket:
            raise ValueError("S3Storage needs a bucket name.")
        if multipart_threshold < 1:
            raise ValueError("multipart_threshold must be a positive number of bytes.")
        if not MIN_PART_SIZE <= multipart_chunksize <= MAX_PART_SIZE:
            raise ValueError(
                f"multipart_chunksize must be between {MIN_PART_SIZE} and {MAX_PART_SIZE} bytes "
                "(the S3 part size limits)."
            )
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1.")
        self.bucket = bucket
        self._client = client or make_s3_client(
            endpoint_url=endpoint_url,
            region_name=region_name,
            access_key=access_key,
            secret_key=secret_key,
            max_pool_connections=max(10, max_concurrency + 2),
        )
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_chunksize,
            max_concurrency=max_concurrency,
            use_threads=True,
            preferred_transfer_client="classic",
        )
        self._secrets = tuple(s for s in (access_key, secret_key) if s)

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> S3Storage:
        """An `S3Storage` for the bucket, endpoint, region and keys in `settings`."""
        return cls(
            settings.storage_bucket,
            endpoint_url=settings.storage_endpoint or None,
            region_name=settings.storage_region,
            access_key=settings.storage_access_key or None,
            secret_key=settings.storage_secret_key.get_secret_value() or None,
            **options,
        )

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r})"

    @property
    def client(self) -> Any:
        """The underlying boto3 S3 client."""
        return self._client

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _error(self, exc: Exception, action: str, key: str | None) -> Exception:
        """The storage error to raise for a boto3/botocore failure."""
        context = exc.__context__
        if isinstance(exc, S3UploadFailedError) and isinstance(context, ClientError):
            exc = context
        target = f"{key!r} in bucket {self.bucket!r}" if key else f"bucket {self.bucket!r}"
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if key is not None and code in _NOT_FOUND_CODES:
                return ObjectNotFound(key)
            if code == "NoSuchBucket":
                return StorageError(f"S3 could not {action} {target}: the bucket does not exist.")
            detail = error.get("Message") or code or f"HTTP {status}"
            reason = f"{code}: {detail}" if code and detail != code else detail
            return StorageError(self._redact(f"S3 could not {action} {target}: {reason}."))
        detail = str(exc) or type(exc).__name__
        return StorageError(self._redact(f"S3 could not {action} {target}: {detail}"))

    @contextmanager
    def _translating(self, action: str, key: str | None) -> Iterator[None]:
        try:
            yield
        except (ClientError, BotoCoreError, Boto3Error, TransferNotDoneError) as exc:
            raise self._error(exc, action, key) from exc

    def put_file(self, key: str, path: StrPath, content_type: str = DEFAULT_CONTENT_TYPE) -> None:
        """Upload the local file at `path` under `key`, multipart above the threshold."""
        validate_key(key)
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(f"No file to upload at {str(source)!r}.")
        with self._translating("upload", key):
            self._client.upload_file(
                Filename=str(source),
                Bucket=self.bucket,
                Key=key,
                ExtraArgs={"ContentType": content_type},
                Config=self._transfer,
            )

    def put_stream(
        self, key: str, fileobj: Readable, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> None:
        """Upload everything read from `fileobj` under `key`, multipart above the threshold."""
        validate_key(key)
        with self._translating("upload", key):
            self._client.upload_fileobj(
                Fileobj=fileobj,
                Bucket=self.bucket,
                Key=key,
                ExtraArgs={"ContentType": content_type},
                Config=self._transfer,
            )

    def get_to_path(self, key: str, path: StrPath) -> Path:
        """Download the object under `key` to `path` (ranged parts for large objects)."""
        validate_key(key)
        destination = Path(path)
        destination.parent.mkdir(parents=True, exist_ok=True)
        with self._translating("download", key):
            self._client.download_file(
                Bucket=self.bucket, Key=key, Filename=str(destination), Config=self._transfer
            )
        return destination

    def open_read(self, key: str) -> ReadStream:
        """The object's `StreamingBody`, to read in chunks; the caller closes it."""
        validate_key(key)
        with self._translating("read", key):
            return self._client.get_object(Bucket=self.bucket, Key=key)["Body"]

    def read_bytes(self, key: str) -> bytes:
        """Return the whole object under `key`."""
        body = self.open_read(key)
        try:
            with self._translating("read", key):
                return body.read()
        finally:
            body.close()

    def _head(self, key: str) -> dict[str, Any]:
        validate_key(key)
        with self._translating("inspect", key):
            return self._client.head_object(Bucket=self.bucket, Key=key)

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        try:
            self._head(key)
        except ObjectNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        """The size in bytes of the object under `key`."""
        return int(self._head(key)["ContentLength"])

    def delete(self, key: str) -> None:
        """Delete the object under `key`; a missing object is not an error."""
        validate_key(key)
        with self._translating("delete", key):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix/` in batches of 1000 and return how many went."""
        folder = validate_prefix(prefix) + "/"
        deleted = 0
        with self._translating("delete everything under", folder):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=folder, PaginationConfig={"PageSize": DELETE_BATCH_SIZE}
            )
            for page in pages:
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                for start in range(0, len(keys), DELETE_BATCH_SIZE):
                    batch = keys[start : start + DELETE_BATCH_SIZE]
                    response = self._client.delete_objects(
                        Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                    )
                    errors = response.get("Errors", [])
                    if errors:
                        first = errors[0]
                        raise StorageError(
                            f"S3 could not delete {len(errors)} object(s) under {folder!r} in "
                            f"bucket {self.bucket!r}, e.g. {first.get('Key')!r}: "
                            f"{first.get('Code')}: {first.get('Message')}."
                        )
                    deleted += len(batch)
        return deleted

    def presigned_url(
        self, key: str, *, expires_s: int = DEFAULT_URL_EXPIRY_S, download_name: str | None = None
    ) -> str:
        """A presigned GET URL, as an attachment named `download_name` when given."""
        validate_key(key)
        params: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if download_name:
            params["ResponseContentDisposition"] = attachment_disposition(download_name)
        with self._translating("sign a URL for", key):
            return self._client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=validate_expiry(expires_s), HttpMethod="GET"
            )
