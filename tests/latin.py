"""Latin words left in a Chinese text, for the tests that keep the Chinese report Chinese.

Takes: a text meant for Chinese readers. Gives: `latin_words(text)`, the Latin words it
still holds, in order, so a test can assert the list is empty and show what to translate.

Allowed: anything inside backticks (formulas such as `C = 2cov(y,r)/μ`, keys, indicator
names); file names and paths (a token holding '/' or ending in .yaml, .txt, .md, .nc or
.py); the product name microsim. Everything else counts: a run of two or more Latin
letters anywhere, and a single Latin letter touching a Chinese character or a full-width
punctuation mark (乙类, not B类). A single letter among digits or symbols only (1e-9) is
not a word and is not reported.
"""

from __future__ import annotations

import re

BACKTICKS = re.compile(r"`[^`\n]*`")
TOKEN = re.compile(r"[A-Za-z0-9_./\-]+")
LETTERS = re.compile(r"[A-Za-z]+")
CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
PATH_ENDINGS = (".yaml", ".txt", ".md", ".nc", ".py")
ALLOWED_WORDS = frozenset({"microsim"})


def _is_path(token: str) -> bool:
    core = token.rstrip(".")
    return "/" in core and LETTERS.search(core) is not None or core.endswith(PATH_ENDINGS)


def latin_words(text: str) -> list[str]:
    """The Latin words of `text` outside backticks, paths and the product name."""
    text = BACKTICKS.sub(" ", text)
    found = []
    for token in TOKEN.finditer(text):
        if _is_path(token.group()):
            continue
        for letters in LETTERS.finditer(token.group()):
            word = letters.group()
            if word in ALLOWED_WORDS:
                continue
            if len(word) >= 2:
                found.append(word)
                continue
            start = token.start() + letters.start()
            before = text[start - 1] if start > 0 else ""
            after = text[start + 1] if start + 1 < len(text) else ""
            if CHINESE.match(before) or CHINESE.match(after):
                found.append(word)
    return found
