"""Opening untrusted media: the only way this package hands a file to FFmpeg.

The rules, each verified against PyAV 18.1 / FFmpeg 8.1 by ``tests/submissions/test_media.py``:

- The demuxer is chosen by ``sniff`` and passed explicitly; FFmpeg never auto-probes.
- ``format_whitelist`` and ``protocol_whitelist`` go to ``avformat_open_input``.
- FFmpeg is handed a file object we opened, not a path, and every nested open a demuxer might
  attempt (HLS segments, concat entries, MOV references) goes through ``refuse_nested_open``.
- PyAV creates its decoders itself, after ``avformat_open_input``: the format-level
  ``codec_whitelist`` only reaches the decoders ``avformat_find_stream_info`` opens. So every
  decoder we run gets ``codec_whitelist`` and ``max_pixels`` as codec options too, and Python
  checks the codec name before opening it.
- Pixel and duration caps are enforced on every decoded frame (``GuardedVideoDecoder``).
- Every FFmpeg failure on input becomes a MediaError (``translating``).
"""

import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO

import av
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.stream import Discard, Disposition
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from .decoders import AUDIO_DECODERS, CODEC_WHITELIST, VIDEO_DECODERS, display_name
from .errors import (
    NO_VIDEO_STREAM,
    TOO_LARGE,
    UNSUPPORTED_CODEC,
    UNSUPPORTED_TYPE,
    MediaError,
    unreadable,
)
from .policy import DURATION_TOLERANCE_S, MediaPolicy, resolution_exceeded, too_long
from .sniffing import SNIFF_BYTES, sniff

DEMUXERS = {"mp4": "mov", "mov": "mov", "webm": "matroska", "mkv": "matroska"}
FORMAT_WHITELIST = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm"
PROTOCOL_WHITELIST = "file"
MAX_STREAMS = 8
# More frames than this per allowed second is not a video a tester recorded.
MAX_FPS = 240
IO_BUFFER_BYTES = 1 << 20
# Frame+slice threading with a fixed pool. Each frame thread holds its own copy of the
# decoder's per-macroblock tables, which a hostile SPS can size for 16000x16000 (about 100 MB
# each) before max_pixels refuses the picture buffers: so not FFmpeg's auto count (cores + 1,
# up to 16). Two threads decode 1080p30 faster than x264 encodes it, so nothing is lost.
DECODER_THREADS = 2

# Exceptions PyAV raises on hostile input besides av.FFmpegError (found by mutation fuzzing).
_INPUT_FAILURES = (av.FFmpegError, ValueError, IndexError, EOFError, OverflowError,
                   ZeroDivisionError, TypeError)


def open_options(policy: MediaPolicy) -> dict[str, str]:
    """Options for ``av.open``: format-level allow-lists, plus codec options that PyAV applies
    to the decoders ``avformat_find_stream_info`` runs."""
    return {
        "format_whitelist": FORMAT_WHITELIST,
        "protocol_whitelist": PROTOCOL_WHITELIST,
        "codec_whitelist": CODEC_WHITELIST,
        "max_streams": str(MAX_STREAMS),
        "max_pixels": str(policy.max_pixels),
    }


@dataclass
class Media:
    """An opened clip: the container, its kind, and the streams we use."""

    path: str
    kind: str
    policy: MediaPolicy
    container: InputContainer
    video: VideoStream
    audio: AudioStream | None
    size_bytes: int

    def use_only(self, *streams) -> None:
        """Let the demuxer skip every packet of the other streams."""
        for stream in self.container.streams:
            if stream not in streams:
                stream.discard = Discard.all

    def duration_s(self) -> float:
        """The video's duration from the headers (the video track's own, else the file's);
        demuxes packets (no decoding) if the headers do not say (a WebM from a browser's
        MediaRecorder, for one)."""
        video = self.video
        if video.duration and video.time_base:
            return float(video.duration * video.time_base)
        tagged = _tag_seconds(video.metadata.get("DURATION"))  # Matroska's per-track tag
        if tagged:
            return tagged
        if self.container.duration:
            return self.container.duration / av.time_base
        return self._duration_from_packets()

    def _duration_from_packets(self) -> float:
        # A second, equally guarded reader: this one stays where it is, since a file without
        # an index (the case here) may not be able to seek back.
        first = last = None
        with open(self.path, "rb") as handle:
            container = open_container(handle, self.kind, self.policy)
            try:
                video = container.streams[self.video.index]
                for packet in packets(container, video):
                    if packet.pts is None:
                        continue
                    end = packet.pts + (packet.duration or 0)
                    first = packet.pts if first is None else min(first, packet.pts)
                    last = end if last is None else max(last, end)
            finally:
                container.close()
        if first is None:
            raise unreadable("it contains no pictures")
        return float((last - first) * self.video.time_base)

    def frame_rate(self) -> Fraction | None:
        return self.video.average_rate or self.video.guessed_rate or None

    def check_complete(self) -> None:
        """Refuse a file that ends before the samples its index lists (a cut-off upload)."""
        for stream in (self.video, self.audio):
            if stream is None:
                continue
            with translating():
                entries = stream.index_entries
                ends = [entry.pos + entry.size for entry in entries if entry.pos >= 0]
            if ends and max(ends) > self.size_bytes:
                raise unreadable("the file ends before the video does (an incomplete upload?)")


def _tag_seconds(value: str | None) -> float | None:
    """Seconds in a Matroska DURATION tag ("00:00:02.000000000"), or None."""
    try:
        hours, minutes, seconds = (value or "").split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None


@contextmanager
def open_media(path: str | os.PathLike, policy: MediaPolicy) -> Iterator[Media]:
    """Open ``path`` under the rules above; raise MediaError for anything we refuse.

    Checks, in order: size (too_large), the first bytes (unsupported_type), that FFmpeg can
    parse it with the sniffed demuxer (unreadable), and that it has a video stream
    (no_video_stream)."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > policy.max_upload_bytes:
            raise MediaError(TOO_LARGE, f"The file is {size / 2**20:.1f} MB; the limit is "
                                        f"{policy.max_upload_bytes / 2**20:g} MB.")
        kind = sniff(handle.read(SNIFF_BYTES))
        handle.seek(0)
        container = open_container(handle, kind, policy)
        try:
            yield _select_streams(os.fspath(path), kind, policy, container, size)
        finally:
            container.close()


def open_container(handle: BinaryIO, kind: str, policy: MediaPolicy) -> InputContainer:
    """``av.open`` with every guard: the demuxer for ``kind``, the allow-lists, no nested
    opens. ``open_media`` calls this after ``sniff``; tests call it to prove the guards hold
    without sniff's help."""
    with translating():
        return av.open(handle, mode="r", format=DEMUXERS[kind], options=open_options(policy),
                       io_open=refuse_nested_open, metadata_errors="replace",
                       buffer_size=IO_BUFFER_BYTES)


def refuse_nested_open(url: str, flags: int, options: dict) -> None:
    """PyAV's ``io_open`` hook: an allowed demuxer never needs a second file, so a request
    for one (an HLS segment, a concat entry, a MOV reference) means the file is hostile.
    FFmpeg only sees a failed open; PyAV re-raises this error to our caller."""
    raise MediaError(UNSUPPORTED_TYPE, "This file refers to other files or addresses. "
                                       "Upload a self-contained video file.")


def _select_streams(path: str, kind: str, policy: MediaPolicy, container: InputContainer,
                    size: int) -> Media:
    videos = [stream for stream in container.streams.video
              if not stream.disposition & Disposition.attached_pic]
    if not videos:
        raise MediaError(NO_VIDEO_STREAM, "This file has no video track.")
    audios = list(container.streams.audio)
    return Media(path=path, kind=kind, policy=policy, container=container, video=videos[0],
                 audio=audios[0] if audios else None, size_bytes=size)


def codec_name(stream) -> str:
    """FFmpeg's name for the stream's codec (``av1`` whichever decoder would run it)."""
    context = stream.codec_context
    if context is None:
        return "unknown"
    return context.codec.canonical_name


def open_decoder(stream, policy: MediaPolicy) -> None:
    """Configure a stream's decoder before its first packet: only allow-listed decoders,
    FFmpeg's own pixel cap, and (video) frame+slice threading on a fixed pool."""
    table = VIDEO_DECODERS if stream.type == "video" else AUDIO_DECODERS
    name = codec_name(stream)
    if name not in table:
        raise MediaError(UNSUPPORTED_CODEC,
                         f"The {stream.type} track is encoded as {display_name(name)}, "
                         "which we cannot process.")
    context = stream.codec_context
    context.options = decoder_options(policy)
    if stream.type == "video":
        context.thread_type = "AUTO"
        context.thread_count = DECODER_THREADS


def decoder_options(policy: MediaPolicy) -> dict[str, str]:
    """Codec options for every decoder PyAV opens itself (format-level options do not
    reach those): FFmpeg refuses other decoders and pictures over the policy's pixel count."""
    return {"codec_whitelist": CODEC_WHITELIST, "max_pixels": str(policy.max_pixels)}


@contextmanager
def translating(diagnose: Callable[[], MediaError | None] | None = None) -> Iterator[None]:
    """Turn PyAV/FFmpeg failures on input into MediaError; ``diagnose`` may name a better
    code than media.unreadable (a decoder that refused an oversized picture)."""
    try:
        yield
    except MediaError:
        raise
    except _INPUT_FAILURES as error:
        better = diagnose() if diagnose is not None else None
        raise (better or unreadable()) from error


def packets(source: Media | InputContainer, *streams) -> Iterator[av.Packet]:
    """``container.demux`` with failures translated."""
    container = source.container if isinstance(source, Media) else source
    iterator = container.demux(*streams)
    while True:
        with translating():
            packet = next(iterator, None)
        if packet is None:
            return
        yield packet


class GuardedVideoDecoder:
    """Decodes the clip's video stream and checks every frame against the policy: picture
    size (either orientation) and elapsed time. Decoding stops at the first violation."""

    def __init__(self, media: Media, policy: MediaPolicy) -> None:
        self.stream = media.video
        self.policy = policy
        self.time_base = self.stream.time_base or Fraction(1, 90000)
        self.start = self.stream.start_time
        self.frames = 0
        self.max_frames = math.ceil((policy.max_duration_s + DURATION_TOLERANCE_S) * MAX_FPS)
        context = self.stream.codec_context
        if context is not None and not policy.fits(context.width, context.height):
            # The header already claims too much; FFmpeg would refuse it at open (max_pixels)
            # and forget the size, so say so now.
            raise resolution_exceeded(context.width, context.height, policy)
        open_decoder(self.stream, policy)

    def decode(self, packet: av.Packet | None) -> list[VideoFrame]:
        with translating(self._diagnose):
            frames = self.stream.codec_context.decode(packet)
        for frame in frames:
            self._check(frame)
        return frames

    def elapsed_s(self, frame: VideoFrame) -> float | None:
        if frame.pts is None:
            return None
        if self.start is None:
            self.start = frame.pts
        return float((frame.pts - self.start) * self.time_base)

    def _check(self, frame: VideoFrame) -> None:
        if not self.policy.fits(frame.width, frame.height):
            raise resolution_exceeded(frame.width, frame.height, self.policy)
        self.frames += 1
        elapsed = self.elapsed_s(frame)
        if self.frames > self.max_frames or (
                elapsed is not None and self.policy.duration_exceeded(elapsed)):
            raise too_long(elapsed, self.policy, while_decoding=True)

    def _diagnose(self) -> MediaError | None:
        # A decoder that refuses a picture over max_pixels leaves its size in the context.
        context = self.stream.codec_context
        if context.width and context.height and not self.policy.fits(context.width,
                                                                     context.height):
            return resolution_exceeded(context.width, context.height, self.policy)
        return None


@contextmanager
def writing(out_path: str | os.PathLike) -> Iterator[None]:
    """Remove a partial output if the work that writes it fails."""
    try:
        yield
    except BaseException:
        with suppress(FileNotFoundError):
            os.remove(out_path)
        raise
