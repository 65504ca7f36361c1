"""The findings panel says where the evidence lies: the lung zones holding the heat map's mass,
the share outside the lungs, a diffuse map, boxes outside the lung contour; in English and in
Korean."""

from __future__ import annotations

from PyQt5.QtCore import QCoreApplication, QSettings

from app import i18n
from app.findings import FindingsPanel
from radiai_core.analysis.findings import Findings
from radiai_core.analysis.regions import Box
from radiai_core.analysis.zones import OUTSIDE, Zone


def findings(**kw) -> Findings:
    f = Findings(key="classifier", title="t", labels=["normal", "bacterial"],
                 display_names={"normal": "normal", "bacterial": "bacterial pneumonia"},
                 probabilities={"normal": 0.1, "bacterial": 0.9}, negative_label="normal",
                 cam_label="bacterial")
    for k, v in kw.items():
        setattr(f, k, v)
    return f


ZONES = [Zone("right lower", 0.52), Zone("left lower", 0.21), Zone(OUTSIDE, 0.09)]


def test_the_panel_names_the_zones_and_flags_what_is_outside(qtbot) -> None:
    text = FindingsPanel.evidence_text(findings(zones=ZONES, boxes=[
        Box(1, 2, 3, 4, 0.5, in_lungs=True), Box(5, 6, 7, 8, 0.2, in_lungs=False)]))
    # each share kept with its % (a non-breaking space: a narrow panel wrapped the % alone)
    assert "Evidence by lung zone: right lower zone 52\u00a0%, left lower zone 21\u00a0%; " \
           "9\u00a0% outside the lungs" in text
    assert "Boxes weighing mostly outside the lung contour: 1" in text
    diffuse = FindingsPanel.evidence_text(findings(zones=ZONES, diffuse=True))
    assert "Evidence diffuse: no single region stands out, so no box is drawn." in diffuse
    assert FindingsPanel.evidence_text(findings(cam_label=None)) == ""
    assert FindingsPanel.evidence_text(None) == ""


def test_the_panel_names_the_zones_in_korean(qtbot, tmp_path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    settings.setValue("language", "ko")
    app = QCoreApplication.instance()
    try:
        assert i18n.install(app, settings) == "ko"
        text = FindingsPanel.evidence_text(findings(zones=ZONES, diffuse=True))
        assert "폐야별 근거: 우하폐야 52\u00a0%, 좌하폐야 21\u00a0%; 폐 밖 9\u00a0%" in text
        assert "근거가 미만성" in text
    finally:
        settings.setValue("language", "en")
        i18n.install(app, settings)
