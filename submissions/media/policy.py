"""What a program accepts (``MediaPolicy``), what a clip is (``MediaFacts``), and the verdict."""

from dataclasses import asdict, dataclass

from .decoders import AUDIO_DECODERS, VIDEO_DECODERS, display_name
from .errors import RESOLUTION_EXCEEDED, TOO_LONG, UNSUPPORTED_CODEC, MediaError

# A phone's "20 s" clip often runs a few hundredths over; a quarter second is not a longer clip.
DURATION_TOLERANCE_S = 0.25


@dataclass(frozen=True)
class MediaPolicy:
    """Limits for one program, filled by the caller from the Program row."""

    max_duration_s: float = 20
    max_width: int = 1920  # either orientation: 1080x1920 fits a 1920x1080 policy
    max_height: int = 1080
    max_upload_bytes: int = 200 * 1024 * 1024
    allowed_video_codecs: tuple[str, ...] = ("h264", "hevc", "vp9", "av1")

    @property
    def max_pixels(self) -> int:
        return self.max_width * self.max_height

    def fits(self, width: int, height: int) -> bool:
        """True if a width x height picture is within the limits, in either orientation."""
        long_side, short_side = max(width, height), min(width, height)
        return (long_side <= max(self.max_width, self.max_height)
                and short_side <= min(self.max_width, self.max_height))

    def duration_exceeded(self, seconds: float) -> bool:
        return seconds > self.max_duration_s + DURATION_TOLERANCE_S


@dataclass(frozen=True)
class MediaFacts:
    """What ``probe`` read from a clip's headers (dimensions as stored, before rotation)."""

    container: str
    video_codec: str
    width: int
    height: int
    fps: float
    duration_s: float
    has_audio: bool
    audio_codec: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def check_policy(facts: MediaFacts, policy: MediaPolicy) -> None:
    """Raise the MediaError for the first limit the clip breaks: codec, resolution, duration."""
    if facts.video_codec not in policy.allowed_video_codecs or (
            facts.video_codec not in VIDEO_DECODERS):
        allowed = ", ".join(display_name(codec) for codec in policy.allowed_video_codecs
                            if codec in VIDEO_DECODERS)
        raise MediaError(UNSUPPORTED_CODEC,
                         f"The video is encoded as {display_name(facts.video_codec)}, which this "
                         f"program does not accept. Use {allowed}.")
    if facts.has_audio and facts.audio_codec not in AUDIO_DECODERS:
        raise MediaError(UNSUPPORTED_CODEC,
                         f"The sound track is encoded as {display_name(str(facts.audio_codec))}, "
                         "which we cannot process. Use AAC, MP3, Opus, Vorbis, FLAC or PCM.")
    if not policy.fits(facts.width, facts.height):
        raise resolution_exceeded(facts.width, facts.height, policy)
    if policy.duration_exceeded(facts.duration_s):
        raise too_long(facts.duration_s, policy)


def resolution_exceeded(width: int, height: int, policy: MediaPolicy) -> MediaError:
    return MediaError(RESOLUTION_EXCEEDED,
                      f"The video is {width}x{height} pixels; the largest allowed is "
                      f"{policy.max_width}x{policy.max_height} "
                      f"(or {policy.max_height}x{policy.max_width} upright).")


def too_long(seconds: float | None, policy: MediaPolicy, *, while_decoding: bool = False
             ) -> MediaError:
    limit = f"clips may be at most {policy.max_duration_s:g} s"
    if seconds is None:
        return MediaError(TOO_LONG, f"The clip is too long; {limit}.")
    if while_decoding:  # decoding stopped here; the clip may run on further
        return MediaError(TOO_LONG, f"The clip runs past {seconds:.1f} s; {limit}.")
    return MediaError(TOO_LONG, f"The clip is {seconds:.1f} s long; {limit}.")
