"""A small GeoPackage writer (standard library ``sqlite3``): one point or polygon layer, styled for QGIS.

The backend environment has no vector library, and a GeoPackage is an SQLite file with a few standard
tables (OGC 12-128r18): ``gpkg_spatial_ref_sys``, ``gpkg_contents``, ``gpkg_geometry_columns`` and the
feature table, whose geometries are GeoPackage binary blobs (header with the envelope, then
little-endian WKB). Features are inserted as they come and committed in batches, so memory holds one
batch. The QGIS style (QML) goes into the ``layer_styles`` table QGIS reads the default style from.
No spatial index is written: QGIS and GDAL build one on request (QGIS: Layer Properties > Source >
Create Spatial Index).
"""

from __future__ import annotations

import datetime
import sqlite3
import struct
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

from rasterio.crs import CRS

from ..errors import NotWritableError

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300  # GeoPackage 1.3
BATCH = 5000
CUSTOM_SRS_ID = 100000
_WKB_TYPES = {"POINT": 1, "POLYGON": 3}
_BASE_SRS = (
    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
)


def _wkb(geometry_type: str, coordinates) -> tuple[bytes, tuple[float, float, float, float]]:
    """Little-endian WKB of a point ``[x, y]`` or polygon (rings of ``[x, y]``), and its envelope."""
    if geometry_type == "POINT":
        x, y = coordinates
        return struct.pack("<BIdd", 1, 1, x, y), (x, x, y, y)
    parts = [struct.pack("<BII", 1, 3, len(coordinates))]
    xs, ys = [], []
    for ring in coordinates:
        parts.append(struct.pack("<I", len(ring)))
        flat = [value for x, y in ring for value in (x, y)]
        parts.append(struct.pack(f"<{len(flat)}d", *flat))
        xs += flat[0::2]
        ys += flat[1::2]
    return b"".join(parts), (min(xs), max(xs), min(ys), max(ys))


def geometry_blob(geometry_type: str, coordinates, srs_id: int) -> tuple[bytes, tuple]:
    """GeoPackage binary geometry: magic ``GP``, version 0, flags (little-endian, xy envelope), SRS id,
    envelope (minx, maxx, miny, maxy), WKB. Returns the blob and the envelope."""
    wkb, envelope = _wkb(geometry_type, coordinates)
    header = struct.pack("<2sBBi4d", b"GP", 0, 0b00000011, srs_id, *envelope)
    return header + wkb, envelope


def srs_row(crs: CRS) -> tuple:
    """(name, srs_id, organization, organization_coordsys_id, definition, description) for ``crs``."""
    code = crs.to_epsg()
    name = crs.to_dict().get("proj", "") if code is None else f"EPSG:{code}"
    if code is not None:
        return (name, code, "EPSG", code, crs.to_wkt(), "")
    return (name or "custom", CUSTOM_SRS_ID, "NONE", CUSTOM_SRS_ID, crs.to_wkt(), "")


class GeoPackageWriter:
    """Writes one layer: ``with GeoPackageWriter(path, "land_cover", crs, "POLYGON", fields) as out: out.add(...)``.

    fields: ``(name, sqlite type)`` pairs, e.g. ``("class_id", "INTEGER")``. The file is created new (an
    existing one is replaced); on an error inside the block it is deleted.
    """

    def __init__(self, path: str | Path, layer: str, crs: CRS, geometry_type: str, fields: Sequence[tuple]) -> None:
        if geometry_type not in _WKB_TYPES:
            raise ValueError(f"geometry type must be one of {sorted(_WKB_TYPES)}")
        self.path = Path(path)
        self.layer, self.geometry_type, self.fields = layer, geometry_type, list(fields)
        self.srs = srs_row(crs)
        self.count = 0
        self.extent = [float("inf"), float("-inf"), float("inf"), float("-inf")]
        self._pending: list[tuple] = []
        self._style: tuple[str, str] | None = None
        self.path.unlink(missing_ok=True)
        try:
            self.db = sqlite3.connect(str(self.path))
            self._create()
        except sqlite3.Error as exc:
            raise NotWritableError(f"cannot create the GeoPackage {self.path}: {exc}; choose a writable path") from exc

    def _create(self) -> None:
        db = self.db
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {USER_VERSION}")
        db.executescript(
            """
            CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
                organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
                description TEXT);
            CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
                identifier TEXT UNIQUE, description TEXT DEFAULT '',
                last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
                min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
                CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
            CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
                geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
                CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
                CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
                CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
            """
        )
        wgs84 = ("WGS 84 geodetic", 4326, "EPSG", 4326, CRS.from_epsg(4326).to_wkt(), "longitude/latitude WGS 84")
        rows = {row[1]: row for row in (*_BASE_SRS, wgs84, self.srs)}
        db.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", list(rows.values()))
        columns = ", ".join(f'"{name}" {kind}' for name, kind in self.fields)
        db.execute(
            f'CREATE TABLE "{self.layer}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom {self.geometry_type}, {columns})'
        )
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES (?, 'features', ?, ?)",
            (self.layer, self.layer, self.srs[1]),
        )
        db.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)",
            (self.layer, self.geometry_type, self.srs[1]),
        )

    def add(self, coordinates, values: Sequence) -> None:
        """One feature: point ``[x, y]`` or polygon rings, and one value per field."""
        blob, (minx, maxx, miny, maxy) = geometry_blob(self.geometry_type, coordinates, self.srs[1])
        self.extent = [
            min(self.extent[0], minx),
            max(self.extent[1], maxx),
            min(self.extent[2], miny),
            max(self.extent[3], maxy),
        ]
        self._pending.append((blob, *values))
        self.count += 1
        if len(self._pending) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        names = ", ".join(["geom", *(f'"{name}"' for name, _ in self.fields)])
        marks = ", ".join("?" * (len(self.fields) + 1))
        self.db.executemany(f'INSERT INTO "{self.layer}" ({names}) VALUES ({marks})', self._pending)
        self.db.commit()
        self._pending.clear()

    def set_style(self, qml: str, name: str) -> None:
        """The QGIS style (QML) stored as the layer's default style."""
        self._style = (name, qml)

    def close(self) -> None:
        self._flush()
        if self.count:
            minx, maxx, miny, maxy = self.extent
            self.db.execute(
                "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?",
                (minx, miny, maxx, maxy, self.layer),
            )
        if self._style is not None:
            self._write_style()
        self.db.commit()
        self.db.close()

    def _write_style(self) -> None:
        """The ``layer_styles`` table as QGIS creates it, registered as an attributes table."""
        self.db.execute(
            "CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), "
            "f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), "
            "styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
            "update_time DATETIME DEFAULT CURRENT_TIMESTAMP)"
        )
        self.db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES ('layer_styles', 'attributes', "
            "'layer_styles')"
        )
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        self.db.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
            "styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
            "VALUES ('', '', ?, 'geom', ?, ?, '', 1, 'written by LandFuse', '', '', ?)",
            (self.layer, *self._style, now),
        )

    def __enter__(self) -> GeoPackageWriter:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            self.close()
            return
        self.db.close()
        self.path.unlink(missing_ok=True)


_QML = """<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" styleCategories="Symbology">
  <renderer-v2 type="categorizedSymbol" attr="{field}" symbollevels="0" enableorderby="0" forceraster="0">
    <categories>
{categories}
    </categories>
    <symbols>
{symbols}
    </symbols>
  </renderer-v2>
</qgis>
"""
_FILL = """      <symbol type="fill" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option type="QString" name="color" value="{rgb},255"/>
            <Option type="QString" name="outline_color" value="{outline},255"/>
            <Option type="QString" name="outline_style" value="solid"/>
            <Option type="QString" name="outline_width" value="0.1"/>
            <Option type="QString" name="outline_width_unit" value="MM"/>
            <Option type="QString" name="style" value="solid"/>
          </Option>
        </layer>
      </symbol>"""
_MARKER = """      <symbol type="marker" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" pass="0" locked="0">
          <Option type="Map">
            <Option type="QString" name="color" value="{rgb},255"/>
            <Option type="QString" name="name" value="circle"/>
            <Option type="QString" name="outline_color" value="35,35,35,255"/>
            <Option type="QString" name="outline_style" value="solid"/>
            <Option type="QString" name="outline_width" value="0.2"/>
            <Option type="QString" name="outline_width_unit" value="MM"/>
            <Option type="QString" name="size" value="2.4"/>
            <Option type="QString" name="size_unit" value="MM"/>
          </Option>
        </layer>
      </symbol>"""


def categorized_qml(field: str, classes: Sequence, geometry_type: str) -> str:
    """A QGIS 3.22 categorized renderer on the integer ``field``: one category per class (id, name, colour)."""
    categories, symbols = [], []
    for index, spec in enumerate(classes):
        rgb = ",".join(str(int(spec.color[i : i + 2], 16)) for i in (1, 3, 5))
        outline = ",".join(str(max(0, int(spec.color[i : i + 2], 16) - 60)) for i in (1, 3, 5))
        label = quoteattr(spec.name.replace("_", " "))
        categories.append(
            f'      <category render="true" symbol="{index}" value="{spec.id}" label={label} type="integer"/>'
        )
        template = _FILL if geometry_type == "POLYGON" else _MARKER
        symbols.append(template.format(index=index, rgb=rgb, outline=outline))
    return _QML.format(field=field, categories="\n".join(categories), symbols="\n".join(symbols))
