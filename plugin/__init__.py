"""QGIS side of LandFuse: Processing provider, dock, settings and the worker client.

Only PyQt5, qgis.core, qgis.gui and the standard library: torch, onnxruntime, llama_cpp and rasterio
run in the backend worker process, never in QGIS's Python.
"""
