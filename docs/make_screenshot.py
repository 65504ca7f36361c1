"""Make docs/screenshot.png: the real window, real models, a bundled sample, virtual display.

Usage (after installing the package), on a real X server (Xvfb here):
    xvfb-run -a -s "-screen 0 1680x1050x24" env QT_QPA_PLATFORM=xcb python docs/make_screenshot.py
(``QT_QPA_PLATFORM=offscreen`` works without one); ``--lang ko`` makes docs/screenshot-ko.png
in Korean, ``--out PATH`` writes elsewhere. It opens the bundled pediatric JPEGs and
shows a pneumonia case, whose call is positive (so the heat map and the regions are drawn).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests/data/kermany/images"


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_XCB_GL_INTEGRATION", "none")
    from PyQt5.QtCore import QSettings
    from PyQt5.QtWidgets import QApplication

    from app import i18n
    from app.main_window import MainWindow

    lang = sys.argv[sys.argv.index("--lang") + 1] if "--lang" in sys.argv else "en"
    app = QApplication(["radiai"])
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.IniFormat)
        settings.setValue("language", lang)
        i18n.install(app, settings)
        w = MainWindow(settings=settings)
        w.resize(1400, 860)
        w.show()
        w.open_paths([SAMPLE])
        target = str(SAMPLE / "person1946_bacteria_4874.jpeg")
        deadline = time.time() + 120
        while time.time() < deadline and not (w.browser.image_paths()):
            app.processEvents()
            time.sleep(0.01)
        w.browser.select_path(target)
        while time.time() < deadline and (w.viewer.analysis is None
                                          or w.viewer.analysis.path != target):
            app.processEvents()
            time.sleep(0.01)
        for _ in range(50):
            app.processEvents()
            time.sleep(0.01)
        out = (Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else
               ROOT / "docs" / ("screenshot.png" if lang == "en" else f"screenshot-{lang}.png"))
        ok = w.grab().save(str(out))
        w.shutdown()
    print(f"wrote {out}" if ok else "could not write the screenshot")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
