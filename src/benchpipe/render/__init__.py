"""Formatting: comparison tables (text, Markdown, CSV, JSON), call graphs, trend charts."""
