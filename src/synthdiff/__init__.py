"""synthdiff: how does a synthetic image differ from what it should be?"""

__version__ = "0.1.0"

__all__ = ["__version__"]
