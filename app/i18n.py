"""The viewer's language: English or Korean, through Qt's translation system.

The sources are ``resources/i18n/radiai_ko.ts`` (Qt Linguist format; every string the viewer
passes to ``t`` has its Korean there, a test checks it) compiled to ``radiai_ko.qm`` by
``bash packaging/i18n.sh`` (Qt's lrelease). The system locale chooses; the Help → Language
setting overrides it, at once (the window translates itself again). The core's PDF snapshots
follow the same choice. Korean is drawn with the Hangul font RadiAI ships (the one the PDF
embeds), so that it reads on a machine without a Hangul system font.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt5.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QTranslator
from PyQt5.QtGui import QFont, QFontDatabase, QGuiApplication

from radiai_core import i18n as core_i18n
from radiai_core.resources import project_root

log = logging.getLogger(__name__)

CONTEXT = "RadiAI"
#: Language code → name shown in the menu (in that language).
LANGUAGES = {"en": "English", "ko": "한국어"}

_translator: QTranslator | None = None
_qt_translator: QTranslator | None = None  # Qt's own strings (file dialogs, buttons)
_hangul: str | None = None  # the bundled Hangul font's family, once registered

#: The Hangul font RadiAI ships (a subset of Nanum Gothic; resources/fonts/README.md).
HANGUL_FONT = ("resources", "fonts", "RadiAIHangul-Regular.ttf")


def install_fonts(app: QGuiApplication) -> str | None:
    """Register the bundled Hangul font and add it to the application font's families, so
    that any text without its glyphs in the system's font (Korean on a machine with no Hangul
    font: every character an empty box, the "한국어" menu entry included) is drawn with it.
    Safe to call again; returns the font's family (None when it could not be loaded)."""
    global _hangul
    if _hangul is None:
        path = project_root().joinpath(*HANGUL_FONT)
        font_id = QFontDatabase.addApplicationFont(str(path))
        families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        if not families:
            log.error("the Hangul font %s could not be loaded; Korean may show as boxes", path)
            return None
        _hangul = families[0]
    font = QFont(app.font())
    families = font.families() or [font.family()]
    if _hangul not in families:
        # A fallback family of the application font: drawn whenever the first lacks a glyph
        # (and unlike the system's fallback, not cached before the font was registered).
        font.setFamilies([*families, _hangul])
        app.setFont(font)
    return _hangul


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


def qt_translation_dirs() -> list[Path]:
    """Where Qt's own translations (``qtbase_ko.qm``) are: the Qt library's translations
    folder (PyQt5's bundled ``Qt5/translations``, found by ``QLibraryInfo``), then the same
    folder inside the PyInstaller bundle (the spec keeps ``qtbase_ko.qm`` there)."""
    return [Path(QLibraryInfo.location(QLibraryInfo.TranslationsPath)),
            project_root() / "PyQt5" / "Qt5" / "translations"]


def _install_qt(app: QCoreApplication, language: str) -> None:
    """Qt's own strings in ``language``: the file dialogs' buttons and labels, the message
    boxes' Yes / No / Cancel (``qtbase_<language>.qm``); English needs none. Missing, they
    stay in English (logged) and RadiAI's own strings are translated all the same."""
    global _qt_translator
    if _qt_translator is not None:
        app.removeTranslator(_qt_translator)
        _qt_translator = None
    if language == "en":
        return
    translator = QTranslator(app)
    for folder in qt_translation_dirs():
        if translator.load(f"qtbase_{language}", str(folder)):
            app.installTranslator(translator)
            _qt_translator = translator
            return
    log.warning("Qt's own %s translations (qtbase_%s.qm) were not found in %s; its dialogs "
                "stay in English", language, language,
                ", ".join(map(str, qt_translation_dirs())))


def install(app: QCoreApplication, settings: QSettings) -> str:
    """Install the chosen language's translations in ``app`` (replacing the ones installed):
    RadiAI's own and Qt's (its file dialogs and standard buttons), and tell the core (PDF
    snapshots); returns the language code in force. A window built before translates itself
    again (``MainWindow.retranslate``)."""
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
    _install_qt(app, language)
    core_i18n.set_language(language)
    return language
