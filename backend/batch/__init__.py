"""Classifying many scenes, or one very large scene split in blocks, on a Ray cluster.

``run_batch`` (``driver.py``) runs the scenes of ``scenes.py`` on a pool of Ray actors (``pool.py``,
``actors.py``) that each hold one model session and run the engine one job at a time;
``manifest.py`` makes runs resumable, ``blocks.py`` splits a scene into blocks whose assembled result
equals a single run, ``merge.py`` writes the merged report and the VRT mosaic. Ray is imported only
when a batch runs (the ``cluster`` requirements profile): single-scene use does not need it. See ``docs/scale.md``.
"""

from .driver import BatchProgress, BatchRequest, BatchResult, run_batch
from .scenes import Scene, read_scene_table, scenes_in_folder

__all__ = ["BatchProgress", "BatchRequest", "BatchResult", "Scene", "read_scene_table", "run_batch", "scenes_in_folder"]
