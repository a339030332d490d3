#!/usr/bin/env python3
"""Check an events export of the Early Access audit log against a signed checkpoint.

Needs only Python 3.9+ and, for the Ed25519 signature, the ``cryptography`` package
(``pip install cryptography``); nothing of the platform itself.

    python verify_export.py events.csv checkpoint.json --public-key <base64>

EXPORT is the events dataset as CSV or JSON Lines; only its ``seq``, ``leaf_hash`` and ``hash``
columns are read (rows without a ``seq`` are events not sealed yet, and are skipped).
CHECKPOINT is one checkpoint as ``GET /api/v1/research/checkpoints/latest/`` answers it, or the
platform's checkpoint log (JSON Lines, one checkpoint per line).

What is checked, with hashes as lower-case hex and ``||`` joining their raw 32 bytes:

- every checkpoint's signature: Ed25519 over the UTF-8 bytes of
  ``"early-access-checkpoint\\n<seq>\\n<head_hash>\\n<created_at>"``;
- the chain: ``hash_1 = SHA-256(32 zero bytes || leaf_hash_1)``, then
  ``hash_n = SHA-256(hash_{n-1} || leaf_hash_n)`` for every row, in seq order;
- the head: the export's ``hash`` at each checkpoint's ``seq`` is the checkpoint's
  ``head_hash``.

Exit status 0 when the export holds seq 1 to the checkpoint's seq without a gap and all of the
above holds; 1 otherwise, with the first problem named by its seq.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import csv
import hashlib
import json
import sys
from pathlib import Path

GENESIS = bytes(32)
MESSAGE_PREFIX = "early-access-checkpoint"


class Failure(Exception):
    """A check that did not hold; the message names where."""


def read_export(path: Path) -> list[tuple[int, str, str]]:
    """``(seq, leaf_hash, hash)`` of every sealed row, in seq order."""
    with path.open(newline="", encoding="utf-8") as handle:
        first = handle.read(1)
        handle.seek(0)
        if first == "{":
            rows = (json.loads(line) for line in handle if line.strip())
        else:
            rows = csv.DictReader(handle)
            missing = {"seq", "leaf_hash", "hash"} - set(rows.fieldnames or ())
            if missing:
                raise Failure(f"{path} has no column {', '.join(sorted(missing))}")
        sealed = []
        for number, row in enumerate(rows, start=1):
            if row.get("seq") in (None, ""):
                continue  # not sealed yet when exported
            try:
                sealed.append((int(row["seq"]), str(row["leaf_hash"]), str(row["hash"])))
            except (KeyError, ValueError):
                raise Failure(f"{path}: row {number} has no usable seq, leaf_hash and hash") \
                    from None
    sealed.sort()
    return sealed


def read_checkpoints(path: Path) -> tuple[list[dict], list[int]]:
    """The checkpoints in ``path``, in seq order, and the numbers of lines that are not JSON
    (a write cut short by a crash leaves one; they are left out)."""
    text = path.read_text(encoding="utf-8")
    unreadable = []
    try:
        documents = [json.loads(text)]
    except json.JSONDecodeError:
        documents = []
        for number, line in enumerate(text.split("\n"), start=1):
            try:
                if line.strip():
                    documents.append(json.loads(line))
            except json.JSONDecodeError:
                unreadable.append(number)
    for document in documents:
        if not isinstance(document, dict) or not {"seq", "head_hash", "created_at",
                                                  "signature", "key_id"} <= set(document):
            raise Failure(f"{path} holds something that is not a checkpoint")
    return sorted(documents, key=lambda document: int(document["seq"])), unreadable


def check_signature(checkpoint: dict, public_key: bytes) -> None:
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        raise Failure("the signature cannot be checked without the cryptography package: "
                      "pip install cryptography") from None
    message = "\n".join((MESSAGE_PREFIX, str(checkpoint["seq"]), checkpoint["head_hash"],
                         checkpoint["created_at"])).encode()
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            bytes.fromhex(checkpoint["signature"]), message)
    except (InvalidSignature, ValueError):
        raise Failure(f"seq {checkpoint['seq']}: the checkpoint's signature does not verify "
                      "with this public key: the checkpoint or the key is not genuine") from None


def verify(rows: list[tuple[int, str, str]], checkpoints: list[dict],
           public_key: bytes) -> str:
    """Raise Failure at the first problem; answer a one-line summary otherwise."""
    last = rows[-1][0] if rows else 0
    covered = [c for c in checkpoints if int(c["seq"]) <= last]
    if not covered:
        raise Failure(f"the export ends at seq {last}, before the first checkpoint "
                      f"(seq {checkpoints[0]['seq']}): export again, or use an older checkpoint")
    key_id = hashlib.sha256(public_key).hexdigest()[:16]
    for checkpoint in covered:
        if checkpoint["key_id"] != key_id:
            raise Failure(f"seq {checkpoint['seq']}: signed by key {checkpoint['key_id']}, not "
                          f"by the key given ({key_id})")
        check_signature(checkpoint, public_key)
    heads = {int(c["seq"]): c["head_hash"] for c in covered}
    previous, expected = GENESIS, 1
    for seq, leaf_hash, stored in rows:
        if seq < expected:
            raise Failure(f"seq {seq} appears twice in the export")
        if seq != expected:
            raise Failure(f"seq {expected}: missing from the export (the next row is seq {seq}); "
                          "only an unfiltered export of every event can be checked")
        try:
            link = hashlib.sha256(previous + bytes.fromhex(leaf_hash)).digest()
        except ValueError:
            raise Failure(f"seq {seq}: leaf_hash is not hex") from None
        if link.hex() != stored:
            raise Failure(f"seq {seq}: hash does not follow from the previous row and this "
                          "row's leaf_hash: rows were changed, added, removed or reordered")
        if seq in heads and heads[seq] != stored:
            raise Failure(f"seq {seq}: the chain does not reach the checkpoint's head "
                          f"({heads[seq][:16]}..., export {stored[:16]}...)")
        previous, expected = link, seq + 1
    newest = covered[-1]
    return (f"OK: seq 1..{newest['seq']} of the export are the chain signed by key "
            f"{newest['key_id']} at {newest['created_at']} (head {newest['head_hash']}); "
            f"{len(covered)} checkpoint(s) checked, {last - int(newest['seq'])} newer row(s) "
            "linked but not yet covered by a checkpoint.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", type=Path, help="the events export (CSV or JSON Lines)")
    parser.add_argument("checkpoint", type=Path,
                        help="a checkpoint JSON file, or the checkpoint log (JSON Lines)")
    parser.add_argument("--public-key", help="base64 of the raw 32-byte Ed25519 public key, "
                                             "from a source you trust (default: the key the "
                                             "checkpoint file carries)")
    args = parser.parse_args(argv)
    try:
        checkpoints, unreadable = read_checkpoints(args.checkpoint)
        if unreadable:
            print(f"Left out lines of {args.checkpoint} that are not JSON (writes cut short by "
                  f"a crash): {', '.join(map(str, unreadable))}.")
        if not checkpoints:
            raise Failure(f"{args.checkpoint} holds no checkpoint")
        encoded = args.public_key or checkpoints[-1].get("public_key")
        if not encoded:
            raise Failure("no public key: pass --public-key")
        try:
            public_key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise Failure("the public key is not base64") from None
        key_id = hashlib.sha256(public_key).hexdigest()[:16]
        if not args.public_key:
            print(f"Using the public key the checkpoint file carries (key id {key_id}); "
                  "compare that id with the one the platform publishes.")
        print(verify(read_export(args.export), checkpoints, public_key))
    except Failure as failure:
        print(f"FAILED: {failure}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
