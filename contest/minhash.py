"""Pure: texts that say the same thing, found cheaply. A text's character shingles (two characters: a Chinese word
is often two) are summarised by a MinHash signature, whose agreement estimates the texts' Jaccard similarity; the
signature is cut into bands, and two texts sharing a band's hash are candidates (locality-sensitive hashing), so
that a new text is compared with the few texts that share a band, never with every text."""
from __future__ import annotations

import hashlib
import random
import re
from functools import lru_cache

import numpy as np

PERMUTATIONS = 64
BANDS = 16  # of 4 rows: two texts of Jaccard 0.5 share a band with probability 1-(1-0.5^4)^16 = 0.64; of 0.7, 0.98
ROWS = PERMUTATIONS // BANDS
SHINGLE = 2
PRIME = (1 << 31) - 1  # (a * h + b) mod PRIME with h, a, b below it fits in 64 bits
_random = random.Random(20261202)
_A = np.array([_random.randrange(1, PRIME) for _ in range(PERMUTATIONS)], dtype=np.uint64)
_B = np.array([_random.randrange(0, PRIME) for _ in range(PERMUTATIONS)], dtype=np.uint64)
_NOT_TEXT = re.compile(r"[\W_]+", re.UNICODE)


def shingles(text: str) -> set[str]:
    """The text's runs of SHINGLE characters, letters and digits only, lower-cased."""
    text = _NOT_TEXT.sub("", text.lower())
    if len(text) <= SHINGLE:
        return {text} if text else set()
    return {text[i:i + SHINGLE] for i in range(len(text) - SHINGLE + 1)}


@lru_cache(maxsize=1 << 18)  # a language's two-character shingles repeat: most are hashed once
def _hash(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "little") % PRIME


def signature(parts: set[str]) -> np.ndarray:
    """The MinHash signature: for each of the permutations, the least permuted hash of a shingle."""
    if not parts:
        return np.full(PERMUTATIONS, PRIME, dtype=np.uint64)
    hashes = np.array([_hash(s) for s in parts], dtype=np.uint64)
    return ((np.outer(_A, hashes) + _B[:, None]) % PRIME).min(axis=1)


def estimate(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b))


def jaccard(a: set[str], b: set[str]) -> float:
    common = len(a & b)  # the union's size from it, without making the union (twice as fast, in bulk)
    return common / (len(a) + len(b) - common) if a or b else 0.0


def bands(sig: np.ndarray) -> list[int]:
    """Each band's rows hashed to one signed 64-bit number (a database's BIGINT)."""
    out = []
    for band in range(BANDS):
        rows = sig[band * ROWS:(band + 1) * ROWS].astype("<u8").tobytes()
        digest = hashlib.blake2b(bytes([band]) + rows, digest_size=8).digest()
        out.append(int.from_bytes(digest, "little", signed=True))
    return out


def text_bands(text: str) -> list[int]:
    """The bands of a text, or none for a text too short to say anything (fewer than four shingles)."""
    parts = shingles(text)
    return bands(signature(parts)) if len(parts) >= 4 else []
