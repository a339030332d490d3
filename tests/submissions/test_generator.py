"""The clip generator: deterministic bytes, the asked-for format, pictures that decode."""

import hashlib
import subprocess
import sys
from pathlib import Path

import av
import pytest
from PIL import ImageChops

from submissions.generator import ENCODER_THREADS, RESOLUTIONS, render_clip, render_frames

REPO = Path(__file__).resolve().parents[2]
CLIP = {"prompt": "a red fox crossing a frozen lake at dawn", "seed": 7, "duration_s": 2,
        "width": 320, "height": 180, "watermark_text": "EARLY ACCESS · demo"}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def render(tmp_path: Path, name: str, **changes) -> Path:
    path = tmp_path / f"{name}.mp4"
    render_clip(**{**CLIP, **changes}, out_path=path)
    return path


def test_same_arguments_give_byte_identical_files_whatever_ran_before(tmp_path):
    digests = set()
    for number in range(4):
        digests.add(sha256_of(render(tmp_path, f"run{number}")))
        # other encodes in between leave the heap in a different state each time
        render(tmp_path, f"other{number}", prompt=f"something else {number}",
               width=480 + 32 * number, height=270)

    assert len(digests) == 1


def test_bytes_do_not_depend_on_how_many_cpus_the_machine_has(tmp_path):
    here = render(tmp_path, "here")
    one_cpu = tmp_path / "one_cpu.mp4"
    code = ("import os, sys; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "from submissions.generator import render_clip; "
            f"render_clip(**{CLIP!r}, out_path=sys.argv[1])")

    subprocess.run([sys.executable, "-c", code, str(one_cpu)], cwd=REPO, check=True)

    assert ENCODER_THREADS == 4
    assert sha256_of(one_cpu) == sha256_of(here)


@pytest.mark.parametrize("changes", [{"seed": 8}, {"prompt": "a red fox at dusk"},
                                     {"watermark_text": "EARLY ACCESS · other"}])
def test_a_different_seed_prompt_or_watermark_gives_a_different_clip(tmp_path, changes):
    base = render(tmp_path, "base")
    other = render(tmp_path, "other", **changes)

    assert sha256_of(other) != sha256_of(base)


@pytest.mark.parametrize(("duration_s", "fps", "frames"), [(2, 24, 48), (3, 12, 36),
                                                           (1.5, 30, 45)])
def test_clip_has_the_asked_format_and_every_frame_decodes(tmp_path, duration_s, fps, frames):
    path = render(tmp_path, "clip", duration_s=duration_s, fps=fps, width=480, height=270)

    with av.open(str(path)) as container:
        video = container.streams.video[0]
        facts = (container.format.name, video.codec_context.name, video.codec_context.pix_fmt,
                 video.codec_context.width, video.codec_context.height, video.average_rate,
                 float(video.duration * video.time_base), len(container.streams.audio))
        decoded = [frame.pts for frame in container.decode(video)]
    assert facts == ("mov,mp4,m4a,3gp,3g2,mj2", "h264", "yuv420p", 480, 270, fps,
                     duration_s, 0)
    assert len(decoded) == frames
    assert decoded == sorted(set(decoded))
    data = path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart


def test_with_audio_adds_an_aac_track_as_long_as_the_video(tmp_path):
    path = render(tmp_path, "sound", with_audio=True)

    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        facts = (audio.codec_context.name, audio.codec_context.sample_rate,
                 round(float(audio.duration * audio.time_base), 2))
        samples = sum(frame.samples for frame in container.decode(audio))
    assert facts == ("aac", 48000, 2.0)
    assert samples >= 96000


def test_resolutions_are_even_and_include_a_tiny_size():
    assert RESOLUTIONS == {"tiny": (320, 180), "480p": (854, 480), "720p": (1280, 720),
                           "1080p": (1920, 1080)}
    assert all(width % 2 == 0 and height % 2 == 0 for width, height in RESOLUTIONS.values())


def test_prompt_is_drawn_in_white_text():
    def pure_white_pixels(prompt: str) -> int:
        frames = render_frames(**{**CLIP, "prompt": prompt, "duration_s": 1 / 24,
                                  "width": 1280, "height": 720})
        colours = next(iter(frames)).getcolors(maxcolors=1280 * 720)
        return {colour: count for count, colour in colours}.get((255, 255, 255), 0)

    # Shapes and backgrounds never have all three channels at 255; the caption text does.
    assert pure_white_pixels("hello world") > 50
    assert pure_white_pixels("") == 0


def test_watermark_changes_only_the_top_right_corner():
    def first_picture(watermark_text: str):
        frames = render_frames(**{**CLIP, "watermark_text": watermark_text, "duration_s": 1})
        return next(iter(frames))

    left, top, right, bottom = ImageChops.difference(first_picture("EARLY ACCESS · demo"),
                                                     first_picture("")).getbbox()

    assert (left > 320 // 2, top < 180 // 4, right, bottom < 180 // 4) == (True, True, 320 - 6,
                                                                           True)


@pytest.mark.parametrize("changes", [{"width": 321}, {"height": 0}, {"duration_s": 0},
                                     {"fps": 0}, {"width": 7680}])
def test_impossible_arguments_are_refused_before_any_file_is_written(tmp_path, changes):
    with pytest.raises(ValueError, match="must be"):
        render(tmp_path, "bad", **changes)
    assert list(tmp_path.iterdir()) == []
