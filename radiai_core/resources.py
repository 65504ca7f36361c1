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


def data_dir() -> Path:
    """Where RadiAI keeps the user's data (the history database): ``$RADIAI_DATA_DIR`` if set,
    else the platform's user data folder. Created readable by the user only."""
    env = os.environ.get("RADIAI_DATA_DIR")
    if env:
        folder = Path(env)
    else:
        from platformdirs import user_data_dir

        folder = Path(user_data_dir("RadiAI", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder
