"""Entry point of the frozen bundle (PyInstaller runs a script, not a package module)."""

import sys

from app.main import main

if __name__ == "__main__":
    sys.exit(main())
