"""``python -m proofs_checks``: see :mod:`proofs_checks.scaffold.cli`."""

import sys

from .scaffold.cli import main

if __name__ == "__main__":
    sys.exit(main())
