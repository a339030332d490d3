"""Stills for moderators: a poster frame and a contact sheet, JPEG via Pillow.

Pillow only ever sees pictures we decoded and scaled ourselves, never the uploaded bytes.
"""

import os
from collections.abc import Iterator

from av.video.frame import VideoFrame
from PIL import Image, ImageDraw, ImageFont

from .errors import unreadable
from .opening import GuardedVideoDecoder, Media, open_media, packets, translating, writing
from .policy import MediaPolicy

POSTER_WIDTH = 640
POSTER_AT_S = 1.0  # or at 10 % of a clip shorter than 10 s
TILE_WIDTH = 320
SHEET_GAP = 4
SHEET_BACKGROUND = (16, 16, 16)
JPEG_QUALITY = 85


def make_poster(path: str | os.PathLike, out_path: str | os.PathLike,
                policy: MediaPolicy) -> None:
    """Write a JPEG of the frame at 1 s (10 % into a shorter clip), at most 640 px wide,
    upright. Raises MediaError; leaves no partial file."""
    with writing(out_path), open_media(path, policy) as media:
        media.use_only(media.video)
        at = min(POSTER_AT_S, media.duration_s() * 0.1)
        decoder = GuardedVideoDecoder(media, policy)
        [(_, frame)] = frames_at(media, decoder, [at])
        still(frame, POSTER_WIDTH).save(out_path, "JPEG", quality=JPEG_QUALITY)


def make_contact_sheet(path: str | os.PathLike, out_path: str | os.PathLike,
                       policy: MediaPolicy, columns: int = 4, rows: int = 3) -> None:
    """Write a JPEG grid of ``columns`` x ``rows`` frames evenly spaced through the clip
    (the middle of each equal slice), each at most 320 px wide, its time drawn on it.

    The sheet measures ``columns * tile_w + (columns + 1) * 4`` by
    ``rows * tile_h + (rows + 1) * 4`` pixels, where the tile is the first frame's upright
    size scaled down to at most 320 px wide, even numbers (``tile_size``)."""
    if not (1 <= columns <= 10 and 1 <= rows <= 10):
        raise ValueError("columns and rows must be between 1 and 10")
    count = columns * rows
    with writing(out_path):
        with open_media(path, policy) as media:
            media.use_only(media.video)
            duration = media.duration_s()
            decoder = GuardedVideoDecoder(media, policy)
            times = [(index + 0.5) * duration / count for index in range(count)]
            tiles = [(decoder.elapsed_s(frame) or 0.0, still(frame, TILE_WIDTH))
                     for _, frame in frames_at(media, decoder, times)]
        tile_w, tile_h = tiles[0][1].size
        sheet = Image.new("RGB", (columns * tile_w + (columns + 1) * SHEET_GAP,
                                  rows * tile_h + (rows + 1) * SHEET_GAP), SHEET_BACKGROUND)
        font = ImageFont.load_default(size=max(10, tile_h // 9))
        draw = ImageDraw.Draw(sheet)
        for index, (seconds, tile) in enumerate(tiles):
            if tile.size != (tile_w, tile_h):  # the stream changed size mid-way
                tile = tile.resize((tile_w, tile_h))
            left = SHEET_GAP + (index % columns) * (tile_w + SHEET_GAP)
            top = SHEET_GAP + (index // columns) * (tile_h + SHEET_GAP)
            sheet.paste(tile, (left, top))
            _label(draw, font, timestamp(seconds), left, top + tile_h)
        sheet.save(out_path, "JPEG", quality=JPEG_QUALITY)


def timestamp(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{rest:04.1f}"


def _label(draw: ImageDraw.ImageDraw, font, text: str, left: int, bottom: int) -> None:
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
    pad = 3
    box_top = bottom - (y1 - y0) - 2 * pad
    draw.rectangle((left, box_top, left + (x1 - x0) + 2 * pad, bottom), fill=(0, 0, 0))
    draw.text((left + pad - x0, box_top + pad - y0), text, font=font, fill=(255, 255, 255))


def tile_size(width: int, height: int, rotation: int, max_width: int) -> tuple[int, int]:
    """The upright size of a still: at most ``max_width`` wide, aspect kept, even numbers."""
    if rotation % 180:
        width, height = height, width
    out_w = min(max_width, width)
    out_h = max(2, round(height * out_w / width))
    return out_w - out_w % 2, out_h - out_h % 2


def still(frame: VideoFrame, max_width: int) -> Image.Image:
    """The frame as an upright RGB image at most ``max_width`` wide (swscale does the
    scaling and the colour conversion in one pass; Pillow only turns it upright)."""
    rotation = round(frame.rotation) % 360
    if rotation not in (0, 90, 180, 270):
        rotation = 0  # a skewed display matrix: show the picture as stored
    width, height = tile_size(frame.width, frame.height, rotation, max_width)
    if rotation % 180:
        width, height = height, width
    with translating():
        image = frame.reformat(width=width, height=height, format="rgb24").to_image()
    if rotation:
        # rotation is counter-clockwise, as FFmpeg's display matrix states it
        image = image.rotate(rotation, expand=True)
    return image


def frames_at(media: Media, decoder: GuardedVideoDecoder,
              times: list[float]) -> list[tuple[float, VideoFrame]]:
    """The first frame at or after each time (ascending), or the last frame if the stream
    ends first. Seeks only where the container's index shows a keyframe between the
    current position and the target, so short-GOP clips decode little and an index-less
    file is decoded once, front to back."""
    stream = media.video
    time_base = decoder.time_base
    start = stream.start_time or 0
    with translating():
        keyframes = sorted(entry.timestamp for entry in stream.index_entries
                           if entry.is_keyframe)
    rate = media.frame_rate()
    half_frame = int(1 / (2 * rate * time_base)) if rate else 0
    chosen: list[tuple[float, VideoFrame]] = []
    frames: Iterator[VideoFrame] | None = None
    position = start
    last: VideoFrame | None = None
    for at in times:
        target = start + int(at / time_base)
        if last is not None and last.pts is not None and last.pts >= target - half_frame:
            chosen.append((at, last))  # the frame already decoded covers this time too
            continue
        keyframe = max((ts for ts in keyframes if ts <= target), default=None)
        skip_ahead = keyframe is not None and keyframe > max(position, start)
        if frames is None or skip_ahead:
            if skip_ahead:
                with translating():
                    media.container.seek(target, stream=stream, backward=True)
            frames = _decoded(media, decoder)
        for frame in frames:
            last = frame
            position = frame.pts if frame.pts is not None else position
            if frame.pts is None or frame.pts >= target - half_frame:
                break
        if last is None:
            raise unreadable("it contains no pictures")
        chosen.append((at, last))
    return chosen


def _decoded(media: Media, decoder: GuardedVideoDecoder) -> Iterator[VideoFrame]:
    for packet in packets(media, decoder.stream):
        yield from decoder.decode(packet)
