"""The viewer's language: English or Korean, through Qt's translation system.

The sources are ``resources/i18n/radiai_ko.ts`` (Qt Linguist format; every string the viewer
passes to ``t`` has its Korean there, a test checks it) compiled to ``radiai_ko.qm`` by
``bash packaging/i18n.sh`` (Qt's lrelease). The system locale chooses; the Help → Language
setting overrides it (from the next start). The core's PDF snapshots follow the same choice.
"""

from __future__ import annotations

import logging

from PyQt5.QtCore import QCoreApplication, QLocale, QSettings, QTranslator

from radiai_core import i18n as core_i18n
from radiai_core.resources import project_root

log = logging.getLogger(__name__)

CONTEXT = "RadiAI"
#: Language code → name shown in the menu (in that language).
LANGUAGES = {"en": "English", "ko": "한국어"}

_translator: QTranslator | None = None


def N_(text: str) -> str:  # noqa: N802 - gettext's name for it
    """Mark ``text`` for translation where it is defined (a table of labels); ``t`` translates
    it where it is shown."""
    return text


def t(text: str) -> str:
    """``text`` in the chosen language (English when no translation is installed)."""
    return QCoreApplication.translate(CONTEXT, text)


def chosen_language(settings: QSettings) -> str:
    """The setting when there is one ("en" or "ko"), else the system's locale."""
    value = str(settings.value("language", "") or "")
    if value in LANGUAGES:
        return value
    return "ko" if QLocale.system().name().lower().startswith("ko") else "en"


def install(app: QCoreApplication, settings: QSettings) -> str:
    """Install the chosen language's translations in ``app`` (before any window is built)
    and tell the core (PDF snapshots); returns the language code in force."""
    global _translator
    language = chosen_language(settings)
    if _translator is not None:
        app.removeTranslator(_translator)
        _translator = None
    if language != "en":
        translator = QTranslator(app)
        path = project_root() / "resources" / "i18n" / f"radiai_{language}.qm"
        if translator.load(str(path)):
            app.installTranslator(translator)
            _translator = translator
        else:
            log.error("translations %s could not be loaded; English is used", path)
            language = "en"
    core_i18n.set_language(language)
    return language
