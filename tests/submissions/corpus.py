"""The bad-input corpus, and the good clips it is measured against, built in a directory.

Nothing is downloaded: valid clips come from the generator or PyAV's encoders, hostile ones from
byte mutation. ``build_corpus(directory)`` returns one ``Case`` per file with the outcome the
media layer must give it; the HTTP-level tests reuse the same list. ``case.policy`` is the
program policy the outcome assumes (a few cases lower a limit instead of carrying a big file).
"""

import io
import os
import struct
import zipfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
from av.audio.frame import AudioFrame
from av.video.frame import VideoFrame
from PIL import Image

from submissions.generator import render_clip, render_frames
from submissions.media import (
    NO_VIDEO_STREAM,
    RESOLUTION_EXCEEDED,
    TOO_LARGE,
    TOO_LONG,
    UNREADABLE,
    UNSUPPORTED_CODEC,
    UNSUPPORTED_TYPE,
    MediaPolicy,
)

ACCEPTED = "accepted"
# Where the media layer refuses a case, in pipeline order; accepted cases pass all of them.
STAGES = ("sniff", "probe", "check_policy", "render")
DEFAULT_POLICY = MediaPolicy()
HTML = b"<html><body><script>alert(1)</script></body></html>\n"
SAMPLE_RATE = 48_000


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    expected: str  # ACCEPTED or a media.* error code
    stage: str | None  # where it is refused (one of STAGES); None when accepted
    description: str
    policy: MediaPolicy = field(default=DEFAULT_POLICY)
    kind: str | None = None  # what sniff returns, when it accepts the file
    upright_size: tuple[int, int] | None = None  # the rendition's size, when accepted
    duration_s: float | None = None
    has_audio: bool = False


CASE_NAMES = (
    "valid_h264", "valid_h264_aac", "empty", "text_renamed", "png_renamed", "zip_renamed",
    "html_prefixed", "truncated_moov_missing", "truncated_mdat", "audio_only", "too_long",
    "uhd_4k", "too_large", "declared_8000x8000", "switches_to_8000x8000", "hls_playlist",
    "ffconcat_script", "avi_renamed", "mkv_renamed", "mov_renamed", "webm_vp9_opus_renamed",
    "hevc", "av1", "mpeg4_part2", "rotated_portrait", "odd_size_vp9", "polyglot_html",
    "polyglot_zip", "declares_1s_runs_3s", "webm_streamed_no_duration",
    "size_changes_midstream",
)
ACCEPTED_NAMES = (
    "valid_h264", "valid_h264_aac", "mkv_renamed", "mov_renamed", "webm_vp9_opus_renamed",
    "hevc", "av1", "rotated_portrait", "odd_size_vp9", "polyglot_html", "polyglot_zip",
    "webm_streamed_no_duration", "size_changes_midstream",
)


def build_corpus(directory: Path) -> list[Case]:
    """Write every case's file into ``directory`` (every name ends in .mp4, as an uploader
    would name it) and return the cases in ``CASE_NAMES`` order."""
    directory.mkdir(parents=True, exist_ok=True)

    def path(name: str) -> Path:
        return directory / f"{name}.mp4"

    cases: list[Case] = []

    def accepted(name, description, *, kind="mp4", size=(320, 180), duration=2.0,
                 audio=False):
        cases.append(Case(name, path(name), ACCEPTED, None, description, kind=kind,
                          upright_size=size, duration_s=duration, has_audio=audio))

    def refused(name, code, stage, description, policy=DEFAULT_POLICY):
        cases.append(Case(name, path(name), code, stage, description, policy=policy))

    _generated(path("valid_h264"))
    accepted("valid_h264", "a 2 s 320x180 H.264 MP4 from the generator")
    _generated(path("valid_h264_aac"), with_audio=True)
    accepted("valid_h264_aac", "the same with an AAC sound track", audio=True)

    path("empty").write_bytes(b"")
    refused("empty", UNSUPPORTED_TYPE, "sniff", "an empty file")
    path("text_renamed").write_bytes(b"Just some notes, not a video at all.\n" * 20)
    refused("text_renamed", UNSUPPORTED_TYPE, "sniff", "plain text renamed .mp4")
    _png(path("png_renamed"))
    refused("png_renamed", UNSUPPORTED_TYPE, "sniff", "a PNG image renamed .mp4")
    _zip(path("zip_renamed"))
    refused("zip_renamed", UNSUPPORTED_TYPE, "sniff", "a ZIP archive renamed .mp4")
    path("html_prefixed").write_bytes(HTML + path("valid_h264").read_bytes())
    refused("html_prefixed", UNSUPPORTED_TYPE, "sniff", "HTML followed by a valid MP4")

    _encode(path("truncated_moov_missing"), faststart=False)
    _truncate(path("truncated_moov_missing"), 0.6)
    refused("truncated_moov_missing", UNREADABLE, "probe",
            "an MP4 written moov-last, cut at 60 %: no index at all")
    _generated(path("truncated_mdat"), seconds=3)
    _truncate(path("truncated_mdat"), 0.7)
    refused("truncated_mdat", UNREADABLE, "probe",
            "a +faststart MP4 cut at 70 %: the index lists samples past the end")
    _audio_only(path("audio_only"))
    refused("audio_only", NO_VIDEO_STREAM, "probe", "an MP4 with only an AAC stream")

    _generated(path("too_long"), seconds=3, fps=12)
    refused("too_long", TOO_LONG, "check_policy", "a 3 s clip under a 2 s policy",
            MediaPolicy(max_duration_s=2))
    _encode(path("uhd_4k"), size=(3840, 2160), seconds=2 / 24, x264_preset="ultrafast")
    refused("uhd_4k", RESOLUTION_EXCEEDED, "check_policy", "3840x2160, two frames")
    _generated(path("too_large"))
    refused("too_large", TOO_LARGE, "probe", "a valid clip one byte over a lowered limit",
            MediaPolicy(max_upload_bytes=path("too_large").stat().st_size - 1))
    _h264_with_sps_size(path("declared_8000x8000"), mutate_sps=(0, 1))
    refused("declared_8000x8000", RESOLUTION_EXCEEDED, "check_policy",
            "a few KB whose H.264 SPS (in the header and in-band) declares 8000x8000")
    _h264_with_sps_size(path("switches_to_8000x8000"), mutate_sps=(1,))
    refused("switches_to_8000x8000", RESOLUTION_EXCEEDED, "render",
            "headers say 320x180; the second IDR brings an in-band SPS for 8000x8000, "
            "so only decoding can tell")

    path("hls_playlist").write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n/etc/passwd\n#EXT-X-ENDLIST\n")
    refused("hls_playlist", UNSUPPORTED_TYPE, "sniff", "an HLS playlist naming /etc/passwd")
    path("ffconcat_script").write_text("ffconcat version 1.0\nfile '/etc/passwd'\n")
    refused("ffconcat_script", UNSUPPORTED_TYPE, "sniff",
            "an ffconcat script naming /etc/passwd")
    _encode(path("avi_renamed"), container="avi")
    refused("avi_renamed", UNSUPPORTED_TYPE, "sniff", "an H.264 AVI (demuxer not allowed)")
    _encode(path("mkv_renamed"), container="matroska", audio="aac")
    accepted("mkv_renamed", "H.264 + AAC in Matroska", kind="mkv", audio=True)
    _encode(path("mov_renamed"), container="mov")
    accepted("mov_renamed", "H.264 in a QuickTime MOV", kind="mov")
    _encode(path("webm_vp9_opus_renamed"), container="webm", codec="libvpx-vp9",
            options={"deadline": "realtime", "cpu-used": "8"}, audio="libopus")
    accepted("webm_vp9_opus_renamed", "VP9 + Opus in WebM", kind="webm", audio=True)

    _encode(path("hevc"), codec="libx265", options={"preset": "ultrafast",
                                                    "x265-params": "log-level=error"})
    accepted("hevc", "H.265 in MP4")
    _encode(path("av1"), codec="libsvtav1", options={"preset": "12"})
    accepted("av1", "AV1 (SVT-AV1) in MP4; decoded by libdav1d")
    _encode(path("mpeg4_part2"), codec="mpeg4")
    refused("mpeg4_part2", UNSUPPORTED_CODEC, "check_policy", "MPEG-4 Part 2 video in MP4")
    _encode(path("rotated_portrait"), rotation=-90)
    accepted("rotated_portrait",
             "stored 320x180 with a display matrix turning it upright to 180x320",
             size=(180, 320))
    _encode(path("odd_size_vp9"), container="webm", codec="libvpx-vp9", size=(321, 181),
            options={"deadline": "realtime", "cpu-used": "8"})
    accepted("odd_size_vp9", "VP9 at 321x181: the rendition is cropped to 320x180",
             kind="webm")

    valid = path("valid_h264_aac").read_bytes()
    path("polyglot_html").write_bytes(valid + HTML)
    accepted("polyglot_html", "a valid MP4 with an HTML page appended", audio=True)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("payload.html", HTML)
    path("polyglot_zip").write_bytes(valid + archive.getvalue())
    accepted("polyglot_zip", "a valid MP4 with a ZIP archive appended", audio=True)

    _encode(path("declares_1s_runs_3s"), seconds=3, fps=12,
            options={"preset": "veryfast", "x264-params": "bframes=0"})  # no start delay
    _shorten_declared_duration(path("declares_1s_runs_3s"), divide_by=3)
    refused("declares_1s_runs_3s", TOO_LONG, "render",
            "a 3 s MP4 whose mvhd, tkhd and mdhd claim 1 s, under a 2 s policy: only "
            "decoding finds the truth", MediaPolicy(max_duration_s=2))

    _streamed_webm(path("webm_streamed_no_duration"))
    accepted("webm_streamed_no_duration",
             "VP9 WebM written to a non-seekable sink, as a browser's MediaRecorder does: "
             "no duration and no index in the headers", kind="webm")

    _size_change(path("size_changes_midstream"))
    accepted("size_changes_midstream",
             "H.264 that switches from 320x180 to 256x144 at 1 s (a new in-band SPS): the "
             "rendition keeps 320x180")

    assert tuple(case.name for case in cases) == CASE_NAMES
    assert tuple(case.name for case in cases if case.expected == ACCEPTED) == ACCEPTED_NAMES
    return cases


# --- Builders -----------------------------------------------------------------------------


def _generated(path: Path, *, seconds: float = 2, fps: int = 24, with_audio=False) -> None:
    render_clip(prompt=f"corpus clip {path.stem}", seed=11, duration_s=seconds, width=320,
                height=180, out_path=path, watermark_text="CORPUS", fps=fps,
                with_audio=with_audio)


def _encode(path: Path, *, container: str = "mp4", codec: str = "libx264",
            size: tuple[int, int] = (320, 180), seconds: float = 2.0, fps: int = 24,
            options: dict | None = None, audio: str | None = None, rotation: int | None = None,
            faststart: bool = True, x264_preset: str = "veryfast") -> None:
    """Encode generator pictures with any codec and container PyAV offers."""
    width, height = size
    if codec == "libsvtav1":
        os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its settings otherwise
    if options is None and codec == "libx264":
        options = {"preset": x264_preset}
    container_options = {"movflags": "+faststart"} if faststart and container in (
        "mp4", "mov") else {}
    with av.open(str(path), "w", format=container, options=container_options) as output:
        video = output.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = options or {}
        if rotation is not None:
            video.set_display_rotation(rotation)
        sound = _add_audio(output, audio) if audio else None
        pictures = render_frames(prompt=f"corpus clip {path.stem}", seed=5, duration_s=seconds,
                                 width=width + width % 2, height=height + height % 2,
                                 watermark_text="CORPUS", fps=fps)
        for index, picture in enumerate(pictures):
            if picture.size != size:
                picture = picture.crop((0, 0, width, height))
            frame = VideoFrame.from_image(picture)
            frame.pts = index
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        if sound is not None:
            for frame in _silence(sound.codec_context.sample_rate, seconds):
                output.mux(sound.encode(frame))
            output.mux(sound.encode(None))


class _Unseekable(io.RawIOBase):
    """A write-only sink that cannot seek back, so muxers cannot fill in their headers."""

    def __init__(self, target) -> None:
        self.target = target

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data) -> int:
        return self.target.write(data)


def _streamed_webm(path: Path) -> None:
    with path.open("wb") as target, av.open(_Unseekable(target), "w", format="webm") as output:
        video = output.add_stream("libvpx-vp9", rate=24)
        video.width, video.height, video.pix_fmt = 320, 180, "yuv420p"
        video.options = {"deadline": "realtime", "cpu-used": "8"}
        pictures = render_frames(prompt="streamed", seed=3, duration_s=2, width=320,
                                 height=180, watermark_text="CORPUS")
        for index, picture in enumerate(pictures):
            frame = VideoFrame.from_image(picture)
            frame.pts = index
            output.mux(video.encode(frame))
        output.mux(video.encode(None))


def _add_audio(output, codec: str):
    sound = output.add_stream(codec, rate=SAMPLE_RATE)
    sound.layout = "stereo"
    return sound


def _silence(rate: int, seconds: float):
    total = round(rate * seconds)
    for start in range(0, total, 960):
        count = min(960, total - start)
        frame = AudioFrame(format="s16", layout="stereo", samples=count)
        frame.planes[0].update(bytes(frame.planes[0].buffer_size))
        frame.sample_rate = rate
        frame.pts = start
        yield frame


def _audio_only(path: Path) -> None:
    with av.open(str(path), "w", format="mp4") as output:
        sound = _add_audio(output, "aac")
        for frame in _silence(SAMPLE_RATE, 1.0):
            output.mux(sound.encode(frame))
        output.mux(sound.encode(None))


def _png(path: Path) -> None:
    Image.new("RGB", (64, 64), (200, 30, 30)).save(path, "PNG")


def _zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("readme.txt", "not a video\n" * 40)


def _shorten_declared_duration(path: Path, *, divide_by: int) -> None:
    """Divide the durations the first mvhd, tkhd and mdhd boxes declare (version 0 boxes;
    the sample tables, which say how long the clip really is, stay as they are). An edit
    list is left alone: shortening it would really cut the clip."""
    data = bytearray(path.read_bytes())
    for box, offset in ((b"mvhd", 16), (b"tkhd", 20), (b"mdhd", 16)):
        at = data.find(box) + 4 + offset
        assert data[at - offset] == 0, "version 0 box"
        (duration,) = struct.unpack(">I", data[at:at + 4])
        data[at:at + 4] = struct.pack(">I", duration // divide_by)
    path.write_bytes(bytes(data))


def _truncate(path: Path, share: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * share)])


# --- H.264 parameter-set surgery --------------------------------------------------------------


def _h264_with_sps_size(path: Path, *, mutate_sps: tuple[int, ...],
                        width_mbs: int = 500, height_mbs: int = 500) -> None:
    """A 1 s 320x180 H.264 MP4 (IDR every 12 frames, SPS before each) whose SPS number
    ``mutate_sps`` (0 = the one the MP4 header carries) claim width_mbs x height_mbs
    macroblocks (500 x 500 = 8000x8000). The slice data stays 320x180, so the file is a few KB."""
    raw = io.BytesIO()
    with av.open(raw, "w", format="h264") as output:
        video = output.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = 320, 180, "yuv420p"
        video.codec_context.thread_type = "FRAME"
        video.options = {"preset": "ultrafast",
                         "x264-params": "keyint=12:min-keyint=12:scenecut=0:bframes=0"}
        for index in range(24):  # flat pictures keep the file at a few KB
            picture = Image.new("RGB", (320, 180), (40 + 8 * index, 90, 160))
            frame = VideoFrame.from_image(picture)
            frame.pts = index
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
    stream = bytearray(raw.getvalue())
    units = _nal_units(bytes(stream))
    sps_units = [(start, end) for start, end in units if stream[start] & 0x1F == 7]
    for number in sorted(mutate_sps, reverse=True):
        start, end = sps_units[number]
        stream[start:end] = _resized_sps(bytes(stream[start:end]), width_mbs, height_mbs)
    _remux_annexb(bytes(stream), path)


def _annexb(size: tuple[int, int], frames: int, seed: int) -> bytes:
    raw = io.BytesIO()
    with av.open(raw, "w", format="h264") as output:
        video = output.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = *size, "yuv420p"
        video.options = {"preset": "veryfast", "x264-params": "bframes=0"}
        pictures = render_frames(prompt="size change", seed=seed, duration_s=frames / 24,
                                 width=size[0], height=size[1], watermark_text="CORPUS")
        for index, picture in enumerate(pictures):
            frame = VideoFrame.from_image(picture)
            frame.pts = index
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
    return raw.getvalue()


def _size_change(path: Path) -> None:
    """Two H.264 streams back to back in one MP4 track: 320x180 then 256x144."""
    _remux_annexb(_annexb((320, 180), 24, 1) + _annexb((256, 144), 24, 2), path)


def _remux_annexb(stream: bytes, path: Path) -> None:
    with av.open(io.BytesIO(stream), format="h264") as source, \
            av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        video_in = source.streams.video[0]
        video_out = output.add_stream_from_template(video_in)
        for index, packet in enumerate(p for p in source.demux(video_in) if p.size):
            packet.stream = video_out
            packet.time_base = Fraction(1, 24)
            packet.pts = packet.dts = index
            packet.duration = 1
            output.mux(packet)


def _nal_units(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each NAL unit's bytes in an Annex B stream, start codes excluded."""
    starts = []
    position = data.find(b"\x00\x00\x01")
    while position >= 0:
        starts.append(position + 3)
        position = data.find(b"\x00\x00\x01", position + 3)
    units = []
    for index, start in enumerate(starts):
        end = starts[index + 1] - 3 if index + 1 < len(starts) else len(data)
        while end > start and data[end - 1] == 0:
            end -= 1  # the leading zero of a four-byte start code
        units.append((start, end))
    return units


def _unescape(payload: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for byte in payload:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _escape(payload: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for byte in payload:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


class _BitReader:
    def __init__(self, data: bytes) -> None:
        self.data, self.position = data, 0

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            byte = self.data[self.position >> 3]
            value = (value << 1) | ((byte >> (7 - (self.position & 7))) & 1)
            self.position += 1
        return value

    def golomb(self) -> int:
        zeros = 0
        while self.bits(1) == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.bits(zeros)


class _BitWriter:
    def __init__(self) -> None:
        self.out: list[int] = []

    def bits(self, count: int, value: int) -> None:
        self.out += [(value >> (count - 1 - index)) & 1 for index in range(count)]

    def golomb(self, value: int) -> None:
        value += 1
        self.bits(value.bit_length() - 1, 0)
        self.bits(value.bit_length(), value)

    def rbsp(self) -> bytes:
        bits = [*self.out, 1]  # the stop bit, then zeros to the byte boundary
        bits += [0] * (-len(bits) % 8)
        return bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))


_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


def _resized_sps(nal: bytes, width_mbs: int, height_mbs: int) -> bytes:
    """The SPS NAL unit (header byte included) with a new picture size and no cropping."""
    rbsp = _unescape(nal[1:])
    reader = _BitReader(rbsp)
    profile = reader.bits(8)
    reader.bits(16)  # constraint flags, level
    reader.golomb()  # seq_parameter_set_id
    if profile in _HIGH_PROFILES:
        if reader.golomb() == 3:  # chroma_format_idc
            reader.bits(1)
        reader.golomb()
        reader.golomb()
        reader.bits(1)
        assert reader.bits(1) == 0, "x264 writes no scaling matrices by default"
    reader.golomb()  # log2_max_frame_num_minus4
    if reader.golomb() == 0:  # pic_order_cnt_type
        reader.golomb()
    reader.golomb()  # max_num_ref_frames
    reader.bits(1)
    size_at = reader.position
    reader.golomb()
    reader.golomb()
    assert reader.bits(1) == 1, "frame_mbs_only"
    direct_8x8 = reader.bits(1)
    if reader.bits(1):  # frame_cropping_flag
        for _ in range(4):
            reader.golomb()
    tail_at = reader.position
    stop = len(rbsp) * 8 - 1
    while not (rbsp[stop >> 3] >> (7 - (stop & 7))) & 1:
        stop -= 1
    writer, copier = _BitWriter(), _BitReader(rbsp)
    writer.bits(size_at, copier.bits(size_at))
    writer.golomb(width_mbs - 1)
    writer.golomb(height_mbs - 1)
    writer.bits(1, 1)
    writer.bits(1, direct_8x8)
    writer.bits(1, 0)
    copier.position = tail_at
    for _ in range(stop - tail_at):
        writer.bits(1, copier.bits(1))
    return nal[:1] + _escape(writer.rbsp())
