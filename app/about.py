"""Help → About: RadiAI's version, the models it loaded (name, version, sha256), intended use."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from radiai_core.analysis.manifest import ModelInfo
from radiai_core.analysis.pipeline import NOTICE

from .i18n import t


def app_version() -> str:
    """RadiAI's version, from the installed package's metadata (pyproject.toml); the bundle
    keeps that metadata (build_installer.spec)."""
    try:
        return version("radiai")
    except PackageNotFoundError:  # run from sources that were never installed
        return t("unknown (not installed)")


def loaded_model_infos(analyzer: Any) -> list[ModelInfo]:
    """The identities of the models an analyzer loaded (``ModelSet.infos``: the classifiers,
    the primary one first, then the lung mask and the scope gate); none for an analyzer that
    does not say (a test's stand-in)."""
    models = getattr(analyzer, "models", None)
    return list(getattr(models, "infos", None) or [])


def about_text(infos: Sequence[ModelInfo]) -> str:
    """The dialog's rich text, in the reader's language: the version, one row per model
    (name, version, the first 12 hex digits of its sha256, as the findings panel shows them)
    and the intended use."""
    if infos:
        rows = "".join(f"<tr><td>{escape(m.name)}</td><td>&nbsp;{escape(m.version)}</td>"
                       f"<td>&nbsp;<tt>{escape(m.sha256[:12])}</tt></td></tr>" for m in infos)
        models = f"<table>{rows}</table>"
    else:
        models = f"<p>{escape(t('Not loaded yet.'))}</p>"
    return (f"<h3>RadiAI {escape(app_version())}</h3>"
            f"<p>{escape(t('Chest radiograph reading assistant'))}</p>"
            f"<p><b>{escape(t('Intended use'))}</b><br>{escape(t(NOTICE))} "
            # What the scope gate does (radiai_core.analysis.gate), not the training ages:
            # it refuses, with the reason, images that are not frontal chest radiographs and
            # adults'; children older or younger than the training patients are read with a
            # caution.
            + escape(t("RadiAI helps a radiologist read frontal chest radiographs of children. "
                       "It refuses, with the reason, images that are not chest radiographs, "
                       "lateral views and adults' films (18 years or more by the DICOM header, "
                       "or estimated from the image); children outside the training ages "
                       "(1–5 years) are read with a caution. The reading radiologist decides."))
            + f"</p><p><b>{escape(t('Models loaded'))}</b></p>{models}")


class AboutDialog(QDialog):
    """Help → About RadiAI: what a reader or an auditor asks first (which version, which
    models, what for); the text is selectable, for a support request."""

    def __init__(self, infos: Sequence[ModelInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(t("About RadiAI"))
        self.text = QLabel(about_text(infos))
        self.text.setTextFormat(Qt.RichText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.text.setMinimumWidth(420)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        self.close_button = buttons.button(QDialogButtonBox.Close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Shown: the dialog takes the keyboard (its Close button the focus), so that Esc
        closes it; shown without a modal loop it left the keys to the main window, where Esc
        did nothing."""
        super().showEvent(event)
        self.raise_()
        self.activateWindow()
        self.close_button.setFocus(Qt.ActiveWindowFocusReason)
