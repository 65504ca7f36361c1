"""``radiai``: subcommands go to radiai_core.cli (no Qt loaded); otherwise the viewer opens."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

SUBCOMMANDS = {"inspect", "analyze", "evaluate", "train", "-h", "--help"}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (argv[0] in SUBCOMMANDS or argv[0] in ("-v", "--verbose")):
        from radiai_core.cli import main as cli_main

        return cli_main(argv)
    return run_gui(argv)


def run_gui(paths: Sequence[str]) -> int:
    # TensorFlow/Mesa crash under Xvfb without this (see NOTES-stack); harmless elsewhere.
    os.environ.setdefault("QT_XCB_GL_INTEGRATION", "none")
    from PyQt5.QtWidgets import QApplication

    from .crash import configure_logging, install_excepthook
    from .main_window import MainWindow

    configure_logging()
    install_excepthook()
    app = QApplication.instance() or QApplication(["radiai"])
    app.setApplicationName("RadiAI")
    app.setOrganizationName("RadiAI")
    window = MainWindow()
    window.show()
    window.preload_models()  # the window is up first; models load in a worker
    if paths:
        window.open_paths(paths)
    return app.exec_()


def run_gui_from_argv() -> int:
    """``radiai-gui`` (no console window on Windows): the viewer, with optional paths."""
    return run_gui(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
