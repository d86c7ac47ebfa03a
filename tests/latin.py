"""Latin-alphabet words in text meant to be Chinese only.

`latin_words(text)` lists the words of two or more Latin letters left in `text` once what may
stay Latin in a Chinese document is taken out: `code` spans (names in the results, policy keys,
commands), file names and paths (003_aa574bb9555c6b84.txt, reference/calibration-inputs.md),
and the product's name. Single letters (the t of "t 分布", a symbol in a formula) are allowed.
"""

from __future__ import annotations

import re

CODE = re.compile(r"`[^`]*`")
FILE = re.compile(r"[\w.\-]*[/\\][\w./\\\-]*|[\w.\-]+\.(?:txt|yaml|yml|md|nc|py|png|svg|html|json|csv|parquet|dta|xlsx)\b")
ALLOWED = {"microsim"}
WORD = re.compile(r"[A-Za-z]{2,}")


def latin_words(text: str) -> list[str]:
    text = FILE.sub(" ", CODE.sub(" ", text))
    return [w for w in WORD.findall(text) if w not in ALLOWED]
