"""Serving stored media: permission is checked by the caller; this sets safe headers and
answers HTTP Range requests (206), so a browser's video player can seek."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from submissions.models import MediaKind
from submissions.storage import media_storage

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024

# kind → (content type, file name, attachment?)
MEDIA_TYPES = {
    MediaKind.ORIGINAL: ("application/octet-stream", "original", True),
    MediaKind.THUMBNAIL: ("image/jpeg", "poster.jpg", False),
    MediaKind.CONTACT_SHEET: ("image/jpeg", "contact-sheet.jpg", False),
    MediaKind.WATERMARKED: ("video/mp4", "clip.mp4", False),
}


def _chunks(handle, remaining: int):
    try:
        while remaining > 0:
            data = handle.read(min(CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        handle.close()


def _byte_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """(start, end) for one satisfiable range, None to serve everything, False if
    unsatisfiable. Several ranges or a malformed header are served whole (RFC 9110 allows)."""
    match = _RANGE.match((header or "").strip())
    if not match or not (match[1] or match[2]):
        return None
    if match[1]:
        start = int(match[1])
        end = min(int(match[2]), size - 1) if match[2] else size - 1
    else:
        start, end = max(0, size - int(match[2])), size - 1
    if start >= size or start > end:
        return False
    return start, end


def media_response(request: HttpRequest, name: str, kind: str, *, label: str,
                   public: bool = False) -> HttpResponse:
    content_type, filename, attachment = MEDIA_TYPES[MediaKind(kind)]
    storage = media_storage()
    size = storage.size(name)
    wanted = _byte_range(request.headers.get("Range"), size)
    if wanted is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = wanted or (0, size - 1)
        handle = storage.open(name, "rb")
        handle.seek(start)
        response = StreamingHttpResponse(_chunks(handle, end - start + 1),
                                         status=206 if wanted else 200,
                                         content_type=content_type)
        # Closed with the response even if streaming never starts (HEAD, early disconnect):
        # a generator that never ran does not reach its ``finally``.
        response._resource_closers.append(handle.close)
        response["Content-Length"] = str(end - start + 1)
        if wanted:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{label}-{filename}"'
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=300" if public else "private, max-age=0"
    return response
