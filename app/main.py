"""``radiai``: subcommands go to radiai_core.cli (no Qt loaded); otherwise the viewer opens."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

_T_MAIN = time.time()  # for the start-up benchmark: when Python reached RadiAI's code

COMMANDS = ("inspect", "analyze", "evaluate", "train", "listen", "trace", "models")
SUBCOMMANDS = {*COMMANDS, "-h", "--help", "-V", "--version"}


def main(argv: Sequence[str] | None = None) -> int:
    """``radiai``: a subcommand runs in the CLI (no Qt); existing files and folders (or none)
    open the viewer; any other word is a usage error (exit 2) before Qt is loaded."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (argv[0] in SUBCOMMANDS or argv[0] in ("-v", "--verbose")):
        from radiai_core.cli import main as cli_main

        return cli_main(argv)
    unknown = unknown_words(argv)
    if unknown:
        sys.stderr.write(f"radiai: {unknown}\n")
        return 2
    return run_gui(argv)


def unknown_words(argv: Sequence[str]) -> str | None:
    """Why ``argv`` cannot open the viewer (a word that is neither a command nor an existing
    file or folder), or None when every word is a path that exists."""
    import difflib

    for word in argv:
        if os.path.exists(word):
            continue
        guess = difflib.get_close_matches(word.lstrip("-"), COMMANDS, n=1)
        hint = f" (did you mean 'radiai {guess[0]}'?)" if guess else ""
        return (f"no such command or file: '{word}'{hint}. Commands: {', '.join(COMMANDS)}; "
                "'radiai [PATH ...]' opens the viewer on existing files or folders; "
                "'radiai --help' says more.")
    return None


def no_display() -> str | None:
    """Why no window can be shown here (Linux or another X11 system with neither DISPLAY nor
    WAYLAND_DISPLAY set, and no QT_QPA_PLATFORM chosen: e.g. over SSH), or None. Qt would abort
    with exit code 134 and advice to reinstall."""
    if sys.platform.startswith(("win", "darwin")) or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("the viewer needs a display and there is none here (DISPLAY is not set, e.g. over "
            "SSH without X forwarding). The commands work without one: radiai analyze PATH ... "
            "(see radiai --help).")


#: What Qt 5's xcb platform plugin loads on Linux, with the Debian/Ubuntu package of each: a
#: stock desktop may lack some, and Qt then aborts with a message that names none of them.
XCB_LIBRARIES = {
    "libxcb-icccm.so.4": "libxcb-icccm4", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


def missing_xcb_packages() -> list[str]:
    """The packages whose libraries the xcb plugin needs and cannot load (Linux with the xcb
    platform only; elsewhere an empty list)."""
    import ctypes

    if not sys.platform.startswith("linux"):
        return []
    if os.environ.get("QT_QPA_PLATFORM", "xcb").split(":")[0] != "xcb":
        return []
    missing = []
    for library, package in XCB_LIBRARIES.items():
        try:
            ctypes.CDLL(library)
        except OSError:
            missing.append(package)
    return missing


def run_gui(paths: Sequence[str]) -> int:
    # TensorFlow/Mesa crash under Xvfb without this (see NOTES-stack); harmless elsewhere.
    """Open the viewer (on ``paths``, if any) and run it until it closes; returns the exit code."""
    os.environ.setdefault("QT_XCB_GL_INTEGRATION", "none")
    reason = no_display()
    if reason is not None:
        sys.stderr.write(f"radiai: {reason}\n")
        return 2
    missing = missing_xcb_packages()
    if missing:
        sys.stderr.write("radiai: the viewer cannot open a window: the system lacks "
                         f"{', '.join(missing)} (install with: sudo apt install "
                         f"{' '.join(missing)}). The commands (radiai analyze ...) work "
                         "without them.\n")
        return 1
    from PyQt5.QtWidgets import QApplication

    from .crash import configure_logging, install_excepthook
    from .main_window import MainWindow

    configure_logging()
    install_excepthook()
    app = QApplication.instance() or QApplication(["radiai"])
    app.setApplicationName("RadiAI")
    app.setOrganizationName("RadiAI")
    from PyQt5.QtCore import QSettings

    from .i18n import install

    install(app, QSettings("RadiAI", "RadiAI"))  # the language, before any widget is built
    window = MainWindow()
    window.show()
    probe = os.environ.get("RADIAI_STARTUP_PROBE")
    if probe:
        _install_probe(app, window, probe)
    window.preload_models()  # the window is up first; models load in a worker
    if paths:
        window.open_paths(paths)
    return app.exec_()


def _install_probe(app, window, out_path: str) -> None:
    """Start-up benchmark hook (``RADIAI_STARTUP_PROBE=file.json``): note the wall-clock time
    when the window has been shown, the models are loaded and the first analysis is on screen,
    write them with the peak memory to the file, and quit."""
    import json
    import time

    from PyQt5.QtCore import QTimer

    events: dict[str, float] = {"main": _T_MAIN}

    def note(name: str) -> None:
        events.setdefault(name, time.time())
        if "first_result" in events and "models_loaded" in events:
            try:
                import resource

                events["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            except ImportError:  # Windows
                pass
            with open(out_path, "w", encoding="utf-8") as f:
                json.dump(events, f)
            window.close()
            app.quit()

    QTimer.singleShot(0, lambda: note("window_shown"))  # runs once the window is on screen
    window.models_loaded.connect(lambda: note("models_loaded"))
    window.analysis_shown.connect(lambda _path: note("first_result"))


def run_gui_from_argv() -> int:
    """``radiai-gui`` (no console window on Windows): the viewer, with optional paths."""
    return run_gui(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
