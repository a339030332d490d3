"""The upload benchmark's baseline: a minimal WSGI app that streams the request body
straight to a file (what any upload endpoint must at least do)."""

import os
import tempfile


def application(environ, start_response):
    remaining = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    descriptor, path = tempfile.mkstemp(dir=os.environ.get("BENCH_SCRATCH"))
    with os.fdopen(descriptor, "wb") as target:
        while remaining > 0:
            chunk = stream.read(min(1024 * 1024, remaining))
            if not chunk:
                break
            target.write(chunk)
            remaining -= len(chunk)
    os.unlink(path)
    start_response("201 Created", [("Content-Type", "application/json")])
    return [b'{"status": "stored"}']
