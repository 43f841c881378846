"""Renderers: views of Reports. Only the CLI picks one."""

FORMATS = ("terminal", "text", "json")
