"""``python -m synthdiff``: the command line, where the ``synthdiff`` script is not on the PATH."""

from synthdiff.cli import main

main()
