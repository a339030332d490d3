"""The watermarked rendition: the only form of a clip that moderators watch and that is shared.

Decode (frame+slice threads) → libavfilter graph [rotate upright, crop to even size, overlay the
mark, convert to yuv420p] → libx264 + AAC → MP4 with ``+faststart``. No per-frame Python image
work: the mark is drawn once with Pillow and fed to the graph's second buffer source, where
``overlay`` repeats it on every frame. Only re-encoded streams are written, so nothing of the
uploaded bytes (a polyglot's appended HTML or ZIP, metadata, extra tracks) reaches the output.
"""

import os
from fractions import Fraction
from itertools import pairwise

import av
from av.audio.frame import AudioFrame
from av.container import OutputContainer
from av.filter import Graph
from av.video.frame import PictureType, VideoFrame
from PIL import Image, ImageDraw, ImageFont

from .errors import unreadable
from .opening import (
    _INPUT_FAILURES,
    GuardedVideoDecoder,
    Media,
    open_decoder,
    open_media,
    packets,
    translating,
    writing,
)
from .policy import MediaPolicy

# veryfast at crf 23. Measured on the 2-vCPU box, 10 s of dense 1080p30: 8.2 CPU-s (4.4 s) for
# veryfast against 17 CPU-s (11.2 s) for medium, which at the same crf spends the extra time
# on quality (7.1 MB against 6.2 MB), not on a smaller file. A rendition is a viewing copy for
# moderators and share links: worker throughput matters more than the last bit of quality.
PRESET = "veryfast"
CRF = 23
AUDIO_BITRATE = 128_000
AAC_RATES = frozenset({96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000,
                       11025, 8000, 7350})
DEFAULT_RATE = Fraction(30)

MARK_TEXT_SHARE = 0.045  # text height as a share of the picture's shorter side
MARK_MIN_TEXT_PX = 12
MARK_BOX = (0, 0, 0, 140)
MARK_INK = (255, 255, 255, 235)

# FFmpeg's display matrix angle (counter-clockwise) → filters that turn the picture upright.
_UPRIGHT = {90: [("transpose", "cclock")], 180: [("hflip", None), ("vflip", None)],
            270: [("transpose", "clock")]}


def make_watermarked(path: str | os.PathLike, out_path: str | os.PathLike, policy: MediaPolicy,
                     mark_text: str, *, preset: str = PRESET, crf: int = CRF) -> None:
    """Write the H.264/AAC MP4 rendition of ``path`` with ``mark_text`` burned into the
    bottom-right corner (``mark_box``). Upright, even-sized, yuv420p; AAC only if the input has
    sound. Raises MediaError (pixel cap and duration are checked on every decoded frame) and
    leaves no partial file."""
    with writing(out_path), open_media(path, policy) as media:
        streams = [stream for stream in (media.video, media.audio) if stream is not None]
        media.use_only(*streams)
        declared_s = media.duration_s()
        decoder = GuardedVideoDecoder(media, policy)
        if media.audio is not None:
            open_decoder(media.audio, policy)
        with av.open(os.fspath(out_path), "w", format="mp4",
                     options={"movflags": "+faststart"}) as output:
            rendition = _Rendition(output, media, policy, mark_text, preset, crf)
            for packet in packets(media, *streams):
                if packet.stream is media.video:
                    for frame in decoder.decode(packet):
                        rendition.add_video(frame, decoder.elapsed_s(frame))
                else:
                    with translating():
                        audio_frames = media.audio.codec_context.decode(packet)
                    for audio_frame in audio_frames:
                        rendition.add_audio(audio_frame)
            rendition.finish()
        if declared_s - rendition.video_end_s > max(1.0, 0.1 * declared_s):
            raise unreadable("the file ends before the video does (an incomplete upload?)")


def mark_box(width: int, height: int, mark_text: str) -> tuple[int, int, int, int]:
    """Where the mark lands in a width x height rendition: (x, y, mark width, mark height)."""
    mark = render_mark(mark_text, width, height)
    margin = _margin(width, height)
    return (max(0, width - mark.width - margin), max(0, height - mark.height - margin),
            mark.width, mark.height)


def render_mark(mark_text: str, width: int, height: int) -> Image.Image:
    """The mark as an RGBA image for a width x height picture: text about 4.5 % of the
    shorter side tall, shrunk if needed to fit the width."""
    size = max(MARK_MIN_TEXT_PX, round(min(width, height) * MARK_TEXT_SHARE))
    while True:
        font = ImageFont.load_default(size=size)
        left, top, right, bottom = font.getbbox(mark_text)
        pad = max(4, round(size * 0.4))
        mark_width = right - left + 2 * pad
        if mark_width <= width - 2 * _margin(width, height) or size <= 6:
            break
        size -= 1
    mark = Image.new("RGBA", (mark_width, bottom - top + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(mark)
    draw.rounded_rectangle((0, 0, mark.width - 1, mark.height - 1), radius=pad, fill=MARK_BOX)
    draw.text((pad - left, pad - top), mark_text, font=font, fill=MARK_INK)
    return mark


def _margin(width: int, height: int) -> int:
    return max(8, round(min(width, height) * 0.03))


def rgba_frame(image: Image.Image) -> VideoFrame:
    """An RGBA VideoFrame of a Pillow RGBA image (``VideoFrame.from_image`` drops alpha)."""
    frame = VideoFrame(image.width, image.height, "rgba")
    plane = frame.planes[0]
    row = image.width * 4
    pixels = image.tobytes()
    if plane.line_size != row:  # rows are padded for alignment
        padding = bytes(plane.line_size - row)
        pixels = b"".join(pixels[top:top + row] + padding
                          for top in range(0, len(pixels), row))
    plane.update(pixels)
    return frame


class _Rendition:
    """Encoders and the filter graph, created at the first decoded frame (its size, pixel
    format and rotation decide the graph) and rebuilt if the input changes size mid-stream."""

    def __init__(self, output: OutputContainer, media: Media, policy: MediaPolicy,
                 mark_text: str, preset: str, crf: int) -> None:
        self.output = output
        self.media = media
        self.policy = policy
        self.mark_text = mark_text
        self.preset = preset
        self.crf = crf
        self.time_base = media.video.time_base or Fraction(1, 90000)
        self.video_out = None
        self.audio_out = None
        self.pending_audio: list[AudioFrame] = []
        self.audio_samples: int | None = None
        self.last_video_pts: int | None = None
        self.graph_key = None
        self.video_end_s = 0.0
        self.frame_s = float(1 / (media.frame_rate() or DEFAULT_RATE))

    def add_video(self, frame: VideoFrame, elapsed_s: float | None) -> None:
        rotation = round(frame.rotation) % 360
        if rotation not in (0, 90, 180, 270):
            rotation = 0
        key = (frame.width, frame.height, frame.format.name, rotation)
        if self.video_out is None:
            self._start(frame, rotation)
        if key != self.graph_key:
            if self.graph_key is not None:
                self._push(None)
            self._build_graph(frame, rotation)
            self.graph_key = key
        self._push(frame)
        if elapsed_s is not None:
            self.video_end_s = max(self.video_end_s, elapsed_s + self.frame_s)

    def add_audio(self, frame: AudioFrame) -> None:
        if frame.time is not None and self.policy.duration_exceeded(
                frame.time - float((self.media.audio.start_time or 0)
                                   * self.media.audio.time_base)):
            return  # sound past the longest allowed clip is dropped, not encoded
        if self.audio_out is None:
            self.pending_audio.append(frame)
        else:
            self._encode_audio(frame)

    def _encode_audio(self, frame: AudioFrame) -> None:
        # Timestamps follow from the sample count, from the first frame's time on: a damaged
        # or glitchy track cannot make them run backwards and stop the muxer.
        rate = frame.sample_rate
        if self.audio_samples is None:
            self.audio_samples = round((frame.time or 0.0) * rate)
        frame.pts, frame.time_base = self.audio_samples, Fraction(1, rate)
        self.audio_samples += frame.samples
        self._mux(self.audio_out.encode(frame))

    def finish(self) -> None:
        if self.video_out is None:
            raise unreadable("it contains no pictures")
        self._push(None)
        self._mux(self.video_out.encode(None))
        if self.audio_out is not None:
            self._mux(self.audio_out.encode(None))

    def _start(self, frame: VideoFrame, rotation: int) -> None:
        width, height = frame.width, frame.height
        if rotation in (90, 270):
            width, height = height, width
        self.width, self.height = width - width % 2, height - height % 2
        video_out = self.output.add_stream("libx264", rate=self.media.frame_rate() or DEFAULT_RATE)
        video_out.width, video_out.height, video_out.pix_fmt = self.width, self.height, "yuv420p"
        video_out.codec_context.time_base = self.time_base
        # FRAME threading, as the ffmpeg CLI uses: PyAV's default (SLICE) makes x264 cut every
        # picture into slices, which costs both speed and bits.
        video_out.codec_context.thread_type = "FRAME"
        video_out.options = {"preset": self.preset, "crf": str(self.crf)}
        for name in ("colorspace", "color_range", "color_primaries", "color_trc"):
            setattr(video_out.codec_context, name, getattr(frame, name))
        self.video_out = video_out
        audio = self.media.audio
        if audio is not None:
            rate = audio.codec_context.sample_rate
            audio_out = self.output.add_stream("aac", rate=rate if rate in AAC_RATES else 48000)
            audio_out.layout = "stereo" if audio.codec_context.channels >= 2 else "mono"
            audio_out.bit_rate = AUDIO_BITRATE
            self.audio_out = audio_out
            pending, self.pending_audio = self.pending_audio, []
            for audio_frame in pending:
                self._encode_audio(audio_frame)

    def _build_graph(self, frame: VideoFrame, rotation: int) -> None:
        graph = Graph()
        source = graph.add("buffer", video_size=f"{frame.width}x{frame.height}",
                           pix_fmt=frame.format.name, time_base=str(self.time_base),
                           pixel_aspect="1/1")
        chain = [source]
        for name, argument in _UPRIGHT.get(rotation, []):
            chain.append(graph.add(name, argument))
        width, height = frame.width, frame.height
        if rotation in (90, 270):
            width, height = height, width
        if (width, height) != (self.width, self.height):
            if width - width % 2 == self.width and height - height % 2 == self.height:
                chain.append(graph.add("crop", f"{self.width}:{self.height}:0:0"))
            else:  # the input changed size mid-stream: keep the rendition's size
                chain.append(graph.add("scale", f"{self.width}:{self.height}"))
        mark = render_mark(self.mark_text, self.width, self.height)
        x, y, _, _ = mark_box(self.width, self.height, self.mark_text)
        mark_source = graph.add("buffer", video_size=f"{mark.width}x{mark.height}",
                                pix_fmt="rgba", time_base=str(self.time_base),
                                pixel_aspect="1/1")
        # overlay's default format (yuv420): blends in place on the decoded planes. With
        # format=auto it negotiated a wider format and converted every picture there and back:
        # 2.4 ms a 1080p frame against 0.2 ms.
        overlay = graph.add("overlay", f"x={x}:y={y}:eof_action=repeat")
        to_yuv420p = graph.add("format", "yuv420p")
        sink = graph.add("buffersink")
        for upstream, downstream in pairwise(chain):
            upstream.link_to(downstream)
        chain[-1].link_to(overlay, 0, 0)
        mark_source.link_to(overlay, 0, 1)
        overlay.link_to(to_yuv420p)
        to_yuv420p.link_to(sink)
        with translating():
            graph.configure()
            mark_frame = rgba_frame(mark)
            # Stamped at the first picture's time: overlay shows nothing over pictures that
            # come before the mark's own timestamp.
            mark_frame.pts = frame.pts if frame.pts is not None else 0
            mark_frame.time_base = self.time_base
            mark_source.push(mark_frame)
            mark_source.push(None)
        self.graph, self.source, self.sink = graph, source, sink

    def _push(self, frame: VideoFrame | None) -> None:
        with translating():
            self.source.push(frame)
        while True:
            try:
                filtered = self.sink.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            except _INPUT_FAILURES as error:
                raise unreadable() from error
            if filtered.pts is not None:
                if self.last_video_pts is not None and filtered.pts <= self.last_video_pts:
                    continue  # a damaged stream's repeated or backward time: drop the picture
                self.last_video_pts = filtered.pts
            # Let x264 choose frame types; the decoder's I/P/B labels would force them.
            filtered.pict_type = PictureType.NONE
            self._mux(self.video_out.encode(filtered))

    def _mux(self, encoded: list[av.Packet]) -> None:
        if not encoded:
            return
        try:
            self.output.mux(encoded)
        except av.ArgumentError as error:  # EINVAL: timestamps the input made impossible
            raise unreadable() from error
