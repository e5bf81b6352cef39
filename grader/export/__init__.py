"""Render a native report for Gradescope, GitHub Classroom, JUnit consumers and Markdown.

Each renderer is a pure function of a schema-valid report (schema v2), and each starts where the
student should: a problem with the submission as a whole, once; then the root causes, one per
wrong task, in the order to fix them (grader/export/causes.py). The cases such a problem blocks
become one line; the native JSON keeps every case. Only the native JSON and Gradescope (which
gates visibility itself) carry the feedback of hidden tests; the other formats end up in logs and
summaries that students can read, so they show a hidden test's outcome but not why. Student text
is made inert in each format (docs/ci.md says how), and every string is capped.
"""

from grader.export.classroom import classroom
from grader.export.gradescope import gradescope
from grader.export.junit import junit_xml
from grader.export.markdown import markdown

__all__ = ["classroom", "gradescope", "junit_xml", "markdown"]
