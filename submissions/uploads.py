"""Receiving an upload: streamed to disk, hashed and size-checked while it streams.

The handler replaces Django's defaults for the upload endpoints, so a clip is never held
whole in memory, a file over the limit is cut off as soon as it crosses it (and its partial
file removed), and the first bytes are kept for type sniffing before any worker time is spent.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from submissions.errors import UploadTooLarge
from submissions.storage import scratch_dir

HEAD_BYTES = 512
MAX_CHUNKS_WAITING = 8


@dataclass
class ReceivedFile:
    path: Path
    size: int
    sha256: str
    head: bytes

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


class _StreamedFile(UploadedFile):
    def __init__(self, received: ReceivedFile, handle, field_name: str):
        super().__init__(file=handle, name="upload", content_type="application/octet-stream",
                         size=received.size)
        self.received = received
        self.field_name = field_name

    def temporary_file_path(self) -> str:
        return str(self.received.path)


class StreamingHashUploadHandler(FileUploadHandler):
    """Writes each file to a scratch file while hashing it; stops past ``max_bytes``."""

    chunk_size = 1024 * 1024

    def __init__(self, request=None, *, max_bytes: Callable[[], int]):
        super().__init__(request)
        self._limit = max_bytes
        self.too_large = False
        self.received_files: list[ReceivedFile] = []

    @cached_property
    def max_bytes(self) -> int:
        # Read when the body starts to arrive, not when the view is built.
        return self._limit()

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # noqa: N803
        # Refuse up front when the request itself declares more than the limit allows
        # (a little slack for the multipart envelope and the other fields).
        if content_length and content_length > self.max_bytes + 64 * 1024:
            self.too_large = True
            raise UploadTooLarge(self.max_bytes)  # answered 413 before reading the body

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        descriptor, name = tempfile.mkstemp(prefix="upload-", dir=scratch_dir())
        self._handle = os.fdopen(descriptor, "w+b")
        self._path = Path(name)
        self._hash = hashlib.sha256()
        # SHA-256 releases the GIL, so one helper thread hashes while this one parses and
        # writes: hashing no longer costs upload throughput. One thread keeps chunk order.
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-hash")
        self._pending: deque[Future] = deque()
        self._size = 0
        self._head = b""

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        if self._size > self.max_bytes:
            # The declared length passed the check above, so little remains: read and drop
            # it, so the client gets the 413 rather than a reset connection.
            self.too_large = True
            self._abandon()
            raise StopUpload(connection_reset=False)
        if len(self._head) < HEAD_BYTES:
            self._head += raw_data[: HEAD_BYTES - len(self._head)]
        self._pending.append(self._hasher.submit(self._hash.update, raw_data))
        if len(self._pending) > MAX_CHUNKS_WAITING:
            self._pending.popleft().result()  # bounds memory if hashing falls behind
        self._handle.write(raw_data)
        return None

    def file_complete(self, file_size):
        self._hasher.shutdown(wait=True)
        self._handle.flush()
        self._handle.seek(0)
        received = ReceivedFile(path=self._path, size=self._size,
                                sha256=self._hash.hexdigest(), head=self._head)
        self.received_files.append(received)
        return _StreamedFile(received, self._handle, self.field_name)

    def upload_interrupted(self):
        self._abandon()

    def _abandon(self) -> None:
        hasher = getattr(self, "_hasher", None)
        if hasher is not None:
            hasher.shutdown(wait=True, cancel_futures=True)
        handle = getattr(self, "_handle", None)
        if handle is not None and not handle.closed:
            handle.close()
        if getattr(self, "_path", None) is not None:
            self._path.unlink(missing_ok=True)

    def discard_all(self) -> None:
        """Remove every scratch file this request produced (call when the request fails)."""
        self._abandon()
        for received in self.received_files:
            received.discard()
