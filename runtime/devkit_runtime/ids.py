"""Request ids, for the scoring server and the router alike.

Request ids need uniqueness, not secrecy, so they come from a per-process
``random.Random`` (seeded from ``os.urandom`` when the process starts) rather than
``uuid.uuid4()``, which reads ``os.urandom`` and builds a UUID object per call (3x slower).
"""

from __future__ import annotations

import random

# A version-4 UUID is 122 random bits with fixed version and variant bits.
_UUID4_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)
_random_bits = random.Random().getrandbits


def new_request_id() -> bytes:
    """A random version 4 UUID, as its 36 ASCII bytes."""
    text = b"%032x" % (_random_bits(128) & _UUID4_KEEP | _UUID4_SET)
    return b"%s-%s-%s-%s-%s" % (text[:8], text[8:12], text[12:16], text[16:20], text[20:])
