"""The one error hierarchy of synthdiff.

Every error synthdiff raises on purpose is a :class:`SynthdiffError`. Each subclass also derives from
the built-in exception a caller would naturally catch (``ValueError`` for bad data, ``OSError`` for
file-system problems), so ``except ValueError`` keeps working. Messages follow one pattern:
what was expected, what was found, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "AlignmentError",
    "CheckpointError",
    "CorruptImageError",
    "EmptyImageError",
    "ImageNotFoundError",
    "ImageTooLargeError",
    "InvalidArgumentError",
    "MissingDependencyError",
    "NotAnImageError",
    "OutputError",
    "SceneError",
    "SizeMismatchError",
    "SynthdiffError",
    "UnsupportedImageError",
]


class SynthdiffError(Exception):
    """Base class of every error synthdiff raises deliberately."""


class InvalidArgumentError(SynthdiffError, ValueError):
    """An option or argument has a value synthdiff cannot use."""


class ImageNotFoundError(SynthdiffError, FileNotFoundError):
    """An input image path does not exist or is not a file."""


class NotAnImageError(SynthdiffError, ValueError):
    """A file exists but is not an image in a supported format."""


class CorruptImageError(SynthdiffError, ValueError):
    """An image file is truncated or its data cannot be decoded."""


class EmptyImageError(SynthdiffError, ValueError):
    """An image file is empty or has zero width or height."""


class UnsupportedImageError(SynthdiffError, ValueError):
    """An image uses a bit depth, sample format or channel count synthdiff does not handle."""


class ImageTooLargeError(SynthdiffError, ValueError):
    """An image has more pixels than the configured limit (a guard against decompression bombs)."""


class SizeMismatchError(SynthdiffError, ValueError):
    """Two images that must be compared pixel by pixel have different sizes."""


class AlignmentError(SynthdiffError, ValueError):
    """Registration was required but no transform could be found."""


class OutputError(SynthdiffError, OSError):
    """An output cannot be written where asked (it would overwrite an input, or the folder is unusable)."""


class MissingDependencyError(SynthdiffError, ImportError):
    """An optional dependency a command needs (Blender's bpy, the web stack) is not installed."""


class SceneError(SynthdiffError, ValueError):
    """A Blender scene file cannot be used: missing, not a .blend, no camera, nothing to vary."""


class CheckpointError(SynthdiffError, ValueError):
    """A model checkpoint is missing, damaged, or not one synthdiff wrote."""
