"""``python -m sim.cli``: the ``kazsim`` command."""

from sim.cli.main import main

main()
