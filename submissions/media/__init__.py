"""The media layer: pure Python over files, no Django. Sniff, probe and judge an uploaded clip,
then render its poster, contact sheet and watermarked rendition (DESIGN.md §5).

Every function that opens an input opens it through ``opening.open_media``: explicit demuxer,
allow-listed formats, protocols and decoders, no nested file opens, and a pixel and duration
cap on every decoded frame. Every failure on bad input is a ``MediaError`` with a stable code.
"""

from .errors import (
    CODES,
    NO_VIDEO_STREAM,
    RESOLUTION_EXCEEDED,
    TOO_LARGE,
    TOO_LONG,
    UNREADABLE,
    UNSUPPORTED_CODEC,
    UNSUPPORTED_TYPE,
    MediaError,
)
from .policy import MediaFacts, MediaPolicy, check_policy
from .probing import probe
from .sniffing import SNIFF_BYTES, sniff
from .stills import make_contact_sheet, make_poster
from .watermark import make_watermarked, mark_box

__all__ = [
    "CODES",
    "NO_VIDEO_STREAM",
    "RESOLUTION_EXCEEDED",
    "SNIFF_BYTES",
    "TOO_LARGE",
    "TOO_LONG",
    "UNREADABLE",
    "UNSUPPORTED_CODEC",
    "UNSUPPORTED_TYPE",
    "MediaError",
    "MediaFacts",
    "MediaPolicy",
    "check_policy",
    "make_contact_sheet",
    "make_poster",
    "make_watermarked",
    "mark_box",
    "probe",
    "sniff",
]
