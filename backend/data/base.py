"""Common shape of every dataset reader: a list of items (paths per layer) loaded into ``Sample``s."""

from __future__ import annotations

from pathlib import Path

from ...common.card import ClassSpec
from ...common.classes import load_code_map, load_scheme
from ..errors import UnreadableInputError
from .sample import Sample


class SampleDataset:
    """A map-style dataset of ``Sample``s (usable directly as a ``torch.utils.data.Dataset``).

    Subclasses set ``scheme`` (a class-scheme name from ``resources/classes``), ``optical_bands`` and
    ``sar_bands`` (band names in array order; empty when unknown, e.g. generic folders), the units
    of each modality, build ``self.items`` (one dict of paths per sample, with a ``"name"``) and
    implement ``load(item)``.
    """

    scheme: str = ""
    optical_bands: tuple[str, ...] = ()
    sar_bands: tuple[str, ...] = ()
    optical_unit: str = "reflectance x 10000"
    sar_unit: str = "dB"

    def __init__(self, items: list[dict]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Sample:
        return self.load(self.items[index])

    def load(self, item: dict) -> Sample:
        raise NotImplementedError

    @property
    def names(self) -> list[str]:
        return [item["name"] for item in self.items]

    @property
    def classes(self) -> list[ClassSpec]:
        return load_scheme(self.scheme)

    @property
    def code_map(self) -> dict[int, int]:
        return load_code_map(self.scheme)


def read_name_list(path: Path) -> list[str]:
    """Sample names from a split file (one per line; extensions and blank lines ignored)."""
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            names.append(Path(line).name.removesuffix(".tif").removesuffix(".tiff").removesuffix(".png"))
    return names


def find_split_file(root: Path, split: str | None, candidates: tuple[str, ...]) -> Path | None:
    """The first existing ``root/<candidate formatted with split>``; ``None`` when ``split`` is None.

    Raises ``UnreadableInputError`` when a split was asked for but no list file exists.
    """
    if split is None:
        return None
    for pattern in candidates:
        path = root / pattern.format(split=split)
        if path.is_file():
            return path
    wanted = ", ".join(pattern.format(split=split) for pattern in candidates)
    raise UnreadableInputError(f"split {split!r}: expected a list file under {root} ({wanted}); none exists")


def require_dir(path: Path, layout: str) -> Path:
    """``path`` if it is a folder, else an error that shows the expected layout."""
    if not path.is_dir():
        raise UnreadableInputError(f"expected folder {path} ({layout}); it does not exist")
    return path


def no_samples(root: Path, layout: str) -> UnreadableInputError:
    return UnreadableInputError(f"no samples found under {root}: expected the layout {layout}")
