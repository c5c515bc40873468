"""Synthetic cloudy SAR + optical scenes with exact labels: the benchmark and demo training data.

A scene is drawn in four steps, all from one seed:

1. Class map (the 9 Dynamic World classes): smooth random fields per class, biased by per-scene
   class weights, take the argmax (blobs of a few hundred metres at 10 m pixels); crop areas are cut
   into rectangular parcels; a meandering river with flooded banks and a few straight roads are drawn
   on top.
2. Optical: a Sentinel-2 L2A-like spectrum per class for the demo bands B2, B3, B4, B5, B6, B7, B8,
   B11, B12 (surface reflectance x 10000), varied per parcel and by a smooth texture, plus pixel
   noise and a slight blur (sensor point-spread).
3. SAR: Sentinel-1 VV and VH backscatter in dB per class with a smooth texture, bright point
   scatterers in built areas, and multiplicative speckle (gamma distributed intensity, ~4.4 looks as
   for IW GRD) applied in linear power.
4. Clouds: thick clouds (opaque cores, thinner edges), thin clouds (semi-transparent), and their
   shadows (the cloud shape shifted along a random sun azimuth, darkening the ground). The cloud
   mask marks cloud and shadow pixels; the clear optical image is kept as the cloud-free twin.

The spectra and backscatter levels are typical published values, chosen to make classes separable
by optics when clear and partly by SAR under clouds, as in real scenes. They are not calibrated to
any sensor or region: data drawn here are for tests, benchmarks and demonstration models only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import SampleDataset
from .rasters import DEMO_S2_BANDS, S1_BANDS
from .sample import Sample

WATER, TREES, GRASS, FLOODED, CROPS, SHRUB, BUILT, BARE, SNOW = range(9)
NUM_CLASSES = 9

# Surface reflectance x 10000 per class for B2, B3, B4, B5, B6, B7, B8, B11, B12.
SPECTRA = np.array(
    [
        [650, 600, 380, 300, 240, 210, 180, 90, 60],  # water
        [260, 470, 260, 720, 2100, 2700, 2950, 1450, 650],  # trees
        [420, 720, 560, 1150, 2250, 2650, 2850, 2350, 1350],  # grass
        [330, 560, 420, 800, 1450, 1750, 1850, 1050, 500],  # flooded vegetation
        [380, 680, 450, 1050, 2700, 3300, 3550, 2250, 1150],  # crops
        [520, 760, 820, 1250, 1850, 2150, 2350, 2650, 1850],  # shrub and scrub
        [1050, 1120, 1200, 1320, 1480, 1580, 1680, 2050, 1850],  # built
        [1250, 1550, 1850, 2150, 2400, 2600, 2800, 3350, 2850],  # bare
        [8600, 8400, 8100, 7900, 7600, 7400, 7100, 1500, 1150],  # snow and ice
    ],
    dtype=np.float32,
)
# Mean backscatter in dB per class: VV, VH.
BACKSCATTER_DB = np.array(
    [
        [-21.0, -27.5],
        [-7.5, -13.0],
        [-11.5, -18.5],
        [-5.0, -15.5],
        [-10.0, -16.5],
        [-9.0, -16.0],
        [-3.0, -9.5],
        [-15.0, -23.0],
        [-13.5, -21.5],
    ],
    dtype=np.float32,
)
CLASS_WEIGHTS = np.array([0.8, 1.2, 1.0, 0.6, 1.2, 0.9, 0.7, 0.7, 0.4], dtype=np.float32)
CLOUD_SPECTRUM = np.array([7600, 7500, 7400, 7300, 7200, 7100, 7000, 5200, 3800], dtype=np.float32)
SPECKLE_LOOKS = 4.4


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """White noise low-passed by a Gaussian of ``sigma`` pixels (periodic), scaled to zero mean, unit std."""
    noise = rng.standard_normal(shape).astype(np.float32)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    kernel = np.exp(-2.0 * (np.pi * sigma) ** 2 * (fy**2 + fx**2)).astype(np.float32)
    field = np.fft.irfft2(np.fft.rfft2(noise) * kernel, s=shape).astype(np.float32)
    return (field - field.mean()) / (field.std() + 1e-8)


def _blur3(image: np.ndarray) -> np.ndarray:
    """3x3 binomial blur of the last two axes (edges replicated)."""
    padded = np.pad(image, [(0, 0)] * (image.ndim - 2) + [(1, 1), (1, 1)], mode="edge")
    rows = 0.25 * padded[..., :-2, :] + 0.5 * padded[..., 1:-1, :] + 0.25 * padded[..., 2:, :]
    return 0.25 * rows[..., :, :-2] + 0.5 * rows[..., :, 1:-1] + 0.25 * rows[..., :, 2:]


def _draw_line(mask: np.ndarray, rows: np.ndarray, cols: np.ndarray, half_width: float) -> None:
    """Set ``mask`` within ``half_width`` pixels of the polyline through ``(rows, cols)``."""
    height, width = mask.shape
    radius = int(np.ceil(half_width))
    for r, c in zip(rows, cols, strict=True):
        r0, r1 = max(int(r) - radius, 0), min(int(r) + radius + 1, height)
        c0, c1 = max(int(c) - radius, 0), min(int(c) + radius + 1, width)
        if r0 >= r1 or c0 >= c1:
            continue
        yy, xx = np.mgrid[r0:r1, c0:c1]
        mask[r0:r1, c0:c1] |= (yy - r) ** 2 + (xx - c) ** 2 <= half_width**2


def class_map(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Class ids ``uint8 [H, W]`` and a parcel id map ``int32 [H, W]`` (crop fields and blobs)."""
    weights = CLASS_WEIGHTS * rng.uniform(0.5, 1.5, NUM_CLASSES).astype(np.float32)
    if rng.random() < 0.6:
        weights[SNOW] = 0.0
    scale = rng.uniform(14, 30)
    fields = np.stack([smooth_noise(rng, (height, width), scale) for _ in range(NUM_CLASSES)])
    detail = np.stack([smooth_noise(rng, (height, width), scale / 4) for _ in range(NUM_CLASSES)])
    score = fields + 0.35 * detail + 2.0 * np.log(np.maximum(weights, 1e-6))[:, None, None]
    labels = score.argmax(axis=0).astype(np.uint8)

    # Parcels: a jittered grid of rectangles; crops take one phenology state per parcel.
    size = rng.integers(10, 24)
    rows = (np.arange(height) + rng.integers(0, size)) // size
    cols = (np.arange(width) + rng.integers(0, size)) // (size + rng.integers(-4, 5))
    parcels = (rows[:, None] * 10007 + cols[None, :]).astype(np.int32)

    # Roads: straight built lines; river: a meandering water line with flooded banks in places.
    lines = np.zeros((height, width), dtype=bool)
    for _ in range(rng.integers(0, 3)):
        t = np.linspace(0, 1, 4 * max(height, width))
        r0, r1 = rng.uniform(0, height, 2)
        c0, c1 = rng.uniform(0, width, 2)
        _draw_line(lines, r0 + (r1 - r0) * t, c0 + (c1 - c0) * t, rng.uniform(0.5, 1.2))
    labels[lines] = BUILT
    if rng.random() < 0.7:
        t = np.linspace(0, 1, 4 * max(height, width))
        rows_r = t * height
        cols_r = rng.uniform(0.2, 0.8) * width + rng.uniform(5, 25) * np.sin(t * rng.uniform(2, 8) + rng.uniform(0, 6))
        if rng.random() < 0.5:
            rows_r, cols_r = cols_r * height / width, rows_r * width / height
        banks = np.zeros_like(lines)
        _draw_line(banks, rows_r, cols_r, rng.uniform(4, 8))
        banks &= smooth_noise(rng, (height, width), 6) > 0.3
        labels[banks] = FLOODED
        river = np.zeros_like(lines)
        _draw_line(river, rows_r, cols_r, rng.uniform(1.5, 4))
        labels[river] = WATER
    return labels, parcels


def optical_image(rng: np.random.Generator, labels: np.ndarray, parcels: np.ndarray) -> np.ndarray:
    """Cloud-free reflectance x 10000, float32 ``[9, H, W]``, from the class map."""
    height, width = labels.shape
    spectra = SPECTRA[labels].transpose(2, 0, 1).copy()
    # Per-parcel brightness and, for crops, a phenology mix between green crop and bare soil.
    _, parcel_index = np.unique(parcels, return_inverse=True)
    parcel_index = parcel_index.reshape(height, width)
    count = parcel_index.max() + 1
    gain = rng.uniform(0.85, 1.15, count).astype(np.float32)[parcel_index]
    green = rng.uniform(0.55, 1.0, count).astype(np.float32)[parcel_index]
    crops = labels == CROPS
    spectra[:, crops] = green[crops] * SPECTRA[CROPS][:, None] + (1 - green[crops]) * SPECTRA[BARE][:, None] * 0.8
    texture = 1.0 + 0.08 * smooth_noise(rng, (height, width), 3.0) + 0.05 * smooth_noise(rng, (height, width), 12.0)
    image = spectra * (gain * texture)[None]
    image *= 1.0 + 0.03 * rng.standard_normal(image.shape).astype(np.float32)
    return np.clip(_blur3(image), 1, 12000).astype(np.float32)


def sar_image(rng: np.random.Generator, labels: np.ndarray, looks: float = SPECKLE_LOOKS) -> np.ndarray:
    """Sentinel-1-like VV, VH backscatter in dB, float32 ``[2, H, W]``, with speckle."""
    height, width = labels.shape
    db = BACKSCATTER_DB[labels].transpose(2, 0, 1).copy()
    db += 1.5 * smooth_noise(rng, (height, width), 8.0)[None]
    scatterers = (labels == BUILT) & (rng.random((height, width)) < 0.08)
    db[:, scatterers] += rng.uniform(4, 10, scatterers.sum()).astype(np.float32)
    power = 10.0 ** (db / 10.0)
    speckle = rng.gamma(looks, 1.0 / looks, size=power.shape).astype(np.float32)
    return (10.0 * np.log10(np.maximum(power * speckle, 1e-6))).astype(np.float32)


def add_clouds(rng: np.random.Generator, clear: np.ndarray, cover: float) -> tuple[np.ndarray, np.ndarray]:
    """Thick and thin clouds plus shadows over ``clear`` ``[9, H, W]``; returns (cloudy image, mask uint8).

    ``cover`` is the target cloud fraction (0..1) before shadows; the mask marks cloud and shadow.
    """
    _, height, width = clear.shape
    if cover <= 0:
        return clear.copy(), np.zeros((height, width), dtype=np.uint8)
    thin_share = rng.uniform(0.2, 0.5)
    thick_field = smooth_noise(rng, (height, width), rng.uniform(10, 20)) + 0.3 * smooth_noise(rng, (height, width), 3)
    thin_field = smooth_noise(rng, (height, width), rng.uniform(25, 45))
    thick_cut = np.quantile(thick_field, 1 - cover * (1 - thin_share))
    thin_cut = np.quantile(thin_field, 1 - cover * thin_share)
    # Opaque cores, semi-transparent edges; thin clouds 15-50 % opacity.
    alpha = np.clip(0.3 + (thick_field - thick_cut) / 0.4, 0, 1) * (thick_field > thick_cut)
    thin_alpha = rng.uniform(0.15, 0.5) * np.clip(0.3 + (thin_field - thin_cut) / 0.6, 0, 1) * (thin_field > thin_cut)
    alpha = np.maximum(alpha, thin_alpha).astype(np.float32)
    cloud = alpha > 0

    azimuth = rng.uniform(0, 2 * np.pi)
    offset = rng.uniform(0.03, 0.08) * min(height, width)
    dy, dx = int(round(offset * np.sin(azimuth))), int(round(offset * np.cos(azimuth)))
    shadow_alpha = np.roll(alpha * (alpha > 0.5), (dy, dx), axis=(0, 1)) * ~cloud
    shadow = shadow_alpha > 0

    brightness = rng.uniform(0.85, 1.1) * (1 + 0.06 * smooth_noise(rng, (height, width), 4.0))
    cloud_light = CLOUD_SPECTRUM[:, None, None] * brightness[None]
    darkened = clear * (1 - rng.uniform(0.45, 0.65) * shadow_alpha)[None]
    cloudy = (1 - alpha)[None] * darkened + alpha[None] * cloud_light
    return np.clip(cloudy, 1, 12000).astype(np.float32), (cloud | shadow).astype(np.uint8)


def generate_scene(
    height: int = 256,
    width: int | None = None,
    seed: int = 0,
    cloud_cover: float | tuple[float, float] = (0.3, 0.6),
) -> Sample:
    """One synthetic scene as a ``Sample`` (demo bands, dB SAR, Dynamic World labels, cloud mask, clear twin).

    ``cloud_cover`` is a fraction or a ``(low, high)`` range drawn from; 0 gives a clear scene.
    The same ``seed`` and size always give the same scene.
    """
    width = height if width is None else width
    rng = np.random.default_rng(seed)
    labels, parcels = class_map(rng, height, width)
    clear = optical_image(rng, labels, parcels)
    sar = sar_image(rng, labels)
    cover = rng.uniform(*cloud_cover) if isinstance(cloud_cover, tuple) else float(cloud_cover)
    cloudy, mask = add_clouds(rng, clear, cover)
    return Sample(
        name=f"synthetic-{seed}",
        optical=np.round(cloudy),
        sar=sar,
        label=labels,
        cloud_mask=mask,
        optical_clear=np.round(clear),
    )


class SyntheticDataset(SampleDataset):
    """``count`` synthetic scenes of ``size`` pixels; scene ``i`` is ``generate_scene(seed=seed + i)``."""

    scheme = "dynamic_world"
    optical_bands = DEMO_S2_BANDS
    sar_bands = S1_BANDS

    def __init__(
        self, count: int, size: int = 128, seed: int = 0, cloud_cover: float | tuple[float, float] = (0.3, 0.6)
    ) -> None:
        self.size, self.seed, self.cloud_cover = size, seed, cloud_cover
        super().__init__([{"name": f"synthetic-{seed + i}", "seed": seed + i} for i in range(count)])
        self._cache: dict[int, Sample] = {}

    def load(self, item: dict) -> Sample:
        if item["seed"] not in self._cache:
            self._cache[item["seed"]] = generate_scene(self.size, self.size, item["seed"], self.cloud_cover)
        return self._cache[item["seed"]]


def write_scene(sample: Sample, folder: str | Path, pixel_size: float = 10.0, epsg: int = 32633) -> dict[str, Path]:
    """Write a scene as GeoTIFFs in the generic folder layout (``optical/``, ``sar/``, ``label/``, ...).

    Optical layers are uint16 reflectance x 10000 with band descriptions, SAR float32 dB, label and
    cloud mask uint8 (label nodata 255). Returns the written path of each layer.
    """
    import rasterio
    from affine import Affine

    folder = Path(folder)
    height, width = sample.label.shape
    transform = Affine(pixel_size, 0.0, 500000.0, 0.0, -pixel_size, 5000000.0 + height * pixel_size)
    layers = {
        "optical": (sample.optical, "uint16", DEMO_S2_BANDS, None),
        "optical_clear": (sample.optical_clear, "uint16", DEMO_S2_BANDS, None),
        "sar": (sample.sar, "float32", S1_BANDS, None),
        "label": (sample.label[None], "uint8", ("label",), 255),
        "cloud_mask": (None if sample.cloud_mask is None else sample.cloud_mask[None], "uint8", ("cloud",), None),
    }
    written = {}
    for layer, (array, dtype, names, nodata) in layers.items():
        if array is None:
            continue
        path = folder / layer / f"{sample.name}.tif"
        path.parent.mkdir(parents=True, exist_ok=True)
        profile = dict(
            driver="GTiff",
            width=width,
            height=height,
            count=len(names),
            dtype=dtype,
            crs=f"EPSG:{epsg}",
            transform=transform,
            nodata=nodata,
            tiled=True,
            blockxsize=256,
            blockysize=256,
            compress="deflate",
        )
        if height < 256 or width < 256:
            profile.update(tiled=False, blockxsize=None, blockysize=None)
            profile = {k: v for k, v in profile.items() if v is not None}
        with rasterio.open(path, "w", **profile) as dst:
            values = np.clip(array, 0, 65535) if dtype == "uint16" else array
            dst.write(values.astype(dtype))
            for index, name in enumerate(names, start=1):
                dst.set_band_description(index, name)
        written[layer] = path
    return written
