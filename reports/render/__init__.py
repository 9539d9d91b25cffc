"""Presenting results: terminal tables, Markdown, self-contained HTML and figures."""
