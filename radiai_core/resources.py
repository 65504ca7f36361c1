"""Where bundled files are: one helper for a source checkout, an install and a frozen bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def project_root() -> Path:
    """The folder that holds ``models/`` and ``resources/``.

    Inside a PyInstaller bundle that is ``sys._MEIPASS``; otherwise the checkout this package
    lives in (editable install or source tree).
    """
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    return Path(__file__).resolve().parents[1]


def models_dir() -> Path:
    """``$RADIAI_MODELS`` if set (a site's own models), else the bundled ``models/``."""
    env = os.environ.get("RADIAI_MODELS")
    return Path(env) if env else project_root() / "models"
