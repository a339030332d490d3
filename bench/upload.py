"""A large upload through the running server (gunicorn) against a minimal WSGI app that
streams the body to a file on the same server, same run.

Prints the throughput of both, their ratio, and how much each worker's peak RSS grew during
the large upload (after a small warm-up upload).
Goal: >= 0.5x the baseline's throughput, peak RSS growth < 64 MB.
"""

import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE_MB = int(os.environ.get("BENCH_UPLOAD_MB", "500"))
ROUNDS = 5
BOUNDARY = "----early-access-bench-boundary"


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def _serve(app: str, port: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--timeout", "600", "--log-level", "warning"], cwd=ROOT, env=env)
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("HEAD", "/")
            return server
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{app} did not start")


def _parts(clip_head: bytes, size_mb: int) -> tuple[bytes, bytes, int]:
    fields = "".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n" for name, value in (("prompt", "bench"), ("submit", "false")))
    head = (fields + f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            'filename="clip.mp4"\r\nContent-Type: video/mp4\r\n\r\n').encode() + clip_head
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, tail, size_mb * 1024 * 1024 - len(clip_head)


def _upload(port: int, path: str, headers: dict, clip_head: bytes, size_mb: int = SIZE_MB) -> float:
    head, tail, filler = _parts(clip_head, size_mb)
    block = os.urandom(1024 * 1024)

    def body():
        yield head
        left = filler
        while left > 0:
            yield block[: min(len(block), left)]
            left -= len(block)
        yield tail

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request("POST", path, body=body(), headers={
        **headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(len(head) + filler + len(tail))})
    response = connection.getresponse()
    answer = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 201:
        raise RuntimeError(f"{path}: {response.status} {answer[:300]!r}")
    return elapsed


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "DJANGO_SECRET_KEY": "bench-only-" + "x" * 50, "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
           "DJANGO_SECURE_SSL_REDIRECT": "false", "VAR_DIR": str(scratch),
           "DATABASE_URL": f"sqlite:///{scratch}/bench.sqlite3", "BENCH_SCRATCH": str(scratch),
           "CELERY_BROKER_URL": "memory://"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    token = subprocess.run([*manage, "shell", "-c", (
        "from tests.factories import UserFactory; from accounts.selectors import program_get;"
        "from rest_framework.authtoken.models import Token;"
        "p = program_get(); p.max_upload_bytes = 2 * 1024**3; p.save();"
        "print(Token.objects.create(user=UserFactory()).key)")],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip().split()[-1]
    # A real clip's first bytes, so the upload passes type sniffing; the rest is filler
    # (the benchmark measures receiving, not processing).
    sys.path.insert(0, str(ROOT))
    from submissions.generator import render_clip

    render_clip(prompt="bench", seed=1, duration_s=1, width=320, height=180,
                out_path=scratch / "head.mp4", watermark_text="BENCH")
    clip_head = (scratch / "head.mp4").read_bytes()[:4096]

    targets = [("baseline WSGI stream-to-file", "bench._stream_app:application", 8765, "/", {}),
               ("Django upload endpoint", "config.wsgi:application", 8766,
                "/api/v1/submissions/", {"Authorization": f"Token {token}"})]
    times: dict[str, list[float]] = {name: [] for name, *_ in targets}
    grown = dict.fromkeys(times, 0.0)
    servers = []
    try:
        for _name, app, port, path, headers in targets:
            servers.append(_serve(app, port, env))
            # A small upload first, so code loaded on the first request (the media
            # libraries) is not counted as memory the large upload needed.
            _upload(port, path, headers, clip_head, size_mb=1)
        workers = [_worker_pid(server.pid) for server in servers]
        for _ in range(ROUNDS):  # interleaved; the median of each damps machine noise
            for (name, _app, port, path, headers), worker in zip(targets, workers, strict=True):
                before = _peak_rss_kb(worker)
                times[name].append(_upload(port, path, headers, clip_head))
                grown[name] = max(grown[name], (_peak_rss_kb(worker) - before) / 1024)
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"{SIZE_MB} MB multipart upload over loopback, gunicorn with 1 sync worker, "
          f"median of {ROUNDS} interleaved rounds")
    best = {name: statistics.median(runs) for name, runs in times.items()}
    for name, seconds in best.items():
        print(f"{name:30s} {SIZE_MB / seconds:7.0f} MB/s  ({seconds:5.2f} s), "
              f"worker peak RSS +{grown[name]:.1f} MB")
    base, ours = best["baseline WSGI stream-to-file"], best["Django upload endpoint"]
    print(f"ratio Django / baseline throughput = {base / ours:.2f}x")


if __name__ == "__main__":
    main()
