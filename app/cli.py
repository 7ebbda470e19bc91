"""Operator commands (`flask ...`); each calls one service."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the command groups."""
