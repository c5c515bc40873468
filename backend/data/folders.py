"""Folders of co-registered GeoTIFFs matched by file name: the generic layout and the public ones built on it.

Generic layout (every layer but ``label`` optional; file names equal across folders, or equal once
each folder's suffix is removed)::

    <root>/optical/<name>.tif        optical bands, any count, physical units
    <root>/sar/<name>.tif            SAR bands (dB or linear)
    <root>/label/<name>.tif          class codes, mapped through the class scheme's source codes
    <root>/cloud_mask/<name>.tif     optional, 1 = cloud
    <root>/optical_clear/<name>.tif  optional cloud-free optical
    <root>/<split>.txt               optional list of names for a split

SAR, label and cloud mask are resampled onto the optical grid when their grids differ (bilinear for
images, nearest for labels and masks), so the layers may come in different CRS and resolutions.

Large scenes (WHU-OPT-SAR's 5556 x 3704 px) can be cut into ``tile_size`` windows read on demand, the
last window of each row and column shifted inward to end at the border (as the ASANet tiling does);
this needs every layer of a scene on one grid of one size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rasterio.enums import Resampling

from ...common.classes import load_code_map
from ..engine.windows import window_starts
from ..errors import UnreadableInputError
from .base import SampleDataset, find_split_file, no_samples, read_name_list
from .rasters import Raster, fill_nan, raster_shape, read_raster, warp_to
from .sample import Sample, map_codes

LAYERS = ("optical", "sar", "label", "cloud_mask", "optical_clear")
TIFF_SUFFIXES = (".tif", ".tiff", ".TIF", ".TIFF")


class FolderDataset(SampleDataset):
    """Generic folders of optical/SAR/label GeoTIFFs (see the module docstring for the layout).

    ``folders`` maps a layer to its folder name under ``root``; ``suffixes`` maps a layer to a file-name
    ending removed before matching (e.g. ``{"sar": "_S1Hand"}``). ``scheme`` names the class scheme.
    Label files hold class ids by default; ``label_codes`` names a scheme whose source codes they hold
    instead (e.g. ``"sen1floods11"``: -1 no data, 0, 1), and ``code_map`` gives any other mapping.
    """

    layout = "<root>/optical, sar, label, optional cloud_mask, optical_clear: GeoTIFFs with matching names"
    default_folders = {layer: layer for layer in LAYERS}
    source_codes = False  # label files hold class ids; the public layouts below hold the dataset's codes
    split_files = ("{split}.txt", "splits/{split}.txt", "{split}_list.txt")

    def __init__(
        self,
        root: str | Path,
        split: str | None = None,
        *,
        scheme: str = "dynamic_world",
        folders: dict[str, str] | None = None,
        suffixes: dict[str, str] | None = None,
        code_map: dict[int, int] | None = None,
        label_codes: str | None = None,
        tile_size: int | None = None,
    ) -> None:
        self.root = Path(root)
        self.tile_size = tile_size
        self.scheme = scheme
        if label_codes is not None:
            code_map = load_code_map(label_codes)
        self.folders = {**self.default_folders, **(folders or {})}
        self.suffixes = suffixes or {}
        self._code_map = code_map
        split_file = find_split_file(self.root, split, self.split_files)
        wanted = read_name_list(split_file) if split_file else None
        items = self._match(wanted)
        super().__init__([tile for item in items for tile in self._tiles(item)] if tile_size else items)

    @property
    def code_map(self) -> dict[int, int]:
        """Label value -> class id; empty when label files hold class ids (values above 254 become nodata)."""
        if self._code_map is not None:
            return self._code_map
        return super().code_map if self.source_codes else {}

    def _files(self, layer: str) -> dict[str, Path]:
        folder = self.root / self.folders[layer]
        if not folder.is_dir():
            return {}
        suffix = self.suffixes.get(layer, "")
        files = {}
        for path in sorted(folder.iterdir()):
            if path.suffix in TIFF_SUFFIXES and path.stem.endswith(suffix):
                files[path.stem[: len(path.stem) - len(suffix)] if suffix else path.stem] = path
        return files

    def _match(self, wanted: list[str] | None) -> list[dict]:
        layers = {layer: self._files(layer) for layer in LAYERS}
        if not layers["label"]:
            raise no_samples(self.root / self.folders["label"], self.layout)
        names = wanted if wanted is not None else sorted(layers["label"])
        items = []
        for name in names:
            if name not in layers["label"]:
                raise UnreadableInputError(f"sample {name!r} has no label file in {self.root / self.folders['label']}")
            item = {"name": name, **{layer: files[name] for layer, files in layers.items() if name in files}}
            if "optical" not in item and "sar" not in item:
                raise UnreadableInputError(
                    f"sample {name!r} has neither an optical nor a SAR file (folders {self.folders['optical']!r}, "
                    f"{self.folders['sar']!r} under {self.root})"
                )
            items.append(item)
        return items

    def _tiles(self, item: dict) -> list[dict]:
        """``item`` split into ``tile_size`` windows (``"window"``: row, col, height, width)."""
        shapes = {layer: raster_shape(item[layer]) for layer in LAYERS if layer in item}
        if len(set(shapes.values())) > 1:
            raise UnreadableInputError(
                f"sample {item['name']!r}: cutting tiles needs all layers on one grid, found sizes {shapes}; "
                "resample the layers to one grid or read whole scenes (no tile size)"
            )
        height, width = shapes["label"]
        tile, tiles = self.tile_size, []
        for y0 in window_starts(height, tile, tile):
            for x0 in window_starts(width, tile, tile):
                window = (y0, x0, min(tile, height), min(tile, width))
                tiles.append({**item, "name": f"{item['name']}_{len(tiles):03d}", "window": window})
        return tiles

    def read_optical(self, path: Path, window=None) -> Raster:
        """The optical raster of one sample (subclasses select or reorder bands here)."""
        return read_raster(path, window)

    def read_sar(self, path: Path, window=None) -> Raster:
        """The SAR raster of one sample (subclasses select bands here)."""
        return read_raster(path, window)

    def label_values(self, raster: Raster) -> np.ndarray:
        """Class ids ``uint8 [H, W]`` from the label raster's first band."""
        values = np.nan_to_num(raster.array[0], nan=-1).astype(np.int64)
        if self.code_map:
            return map_codes(values, self.code_map)
        return np.where((values >= 0) & (values < 255), values, 255).astype(np.uint8)

    def load(self, item: dict) -> Sample:
        window = item.get("window")
        optical = self.read_optical(item["optical"], window) if "optical" in item else None
        sar = self.read_sar(item["sar"], window) if "sar" in item else None
        grid = optical if optical is not None else sar
        label_raster = read_raster(item["label"], window)
        label = self.label_values(Raster(warp_to(label_raster, grid, Resampling.nearest), grid.crs, grid.transform))
        sample = Sample(name=item["name"], label=label)
        if optical is not None:
            sample.optical = fill_nan(optical.array)
        if sar is not None:
            sample.sar = fill_nan(warp_to(sar, grid))
        if "cloud_mask" in item:
            mask = warp_to(read_raster(item["cloud_mask"], window), grid, Resampling.nearest)[0]
            sample.cloud_mask = (np.nan_to_num(mask) > 0).astype(np.uint8)
        if "optical_clear" in item:
            sample.optical_clear = fill_nan(warp_to(read_raster(item["optical_clear"], window), grid))
        return sample


class WhuOptSar(FolderDataset):
    """WHU-OPT-SAR: GF-1 optical (4 bands) + GF-3 SAR (1 band) + labels coded 0, 10..70.

    Layout as distributed: ``<root>/optical/*.tif``, ``<root>/sar/*.tif``, ``<root>/lbl/*.tif`` with the
    same names, split lists ``<root>/{train,test}_list.txt`` (or under ``splits/``). Label codes are
    divided by 10 and background dropped: 10 farmland -> 0 ... 70 other -> 6, 0 -> 255 (nodata).
    Label files already divided by 10 (values 0..7, as the tiled copies used by ASANet) work too.
    """

    source_codes = True
    layout = "<root>/optical, sar, lbl with matching .tif names; <root>/<split>_list.txt"
    default_folders = {**FolderDataset.default_folders, "label": "lbl"}
    split_files = ("{split}_list.txt", "splits/{split}_list.txt", "{split}.txt")
    optical_bands = ("R", "G", "B", "NIR")
    sar_bands = ("SAR",)
    optical_unit = "DN"
    sar_unit = "linear"  # 8-bit amplitude, not calibrated backscatter

    def __init__(self, root: str | Path, split: str | None = None, **options) -> None:
        super().__init__(root, split, scheme="whu_opt_sar", **options)

    def label_values(self, raster: Raster) -> np.ndarray:
        values = np.nan_to_num(raster.array[0]).astype(np.int64)
        divided = values // 10 if values.max(initial=0) > 7 else values
        return map_codes(divided * 10, self.code_map)


class PieRgbSar(FolderDataset):
    """PIE-RGB-SAR: 256x256 RGB + SAR tiles with labels 0..5 (background is a class).

    Layout: ``<root>/rgb/*.tif``, ``<root>/sar/*.tif``, ``<root>/label/*.tif``, ``<root>/{train,val}.txt``.
    SAR tiles stored as three identical channels are reduced to one.
    """

    source_codes = True
    layout = "<root>/rgb, sar, label with matching .tif names; <root>/<split>.txt"
    default_folders = {**FolderDataset.default_folders, "optical": "rgb"}
    optical_bands = ("R", "G", "B")
    sar_bands = ("SAR",)
    optical_unit = "DN"
    sar_unit = "linear"  # 8-bit amplitude, not calibrated backscatter

    def __init__(self, root: str | Path, split: str | None = None, **options) -> None:
        super().__init__(root, split, scheme="pie_rgb_sar", **options)

    def read_sar(self, path: Path, window=None) -> Raster:
        raster = read_raster(path, window)
        return Raster(raster.array[:1], raster.crs, raster.transform, raster.descriptions[:1])


class OpenEarthMapSar(FolderDataset):
    """OpenEarthMap-SAR (DFC2025 track 1): RGB + single-channel SAR + labels 0 void, 1..8 classes.

    Layout: ``<root>/[<split>/]rgb_images``, ``sar_images``, ``labels`` with matching names; optional
    ``<root>/<split>.txt``. Void becomes nodata, classes 1..8 become ids 0..7.
    """

    source_codes = True
    layout = "<root>/[<split>/]rgb_images, sar_images, labels with matching .tif names"
    default_folders = {**FolderDataset.default_folders, "optical": "rgb_images", "sar": "sar_images", "label": "labels"}
    optical_bands = ("R", "G", "B")
    sar_bands = ("SAR",)
    optical_unit = "DN"
    sar_unit = "linear"  # 8-bit amplitude, not calibrated backscatter

    def __init__(self, root: str | Path, split: str | None = None, **options) -> None:
        root = Path(root)
        if split is not None and (root / split / "labels").is_dir():
            root, split = root / split, None
        super().__init__(root, split, scheme="openearthmap_sar", **options)

    def read_sar(self, path: Path, window=None) -> Raster:
        raster = read_raster(path, window)
        return Raster(raster.array[:1], raster.crs, raster.transform, raster.descriptions[:1])
