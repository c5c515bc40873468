"""The analyst workflow: train from reference features, processing areas, polygons, sampling and assessment.

- ``references``: reference points/polygons read from GeoJSON, class tables, burning labels.
- ``samples`` / ``train``: windows around the features, feature-level holdout, a budgeted training run
  exported to ONNX with a card fitted to the data.
- ``area``: extents widened to whole pixels and polygon masks (a masked copy of the input for the engine).
- ``vectorise`` / ``gpkg``: sieve to a minimum mapping unit and polygonize, by blocks, into a styled GeoPackage.
- ``sampling``: stratified random samples (sample size, allocation, drawing points).
- ``estimators`` / ``assess`` / ``report``: accuracy and area estimates of Olofsson et al. (2014), HTML and PNG.

Modules are imported by their users (the worker operations in ``worker/analyst_ops.py`` and the commands).
"""
