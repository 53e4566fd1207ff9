"""What every command shares: the consoles, literal error printing, and bad input as exit status 2."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

from sim.errors import KazsimInputError

# Markup off: paths, scenario names and error texts come from users and files and are printed as they are.
console = Console(width=None if sys.stdout.isatty() else 160, markup=False)
error_console = Console(stderr=True, markup=False)
#: Most worker processes a command starts (far more than any one machine's cores).
MAX_WORKERS = 256

def print_error(message: str, label: str = "error", style: str = "bold red") -> None:
    """One message on stderr, printed literally: text from files and users is never read as markup."""
    error_console.print(Text.assemble((f"{label}: ", style), message), highlight=False, soft_wrap=True)


def reports_input_errors[F: Callable](command: F) -> F:
    """Turn bad input into a one-line message on stderr and exit status 2, with no traceback.

    A file that cannot be read or written (a folder given for a file, no permission, a full disk)
    is reported the same way, naming the file.
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except KazsimInputError as error:
            print_error(str(error))
            sys.exit(2)
        except OSError as error:
            where = error.filename if error.filename is not None else "a file"
            print_error(f"{where}: {error.strerror or error}")
            sys.exit(2)

    return wrapper  # type: ignore[return-value]
