"""The clips simulated testers make, and how they reach the platform.

``full``: the platform's generation service renders a 10 s 1080p clip from the prompt
(``submission_generate`` and its render task), exactly as for a person using the generate
button. About 17 s of rendering and processing per clip on two cores: for small runs.

``tiny``: the platform's generator (``submissions.generator.render_clip``, the same
deterministic stand-in for the model that the generation service uses) renders a 64x36 clip
of half a second, and the tester uploads it through the upload service. Every clip still goes
through the real media pipeline (sniffing, probing, policy, poster, contact sheet, watermarked
rendition) when it is submitted; only the render is smaller and, since the generator gives the
same bytes for the same prompt and seed, rendered once per (prompt, seed).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from seeds.simulation.instrument import GENERATOR, Stats
from submissions.uploads import HEAD_BYTES, ReceivedFile

TINY_WIDTH, TINY_HEIGHT = 64, 36
TINY_DURATION_S = 0.5
TINY_FPS = 8
FULL_RESOLUTION, FULL_DURATION_S = "1080p", 10
# Outsiders ask the generation API for the smallest clip it makes when the media is tiny.
OUTSIDER_TINY = {"resolution": "480p", "duration_s": 0.5}
OUTSIDER_FULL = {"resolution": FULL_RESOLUTION, "duration_s": FULL_DURATION_S}
WATERMARK = "EARLY ACCESS · generated"


@dataclass(frozen=True)
class _Rendered:
    content: bytes
    sha256: str


class TinyClips:
    """Tiny clips by (prompt, seed), rendered once each, handed over as fresh upload files."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self._rendered: dict[tuple[str, int], _Rendered] = {}

    def _render(self, prompt: str, seed: int) -> _Rendered:
        from submissions.generator import render_clip
        from submissions.storage import scratch_dir

        rendered = self._rendered.get((prompt, seed))
        if rendered is not None:
            self.stats.counts["tiny clip renders reused"] += 1
            return rendered
        handle, name = tempfile.mkstemp(prefix="sim-", suffix=".mp4", dir=scratch_dir())
        os.close(handle)
        path = Path(name)
        try:
            self.stats.call(GENERATOR, render_clip, prompt=prompt, seed=seed,
                            duration_s=TINY_DURATION_S, width=TINY_WIDTH, height=TINY_HEIGHT,
                            out_path=path, watermark_text=WATERMARK, fps=TINY_FPS)
            content = path.read_bytes()
        finally:
            path.unlink(missing_ok=True)
        rendered = self._rendered[(prompt, seed)] = _Rendered(
            content, hashlib.sha256(content).hexdigest())
        self.stats.counts["tiny clips rendered"] += 1
        return rendered

    def upload_file(self, prompt: str, seed: int) -> ReceivedFile:
        """The clip as the upload handler would have received it: a scratch file (which the
        upload service consumes), its size, SHA-256 and first bytes."""
        from submissions.storage import scratch_dir

        rendered = self._render(prompt, seed)
        handle, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=scratch_dir())
        with os.fdopen(handle, "wb") as file:
            file.write(rendered.content)
        return ReceivedFile(path=Path(name), size=len(rendered.content), sha256=rendered.sha256,
                            head=rendered.content[:HEAD_BYTES])

    def content(self, prompt: str, seed: int) -> bytes:
        return self._render(prompt, seed).content
