"""Media failures as values: a stable code for machines and a message a tester understands."""

UNREADABLE = "media.unreadable"
UNSUPPORTED_TYPE = "media.unsupported_type"
TOO_LARGE = "media.too_large"
TOO_LONG = "media.too_long"
RESOLUTION_EXCEEDED = "media.resolution_exceeded"
NO_VIDEO_STREAM = "media.no_video_stream"
UNSUPPORTED_CODEC = "media.unsupported_codec"

CODES = (UNREADABLE, UNSUPPORTED_TYPE, TOO_LARGE, TOO_LONG, RESOLUTION_EXCEEDED,
         NO_VIDEO_STREAM, UNSUPPORTED_CODEC)


class MediaError(Exception):
    """A clip the pipeline refuses. ``code`` is one of ``CODES`` (API.md); ``message`` is
    written for the tester who uploaded it."""

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"unknown media error code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def unreadable(detail: str = "") -> MediaError:
    message = "We could not read this video: the file is damaged or incomplete."
    if detail:
        message = f"We could not read this video: {detail}."
    return MediaError(UNREADABLE, f"{message} Export it again and upload the new file.")
