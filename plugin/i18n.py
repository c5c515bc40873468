"""Translations: every user-visible string goes through :func:`tr`; translations load from ``i18n/``.

The template ``i18n/landfuse_en.ts`` lists every string given to :func:`tr` as a literal (``i18n/update_template.py``
writes it); a translator fills in a copy, ``landfuse_<language>.ts``, and ``lrelease`` compiles it to the
``.qm`` file that :func:`install_translator` loads for the user's QGIS locale.
"""

from __future__ import annotations

from qgis.core import QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QTranslator

from .paths import PLUGIN_ROOT

CONTEXT = "LandFuse"
I18N_FOLDER = PLUGIN_ROOT / "i18n"


def tr(text: str) -> str:
    """``text`` in the user's language (itself when there is no translation). Pass a literal, then ``.format()``."""
    return QCoreApplication.translate(CONTEXT, text)


def install_translator() -> QTranslator | None:
    """Load and install the translation for QGIS's user locale, if one ships; returns it (to remove at unload)."""
    locale = str(QgsSettings().value("locale/userLocale", "") or "")[:2]
    path = I18N_FOLDER / f"landfuse_{locale}.qm"
    if not locale or not path.is_file():
        return None
    translator = QTranslator()
    if not translator.load(str(path)):
        return None
    QCoreApplication.installTranslator(translator)
    return translator
