"""The report's options, checked before anything heavy is imported or computed.

Takes: a language and formats. Gives: `check_report_options`, which refuses an unknown one
(`InputError`, exit 2), so that `microsim run --lang xx` fails at once, not after the run.
"""

from __future__ import annotations

from microsim.errors import InputError

LANGS = ("zh", "en")
FORMATS = ("html", "md")


def check_report_options(lang: str, formats: tuple[str, ...] = FORMATS) -> None:
    """Refuse an unknown language or format (before anything is computed)."""
    if lang not in LANGS:
        raise InputError(None, f"--lang must be one of {', '.join(LANGS)}", value=lang,
                         has_value=True)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise InputError(None, f"--format must be one of {', '.join(FORMATS)}", value=bad[0],
                         has_value=True)
