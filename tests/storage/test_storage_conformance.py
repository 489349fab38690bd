"""One set of rules every storage backend obeys: the local folder and S3 (moto over HTTP)."""

from __future__ import annotations

import os
import random
import socket
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from clipgen.config import get_settings
from clipgen.storage import (
    LOCAL_FILES_ROUTE,
    InvalidKey,
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    StorageError,
    attachment_disposition,
    get_storage,
    verify_local_signature,
)
from clipgen.storage import s3 as s3_module

MIB = 1024 * 1024
PART_SIZE = 5 * MIB  # the S3 minimum part size, used as threshold and part size in tests
FAKE_ACCESS_KEY = "AKIATESTINGFAKEKEY00"
FAKE_SECRET_KEY = "testing-secret-key-that-must-never-leak"
INVALID_KEYS = [
    "../x",
    "/abs",
    "a//b",
    "a\\b",
    "",
    "a/../b",
    "./a",
    "a/",
    ".hidden",
    "a b",
    "vídeo.mp4",
    "a\nb",
    "x" * 600,
]


def _payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def _no_proxy_opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


class GeneratorReader:
    """A non-seekable file-like object fed by a generator, recording how it is read."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._blocks = blocks
        self._buffer = b""
        self.read_sizes: list[int] = []
        self.unbounded_reads = 0

    def read(self, size: int = -1, /) -> bytes:
        if size is None or size < 0:
            self.unbounded_reads += 1
            size = 1 << 62
        self.read_sizes.append(size)
        while len(self._buffer) < size:
            block = next(self._blocks, None)
            if block is None:
                break
            self._buffer += block
        chunk, self._buffer = self._buffer[:size], self._buffer[size:]
        return chunk


class Boom(Exception):
    """The source stream broke."""


def _blocks(data: bytes, block_size: int = 256 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), block_size):
        yield data[start : start + block_size]


def _breaking_blocks(data: bytes, after: int) -> Iterator[bytes]:
    yield data[:after]
    raise Boom("the upload stream broke")


def _s3_storage(endpoint: str, bucket: str, **options: Any) -> S3Storage:
    options = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "access_key": FAKE_ACCESS_KEY,
        "secret_key": FAKE_SECRET_KEY,
        "multipart_threshold": PART_SIZE,
        "multipart_chunksize": PART_SIZE,
        **options,
    }
    return S3Storage(bucket, **options)


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, isolated_settings: Path) -> Storage:
    """Each backend in turn; S3 gets a fresh bucket per test."""
    if request.param == "local":
        return LocalStorage(isolated_settings / "files")
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = f"clipgen-test-{uuid.uuid4().hex[:12]}"
    s3 = _s3_storage(endpoint, bucket)
    s3.client.create_bucket(Bucket=bucket)
    return s3


def _stored_keys(storage: Storage) -> set[str]:
    """Every object (and, locally, every file, temp files included) the backend holds."""
    if isinstance(storage, LocalStorage):
        if not storage.root.exists():
            return set()
        return {
            path.relative_to(storage.root).as_posix()
            for path in storage.root.rglob("*")
            if not path.is_dir()
        }
    assert isinstance(storage, S3Storage)
    pages = storage.client.get_paginator("list_objects_v2").paginate(Bucket=storage.bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def _etag(storage: S3Storage, key: str) -> str:
    return storage.client.head_object(Bucket=storage.bucket, Key=key)["ETag"].strip('"')


def test_put_file_then_get_round_trips_bytes(storage: Storage, tmp_path: Path) -> None:
    data = bytes(range(256)) * 40 + _payload(10_001)
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    key = "users/12/videos/34/original.mp4"

    storage.put_file(key, source, content_type="video/mp4")
    copy = storage.get_to_path(key, tmp_path / "out" / "nested" / "copy.mp4")

    assert copy == tmp_path / "out" / "nested" / "copy.mp4"
    assert copy.read_bytes() == data
    assert storage.read_bytes(key) == data
    assert storage.exists(key)
    assert storage.size(key) == len(data)
    with storage.open_read(key) as stream:
        chunks = iter(lambda: stream.read(4096), b"")
        assert b"".join(chunks) == data


def test_put_replaces_an_existing_object(storage: Storage, tmp_path: Path) -> None:
    key = "users/1/clips/c.mp4"
    source = tmp_path / "in.bin"
    source.write_bytes(b"first version, longer than the second")
    storage.put_file(key, source)
    source.write_bytes(b"second")
    storage.put_file(key, source)
    assert storage.read_bytes(key) == b"second"
    assert _stored_keys(storage) == {key}


def test_put_stream_from_generator_round_trips_without_reading_it_whole(
    storage: Storage,
) -> None:
    data = _payload(2 * PART_SIZE + 12_345, seed=1)
    reader = GeneratorReader(_blocks(data))
    key = "users/12/uploads/streamed.mp4"

    storage.put_stream(key, reader, content_type="video/mp4")

    assert reader.unbounded_reads == 0
    assert max(reader.read_sizes) <= PART_SIZE < len(data)
    assert storage.read_bytes(key) == data
    assert storage.size(key) == len(data)
    if isinstance(storage, S3Storage):
        assert _etag(storage, key).endswith("-3")


def test_a_failed_put_stream_leaves_the_previous_object_and_no_debris(storage: Storage) -> None:
    key = "users/12/uploads/video.mp4"
    storage.put_stream(key, GeneratorReader(_blocks(b"the good version")))

    data = _payload(PART_SIZE + 1000, seed=4)
    broken = GeneratorReader(_breaking_blocks(data, after=len(data)))
    with pytest.raises(Boom):
        storage.put_stream(key, broken)

    assert storage.read_bytes(key) == b"the good version"
    assert _stored_keys(storage) == {key}
    if isinstance(storage, S3Storage):
        uploads = storage.client.list_multipart_uploads(Bucket=storage.bucket)
        assert uploads.get("Uploads", []) == []


def test_a_file_larger_than_the_multipart_threshold_round_trips_in_parts(
    storage: Storage, tmp_path: Path
) -> None:
    data = _payload(2 * PART_SIZE + 777, seed=2)
    source = tmp_path / "big.mp4"
    source.write_bytes(data)
    key = "users/12/videos/34/big.mp4"
    parts: list[int] = []
    if isinstance(storage, S3Storage):
        storage.client.meta.events.register(
            "before-call.s3.UploadPart", lambda params, **_: parts.append(1)
        )

    storage.put_file(key, source, content_type="video/mp4")
    copy = storage.get_to_path(key, tmp_path / "copy.mp4")

    assert copy.read_bytes() == data
    assert storage.size(key) == len(data)
    if isinstance(storage, S3Storage):
        assert len(parts) == 3
        assert _etag(storage, key).endswith("-3")


def test_presigned_url_gives_the_exact_bytes(storage: Storage) -> None:
    data = _payload(70_000, seed=3)
    key = "users/12/clips/5/clip.mp4"
    storage.put_stream(key, GeneratorReader(_blocks(data)), content_type="video/mp4")

    url = storage.presigned_url(key, expires_s=120)

    if isinstance(storage, S3Storage):
        with _no_proxy_opener().open(url, timeout=30) as response:
            assert response.status == 200
            assert response.read() == data
            assert response.headers["Content-Type"] == "video/mp4"
        return
    parts = urlsplit(url)
    assert not parts.scheme and not parts.netloc
    assert parts.path.startswith(LOCAL_FILES_ROUTE + "/")
    served_key = unquote(parts.path.removeprefix(LOCAL_FILES_ROUTE + "/"))
    query = {field: values[0] for field, values in parse_qs(parts.query).items()}
    assert set(query) == {"expires", "sig"}
    assert 0 < int(query["expires"]) - time.time() <= 121
    assert verify_local_signature(served_key, query["expires"], query["sig"])
    assert storage.read_bytes(served_key) == data


def test_presigned_url_with_a_download_name_makes_an_attachment(storage: Storage) -> None:
    key = "users/12/clips/5/clip.mp4"
    name = 'Mi vídeo "final"; 100%.mp4'
    storage.put_stream(key, GeneratorReader(_blocks(b"clip bytes")), content_type="video/mp4")

    url = storage.presigned_url(key, download_name=name)

    if isinstance(storage, S3Storage):
        with _no_proxy_opener().open(url, timeout=30) as response:
            assert response.read() == b"clip bytes"
            disposition = response.headers["Content-Disposition"]
        assert disposition == attachment_disposition(name)
        assert disposition.startswith('attachment; filename="Mi video _final__ 100_.mp4"')
        assert "filename*=UTF-8''Mi%20v%C3%ADdeo%20_final_%3B%20100%25.mp4" in disposition
        return
    parts = urlsplit(url)
    query = {field: values[0] for field, values in parse_qs(parts.query).items()}
    assert query["name"] == name
    assert verify_local_signature(key, query["expires"], query["sig"], query["name"])
    assert not verify_local_signature(key, query["expires"], query["sig"])
    assert not verify_local_signature(key, query["expires"], query["sig"], "other.mp4")


def test_local_signature_refuses_tampering_and_expiry(isolated_settings: Path) -> None:
    storage = LocalStorage(isolated_settings / "files")
    key = "users/12/clips/5/clip.mp4"
    url = storage.presigned_url(key, expires_s=60, download_name="clip.mp4")
    query = {field: values[0] for field, values in parse_qs(urlsplit(url).query).items()}
    expires, sig, name = query["expires"], query["sig"], query["name"]

    assert verify_local_signature(key, expires, sig, name)
    assert verify_local_signature(key, int(expires), sig, name)
    assert not verify_local_signature("users/13/clips/5/clip.mp4", expires, sig, name)
    assert not verify_local_signature(key, str(int(expires) + 1), sig, name)
    assert not verify_local_signature(key, expires, sig, "clip2.mp4")
    assert not verify_local_signature(key, expires, sig[:-1] + ("0" if sig[-1] != "0" else "1"))
    assert not verify_local_signature(key, expires, "", name)
    assert not verify_local_signature(key, expires, "ünïcode", name)
    assert not verify_local_signature(key, "soon", sig, name)
    assert not verify_local_signature("../etc/passwd", expires, sig, name)
    assert not verify_local_signature(key, expires, sig, name, now=int(expires) + 1)
    assert verify_local_signature(key, expires, sig, name, now=int(expires) - 1)


def test_local_signature_depends_on_the_secret_key(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(isolated_settings / "files")
    key = "users/12/clips/5/clip.mp4"
    query = parse_qs(urlsplit(storage.presigned_url(key)).query)
    expires, sig = query["expires"][0], query["sig"][0]
    assert verify_local_signature(key, expires, sig)

    monkeypatch.setenv("SECRET_KEY", "another-secret-key-that-is-long-enough-0123")
    get_settings.cache_clear()
    assert not verify_local_signature(key, expires, sig)


def test_presigned_url_refuses_a_silly_lifetime(storage: Storage) -> None:
    for expires_s in (0, -5, 8 * 24 * 3600):
        with pytest.raises(ValueError):
            storage.presigned_url("users/1/a.mp4", expires_s=expires_s)


def test_delete_removes_and_deleting_twice_is_fine(storage: Storage) -> None:
    key = "users/12/videos/34/original.mp4"
    storage.put_stream(key, GeneratorReader(_blocks(b"data")))
    storage.put_stream("users/12/videos/34/other.mp4", GeneratorReader(_blocks(b"keep")))

    storage.delete(key)
    storage.delete(key)
    storage.delete("users/12/never/existed.mp4")

    assert not storage.exists(key)
    assert _stored_keys(storage) == {"users/12/videos/34/other.mp4"}


def test_delete_prefix_removes_everything_under_it_and_nothing_else(storage: Storage) -> None:
    doomed = {
        "users/1/videos/2/original.mp4",
        "users/1/videos/2/clips/1.mp4",
        "users/1/videos/2/clips/2.mp4",
    }
    kept = {
        "users/1/videos/20/original.mp4",
        "users/1/videos/2.mp4",
        "users/2/videos/2/original.mp4",
        "users/1/other.txt",
    }
    for key in doomed | kept:
        storage.put_stream(key, GeneratorReader(_blocks(key.encode())))

    assert storage.delete_prefix("users/1/videos/2") == len(doomed)

    assert _stored_keys(storage) == kept
    for key in kept:
        assert storage.read_bytes(key) == key.encode()
    assert storage.delete_prefix("users/1/videos/2/") == 0
    assert storage.delete_prefix("users/404") == 0


def test_s3_delete_prefix_pages_and_batches(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = f"clipgen-test-{uuid.uuid4().hex[:12]}"
    storage = _s3_storage(moto_endpoint, bucket)
    storage.client.create_bucket(Bucket=bucket)
    calls: list[int] = []
    storage.client.meta.events.register(
        "before-call.s3.DeleteObjects",
        lambda params, **_: calls.append(1),
    )
    monkeypatch.setattr(s3_module, "DELETE_BATCH_SIZE", 2)
    keys = {f"users/7/clips/{n}.mp4" for n in range(5)}
    for key in keys | {"users/8/clips/0.mp4"}:
        storage.put_stream(key, GeneratorReader(_blocks(b"x")))

    assert storage.delete_prefix("users/7") == 5

    assert len(calls) == 3
    assert _stored_keys(storage) == {"users/8/clips/0.mp4"}


def test_a_missing_key_raises_object_not_found(storage: Storage, tmp_path: Path) -> None:
    key = "users/12/videos/404/missing.mp4"
    destination = tmp_path / "out" / "missing.mp4"

    with pytest.raises(ObjectNotFound) as caught:
        storage.get_to_path(key, destination)
    assert not destination.exists()
    assert isinstance(caught.value, KeyError)
    assert str(caught.value) == f"No stored object under key {key!r}."
    with pytest.raises(ObjectNotFound):
        storage.size(key)
    with pytest.raises(ObjectNotFound):
        storage.open_read(key)
    with pytest.raises(ObjectNotFound):
        storage.read_bytes(key)
    assert storage.exists(key) is False


def test_a_folder_like_key_is_not_an_object(storage: Storage) -> None:
    storage.put_stream("users/12/videos/1.mp4", GeneratorReader(_blocks(b"x")))
    assert not storage.exists("users/12/videos")
    with pytest.raises(ObjectNotFound):
        storage.size("users/12/videos")
    with pytest.raises(ObjectNotFound):
        storage.read_bytes("users/12")
    storage.delete("users/12/videos")
    assert storage.exists("users/12/videos/1.mp4")


@pytest.mark.parametrize("bad_key", INVALID_KEYS, ids=repr)
def test_invalid_keys_are_refused_and_write_nothing(
    storage: Storage, bad_key: str, tmp_path: Path
) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(b"data")
    attempts = [
        lambda: storage.put_file(bad_key, source),
        lambda: storage.put_stream(bad_key, GeneratorReader(_blocks(b"data"))),
        lambda: storage.get_to_path(bad_key, tmp_path / "out.bin"),
        lambda: storage.open_read(bad_key),
        lambda: storage.read_bytes(bad_key),
        lambda: storage.exists(bad_key),
        lambda: storage.size(bad_key),
        lambda: storage.delete(bad_key),
        lambda: storage.presigned_url(bad_key),
    ]
    if bad_key != "a/":  # a trailing slash is fine on a prefix
        attempts.append(lambda: storage.delete_prefix(bad_key))
    for attempt in attempts:
        with pytest.raises(InvalidKey):
            attempt()

    assert _stored_keys(storage) == set()
    assert not (tmp_path / "out.bin").exists()
    assert not (tmp_path / "x").exists()


def test_local_keys_never_follow_a_symlink_out_of_the_root(isolated_settings: Path) -> None:
    storage = LocalStorage(isolated_settings / "files")
    outside = isolated_settings / "outside"
    outside.mkdir(parents=True)
    (outside / "secret.txt").write_bytes(b"not yours")
    storage.root.mkdir(parents=True)
    (storage.root / "escape").symlink_to(outside, target_is_directory=True)

    with pytest.raises(InvalidKey):
        storage.read_bytes("escape/secret.txt")
    with pytest.raises(InvalidKey):
        storage.put_stream("escape/new.txt", GeneratorReader(_blocks(b"x")))
    with pytest.raises(InvalidKey):
        storage.delete_prefix("escape")
    assert sorted(os.listdir(outside)) == ["secret.txt"]


def test_s3_keeps_the_content_type(moto_endpoint: str, tmp_path: Path) -> None:
    bucket = f"clipgen-test-{uuid.uuid4().hex[:12]}"
    storage = _s3_storage(moto_endpoint, bucket)
    storage.client.create_bucket(Bucket=bucket)
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"x" * 100)
    storage.put_file("a/clip.mp4", source, content_type="video/mp4")
    head = storage.client.head_object(Bucket=bucket, Key="a/clip.mp4")
    assert head["ContentType"] == "video/mp4"


def test_s3_errors_are_readable_and_never_show_credentials(
    moto_endpoint: str, tmp_path: Path
) -> None:
    storage = _s3_storage(moto_endpoint, "clipgen-no-such-bucket")
    source = tmp_path / "in.bin"
    source.write_bytes(b"x")
    attempts = [
        lambda: storage.put_stream("a/b.mp4", GeneratorReader(_blocks(b"x"))),
        lambda: storage.put_file("a/b.mp4", source),
        lambda: storage.delete_prefix("a"),
    ]
    for attempt in attempts:
        with pytest.raises(StorageError) as caught:
            attempt()
        message = str(caught.value)
        assert "clipgen-no-such-bucket" in message
        assert "does not exist" in message
        assert FAKE_SECRET_KEY not in message
        assert FAKE_ACCESS_KEY not in message


def test_s3_unreachable_endpoint_is_a_storage_error(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    storage = _s3_storage(f"http://127.0.0.1:{port}", "clipgen-bucket")

    with pytest.raises(StorageError) as caught:
        storage.exists("a/b.mp4")
    assert "could not inspect 'a/b.mp4'" in str(caught.value)
    assert FAKE_SECRET_KEY not in str(caught.value)


def test_s3_refuses_parts_below_the_s3_minimum() -> None:
    with pytest.raises(ValueError):
        S3Storage("bucket", client=object(), multipart_chunksize=MIB)


def test_get_storage_is_local_by_default(isolated_settings: Path) -> None:
    storage = get_storage()
    assert isinstance(storage, LocalStorage)
    assert storage.root == isolated_settings / "files"
    assert get_storage() is storage


def test_get_storage_is_s3_when_a_bucket_is_set(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = f"clipgen-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("STORAGE_BUCKET", bucket)
    monkeypatch.setenv("STORAGE_ENDPOINT", moto_endpoint)
    monkeypatch.setenv("STORAGE_ACCESS_KEY", FAKE_ACCESS_KEY)
    monkeypatch.setenv("STORAGE_SECRET_KEY", FAKE_SECRET_KEY)
    monkeypatch.setenv("STORAGE_REGION", "us-east-1")
    get_settings.cache_clear()

    storage = get_storage()

    assert isinstance(storage, S3Storage)
    assert storage.bucket == bucket
    assert get_storage() is storage
    storage.client.create_bucket(Bucket=bucket)
    storage.put_stream("users/1/a.txt", GeneratorReader(_blocks(b"hello")))
    assert storage.read_bytes("users/1/a.txt") == b"hello"

    monkeypatch.delenv("STORAGE_BUCKET")
    get_settings.cache_clear()
    assert isinstance(get_storage(), LocalStorage)
