"""GDAL dataset names that are not plain file paths, read the same way by the plugin and the backend.

- ``DRIVER:...`` subdataset names (``GPKG:``, ``NETCDF:``, ``HDF5:``, ``SENTINEL2_L2A:``, ``GTIFF_DIR:`` ...):
  ``SUBDATASET_NAME`` matches them, group 1 the driver prefix with its colon, group 2 the rest; a single
  letter is a Windows drive, not a driver.
- ``/vsi...`` virtual file systems, of which ``LOCAL_ARCHIVE_HANDLERS`` continue with a local file
  (archives, compressed files).
"""

from __future__ import annotations

import re

SUBDATASET_NAME = re.compile(r"^([A-Za-z][A-Za-z0-9_]+:)(.+)$")
LOCAL_ARCHIVE_HANDLERS = ("vsizip", "vsigzip", "vsitar", "vsi7z", "vsirar")
