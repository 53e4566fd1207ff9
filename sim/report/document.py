"""A report as a list of blocks (headings, paragraphs, figures, tables), written as HTML or Markdown.

Beside the report, in ``<name>_files/``, go every figure as PNG and SVG and every table as CSV. The
HTML report embeds its PNGs, so it is one file to send; the Markdown report links to the files.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.errors import KazsimInputError
from sim.provenance import atomic_write_bytes, atomic_write_text

#: Report formats by file suffix.
REPORT_FORMATS: dict[str, str] = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown"}


@dataclass(frozen=True)
class Heading:
    """A section heading (level 2) or sub-heading (level 3)."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text; ``code`` spans are written as ``code``."""

    text: str


@dataclass(frozen=True)
class FigureBlock:
    """A figure: ``name`` names its files, ``caption`` says what it shows."""

    name: str
    caption: str
    png: bytes
    svg: bytes


@dataclass(frozen=True)
class TableBlock:
    """A table shown with readable headers; ``csv`` (machine-readable) is written beside the report."""

    name: str
    shown: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    csv: pd.DataFrame | None = None
    text_columns: int = 1


Block = Heading | Paragraph | FigureBlock | TableBlock


def report_format(path: Path) -> str:
    """``html`` or ``markdown`` from the report's suffix.

    Raises:
        KazsimInputError: an unknown suffix, naming the file and the suffixes expected.
    """
    kind = REPORT_FORMATS.get(Path(path).suffix.lower())
    if kind is None:
        raise KazsimInputError(f"--report {path}: the suffix picks the format; expected one of "
                               f"{', '.join(REPORT_FORMATS)}")
    return kind


def files_folder(path: Path) -> Path:
    """The folder beside a report that holds its figures and tables: ``report_files/`` for ``report.html``."""
    return path.parent / f"{path.stem}_files"


def _inline_html(text: str) -> str:
    parts = html.escape(text).split("`")
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def _markdown_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _html(title: str, blocks: list[Block], folder: str) -> str:
    body = [f"<h1>{html.escape(title)}</h1>"]
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{_inline_html(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{_inline_html(block.text)}</p>")
        elif isinstance(block, FigureBlock):
            data = base64.b64encode(block.png).decode()
            alt = html.escape(block.name.replace("_", " "))
            body.append(f"<figure><img alt='{alt}' src='data:image/png;base64,{data}'>"
                        f"<figcaption>{_inline_html(block.caption)} (<a href='{folder}/{block.name}.svg'>SVG</a>, "
                        f"<a href='{folder}/{block.name}.png'>PNG</a>)</figcaption></figure>")
        elif block.shown.empty:
            notes = [*block.notes, f"As CSV: <a href='{folder}/{block.name}.csv'>{folder}/{block.name}.csv</a>."]
            body += [f"<p class='note'>{_inline_html(note)}</p>" for note in notes[:-1]] + [f"<p>{notes[-1]}</p>"]
        else:
            head = "".join(f"<th>{html.escape(str(c))}</th>" for c in block.shown.columns)
            rows = "".join("<tr>" + "".join(
                f"<td{'' if i < block.text_columns else ' class=n'}>{_inline_html(str(v))}</td>"
                for i, v in enumerate(row)) + "</tr>" for row in block.shown.itertuples(index=False))
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
            notes = list(block.notes)
            if block.csv is not None:
                notes.append(f"As CSV: `{folder}/{block.name}.csv`.")
            body += [f"<p class='note'>{_inline_html(note)}</p>" for note in notes]
    style = ("body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;line-height:1.45}"
             "table{border-collapse:collapse;font-size:13px;margin:.5em 0}th{text-align:left;background:#f3f3f3}"
             "td,th{border:1px solid #ccc;padding:3px 7px}td.n{text-align:right;white-space:nowrap}"
             "figure{margin:1.5em 0}img{max-width:100%}figcaption,.note{font-size:13px;color:#333}"
             "code{font-size:90%}")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


def _markdown(title: str, blocks: list[Block], folder: str) -> str:
    parts = [f"# {title}"]
    for block in blocks:
        if isinstance(block, Heading):
            parts.append(f"{'#' * block.level} {block.text}")
        elif isinstance(block, Paragraph):
            parts.append(block.text)
        elif isinstance(block, FigureBlock):
            parts.append(f"![{block.name.replace('_', ' ')}]({folder}/{block.name}.png)\n\n*{block.caption}* "
                         f"([SVG]({folder}/{block.name}.svg))")
        elif block.shown.empty:
            parts.append("\n\n".join([*block.notes, f"As CSV: [`{block.name}.csv`]({folder}/{block.name}.csv)."]))
        else:
            header = "| " + " | ".join(_markdown_cell(c) for c in block.shown.columns) + " |"
            rule = "|" + "|".join("---" if i < block.text_columns else "---:"
                                  for i in range(len(block.shown.columns))) + "|"
            rows = ["| " + " | ".join(_markdown_cell(v) for v in row) + " |"
                    for row in block.shown.itertuples(index=False)]
            notes = list(block.notes)
            if block.csv is not None:
                notes.append(f"As CSV: [`{block.name}.csv`]({folder}/{block.name}.csv).")
            parts.append("\n".join([header, rule, *rows]) + ("\n\n" + "\n\n".join(notes) if notes else ""))
    return "\n\n".join(parts) + "\n"


def write_document(path: Path, title: str, blocks: list[Block],
                   progress: Callable[[str], None] | None = None) -> Path:
    """Write the report at ``path`` (format from its suffix) and its files in ``<stem>_files/`` beside it.

    Files of an earlier report of the same name are replaced; other files in the folder are left alone.

    Returns:
        The folder of figures and tables.
    """
    path = Path(path)
    kind = report_format(path)
    folder = files_folder(path)
    if progress is not None:
        progress(f"writing {path} and {folder}/")
    if folder.exists() and not folder.is_dir():
        raise KazsimInputError(f"{folder}: is a file; the report needs this name for the folder of its figures")
    folder.mkdir(parents=True, exist_ok=True)
    for block in blocks:
        if isinstance(block, FigureBlock):
            atomic_write_bytes(folder / f"{block.name}.png", block.png)
            atomic_write_bytes(folder / f"{block.name}.svg", block.svg)
        elif isinstance(block, TableBlock) and block.csv is not None:
            atomic_write_text(folder / f"{block.name}.csv", block.csv.to_csv(index=False, lineterminator="\n"))
    text = _html(title, blocks, folder.name) if kind == "html" else _markdown(title, blocks, folder.name)
    atomic_write_text(path, text)
    return folder
