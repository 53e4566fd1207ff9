"""kazsim: an agent-based model of militancy and counter-terrorism policing in Kazakhstan, 2011."""

import sys

# Some environments set PYTHONDONTWRITEBYTECODE; without cached bytecode every kazsim process (each
# CLI call, each batch worker) recompiles pandas, numba and Mesa, about 2 s. Asking uv to compile at
# install instead makes every `uv run` re-check ~11,000 files. So kazsim writes the cache itself, once.
sys.dont_write_bytecode = False
