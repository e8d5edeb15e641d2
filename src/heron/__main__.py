"""``python -m heron``: the same as the ``heron`` command."""

from heron.cli import main

main()
