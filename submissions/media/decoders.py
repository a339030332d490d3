"""The decoders FFmpeg may run on untrusted input, and the names testers see for them.

Keys are FFmpeg's codec names (what a probe reports); values are the decoder implementations
that may handle them, as FFmpeg names decoders (what ``codec_whitelist`` matches). Nothing
outside these lists is ever opened: the whitelist goes to FFmpeg, and Python checks the codec
name before decoding as well.
"""

VIDEO_DECODERS: dict[str, tuple[str, ...]] = {
    "h264": ("h264",),
    "hevc": ("hevc",),
    "vp9": ("vp9", "libvpx-vp9"),
    # The native av1 decoder only drives hardware; software AV1 is libdav1d.
    "av1": ("libdav1d", "av1"),
}

AUDIO_DECODERS: dict[str, tuple[str, ...]] = {
    "aac": ("aac", "aac_fixed"),
    "mp3": ("mp3float", "mp3"),
    "opus": ("opus", "libopus"),
    "vorbis": ("vorbis", "libvorbis"),
    "flac": ("flac",),
    "alac": ("alac",),
    "pcm_s16le": ("pcm_s16le",),
    "pcm_s16be": ("pcm_s16be",),
    "pcm_s24le": ("pcm_s24le",),
    "pcm_s24be": ("pcm_s24be",),
    "pcm_f32le": ("pcm_f32le",),
}

CODEC_WHITELIST = ",".join(
    name for table in (VIDEO_DECODERS, AUDIO_DECODERS) for names in table.values()
    for name in names
)

DISPLAY_NAMES = {"h264": "H.264", "hevc": "H.265 (HEVC)", "vp9": "VP9", "av1": "AV1",
                 "aac": "AAC", "mp3": "MP3", "opus": "Opus", "vorbis": "Vorbis", "flac": "FLAC",
                 "alac": "Apple Lossless", "mpeg4": "MPEG-4 Part 2", "prores": "ProRes"}


def display_name(codec: str) -> str:
    return DISPLAY_NAMES.get(codec, codec)
