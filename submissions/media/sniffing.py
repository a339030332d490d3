"""Container identification from a file's first bytes, before FFmpeg sees the file.

Only ISO BMFF movies (MP4, MOV, 3GP) and Matroska (MKV, WebM) pass. Everything else, and in
particular text that FFmpeg would happily run as a playlist or concat script (HLS, ffconcat),
is refused here, so FFmpeg never probes it. ``sniff`` decides from structure (the ``ftyp`` box,
the EBML header's DocType); the ``filetype`` package names what a refused file looks like and
catches ISO BMFF images (HEIC, AVIF) that share the ``ftyp`` box with movies.
"""

import struct

import filetype

from .errors import UNSUPPORTED_TYPE, MediaError

SNIFF_BYTES = 512  # callers read this much; filetype needs 262, the EBML header fits easily

# ftyp brands of movie files. Major or compatible brand must be one of these.
MOVIE_BRANDS = frozenset({
    "isom", "iso2", "iso3", "iso4", "iso5", "iso6", "iso7", "iso8", "iso9", "mp41", "mp42",
    "avc1", "M4V ", "M4VP", "M4VH", "mmp4", "dash", "MSNV", "XAVC", "f4v ", "qt  ",
    "3gp4", "3gp5", "3gp6", "3gp7", "3gp8", "3gp9", "3g2a", "3g2b", "3g2c",
})
# ISO BMFF still images and image sequences: refused whatever their compatible brands say.
IMAGE_BRANDS = frozenset({"avif", "avis", "heic", "heix", "heim", "heis", "hevc", "hevx",
                          "mif1", "msf1", "jp2 ", "jpx ", "crx "})

EBML_MAGIC = b"\x1a\x45\xdf\xa3"
EBML_DOCTYPE_ID = 0x4282
MATROSKA_KINDS = {"webm": "webm", "matroska": "mkv"}


def sniff(head: bytes) -> str:
    """Return the container kind of a file from its first bytes (>= 262 of them):
    ``"mp4"``, ``"mov"``, ``"webm"`` or ``"mkv"``. Raise MediaError(media.unsupported_type)
    for anything else."""
    if len(head) >= 8 and head[4:8] == b"ftyp":
        kind = _iso_kind(head)
        if kind is not None:
            return kind
    elif head.startswith(EBML_MAGIC):
        kind = MATROSKA_KINDS.get(_ebml_doctype(head) or "")
        if kind is not None:
            return kind
    raise MediaError(UNSUPPORTED_TYPE,
                     f"This file is not a video we accept{_looks_like(head)}. "
                     "Upload an MP4, MOV, WebM or MKV clip.")


def _iso_kind(head: bytes) -> str | None:
    size = struct.unpack(">I", head[:4])[0]
    if size < 16 or size % 4 or size > len(head):
        return None
    major = head[8:12].decode("latin-1")
    compatible = {head[i:i + 4].decode("latin-1") for i in range(16, size, 4)}
    if major in IMAGE_BRANDS or not ({major} | compatible) & MOVIE_BRANDS:
        return None
    guess = filetype.guess(head)
    if guess is not None and not guess.mime.startswith("video/"):
        return None  # e.g. an AVIF or HEIC image that also claims "isom"
    if len(head) >= size + 8 and not head[size + 4:size + 8].isalnum():
        return None  # the box after ftyp must have a four-letter type (moov, mdat, free...)
    return "mov" if major == "qt  " else "mp4"


def _ebml_doctype(head: bytes) -> str | None:
    """The DocType of the EBML header at the start of ``head``, or None if malformed."""
    position = len(EBML_MAGIC)
    header_size, position = _vint(head, position)
    if header_size is None:
        return None
    end = min(len(head), position + header_size)
    while position < end:
        element_id, position = _vint(head, position, keep_marker=True)
        element_size, position = _vint(head, position)
        if element_id is None or element_size is None or position + element_size > end:
            return None
        if element_id == EBML_DOCTYPE_ID:
            return head[position:position + element_size].rstrip(b"\0").decode("ascii", "replace")
        position += element_size
    return None


def _vint(data: bytes, position: int, *, keep_marker: bool = False) -> tuple[int | None, int]:
    """An EBML variable-length integer at ``position``: (value, next position)."""
    if position >= len(data) or data[position] == 0:
        return None, position
    first = data[position]
    length = 9 - first.bit_length()
    if position + length > len(data):
        return None, position
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[position + 1:position + length]:
        value = (value << 8) | byte
    if not keep_marker and value == (1 << (7 * length)) - 1:
        return None, position  # "unknown size" is not allowed in the EBML header
    return value, position + length


def _looks_like(head: bytes) -> str:
    if not head:
        return " (the file is empty)"
    stripped = head.lstrip()
    if stripped.startswith((b"#EXTM3U", b"ffconcat")):
        return " (it is a playlist, not a video file)"
    guess = filetype.guess(head)
    if guess is not None:
        return f" (it looks like a {guess.extension.upper()} file)"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    return " (it looks like a text file)"
