"""Feedback page: one self-contained HTML file for one grading (inline CSS and SVG, no script).

`render(report)` is a pure function of the JSON report (schema v2): the section table, what to
fix, then each case that did not pass, drawn from its DETAILS (the graph with your numbers and
torch's on each node, the model's layers, the loss curves), and every training run's curves.
Report values are text: each is made printable, cut to a length and escaped (markup.py), so no
value can add markup, and a full failing report stays well under 2 MB.
"""

from grader.html.page import render, unavailable

__all__ = ["render", "unavailable"]
