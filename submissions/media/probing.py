"""``probe``: what a clip is, read from its headers without decoding pictures."""

import os

from .opening import codec_name, open_media, translating
from .policy import MediaFacts, MediaPolicy


def probe(path: str | os.PathLike, policy: MediaPolicy) -> MediaFacts:
    """Open ``path`` safely and report its facts. Raises MediaError: too_large,
    unsupported_type, unreadable (including a file cut short), no_video_stream.

    Dimensions are header claims; decoding functions enforce the pixel cap on every frame."""
    with open_media(path, policy) as media:
        media.check_complete()
        with translating():
            video = media.video
            audio = media.audio
            rate = media.frame_rate()
            return MediaFacts(
                container=media.kind,
                video_codec=codec_name(video),
                width=video.codec_context.width if video.codec_context else 0,
                height=video.codec_context.height if video.codec_context else 0,
                fps=float(rate) if rate else 0.0,
                duration_s=round(media.duration_s(), 6),
                has_audio=audio is not None,
                audio_codec=codec_name(audio) if audio is not None else None,
            )
