"""Numbers written for people, one way everywhere (the command's lines, the reports and their pages)."""

from __future__ import annotations

__all__ = ["signed"]


def signed(value: float, digits: int = 1) -> str:
    """``value`` with its sign and ``digits`` decimals, never a negative zero.

    Example:
        >>> signed(-0.0004 * 100), signed(2.345, 2)
        ('+0.0', '+2.35')
    """
    return f"{round(value, digits) + 0.0:+.{digits}f}"
