"""`python -m radiai_core.cli`: the `radiai` command line without the viewer's launcher."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
