"""Renderers: a `Report` as a self-contained HTML page or as Markdown with PNG files.

Takes: a `Report` (content.py). Gives: HTML text (figures embedded as base64
PNG, so the page can be mailed or attached as one file; wide tables scroll
inside their box instead of overflowing the page) or Markdown text (figures
as relative links to PNG files written beside it; a value's interval follows
it in brackets).
"""

from __future__ import annotations

import base64
import html
import re

from microsim.report.content import Cell, Figure, Report, Table
from microsim.report.figures import DPI

CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","Microsoft YaHei",
     "PingFang SC",system-ui,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;
     color:#222;line-height:1.5}
h1{font-size:1.6em;margin-bottom:.2em}
h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
nav{font-size:.9em;margin:1em 0}nav a{margin-right:1em}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.86em}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top;
      overflow-wrap:anywhere}
th{background:#f3f3f3;font-weight:600;overflow-wrap:normal}
td.num{text-align:right;white-space:nowrap;overflow-wrap:normal}
td.short{white-space:nowrap;overflow-wrap:normal}
td .ci{display:block;color:#666;font-size:.85em}
td.met{color:#1a7f37;font-weight:600}td.not_met{color:#b42318;font-weight:600}td.na{color:#666}td.calibrated{color:#8a5a00;font-weight:600}
table.sources td,table.indicators td{font-size:.92em}
caption{text-align:left;font-weight:bold;padding:.3em 0;caption-side:top}
figure{margin:1.5em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#444}.subtitle{color:#555;font-size:.9em}
code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.92em;background:#f5f5f5;
     padding:0 .2em;border-radius:2px}
"""


CODE = re.compile(r"`([^`]+)`")


def _inline(text: str) -> str:
    """Escaped text, with `code` spans (names in the results, keys, files) as <code>."""
    return CODE.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(text))


def _html_cell(c: Cell) -> str:
    classes = " ".join(k for k in ("num" if c.numeric else "", "short" if c.short else "",
                                   c.mark) if k)
    attr = f' class="{classes}"' if classes else ""
    inner = _inline(c.text)
    if c.interval:
        inner += f'<span class="ci">{html.escape(c.interval)}</span>'
    return f"<td{attr}>{inner}</td>"


def _html_table(t: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(_html_cell(c) for c in row) + "</tr>" for row in t.rows)
    cap = f"<caption>{html.escape(t.caption)}</caption>" if t.caption else ""
    kind = f' class="{t.kind}"' if t.kind else ""
    return (f'<div class="scroll"><table{kind}>{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _html_figure(fig: Figure) -> str:
    """The PNG embedded at its size in inches on a 96 dpi page (its pixels are 300 dpi, so it
    stays sharp when zoomed or printed), never wider than the page."""
    data = base64.b64encode(fig.png).decode("ascii")
    width = round(int.from_bytes(fig.png[16:20], "big") * 96 / DPI)   # IHDR width in pixels
    return (f'<figure id="fig-{fig.name}"><img alt="{html.escape(fig.caption)}" '
            f'style="width:{width}px" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(fig.caption)}</figcaption></figure>")


def to_html(report: Report) -> str:
    parts = [f"<!DOCTYPE html><html lang=\"{'zh-CN' if report.lang == 'zh' else 'en'}\"><head>"
             '<meta charset="utf-8"><meta name="viewport" content="width=device-width">'
             f"<title>{html.escape(report.title)}</title><style>{CSS}</style>"
             f"</head><body><h1>{html.escape(report.title)}</h1>"
             f'<p class="subtitle">{_inline(report.subtitle)}</p><nav>']
    parts += [f'<a href="#s{i}">{html.escape(sec.title)}</a>' for i, sec in enumerate(report.sections)]
    parts.append("</nav>")
    for i, sec in enumerate(report.sections):
        parts.append(f'<section id="s{i}" class="{sec.key}"><h2>{html.escape(sec.title)}</h2>')
        for block in sec.blocks:
            if isinstance(block, Table):
                parts.append(_html_table(block))
            elif isinstance(block, Figure):
                parts.append(_html_figure(block))
            else:
                parts.append(f"<p>{_inline(block)}</p>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)


def _md_cell(c: Cell | str) -> str:
    text = c if isinstance(c, str) else (c.text + (f" {c.interval}" if c.interval else ""))
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _md_table(t: Table) -> str:
    lines = []
    if t.caption:
        lines.append(f"**{t.caption}**\n")
    numeric = [any(row[i].numeric for row in t.rows) for i in range(len(t.columns))]
    lines.append("| " + " | ".join(_md_cell(c) for c in t.columns) + " |")
    lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in t.rows]
    return "\n".join(lines)


def to_markdown(report: Report, figure_paths: dict[str, str]) -> str:
    parts = [f"# {report.title}", "", f"_{report.subtitle}_", ""]
    for sec in report.sections:
        parts += [f"## {sec.title}", ""]
        for block in sec.blocks:
            if isinstance(block, Table):
                parts += [_md_table(block), ""]
            elif isinstance(block, Figure):
                parts += [f"![{block.caption}]({figure_paths[block.name]})", "",
                          f"*{block.caption}*", ""]
            else:
                parts += [block, ""]
    return "\n".join(parts)
