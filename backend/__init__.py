"""LandFuse backend: engine, models, training, metrics and explanations. Never imports qgis."""
