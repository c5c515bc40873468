"""A QGIS interface for plugin tests: the calls the plugin makes on ``iface``, over a real ``QMainWindow``.

``addDockWidget`` shows the dock as QGIS's own does (``QgisApp::addDockWidget``); menus and the toolbar are real
Qt objects, so a test can see what the plugin added and removed.
"""

from __future__ import annotations

from qgis.PyQt.QtWidgets import QMainWindow, QMenu, QTextEdit, QToolBar


class HostInterface:
    """The part of ``QgisInterface`` LandFuse uses, on a 1280 x 800 main window."""

    def __init__(self) -> None:
        self.window = QMainWindow()
        self.window.setCentralWidget(QTextEdit())  # stands for the map canvas
        self.window.resize(1280, 800)
        self.toolbar = QToolBar("Plugins")
        self.window.addToolBar(self.toolbar)
        self.raster_menus: dict[str, QMenu] = {}
        self.options_factories: list = []

    def mainWindow(self) -> QMainWindow:  # noqa: N802 (QGIS's name)
        return self.window

    def addDockWidget(self, area, dock) -> None:  # noqa: N802 (QGIS's name)
        self.window.addDockWidget(area, dock)
        dock.show()

    def removeDockWidget(self, dock) -> None:  # noqa: N802 (QGIS's name)
        self.window.removeDockWidget(dock)

    def addToolBarIcon(self, action) -> None:  # noqa: N802 (QGIS's name)
        self.toolbar.addAction(action)

    def removeToolBarIcon(self, action) -> None:  # noqa: N802 (QGIS's name)
        self.toolbar.removeAction(action)

    def addPluginToRasterMenu(self, name: str, action) -> None:  # noqa: N802 (QGIS's name)
        self.raster_menus.setdefault(name, QMenu(name, self.window)).addAction(action)

    def removePluginRasterMenu(self, name: str, action) -> None:  # noqa: N802 (QGIS's name)
        self.raster_menus[name].removeAction(action)

    def registerOptionsWidgetFactory(self, factory) -> None:  # noqa: N802 (QGIS's name)
        self.options_factories.append(factory)

    def unregisterOptionsWidgetFactory(self, factory) -> None:  # noqa: N802 (QGIS's name)
        self.options_factories.remove(factory)
