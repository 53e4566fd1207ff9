"""The ``kazsim`` command line: ``sim.cli.main:app``, one module per command group, shared helpers in ``common``."""
