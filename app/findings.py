"""Findings panel: top findings with probability bars, the call, the model, the notice."""

from __future__ import annotations

from html import escape

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QGridLayout,
    QLabel,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from radiai_core.anonymize import patient_line
from radiai_core.i18n import localized
from radiai_core.image import ImageMeta
from radiai_core.pipeline import NOTICE, Analysis

from .i18n import t

TOP_N = 3


def short_name(path: str, limit: int = 36) -> str:
    """The file name, shortened in the middle: a long DICOM name must not widen the panel."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if len(name) <= limit:
        return name
    keep = (limit - 1) // 2
    return f"{name[:keep]}…{name[-keep:]}"


class FindingsPanel(QWidget):
    """The findings of the image on screen; a click on a finding's name asks for its heat map
    (``heat_requested(label)``)."""

    heat_requested = pyqtSignal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.patient = QLabel()
        self.patient.setWordWrap(True)
        self.patient.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.title = QLabel(t("No image analysed yet."))
        self.title.setWordWrap(True)
        self.call = QLabel()
        self.call.setWordWrap(True)
        self.rows = QGridLayout()
        self.more = QToolButton()
        self.more.setText(t("Show all labels"))
        self.more.setCheckable(True)
        self.more.toggled.connect(self._toggle_all)
        self.more.hide()
        self.age = QLabel()
        self.age.setWordWrap(True)
        self.model = QLabel()
        self.model.setWordWrap(True)
        self.model.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.notice = QLabel(f"<i>{t(NOTICE)}</i>")
        layout = QVBoxLayout(self)
        layout.addWidget(self.patient)
        layout.addWidget(self.title)
        layout.addWidget(self.age)
        layout.addLayout(self.rows)
        layout.addWidget(self.more)
        layout.addWidget(self.call)
        layout.addWidget(self.model)
        layout.addStretch(1)
        layout.addWidget(self.notice)
        self.bars: dict[str, QProgressBar] = {}
        self._extra: list[QWidget] = []

    def _clear(self) -> None:
        while self.rows.count():
            w = self.rows.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.bars, self._extra = {}, []
        self.more.hide()
        self.call.clear()
        self.age.clear()
        self.model.clear()

    def show_patient(self, meta: ImageMeta | None) -> None:
        """The patient of the image on screen, always in view (wrong-patient risk)."""
        self.patient.setText(f"<b>{escape(localized(patient_line(meta)))}</b>"
                             if meta is not None else "")

    def show_pending(self, path: str) -> None:
        """The image is being analysed (nothing of the previous one stays)."""
        self._clear()
        self.show_patient(None)  # never the previous image's patient next to this one
        self.title.setText(t("Analysing {name}…").format(name=short_name(path)))
        self.title.setToolTip(path)

    def show_error(self, message: str) -> None:
        """The image could not be read or analysed: the message."""
        self._clear()
        self.show_patient(None)
        self.title.setText(f"<b>{t('Not analysed.')}</b> {message}")

    def show_analysis(self, a: Analysis) -> None:
        """An analysis: the patient, the findings with bars, the call, the age, the models; or the
        reason a refused image has none."""
        self._clear()
        name = short_name(a.path)
        self.show_patient(a.image.meta)
        self.title.setToolTip(a.path)
        if a.age is not None:
            self.age.setText(t("Age: {age}").format(age=localized(a.age.describe())))
        if a.status != "ok":
            self.title.setText(t("<b>{name}: not analysed.</b> This image {message}.").format(
                name=name, message=localized(a.message)))
            self._show_models(a)
            return
        self.title.setText(t("<b>{name}</b> — findings").format(name=name))
        ranked = sorted(a.probabilities.items(), key=lambda kv: kv[1], reverse=True)
        for i, (label, p) in enumerate(ranked):
            shown = t(a.display_names.get(label, label))
            # Each finding's name asks for its heat map; the one shown is in bold.
            text = QLabel(f"<b>{escape(shown)}</b>" if label == a.cam_label
                          else f"<a href='{escape(label)}'>{escape(shown)}</a>")
            text.setToolTip(t("Show the heat map of {name}").format(name=shown))
            text.linkActivated.connect(self.heat_requested.emit)
            text.setAccessibleName(shown)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(int(round(p * 1000)))
            bar.setFormat(f"{p:.1%}")
            self.rows.addWidget(text, i, 0)
            self.rows.addWidget(bar, i, 1)
            self.bars[label] = bar
            if i >= TOP_N:
                self._extra += [text, bar]
                text.setVisible(self.more.isChecked())
                bar.setVisible(self.more.isChecked())
        self.more.setVisible(len(ranked) > TOP_N)
        if a.call is not None:
            positive = not a.call.startswith("no ")
            colour = "#c0392b" if positive else "#1e8449"
            self.call.setText(f"<span style='color:{colour}'><b>{t(a.call)}</b></span> "
                              + t("(score {score}, threshold {threshold})").format(
                                  score=f"{a.abnormal_score:.2f}",
                                  threshold=f"{a.threshold:.2f}"))
        self._show_models(a)

    def _show_models(self, a: Analysis) -> None:
        self.model.setText("<br>".join(f"{m.name} {m.version} ({m.sha256[:12]})"
                                       for m in a.models))

    def _toggle_all(self, on: bool) -> None:
        for w in self._extra:
            w.setVisible(on)
        self.more.setText(t("Show top 3 only") if on else t("Show all labels"))

    def label_texts(self) -> list[str]:
        """Display names shown, in order (for tests and accessibility)."""
        out = []
        for i in range(self.rows.rowCount()):
            item = self.rows.itemAtPosition(i, 0)
            if item is not None and item.widget() is not None:
                out.append(item.widget().accessibleName())
        return out
