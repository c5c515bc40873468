"""What the QGIS plugin and the backend both need: the model card, class tables and the worker protocol.

Standard library only: this package is imported by QGIS's Python and by the backend environment.
"""
