"""LandFuse QGIS plugin entry point. The repository root is the plugin folder."""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    """Called by QGIS's plugin loader; ``iface`` is ``None`` under qgis_process."""
    from .plugin.main import LandFusePlugin

    return LandFusePlugin(iface)
