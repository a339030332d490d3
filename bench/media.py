"""The media layer against the ffmpeg CLI on the same 10 s 1080p30 H.264 + AAC clip.

Three hot paths, each timed against the CLI doing the same work in the same run (best of 3,
interleaved): the watermarked rendition (overlay of the same mark PNG, same libx264 preset and
crf, AAC re-encoded at the same bit rate, +faststart), the probe (``ffmpeg -i``), and the
poster (``-ss 1 ... -frames:v 1 -vf scale=640:-2``). Prints ``ours / CLI = 0.93x``: below 1.0x
we are faster. The source clip is built once with the CLI and cached under /tmp.
"""

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from submissions.media import MediaPolicy, make_poster, make_watermarked, mark_box, probe
from submissions.media.watermark import CRF, PRESET, render_mark

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
SOURCE = Path(tempfile.gettempdir()) / "early-access-bench" / "source-1080p30-10s.mp4"
MARK_TEXT = "EARLY ACCESS · 0123abcd"
ROUNDS = 3
POLICY = MediaPolicy()


def build_source() -> Path:
    """Dense content (testsrc2 plus temporal noise) at ~12 Mb/s, so the decoder and the
    encoder both have real work; a 440 Hz stereo tone as the sound track."""
    if SOURCE.exists():
        return SOURCE
    SOURCE.parent.mkdir(parents=True, exist_ok=True)
    partial = SOURCE.with_suffix(".partial.mp4")
    subprocess.run([
        FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=10,noise=alls=12:allf=t+u",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=10",
        "-c:v", "libx264", "-preset", "veryfast", "-b:v", "12M", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-movflags", "+faststart", str(partial),
    ], check=True)
    partial.rename(SOURCE)
    return SOURCE


def timed(run) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its children, all threads)."""
    def cpu() -> float:
        own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                              resource.RUSAGE_CHILDREN))
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    started, started_cpu = time.perf_counter(), cpu()
    run()
    return time.perf_counter() - started, cpu() - started_cpu


def cli(*arguments: str, expect_failure: bool = False) -> None:
    result = subprocess.run([FFMPEG, "-nostdin", "-hide_banner", *arguments],
                            capture_output=True, check=False)
    if (result.returncode != 0) != expect_failure:
        raise RuntimeError(result.stderr.decode(errors="replace")[-2000:])


def x264_build(path: Path) -> str:
    data = path.read_bytes()
    start = data.find(b"x264 - core ")
    return data[start + 7:start + 15].decode() if start >= 0 else "?"


def main() -> None:
    source = build_source()
    work = Path(tempfile.mkdtemp(prefix="bench-media-"))
    mark_png = work / "mark.png"
    render_mark(MARK_TEXT, 1920, 1080).save(mark_png)
    x, y, _, _ = mark_box(1920, 1080, MARK_TEXT)
    ours_mp4, cli_mp4 = work / "ours.mp4", work / "cli.mp4"
    ours_jpg, cli_jpg = work / "ours.jpg", work / "cli.jpg"

    cases = {
        "watermark": (
            lambda: make_watermarked(source, ours_mp4, POLICY, MARK_TEXT),
            lambda: cli("-loglevel", "error", "-y", "-i", str(source), "-i", str(mark_png),
                        "-filter_complex",
                        f"[0:v][1:v]overlay=x={x}:y={y}:eof_action=repeat,"
                        "format=yuv420p[v]",
                        "-map", "[v]", "-map", "0:a", "-map_metadata", "-1",
                        "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF),
                        "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(cli_mp4)),
        ),
        "probe": (
            lambda: probe(source, POLICY),
            lambda: cli("-i", str(source), expect_failure=True),  # no output file: exits 1
        ),
        "poster": (
            lambda: make_poster(source, ours_jpg, POLICY),
            lambda: cli("-loglevel", "error", "-y", "-ss", "1", "-i", str(source),
                        "-frames:v", "1", "-vf", "scale=640:-2", str(cli_jpg)),
        ),
    }
    times = {name: ([], []) for name in cases}
    for round_number in range(ROUNDS):
        for name, runs in cases.items():
            order = (0, 1) if round_number % 2 == 0 else (1, 0)
            for side in order:
                times[name][side].append(timed(runs[side]))

    print(f"source: {source} ({source.stat().st_size / 2**20:.1f} MB, 10 s 1920x1080 30 fps "
          "H.264 + AAC); best of 3, interleaved")
    print(f"x264: ours {x264_build(ours_mp4)}, CLI {x264_build(cli_mp4)}; "
          f"preset {PRESET}, crf {CRF}; rendition sizes: ours "
          f"{ours_mp4.stat().st_size / 2**20:.2f} MB, CLI {cli_mp4.stat().st_size / 2**20:.2f} MB")
    for name, (ours_runs, cli_runs) in times.items():
        ours, theirs = min(ours_runs), min(cli_runs)
        detail = f"  (libx264 {PRESET}, crf {CRF})" if name == "watermark" else ""
        print(f"{name:<10} ours {ours[0] * 1000:8.0f} ms / CLI {theirs[0] * 1000:8.0f} ms = "
              f"{ours[0] / theirs[0]:.2f}x{detail}")
        # CPU time is the load-proof figure on a shared machine: a process with more threads
        # gets more of a contended CPU, whatever work it does.
        print(f"{'':<10} CPU of the fastest runs: ours {ours[1]:.2f} s / CLI {theirs[1]:.2f} s"
              f" = {ours[1] / theirs[1]:.2f}x; all wall times, ms: ours "
              f"{', '.join(f'{run[0] * 1000:.0f}' for run in ours_runs)}; CLI "
              f"{', '.join(f'{run[0] * 1000:.0f}' for run in cli_runs)}")
    for path in work.iterdir():
        path.unlink()
    work.rmdir()


if __name__ == "__main__":
    main()
