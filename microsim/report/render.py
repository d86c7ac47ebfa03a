"""Renderers: a `Report` as a self-contained HTML page or as Markdown with PNG files.

Takes: a `Report` (content.py). Gives: HTML text (figures embedded as base64
PNG, so the page can be mailed or attached as one file) or Markdown text
(figures as relative links to PNG files written beside it).
"""

from __future__ import annotations

import base64
import html

from microsim.report.content import Report, Table

CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Microsoft YaHei",system-ui,sans-serif;
     max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.88em;width:100%}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;white-space:nowrap}
figure{margin:1.5em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#444}.subtitle{color:#555}caption{text-align:left;font-weight:bold;padding:.3em 0}
"""


def _is_number(text: str) -> bool:
    head = text.split(" ")[0].replace(",", "").replace("-", "", 1)
    return head.replace(".", "", 1).isdigit() or head == "n/a"


def _html_table(t: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(
        f"<td class=\"num\">{html.escape(c)}</td>" if _is_number(c) else f"<td>{html.escape(c)}</td>"
        for c in row) + "</tr>" for row in t.rows)
    cap = f"<caption>{html.escape(t.caption)}</caption>" if t.caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(report: Report) -> str:
    parts = [f"<!DOCTYPE html><html lang=\"{'zh-CN' if report.lang == 'zh' else 'en'}\"><head>"
             f"<meta charset=\"utf-8\"><title>{html.escape(report.title)}</title><style>{CSS}</style>"
             f"</head><body><h1>{html.escape(report.title)}</h1>"
             f"<p class=\"subtitle\">{html.escape(report.subtitle)}</p>"]
    for sec in report.sections:
        parts.append(f"<section><h2>{html.escape(sec.title)}</h2>")
        parts += [f"<p>{html.escape(p)}</p>" for p in sec.paragraphs]
        parts += [_html_table(t) for t in sec.tables]
        for fig in sec.figures:
            data = base64.b64encode(fig.png).decode("ascii")
            parts.append(f"<figure id=\"fig-{fig.name}\"><img alt=\"{html.escape(fig.caption)}\" "
                         f"src=\"data:image/png;base64,{data}\"><figcaption>{html.escape(fig.caption)}"
                         "</figcaption></figure>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(t: Table) -> str:
    lines = []
    if t.caption:
        lines.append(f"**{t.caption}**\n")
    lines.append("| " + " | ".join(_md_cell(c) for c in t.columns) + " |")
    lines.append("|" + "|".join("---:" if i > 1 else "---" for i in range(len(t.columns))) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in t.rows]
    return "\n".join(lines)


def to_markdown(report: Report, figure_paths: dict[str, str]) -> str:
    parts = [f"# {report.title}", "", f"_{report.subtitle}_", ""]
    for sec in report.sections:
        parts += [f"## {sec.title}", ""]
        for p in sec.paragraphs:
            parts += [p, ""]
        for t in sec.tables:
            parts += [_md_table(t), ""]
        for fig in sec.figures:
            parts += [f"![{fig.caption}]({figure_paths[fig.name]})", "", f"*{fig.caption}*", ""]
    return "\n".join(parts)
