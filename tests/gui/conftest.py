"""GUI fixtures: a fake analyzer with the shipped labels, isolated settings, a thread check,
message boxes recorded instead of shown."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from PyQt5.QtCore import QSettings

from radiai_core.analysis.findings import Findings
from radiai_core.analysis.models import ModelInfo
from radiai_core.analysis.pipeline import Analysis
from radiai_core.analysis.regions import Box
from radiai_core.reading.image import XrayImage
from radiai_core.reading.io import load_image
from radiai_core.resources import models_dir


class FakeAnalyzer:
    """Answers like the real pipeline, from image statistics, with the shipped manifest's
    labels and display names; ``delay`` seconds per image (sleeping releases the GIL)."""

    def __init__(self, delay: float = 0.0) -> None:
        m = json.loads((models_dir() / "classifier" / "manifest.json").read_text())
        self.labels, self.names = m["labels"], m["display_names"]
        self.delay = delay
        self.calls = 0
        self.outputs = [("classifier", self.labels)]

    def warm_up(self) -> None:
        """Nothing to prepare (the real analyzer runs each model once here)."""

    def analyze(self, source) -> Analysis:
        image = source if isinstance(source, XrayImage) else load_image(source)
        time.sleep(self.delay)
        self.calls += 1
        raw = np.linspace(1.0, 2.0, len(self.labels)) * (1 + image.pixels.mean())
        probs = raw / raw.sum()
        rows, cols = image.shape
        mask = np.zeros((rows, cols), bool)
        mask[rows // 4: 3 * rows // 4, cols // 8: 7 * cols // 8] = True
        findings = Findings(
            key="classifier", title="fake", labels=self.labels, display_names=self.names,
            probabilities=dict(zip(self.labels, probs.tolist(), strict=True)),
            negative_label=self.labels[0], abnormal_score=float(1 - probs[0]), threshold=0.5,
            call="pneumonia" if 1 - probs[0] >= 0.5 else "no pneumonia",
            cam_label=self.labels[-1], heatmap=image.pixels.copy(),
            boxes=[Box(cols // 4, rows // 3, cols // 5, rows // 5, 0.6)])
        return Analysis(image=image, status="ok", message="", findings=[findings], mask=mask,
                        timings_ms={"total": 1.0},
                        models=[ModelInfo("fake", "0", "0" * 64, "classifier")])


@pytest.fixture
def settings(tmp_path_factory) -> QSettings:
    """Settings in a folder of their own (never inside a folder a test scans)."""
    folder = tmp_path_factory.mktemp("settings")
    return QSettings(str(folder / "settings.ini"), QSettings.IniFormat)


@pytest.fixture(autouse=True)
def no_dangling_threads(qapp):
    """Fail any GUI test that leaves a worker thread running."""
    from app.workers import THREADS

    yield
    running = [t for t in list(THREADS) if t.isRunning()]
    for t in running:
        t.quit()
        t.wait(5000)
    assert not running, f"{len(running)} worker thread(s) left running"


@pytest.fixture(autouse=True)
def dialogs(monkeypatch) -> list[tuple[str, str]]:
    """Warning and error boxes are recorded here instead of shown: a modal box under the
    offscreen platform would wait forever for a click. A test that expects one takes the
    fixture and empties the list; any other is a failure."""
    from PyQt5.QtWidgets import QMessageBox

    shown: list[tuple[str, str]] = []
    for kind in ("warning", "critical"):
        monkeypatch.setattr(QMessageBox, kind,
                            lambda parent, title, text, *a, _k=kind, **kw:
                            shown.append((_k, text)) or QMessageBox.Ok)
    yield shown
    assert not shown, f"unexpected message box(es): {shown}"


@pytest.fixture
def make_window(qtbot, settings):
    from app.main_window import MainWindow

    windows = []

    def make(analyzer=None, make_analyzer=None, resize=True):
        fake = analyzer or FakeAnalyzer()
        w = MainWindow(make_analyzer=make_analyzer or (lambda: fake), settings=settings)
        if resize:
            w.resize(1000, 700)
        w.show()
        qtbot.addWidget(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.shutdown()
