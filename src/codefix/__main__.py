"""`python -m codefix`: the console script, minus one trap of `-m`.

`python -m` puts the current folder first on `sys.path`, so scanning a project
that holds a `rich.py` or `typer.py` would import the user's file instead of the
library. codefix must never import the code it scans, so that entry goes first.
"""
import os
import sys

if not sys.flags.safe_path:
    _cwd = os.getcwd()
    sys.path[:] = [entry for entry in sys.path if entry not in ("", _cwd)]

from codefix.entry import main  # noqa: E402

main()
