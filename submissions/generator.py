"""A stand-in for the text-to-video model: a synthetic clip rendered from a prompt.

Deterministic: the same arguments give a byte-identical MP4 (for a given PyAV/FFmpeg build).
Colours, shapes and their motion come from SHA-256 of (seed, prompt); the prompt is drawn in,
wrapped, top-left; the watermark text sits in the top-right corner (the rendition's own mark
goes bottom-right, so the two never overlap). H.264 (libx264) in MP4, yuv420p, +faststart.
"""

import contextlib
import hashlib
import math
import os
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

import av
from av.audio.frame import AudioFrame
from av.video.frame import VideoFrame
from PIL import Image, ImageDraw, ImageFont, ImageOps

RESOLUTIONS: dict[str, tuple[int, int]] = {
    "tiny": (320, 180),  # tests and the simulation
    "480p": (854, 480),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
}

PRESET = "veryfast"
CRF = 23
# Byte-determinism needs two things, both measured with this PyAV 18.1 build:
# - no B-frames. libx264's macroblock-tree ratecontrol, with B-frames, reads heap memory it
#   never wrote: the same pictures gave different bytes depending on what the process had
#   encoded before (5 distinct files in 8; constant under MALLOC_PERTURB_). Without B-frames,
#   1 in 8 at 1, 2 and 4 threads, and mbtree stays on: a 10 s 720p clip is 433 KB against
#   428 KB with B-frames (mbtree=0 instead would make it 739 KB).
# - a fixed thread count: x264's decisions depend on it, so it is not taken from the machine.
X264_PARAMS = "bframes=0"
ENCODER_THREADS = 4
SAMPLE_RATE = 48_000
MAX_SIDE = 3840


@dataclass(frozen=True)
class _Shape:
    kind: str  # "ellipse", "rectangle" or "triangle"
    size: float  # share of the picture height
    x: float  # start position, share of the free width/height
    y: float
    vx: float  # shares of the free width/height per second; bounces off the edges
    vy: float
    colour: tuple[int, int, int]


class _Seeded:
    """Numbers in [0, 1) drawn from SHA-256 of (seed, prompt): no PRNG state to version."""

    def __init__(self, prompt: str, seed: int) -> None:
        self.key = hashlib.sha256(f"{seed}\n{prompt}".encode()).digest()
        self.count = 0

    def unit(self) -> float:
        self.count += 1
        block = hashlib.sha256(self.key + self.count.to_bytes(8, "big")).digest()
        return int.from_bytes(block[:8], "big") / 2**64

    def colour(self, lightness: float) -> tuple[int, int, int]:
        hue = self.unit()
        return tuple(round(255 * min(1.0, max(0.0, lightness + 0.45 * math.cos(
            2 * math.pi * (hue + shift))))) for shift in (0, 1 / 3, 2 / 3))


def render_clip(*, prompt: str, seed: int, duration_s: float, width: int, height: int,
                out_path: str | os.PathLike, watermark_text: str, fps: int = 24,
                with_audio: bool = False) -> None:
    """Render the clip to ``out_path`` (MP4). ``with_audio`` adds a soft tone (AAC) whose pitch
    also comes from (seed, prompt). Raises ValueError for impossible arguments; a failed render
    leaves no partial file."""
    _validate(duration_s=duration_s, width=width, height=height, fps=fps)
    frame_count = max(1, round(duration_s * fps))
    try:
        with av.open(os.fspath(out_path), "w", format="mp4",
                     options={"movflags": "+faststart", "fflags": "+bitexact"}) as output:
            video = output.add_stream("libx264", rate=fps)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.codec_context.thread_type = "FRAME"
            video.codec_context.thread_count = ENCODER_THREADS
            video.options = {"preset": PRESET, "crf": str(CRF), "x264-params": X264_PARAMS}
            audio = None
            if with_audio:
                audio = output.add_stream("aac", rate=SAMPLE_RATE)
                audio.layout = "mono"
                audio.bit_rate = 96_000
            for index, image in enumerate(render_frames(
                    prompt=prompt, seed=seed, duration_s=duration_s, width=width,
                    height=height, watermark_text=watermark_text, fps=fps)):
                # swscale's result depends on its thread count (slice boundaries), and its
                # automatic count follows the machine: convert on one thread.
                frame = VideoFrame.from_image(image).reformat(format="yuv420p", threads=1)
                frame.pts = index
                output.mux(video.encode(frame))
            output.mux(video.encode(None))
            if audio is not None:
                for frame in _tone(prompt, seed, frame_count / fps):
                    output.mux(audio.encode(frame))
                output.mux(audio.encode(None))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(out_path)
        raise


def render_frames(*, prompt: str, seed: int, duration_s: float, width: int, height: int,
                  watermark_text: str, fps: int = 24) -> Iterator[Image.Image]:
    """The clip's pictures as RGB images (``render_clip`` encodes exactly these)."""
    _validate(duration_s=duration_s, width=width, height=height, fps=fps)
    seeded = _Seeded(prompt, seed)
    top, bottom = seeded.colour(0.25), seeded.colour(0.6)
    background = ImageOps.colorize(Image.linear_gradient("L").resize((width, height)),
                                   top, bottom)
    shapes = [_Shape(kind=("ellipse", "rectangle", "triangle")[int(seeded.unit() * 3)],
                     size=0.15 + 0.3 * seeded.unit(), x=seeded.unit(), y=seeded.unit(),
                     vx=(seeded.unit() - 0.5) * 0.8, vy=(seeded.unit() - 0.5) * 0.8,
                     colour=seeded.colour(0.55))
              for _ in range(3 + int(seeded.unit() * 4))]
    caption = _caption(prompt, width, height)
    mark = _mark(watermark_text, height)
    margin = max(6, height // 40)
    mark_at = (width - mark.width - margin, margin)
    for index in range(max(1, round(duration_s * fps))):
        image = background.copy()
        draw = ImageDraw.Draw(image)
        for shape in shapes:
            _draw_shape(draw, shape, index / fps, width, height)
        image.paste(caption, (margin, margin), caption)
        image.paste(mark, mark_at, mark)
        yield image


def _validate(*, duration_s: float, width: int, height: int, fps: int) -> None:
    if not 0 < duration_s <= 600:
        raise ValueError("duration_s must be in (0, 600]")
    if not (16 <= width <= MAX_SIDE and 16 <= height <= MAX_SIDE) or width % 2 or height % 2:
        raise ValueError(f"width and height must be even numbers in [16, {MAX_SIDE}]")
    if not 1 <= fps <= 120:
        raise ValueError("fps must be in [1, 120]")


def _position(start: float, speed: float, seconds: float) -> float:
    """A share in [0, 1] that bounces between the edges."""
    travelled = (start + speed * seconds) % 2
    return 2 - travelled if travelled > 1 else travelled


def _draw_shape(draw: ImageDraw.ImageDraw, shape: _Shape, seconds: float,
                width: int, height: int) -> None:
    side = shape.size * height
    left = _position(shape.x, shape.vx, seconds) * (width - side)
    top = _position(shape.y, shape.vy, seconds) * (height - side)
    box = (left, top, left + side, top + side)
    if shape.kind == "ellipse":
        draw.ellipse(box, fill=shape.colour)
    elif shape.kind == "rectangle":
        draw.rectangle(box, fill=shape.colour)
    else:
        draw.polygon([(left + side / 2, top), (left + side, top + side), (left, top + side)],
                     fill=shape.colour)


def _caption(prompt: str, width: int, height: int) -> Image.Image:
    """The prompt, word-wrapped to about 60 % of the width, at most four lines, on a
    translucent panel."""
    font = ImageFont.load_default(size=max(10, height // 18))
    max_width = int(width * 0.6)
    lines: list[str] = []
    for word in prompt.split() or [""]:
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(candidate) <= max_width:
            lines[-1] = candidate
        else:
            lines.append(word)
    if len(lines) > 4:
        lines = [*lines[:3], lines[3] + " …"]
    lines = [_fit(line, font, max_width) for line in lines]
    spacing = max(2, font.size // 4)
    pad = max(4, font.size // 2)
    text = "\n".join(lines)
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = probe.multiline_textbbox((0, 0), text, font=font,
                                                        spacing=spacing)
    panel = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(panel)
    draw.rounded_rectangle((0, 0, panel.width - 1, panel.height - 1), radius=pad,
                           fill=(0, 0, 0, 120))
    draw.multiline_text((pad - left, pad - top), text, font=font, spacing=spacing,
                        fill=(255, 255, 255, 255))
    return panel


def _fit(line: str, font, max_width: int) -> str:
    if font.getlength(line) <= max_width:
        return line
    while line and font.getlength(line + "…") > max_width:
        line = line[:-1]
    return line + "…"


def _mark(text: str, height: int) -> Image.Image:
    font = ImageFont.load_default(size=max(9, height // 30))
    left, top, right, bottom = font.getbbox(text)
    pad = max(3, font.size // 3)
    mark = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(mark)
    draw.rectangle((0, 0, mark.width - 1, mark.height - 1), fill=(255, 255, 255, 90))
    draw.text((pad - left, pad - top), text, font=font, fill=(255, 255, 255, 230))
    return mark


def _tone(prompt: str, seed: int, duration_s: float) -> Iterator[AudioFrame]:
    """A quiet sine tone, 1024-sample AAC-sized frames, pitch from (seed, prompt)."""
    frequency = 220 + 440 * _Seeded(prompt, seed).unit()
    total = round(duration_s * SAMPLE_RATE)
    step = 2 * math.pi * frequency / SAMPLE_RATE
    for start in range(0, total, 1024):
        count = min(1024, total - start)
        samples = array("f", (0.2 * math.sin(step * (start + i)) for i in range(count)))
        frame = AudioFrame(format="flt", layout="mono", samples=count)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate = SAMPLE_RATE
        frame.pts = start
        yield frame
