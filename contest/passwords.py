"""The password policy's pure parts: the most common passwords (ASVS 6.2.4) and trivially repetitive ones."""
from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

# Django's list of the 20,000 most common passwords; source and licence in contest/data/common-passwords.NOTICE.
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def is_common(password: str) -> bool:
    """Among the most common passwords, whatever its case (the list is lower-cased)."""
    return password.strip().lower() in common_passwords()


def is_repetitive(password: str) -> bool:
    """Made of fewer than four different characters, of one piece said again and again (`abcabcabca`), or of
    one even step (`abcdefghij`, `9876543210`): long enough by count, guessed at once."""
    text = password.strip().lower()
    if len(set(text)) < 4:
        return True
    period = next(p for p in range(1, len(text) + 1) if all(text[i] == text[i - p] for i in range(p, len(text))))
    if period <= len(text) // 2:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return len(steps) == 1
