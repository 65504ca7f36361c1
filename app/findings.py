"""Findings panel: every model's findings with probability bars, its call, the models."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QFont, QFontMetrics
from PyQt5.QtWidgets import (
    QGridLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from radiai_core.analysis.findings import Decision, Findings, label_ref
from radiai_core.analysis.pipeline import NOTICE, Analysis
from radiai_core.analysis.zones import describe
from radiai_core.i18n import localized
from radiai_core.reading.anonymize import patient_line
from radiai_core.reading.image import ImageMeta
from radiai_core.results.snapshot import bar_rgb, score_figures

from .i18n import N_, t

TOP_N = 3

#: The phrases and zone names ``zones.describe`` asks the translator for.
ZONE_PHRASES = (N_("{zone} zone {share}"), N_("{share} outside the lungs"),
                N_("no lung zone holds 10 % of the map"), N_("right upper"), N_("right middle"),
                N_("right lower"), N_("left upper"), N_("left middle"), N_("left lower"))


def short_name(path: str, limit: int = 36) -> str:
    """The file name, shortened in the middle: a long DICOM name must not widen the panel."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if len(name) <= limit:
        return name
    keep = (limit - 1) // 2
    return f"{name[:keep]}…{name[-keep:]}"


def positives_text(f: Findings) -> str:
    """What a multi-label model calls, translated and escaped for rich text: the labels at or
    above their thresholds, or that there are none."""
    if not f.positives:
        return t("No label above its threshold")
    names = ", ".join(escape(t(f.name(p))) for p in f.positives)
    return t("Above threshold: {labels}").format(labels=names)


def compact_call(f: Findings, score: bool = True) -> str:
    """One model's call in a few words, translated: "pneumonia 0.81" (with ``score``), the
    labels a multi-label model called, or its top label."""
    if f.call is not None:
        return f"{t(f.call)} {f.abnormal_score:.2f}" if score and f.abnormal_score is not None \
            else t(f.call)
    if f.multi_label:
        return ", ".join(t(f.name(p)) for p in f.positives) or t("no label above threshold")
    label, p = f.top(1)[0]
    return f"{t(f.name(label))} {p:.0%}"


def compact_calls(findings: Sequence[Findings], score: bool = True) -> str:
    """Every model's call on one line for a list's column: the primary model's first, then
    each other model's after its (shortened) title: "no pneumonia 0.13 · Findings 7: nodule"."""
    def title(f: Findings) -> str:
        return f.title if len(f.title) <= 20 else f.title[:19].rstrip(" ,") + "…"

    parts = [compact_call(f, score) if i == 0 else f"{title(f)}: {compact_call(f, score)}"
             for i, f in enumerate(findings)]
    return " · ".join(parts)


class FindingsPanel(QWidget):
    """The findings of the image on screen, one block per model of the set (titled when there
    are several); a click on a finding's name asks for its heat map (``heat_requested(ref)``,
    ``ref`` as ``Analyzer.analyze`` takes it: "label", or "key/label" for another model)."""

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
        self.evidence = QLabel()  # where the heat map's evidence lies: lung zones, boxes
        self.evidence.setWordWrap(True)
        self.rows = QGridLayout()
        self.rows.setColumnStretch(1, 1)  # the bars take what the names and percentages leave
        self.rows.setHorizontalSpacing(4)
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
        self.notice.setWordWrap(True)
        # A long file name (one unbreakable word) must not widen the panel past its dock: it is
        # cut at the edge (its tooltip has it whole) while the bars keep their room.
        for label in (self.patient, self.title):
            label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        layout = QVBoxLayout(self)
        layout.addWidget(self.patient)
        layout.addWidget(self.title)
        layout.addWidget(self.age)
        layout.addLayout(self.rows)
        layout.addWidget(self.more)
        layout.addWidget(self.call)
        layout.addWidget(self.evidence)
        layout.addWidget(self.model)
        layout.addStretch(1)
        layout.addWidget(self.notice)
        self.bars: dict[str, QProgressBar] = {}
        self._extra: list[QWidget] = []
        self.percents: dict[str, QLabel] = {}

    def retranslate(self) -> None:
        """The panel's fixed texts in the language now installed (the window shows the
        analysis again for the rest)."""
        self.title.setText(t("No image analysed yet."))
        self.more.setText(t("Show top 3 only") if self.more.isChecked() else t("Show all labels"))
        self.notice.setText(f"<i>{t(NOTICE)}</i>")

    def _clear(self) -> None:
        while self.rows.count():
            w = self.rows.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.bars, self.percents, self._extra = {}, {}, []
        self.more.hide()
        self.call.clear()
        self.evidence.clear()
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
        several = len(a.findings) > 1
        calls = []
        for i, f in enumerate(a.findings):
            self._add_findings(f, i == 0, several)
            line = self._call_line(f)
            if line:
                calls.append(f"{escape(f.title)}: {line}" if several else line)
        self.call.setText("<br>".join(calls))
        self.evidence.setText(self.evidence_text(a.explained))
        self._show_models(a)

    def _add_findings(self, f: Findings, primary: bool, titled: bool) -> None:
        """One model's rows: its title (when the set has several), then a name and a bar per
        label, most probable first; the top three and any label the model calls are shown,
        the rest behind "Show all labels"."""
        row = self.rows.rowCount()
        if titled:
            head = QLabel(f"<b>{escape(f.title)}</b>")
            head.setWordWrap(True)
            self.rows.addWidget(head, row, 0, 1, 3)
            row += 1
        for i, (label, p) in enumerate(f.shown()):
            shown = t(f.name(label))
            ref = label_ref(f.key, label, primary)
            # Each finding's name asks for its heat map; the one shown is in bold.
            text = QLabel(f"<b>{escape(shown)}</b>" if label == f.cam_label
                          else f"<a href='{escape(ref)}'>{escape(shown)}</a>")
            text.setToolTip(t("Show the heat map of {name}").format(name=shown))
            text.linkActivated.connect(self.heat_requested.emit)
            text.setAccessibleName(shown)
            bar = QProgressBar()
            # The bar takes the room left beside the name and the percentage (it fits the
            # dock's width), never less than a short bar.
            bar.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
            bar.setMinimumWidth(36)
            bar.setRange(0, 1000)
            bar.setValue(int(round(p * 1000)))
            bar.setFormat(f"{p:.1%}")
            # The percentage beside the bar, never under its fill (some styles draw the text
            # inside the bar, where a long fill hides it).
            bar.setTextVisible(False)
            percent = QLabel(f"{p:.1%}")
            percent.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            # A long name takes two lines (never narrower than its longest word, in bold at
            # most): the bar and the percentage keep their room in a narrow dock.
            text.setWordWrap(True)
            bold = QFont(text.font())
            bold.setBold(True)
            text.setMinimumWidth(max(QFontMetrics(bold).horizontalAdvance(word)
                                     for word in shown.split()) + 2)
            # The PDF's colours by the same rule: red only for a finding the model calls.
            r, g, b = bar_rgb(f, label)
            bar.setStyleSheet(f"QProgressBar::chunk {{ background: rgb({r}, {g}, {b}); }}")
            if f.multi_label:
                threshold = f.thresholds.get(label, 0.5)
                bar.setToolTip(t("threshold {threshold}").format(threshold=f"{threshold:.2f}"))
                if f.is_positive(label) and label != f.cam_label:  # called: its name in bold
                    text.setText(f"<b><a href='{escape(ref)}'>{escape(shown)}</a></b>")
            self.rows.addWidget(text, row, 0)
            self.rows.addWidget(bar, row, 1)
            self.rows.addWidget(percent, row, 2)
            self.bars[ref] = bar
            self.percents[ref] = percent
            if i >= TOP_N and not f.is_positive(label):
                self._extra += [text, bar, percent]
                for w in (text, bar, percent):
                    w.setVisible(self.more.isChecked())
            row += 1
        if self._extra:
            self.more.setVisible(True)

    @staticmethod
    def _call_line(f: Findings) -> str:
        """A model's call in colour (positive red, negative green) with its score, or the
        labels a multi-label model calls; empty for a model that makes no call."""
        if f.band is not None and f.abnormal_score is not None:
            # Every cut-off of the three-way call, so a score is never read against one of them.
            # (escaped: the label is rich text, where "< 0.25)" would open a tag and hide the rest)
            score, high, low = score_figures(f.abnormal_score, (f.band[1], f.band[0]))
            cutoffs = escape(t("(score {score}; pneumonia ≥ {high}, none < {low})").format(
                score=score, high=high, low=low))
        elif f.abnormal_score is not None:
            score, threshold = score_figures(f.abnormal_score, (f.threshold,))
            cutoffs = escape(t("(score {score}, threshold {threshold})").format(
                score=score, threshold=threshold))
        if f.decision is Decision.INDETERMINATE:
            return ("<span style='color:#b9770e'><b>"
                    + escape(t("indeterminate — read without the AI's call")) + "</b></span> "
                    + cutoffs)
        if f.call is not None:
            colour = "#c0392b" if f.decision is Decision.POSITIVE else "#1e8449"
            return f"<span style='color:{colour}'><b>{escape(t(f.call))}</b></span> " + cutoffs
        if f.multi_label:
            colour = "#c0392b" if f.positives else "#1e8449"
            return f"<span style='color:{colour}'><b>{positives_text(f)}</b></span>"
        return ""

    @staticmethod
    def evidence_text(f: Findings | None) -> str:
        """Where the shown heat map's evidence lies, for rich text: the lung zones holding its
        mass and the share outside the lungs; that it is diffuse (so no box is drawn); boxes
        outside the lung contour. Empty when no heat map is shown."""
        if f is None or not f.cam_label or (not f.zones and not f.diffuse):
            return ""
        lines = []
        if f.zones:
            # "58 %" kept on one line: a narrow panel wrapped Korean's "폐 밖 58 %" with the
            # "%" alone on the next line.
            lines.append(t("Evidence by lung zone: {zones}").format(
                zones=escape(describe(f.zones, t)).replace(" %", "\u00a0%")))
        if f.diffuse:
            lines.append(t("Evidence diffuse: no single region stands out, so no box is "
                           "drawn."))
        outside = sum(not b.in_lungs for b in f.boxes)
        if outside:
            lines.append(t("Boxes weighing mostly outside the lung contour: {n}").format(n=outside))
        return "<br>".join(lines)

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
            if item is not None and item.widget() is not None and item.widget().accessibleName():
                out.append(item.widget().accessibleName())  # model titles have none
        return out
