"""One sampling decision per request, taken alike in the router and in every replica.

Azure samples a request as a whole: its request, response, model inputs and outputs are
kept or dropped together, so that what is kept still joins. devkit's router and replicas
are separate processes that share nothing but the request id, so the decision is a pure
function of it: the first 8 bytes of its BLAKE2b digest read as a fraction of 2**64,
kept when below the sampling rate. Ids are random UUIDs, so over many requests the kept
fraction converges to the rate (the tests check it within 3 sigma over 1,000 requests).
"""

from __future__ import annotations

import hashlib

_SCALE = float(1 << 64)


def sampled(correlation_id: str, rate: float) -> bool:
    """Whether the request with this id is collected at ``rate`` (0..1)."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.blake2b(correlation_id.encode("utf-8", "replace"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE < rate
