"""The plugin object QGIS holds: registers the Processing provider and, with a GUI, the dock and settings.

Loading the plugin starts no backend worker: the dock starts it when first shown, an algorithm when it runs.
"""

from __future__ import annotations

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QDialog, QPlainTextEdit, QVBoxLayout

from . import service, tasks
from .i18n import install_translator, tr
from .paths import ICON_PATH
from .provider import LandFuseProvider

MENU = "&LandFuse"


class LandFusePlugin:
    """Created by ``classFactory``; works with ``iface=None`` (qgis_process) and with a real iface."""

    def __init__(self, iface) -> None:
        self.iface = iface
        self.provider: LandFuseProvider | None = None
        self.dock = None
        self.options_factory = None
        self.actions: list[QAction] = []
        self.translator = None

    def initProcessing(self) -> None:  # noqa: N802 (QGIS's name)
        if self.provider is None:
            self.provider = LandFuseProvider()
            self.provider.register()

    def initGui(self) -> None:  # noqa: N802 (QGIS's name)
        self.initProcessing()
        if self.iface is None:
            return
        self.translator = install_translator()
        from .dock import LandFuseDock
        from .settings_page import LandFuseOptionsFactory

        self.dock = LandFuseDock(self.iface.mainWindow())
        self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()  # QGIS shows an added dock; it restores the dock's last visibility itself
        toggle = self.dock.toggleViewAction()
        toggle.setIcon(QIcon(str(ICON_PATH)))
        toggle.setText(tr("LandFuse land cover"))
        toggle.setToolTip(tr("Show or hide the LandFuse dock: classify land cover from a SAR and an optical layer."))
        diagnostics = QAction(tr("LandFuse diagnostics…"), self.iface.mainWindow())
        diagnostics.triggered.connect(self.show_diagnostics)
        self.iface.addToolBarIcon(toggle)
        for action in (toggle, diagnostics):
            self.iface.addPluginToRasterMenu(MENU, action)
        self.actions = [toggle, diagnostics]
        self.options_factory = LandFuseOptionsFactory()
        self.iface.registerOptionsWidgetFactory(self.options_factory)

    def show_diagnostics(self) -> None:
        """A window with the backend's diagnostics report, to copy into a bug report."""
        from .settings_page import diagnostics_text

        dialog = QDialog(self.iface.mainWindow())
        dialog.setWindowTitle(tr("LandFuse diagnostics"))
        text = QPlainTextEdit(tr("Asking the backend…"))
        text.setReadOnly(True)
        QVBoxLayout(dialog).addWidget(text)
        dialog.resize(700, 500)

        def show(result, error):
            text.setPlainText(
                diagnostics_text(result)
                if result is not None
                else tr("The backend did not answer:\n{error}").format(error=error)
            )

        tasks.start(tr("LandFuse: diagnostics"), service.diagnostics, show, dialog)
        dialog.show()

    def unload(self) -> None:
        if self.iface is not None:
            for action in self.actions:
                self.iface.removePluginRasterMenu(MENU, action)
            if self.actions:
                self.iface.removeToolBarIcon(self.actions[0])
            if self.options_factory is not None:
                self.iface.unregisterOptionsWidgetFactory(self.options_factory)
            if self.dock is not None:
                self.dock.cancel_run()
                self.iface.removeDockWidget(self.dock)
                self.dock.deleteLater()
        self.actions, self.dock, self.options_factory = [], None, None
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        service.shutdown()
