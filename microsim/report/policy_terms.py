"""Policy keys and values in Chinese, for the Chinese report's parameter tables.

Takes: a dotted policy key (`basic.urrbmi.inpatient.rate.primary`) or a policy value.
Gives: its Chinese name (基本医保·城乡居民医保·住院·报销比例·一级及以下医院), from the terms
of `policy_terms.yaml`. A list position reads 第N档 after `bands` and 第N项 elsewhere. A part
with no term (which tests/report/test_policy_terms.py keeps from happening for the schema's
own fields) is shown as code, so the report never passes an English word off as prose.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

TERMS_PATH = Path(__file__).with_name("policy_terms.yaml")
JOIN = "·"


@lru_cache(maxsize=1)
def terms() -> tuple[dict[str, str], dict[str, str]]:
    """(key terms, value terms); YAML's true/false keys read as the words 'true'/'false'."""
    raw = yaml.safe_load(TERMS_PATH.read_text(encoding="utf-8"))
    def words(d): return {str(k).lower() if isinstance(k, bool) else str(k): str(v)
                          for k, v in d.items()}
    return words(raw["keys"]), words(raw["values"])


def key_zh(key: str) -> str:
    """The Chinese name of a dotted policy key."""
    keys, _ = terms()
    parts = key.split(".")
    out = []
    for i, part in enumerate(parts):
        if part.isdigit():
            out.append(f"第{int(part) + 1}{'档' if i and parts[i - 1] == 'bands' else '项'}")
        else:
            out.append(keys.get(part, f"`{part}`"))
    return JOIN.join(out)


def value_zh(value) -> str | None:
    """A policy value in Chinese where it is a word (or a list of words), None for numbers."""
    _, values = terms()
    if isinstance(value, bool):
        return values["true" if value else "false"]
    if isinstance(value, str):
        return values.get(value, f"`{value}`")
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "、".join(value_zh(v) for v in value)
    return None
