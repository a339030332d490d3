"""The audit log's signing key: Ed25519 signatures over checkpoints, and how anyone checks them.

A checkpoint is signed over this exact byte string (UTF-8, lines joined by ``\\n``, no trailing
newline)::

    early-access-checkpoint
    <seq, decimal>
    <head_hash, 64 lower-case hex digits>
    <created_at, YYYY-MM-DDTHH:MM:SS.ffffffZ in UTC>

The signature is the 64-byte Ed25519 signature in lower-case hex. A key is named by its
``key_id``: the first 16 hex digits of SHA-256 over the raw 32-byte public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MESSAGE_PREFIX = b"early-access-checkpoint"


def timestamp(moment: datetime) -> str:
    """``moment`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fraction digits).

    The one time format of the chain: in the canonical form of events and in signed
    checkpoints. A naive value is taken to be UTC already (how SQLite hands them back)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"


def checkpoint_message(seq: int, head_hash: str, created_at: str) -> bytes:
    """The bytes a checkpoint's signature covers (see the module docstring)."""
    return b"\n".join((MESSAGE_PREFIX, str(seq).encode(), head_hash.encode(),
                       created_at.encode()))


def private_key() -> Ed25519PrivateKey:
    """The configured signing key (``AUDIT_SIGNING_KEY``, base64 of 32 raw bytes)."""
    encoded = settings.AUDIT_SIGNING_KEY
    if not encoded:
        raise ImproperlyConfigured(
            "AUDIT_SIGNING_KEY is not set: the sealer cannot sign checkpoints without it.")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ImproperlyConfigured("AUDIT_SIGNING_KEY is not valid base64.") from None
    if len(raw) != 32:
        raise ImproperlyConfigured(
            f"AUDIT_SIGNING_KEY must hold 32 bytes (an Ed25519 private key), not {len(raw)}.")
    return Ed25519PrivateKey.from_private_bytes(raw)


def raw_public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_key: bytes) -> str:
    """The fingerprint that names a key: 16 hex digits of SHA-256 over its raw public bytes."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return key.sign(message).hex()


def signature_valid(public_key: bytes, message: bytes, signature: str) -> bool:
    """Whether ``signature`` (hex) is ``public_key``'s Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(bytes.fromhex(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def decode_public_key(encoded: str) -> bytes:
    """A raw 32-byte public key from its base64 form, or ValueError saying what is wrong."""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError(f"{encoded!r} is not base64") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return raw
