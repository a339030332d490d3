"""The media layer against the bad-input corpus, and proof that each FFmpeg guard holds.

No database: these tests exercise pure functions over files. The safety tests each pair a
control (FFmpeg without the guard really does open the named file or address) with the
guarded call, so a guard that silently stops working fails the test.
"""

import errno
import hashlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from submissions.media import (
    CODES,
    RESOLUTION_EXCEEDED,
    TOO_LONG,
    UNREADABLE,
    UNSUPPORTED_CODEC,
    UNSUPPORTED_TYPE,
    MediaError,
    MediaFacts,
    MediaPolicy,
    check_policy,
    make_contact_sheet,
    make_poster,
    make_watermarked,
    mark_box,
    probe,
    sniff,
)
from submissions.media.opening import (
    GuardedVideoDecoder,
    decoder_options,
    open_container,
    open_media,
    open_options,
    packets,
    refuse_nested_open,
)
from tests.submissions.corpus import ACCEPTED, ACCEPTED_NAMES, CASE_NAMES, Case, build_corpus

MARK = "EARLY ACCESS · 0123abcd"
OUTPUTS = ("poster.jpg", "sheet.jpg", "rendition.mp4")
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Processed:
    case: Case
    outcome: str
    stage: str | None
    out_dir: Path
    failed_output: str | None  # the output whose render refused the clip
    scratch: list[str]  # what appeared in the temp directory while it ran


def run_pipeline(case: Case, out_dir: Path) -> tuple[str, str | None, str | None]:
    """The worker's order: sniff, probe, check_policy, then the three renders.
    Returns (outcome, stage, the output being made when a render refused)."""
    stage, making = "sniff", None
    try:
        with case.path.open("rb") as handle:
            sniff(handle.read(512))
        stage = "probe"
        facts = probe(case.path, case.policy)
        stage = "check_policy"
        check_policy(facts, case.policy)
        stage = "render"
        making = "poster.jpg"
        make_poster(case.path, out_dir / making, case.policy)
        making = "sheet.jpg"
        make_contact_sheet(case.path, out_dir / making, case.policy)
        making = "rendition.mp4"
        make_watermarked(case.path, out_dir / making, case.policy, MARK)
    except MediaError as error:
        return error.code, stage, making
    return ACCEPTED, None, None


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, Case]:
    return {case.name: case for case in build_corpus(tmp_path_factory.mktemp("corpus"))}


@pytest.fixture(scope="session")
def processed(corpus, tmp_path_factory) -> dict[str, Processed]:
    """Every case through the pipeline once, with TMPDIR pointed at an empty directory."""
    results = {}
    for name, case in corpus.items():
        out_dir = tmp_path_factory.mktemp(f"out-{name}")
        scratch = tmp_path_factory.mktemp(f"tmp-{name}")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("TMPDIR", str(scratch))
            patch.setattr(tempfile, "tempdir", str(scratch))
            outcome, stage, making = run_pipeline(case, out_dir)
        results[name] = Processed(case, outcome, stage, out_dir, making,
                                  sorted(os.listdir(scratch)))
    return results


def decoded_image(path: Path, index: int) -> Image.Image:
    """Frame ``index`` of a file, upright (as a player shows it)."""
    with av.open(str(path)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number == index:
                return frame.to_image().rotate(frame.rotation, expand=True)
    raise AssertionError(f"{path} has no frame {index}")


def mean_difference(first: Image.Image, second: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(first, second)).mean) / 3


def top_level_boxes(path: Path) -> list[str]:
    data, boxes, position = path.read_bytes(), [], 0
    while position + 8 <= len(data):
        size = int.from_bytes(data[position:position + 4], "big")
        boxes.append(data[position + 4:position + 8].decode("latin-1"))
        if size < 8:
            break
        position += size
    return boxes


# --- The corpus ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASE_NAMES)
def test_corpus_case_gets_its_documented_code_at_its_documented_stage(processed, name):
    result = processed[name]

    assert (result.outcome, result.stage) == (result.case.expected, result.case.stage)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_corpus_case_leaves_only_finished_outputs_and_no_temporary_files(processed, name):
    result = processed[name]

    if result.case.expected == ACCEPTED:
        expected = set(OUTPUTS)
    elif result.failed_output is None:
        expected = set()
    else:  # the renders before the refusing one finished; the refusing one left nothing
        expected = set(OUTPUTS[:OUTPUTS.index(result.failed_output)])
    assert set(os.listdir(result.out_dir)) == expected
    assert result.scratch == []


@pytest.mark.parametrize("name", ACCEPTED_NAMES)
def test_poster_is_an_upright_jpeg_at_most_640_wide(processed, name):
    result = processed[name]

    with Image.open(result.out_dir / "poster.jpg") as poster:
        assert (poster.format, poster.size) == ("JPEG", result.case.upright_size)


@pytest.mark.parametrize("name", ACCEPTED_NAMES)
def test_contact_sheet_is_a_4_by_3_grid_of_upright_tiles(processed, name):
    result = processed[name]
    tile_w, tile_h = result.case.upright_size  # all under 320 px wide: tiles keep their size

    with Image.open(result.out_dir / "sheet.jpg") as sheet:
        assert (sheet.format, sheet.size) == ("JPEG", (4 * tile_w + 5 * 4, 3 * tile_h + 4 * 4))


@pytest.mark.parametrize("name", ACCEPTED_NAMES)
def test_rendition_is_faststart_h264_yuv420p_with_aac_only_when_the_source_has_sound(
        processed, name):
    result = processed[name]
    rendition = result.out_dir / "rendition.mp4"

    with av.open(str(rendition)) as container:
        video = container.streams.video[0]
        frame_s = float(1 / video.average_rate)
        facts = {
            "video": (video.codec_context.name, video.codec_context.pix_fmt,
                      video.codec_context.width, video.codec_context.height),
            "audio": [stream.codec_context.name for stream in container.streams.audio],
            "other streams": len(container.streams) - 1 - len(container.streams.audio),
        }
        duration_s = float(video.duration * video.time_base)
    assert facts == {"video": ("h264", "yuv420p", *result.case.upright_size),
                     "audio": ["aac"] if result.case.has_audio else [],
                     "other streams": 0}
    assert abs(duration_s - result.case.duration_s) <= frame_s
    boxes = top_level_boxes(rendition)
    assert boxes.index("moov") < boxes.index("mdat")


@pytest.mark.parametrize("name", ACCEPTED_NAMES)
def test_rendition_shows_the_mark_and_leaves_the_rest_of_the_picture_alone(processed, name):
    result = processed[name]
    width, height = result.case.upright_size
    x, y, mark_w, mark_h = mark_box(width, height, MARK)
    source = decoded_image(result.case.path, 10).crop((0, 0, width, height))
    rendition = decoded_image(result.out_dir / "rendition.mp4", 10)

    inside = mean_difference(source.crop((x, y, x + mark_w, y + mark_h)),
                             rendition.crop((x, y, x + mark_w, y + mark_h)))
    above = mean_difference(source.crop((0, 0, width, y - 4)),
                            rendition.crop((0, 0, width, y - 4)))
    assert inside > 40
    assert above < 6


@pytest.mark.parametrize(("name", "payload"), [("polyglot_html", b"<script"),
                                               ("polyglot_zip", b"PK\x03\x04")])
def test_polyglot_payload_does_not_survive_into_the_rendition(processed, name, payload):
    result = processed[name]
    original = result.case.path.read_bytes()
    rendition = (result.out_dir / "rendition.mp4").read_bytes()

    assert payload in original
    assert payload not in rendition
    assert b"<script" not in rendition
    assert b"PK\x03\x04" not in rendition
    assert hashlib.sha256(rendition).digest() != hashlib.sha256(original).digest()


# --- probe and check_policy ------------------------------------------------------------------


@pytest.mark.parametrize(("name", "facts"), [
    ("valid_h264", MediaFacts("mp4", "h264", 320, 180, 24.0, 2.0, False, None)),
    ("valid_h264_aac", MediaFacts("mp4", "h264", 320, 180, 24.0, 2.0, True, "aac")),
    ("mkv_renamed", MediaFacts("mkv", "h264", 320, 180, 24.0, 2.0, True, "aac")),
    ("mov_renamed", MediaFacts("mov", "h264", 320, 180, 24.0, 2.0, False, None)),
    ("webm_vp9_opus_renamed", MediaFacts("webm", "vp9", 320, 180, 24.0, 2.0, True, "opus")),
    ("hevc", MediaFacts("mp4", "hevc", 320, 180, 24.0, 2.0, False, None)),
    ("av1", MediaFacts("mp4", "av1", 320, 180, 24.0, 2.0, False, None)),
    ("webm_streamed_no_duration", MediaFacts("webm", "vp9", 320, 180, 24.0, 1.999, False, None)),
    ("rotated_portrait", MediaFacts("mp4", "h264", 320, 180, 24.0, 2.0, False, None)),
    ("uhd_4k", MediaFacts("mp4", "h264", 3840, 2160, 24.0, 0.083333, False, None)),
    ("declared_8000x8000", MediaFacts("mp4", "h264", 8000, 8000, 24.0, 1.0, False, None)),
])
def test_probe_reports_the_exact_facts(corpus, name, facts):
    assert probe(corpus[name].path, corpus[name].policy) == facts


def test_facts_serialise_to_the_keys_the_api_stores():
    facts = MediaFacts("mp4", "h264", 320, 180, 24.0, 2.0, True, "aac")

    assert facts.to_dict() == {"container": "mp4", "video_codec": "h264", "width": 320,
                               "height": 180, "fps": 24.0, "duration_s": 2.0,
                               "has_audio": True, "audio_codec": "aac"}


def _facts(**changes) -> MediaFacts:
    base = {"container": "mp4", "video_codec": "h264", "width": 1920, "height": 1080,
            "fps": 30.0, "duration_s": 20.0, "has_audio": True, "audio_codec": "aac"}
    return MediaFacts(**{**base, **changes})


@pytest.mark.parametrize(("facts", "code"), [
    (_facts(), None),
    (_facts(width=1080, height=1920), None),
    (_facts(duration_s=20.25), None),
    (_facts(video_codec="av1", audio_codec="opus"), None),
    (_facts(has_audio=False, audio_codec=None), None),
    (_facts(width=1922, height=1080), RESOLUTION_EXCEEDED),
    (_facts(width=1080, height=1922), RESOLUTION_EXCEEDED),
    (_facts(width=2000, height=1000), RESOLUTION_EXCEEDED),
    (_facts(duration_s=20.26), TOO_LONG),
    (_facts(video_codec="mpeg4"), UNSUPPORTED_CODEC),
    (_facts(audio_codec="ac3"), UNSUPPORTED_CODEC),
])
def test_check_policy_applies_the_default_limits(facts, code):
    assert _verdict(facts, MediaPolicy()) == code


def _verdict(facts: MediaFacts, policy: MediaPolicy) -> str | None:
    try:
        check_policy(facts, policy)
    except MediaError as error:
        return error.code
    return None


def test_check_policy_refuses_a_codec_the_program_does_not_allow():
    policy = MediaPolicy(allowed_video_codecs=("h264",))

    with pytest.raises(MediaError) as refused:
        check_policy(_facts(video_codec="hevc"), policy)
    assert (refused.value.code, refused.value.message) == (
        UNSUPPORTED_CODEC,
        "The video is encoded as H.265 (HEVC), which this program does not accept. "
        "Use H.264.")


def test_media_error_accepts_only_documented_codes():
    with pytest.raises(ValueError, match="unknown media error code"):
        MediaError("media.oops", "no")
    assert CODES == ("media.unreadable", "media.unsupported_type", "media.too_large",
                     "media.too_long", "media.resolution_exceeded", "media.no_video_stream",
                     "media.unsupported_codec")


# --- sniff ------------------------------------------------------------------------------------


def _ftyp(major: bytes, *compatible: bytes, next_box: bytes = b"moov") -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\0\0\0\x08" + next_box


def _ebml(doctype: bytes) -> bytes:
    element = b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(element)]) + element


@pytest.mark.parametrize(("head", "kind"), [
    (_ftyp(b"isom", b"isom", b"mp41"), "mp4"),
    (_ftyp(b"mp42", b"mp42"), "mp4"),
    (_ftyp(b"3gp4", b"3gp4"), "mp4"),
    (_ftyp(b"qt  ", b"qt  "), "mov"),
    (_ebml(b"webm"), "webm"),
    (_ebml(b"matroska"), "mkv"),
])
def test_sniff_names_the_container(head, kind):
    assert sniff(head.ljust(512, b"\0")) == kind


@pytest.mark.parametrize("head", [
    b"",
    b"\0" * 512,
    _ftyp(b"heic", b"mif1", b"heic"),
    _ftyp(b"avif", b"avif", b"mif1", b"isom"),
    _ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"),
    _ftyp(b"abcd", b"abcd"),
    _ftyp(b"isom", b"isom", next_box=b"\0\0\0\0"),
    _ebml(b"foo"),
    b"RIFF\0\0\0\0AVI LIST",
    b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n",
    b"ffconcat version 1.0\nfile '/etc/passwd'\n",
    b"\x89PNG\r\n\x1a\n",
    b"<html><script>alert(1)</script></html>",
])
def test_sniff_refuses_everything_else(head):
    with pytest.raises(MediaError) as refused:
        sniff(head.ljust(512, b"\0") if head else head)
    assert refused.value.code == UNSUPPORTED_TYPE


def test_sniff_says_what_a_refused_file_looks_like():
    with pytest.raises(MediaError) as refused:
        sniff(b"\x89PNG\r\n\x1a\n" + bytes(504))
    assert refused.value.message == ("This file is not a video we accept (it looks like a PNG "
                                     "file). Upload an MP4, MOV, WebM or MKV clip.")


# --- Guards: named files and addresses are never opened ---------------------------------------


def reader_appears(fifo: Path, action, timeout_s: float = 3.0) -> tuple[bool, object]:
    """Run ``action`` in a thread; True if meanwhile anything opens ``fifo`` for reading.

    Opening a FIFO for reading blocks until a writer comes, so an open cannot go unseen: while
    a reader waits, a non-blocking open for writing succeeds (and lets the reader go on);
    with no reader it fails with ENXIO."""
    outcome: dict[str, object] = {}

    def run():
        try:
            outcome["result"] = action()
        except Exception as error:
            outcome["result"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    opened = False
    while not opened and time.monotonic() < deadline:
        try:
            descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as error:
            if error.errno != errno.ENXIO:  # ENXIO: nobody has it open for reading
                raise
            if not thread.is_alive():
                break
            time.sleep(0.01)
        else:
            os.close(descriptor)
            opened = True
    thread.join(timeout_s)
    assert not thread.is_alive()
    return opened, outcome.get("result")


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "secret.ts"
    os.mkfifo(path)
    return path


def _playlist(tmp_path: Path, kind: str, target: str) -> Path:
    path = tmp_path / f"{kind}.mp4"
    if kind == "hls":
        path.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n"
                        f"{target}\n#EXT-X-ENDLIST\n")
    else:
        path.write_text(f"ffconcat version 1.0\nfile '{target}'\n")
    return path


@pytest.mark.parametrize(("kind", "demuxer"), [("hls", "hls"), ("ffconcat", None)])
def test_control_ffmpeg_without_guards_opens_what_the_script_names(tmp_path, fifo, kind,
                                                                   demuxer):
    script = _playlist(tmp_path, kind, fifo.name if kind == "ffconcat" else str(fifo))

    opened, _ = reader_appears(fifo, lambda: av.open(str(script), format=demuxer).close())

    assert opened


@pytest.mark.parametrize("kind", ["hls", "ffconcat"])
def test_probe_never_opens_what_a_playlist_or_concat_script_names(tmp_path, fifo, kind):
    script = _playlist(tmp_path, kind, fifo.name if kind == "ffconcat" else str(fifo))

    opened, result = reader_appears(fifo, lambda: probe(script, MediaPolicy()))

    assert not opened
    assert isinstance(result, MediaError)
    assert result.code == UNSUPPORTED_TYPE


@pytest.mark.parametrize("kind", ["hls", "ffconcat"])
@pytest.mark.parametrize("container_kind", ["mp4", "mkv"])
def test_guarded_open_without_sniff_never_opens_what_a_script_names(tmp_path, fifo, kind,
                                                                    container_kind):
    script = _playlist(tmp_path, kind, fifo.name if kind == "ffconcat" else str(fifo))

    def action():
        with script.open("rb") as handle:
            open_container(handle, container_kind, MediaPolicy()).close()

    opened, result = reader_appears(fifo, action)

    assert not opened
    assert isinstance(result, MediaError)
    assert result.code == UNREADABLE


def test_format_whitelist_alone_stops_an_autoprobed_concat_script(tmp_path, fifo):
    script = _playlist(tmp_path, "ffconcat", fifo.name)

    opened, result = reader_appears(
        fifo, lambda: av.open(str(script), options=open_options(MediaPolicy())).close())

    assert not opened
    assert isinstance(result, av.FFmpegError)


def test_nested_open_hook_alone_stops_a_forced_hls_demuxer(tmp_path, fifo):
    script = _playlist(tmp_path, "hls", str(fifo))

    def action():
        with script.open("rb") as handle:
            av.open(handle, format="hls", io_open=refuse_nested_open).close()

    opened, result = reader_appears(fifo, action)

    assert not opened
    assert isinstance(result, MediaError)
    assert result.code == UNSUPPORTED_TYPE


@pytest.mark.parametrize(("options", "connects"), [
    ({}, True),  # control: through a file object, FFmpeg's implicit "file" restriction is gone
    ({"protocol_whitelist": "file"}, False),
])
def test_protocol_whitelist_keeps_a_playlist_off_the_network(tmp_path, options, connects):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    script = _playlist(tmp_path, "hls",
                       f"http://127.0.0.1:{listener.getsockname()[1]}/segment.ts")

    def action():
        with script.open("rb") as handle, suppress(av.FFmpegError):
            av.open(handle, format="hls", options=options).close()

    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    connected, deadline = False, time.monotonic() + 5
    while not connected and time.monotonic() < deadline:
        finished = not thread.is_alive()  # a connection made before this is in the backlog
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            if finished:
                break
        else:
            connection.close()  # FFmpeg reads EOF instead of a segment and gives up
            connected = True
    thread.join(5)
    listener.close()
    assert not thread.is_alive()
    assert connected is connects


# --- Guards: decoders, pixel cap and duration while decoding --------------------------------


def test_codec_whitelist_makes_ffmpeg_refuse_other_decoders(corpus):
    path = corpus["mpeg4_part2"].path

    with av.open(str(path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 48  # control: it decodes
    with av.open(str(path)) as container:
        container.streams.video[0].codec_context.options = decoder_options(MediaPolicy())
        with pytest.raises(av.FFmpegError):
            next(container.decode(video=0))


def test_pixel_cap_stops_decoding_at_the_first_oversized_picture(corpus):
    decoded = 0
    refused = None
    with open_media(corpus["switches_to_8000x8000"].path, MediaPolicy()) as media:
        decoder = GuardedVideoDecoder(media, MediaPolicy())
        try:
            for packet in packets(media, media.video):
                decoded += len(decoder.decode(packet))
        except MediaError as error:
            refused = error
    assert (refused.code, decoded) == (RESOLUTION_EXCEEDED, 12)
    assert refused.message == ("The video is 8000x8000 pixels; the largest allowed is "
                               "1920x1080 (or 1080x1920 upright).")


@pytest.mark.parametrize("render", [make_poster, make_contact_sheet, make_watermarked])
def test_every_render_enforces_the_pixel_cap_without_check_policy(corpus, tmp_path, render):
    out = tmp_path / "out"
    arguments = (MARK,) if render is make_watermarked else ()

    with pytest.raises(MediaError) as refused:
        render(corpus["declared_8000x8000"].path, out, MediaPolicy(), *arguments)
    assert refused.value.code == RESOLUTION_EXCEEDED
    assert list(tmp_path.iterdir()) == []


def test_watermark_stops_a_clip_that_runs_past_its_declared_duration(corpus, tmp_path):
    case = corpus["declares_1s_runs_3s"]
    assert probe(case.path, case.policy).duration_s == 1.0

    with pytest.raises(MediaError) as refused:
        make_watermarked(case.path, tmp_path / "out.mp4", case.policy, MARK)
    assert (refused.value.code, refused.value.message) == (
        TOO_LONG, "The clip runs past 2.3 s; clips may be at most 2 s.")
    assert list(tmp_path.iterdir()) == []


# The child reports VmHWM, its own peak RSS: ru_maxrss would include the parent's size at fork.
_PEAK_RSS = textwrap.dedent("""
    import sys
    import av
    from submissions.media import MediaError, MediaPolicy, make_watermarked
    path, out, guarded = sys.argv[1], sys.argv[2], sys.argv[3] == "guarded"
    if guarded:
        try:
            make_watermarked(path, out, MediaPolicy(), "MARK")
        except MediaError:
            pass
    else:
        with av.open(path) as container:
            for frame in container.decode(video=0):
                pass
    with open("/proc/self/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(peak_kb // 1024)
""")


def test_an_8000x8000_picture_never_reaches_memory(corpus, tmp_path):
    def peak_mb(mode: str) -> int:
        result = subprocess.run(
            [sys.executable, "-c", _PEAK_RSS, str(corpus["switches_to_8000x8000"].path),
             str(tmp_path / "out"), mode], cwd=REPO, capture_output=True, check=True)
        return int(result.stdout)

    # control: plain PyAV allocates the 96 MB pictures (about 310 MB peak here)
    assert peak_mb("unguarded") > 200
    # guarded: about 90 MB, of which ~60 MB is Python + PyAV and the rest the decoder's
    # per-macroblock tables for two threads (the pictures are never allocated)
    assert peak_mb("guarded") < 150


# --- Robustness ----------------------------------------------------------------------------


def test_mutated_clips_give_media_errors_or_renditions_never_other_exceptions(corpus,
                                                                              tmp_path):
    rng = random.Random(20260)
    seeds = [corpus[name].path.read_bytes() for name in
             ("valid_h264_aac", "mkv_renamed", "webm_vp9_opus_renamed", "hevc", "av1")]
    for number in range(40):
        data = bytearray(rng.choice(seeds))
        if number % 4 == 3:
            del data[rng.randrange(len(data)):]
        else:
            for _ in range(rng.randint(1, 12)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        mutant = tmp_path / "mutant.mp4"
        mutant.write_bytes(bytes(data))
        # run_pipeline lets anything but MediaError propagate and fail the test
        outcome, _, _ = run_pipeline(Case("mutant", mutant, ACCEPTED, None, ""), tmp_path)
        assert outcome in (ACCEPTED, *CODES)


def test_the_media_layer_does_not_import_django():
    code = ("import sys, submissions.media, submissions.generator; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))")

    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            check=True, text=True)

    assert result.stdout.strip() == "[]"

