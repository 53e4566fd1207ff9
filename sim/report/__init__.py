"""Reports: comparison, exploration and discovery results as HTML or Markdown, with figures and tables beside them.

Every figure is drawn in one style (``style``: a colour-blind-safe palette with line styles, units on
every axis, no overlapping text) and written as PNG and SVG; every table also as CSV.
"""

from __future__ import annotations

from sim.report.comparison import interval, number, write_comparison_report
from sim.report.document import REPORT_FORMATS, files_folder, report_format

__all__ = ["REPORT_FORMATS", "files_folder", "interval", "number", "report_format", "write_comparison_report"]
