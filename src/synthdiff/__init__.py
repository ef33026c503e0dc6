"""synthdiff: how does a synthetic image differ from what it should be?

The main entry point for a pair is :func:`compare`; see the subpackages for the pieces
(:mod:`synthdiff.io`, :mod:`synthdiff.metrics`, :mod:`synthdiff.align`, :mod:`synthdiff.diff`).
"""

from synthdiff.diff import Comparison, compare
from synthdiff.errors import SynthdiffError

__version__ = "0.1.0"

__all__ = ["Comparison", "SynthdiffError", "__version__", "compare"]
