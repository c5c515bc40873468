"""Which local files a job reads and writes, and the check that keeps its outputs off its inputs.

GDAL opens more than plain files: ``/vsizip/archive.zip/scene.tif`` (a file inside an archive),
``GPKG:file.gpkg:table`` or ``NETCDF:"file.nc":variable`` (subdatasets), ``/vsicurl/https://...``
(remote data). ``input_file`` finds the local file behind such a name. ``check_job_paths`` runs
before any work: two outputs may not be the same file, and no output or sidecar a job writes or
removes may be an input, the archive or container an input lives in, or an input's sidecar.
Files are compared after resolving symbolic links, and with ``os.path.samefile`` when both exist
(hard links, case-insensitive file systems).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from itertools import combinations
from pathlib import Path

from ...common.gdal_names import LOCAL_ARCHIVE_HANDLERS, SUBDATASET_NAME
from ..errors import BadParamsError

# Inputs that are not rasters (models, language models, reports): GDAL and QGIS keep no sidecars beside them.
NON_RASTER_SUFFIXES = (".onnx", ".pt", ".pth", ".gguf", ".json")


def raster_sidecars(path: str | Path) -> list[Path]:
    """Files GDAL and QGIS read beside a raster: overviews, mask, PAM statistics and the QGIS style."""
    path = Path(path)
    return [Path(f"{path}.ovr"), Path(f"{path}.msk"), Path(f"{path}.aux.xml"), path.with_suffix(".qml")]


def class_map_sidecars(class_map: str | Path) -> dict[str, Path]:
    """The files written beside a class map: its QGIS style and its GDAL category names."""
    class_map = Path(class_map)
    return {"class map style": class_map.with_suffix(".qml"), "class map categories": Path(f"{class_map}.aux.xml")}


def confidence_sidecars(confidence: str | Path) -> dict[str, Path]:
    """The file written beside a confidence map: its QGIS style."""
    return {"confidence map style": Path(confidence).with_suffix(".qml")}


def input_file(name: str | os.PathLike) -> Path | None:
    """The local file GDAL reads for dataset ``name``; ``None`` for remote or in-memory data, or when
    the file inside a ``/vsi`` or subdataset name cannot be found."""
    text = os.fspath(name)
    if Path(text).exists():
        return Path(text)
    if text.startswith("/vsi"):
        handler, _, rest = text[1:].partition("/")
        if handler not in LOCAL_ARCHIVE_HANDLERS:
            return None
        if rest.startswith("{") and "}" in rest:
            return input_file(rest[1 : rest.index("}")])
        return input_file(rest) if rest.startswith("/vsi") else _existing_prefix(rest.split("/"), "/")
    match = SUBDATASET_NAME.match(text)
    if match:
        return _existing_prefix(match.group(2).split(":"), ":", anywhere=True)
    return Path(text)


def _existing_prefix(parts: list[str], separator: str, anywhere: bool = False) -> Path | None:
    """The longest run of ``parts`` (joined by ``separator``) naming an existing file, quotes removed.

    Archive members follow the archive (``a.zip/b/c.tif``), so the run starts at the first part;
    in subdataset names the file may sit anywhere (``GTIFF_DIR:2:a.tif``, ``NETCDF:"a.nc":var``).
    """
    starts = range(len(parts)) if anywhere else (0,)
    for start in starts:
        for stop in range(len(parts), start, -1):
            candidate = Path(separator.join(parts[start:stop]).strip('"'))
            if candidate.is_file():
                return candidate
    return None


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (symbolic links resolved; hard links when both exist)."""
    if os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b)):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_job_paths(
    reads: Mapping[str, str | os.PathLike | None],
    writes: Mapping[str, str | os.PathLike | None],
    removes: Iterable[Path] = (),
) -> None:
    """Refuse a job whose files collide, before it does any work. Raises ``BadParamsError``.

    reads: role -> GDAL dataset name or path of each input ("optical", "sar", "model", ...);
    writes: role -> path of every file the job writes ("class map", "report", "class map style" ...);
    removes: stale sidecars the job deletes when it replaces an output.
    """
    written = [(role, Path(os.fspath(path))) for role, path in writes.items() if path]
    for role, path in written:
        if os.fspath(path).startswith("/vsi"):
            raise BadParamsError(
                f"the {role} {str(path)!r} is a GDAL virtual path; outputs are written as plain files: give a file path"
            )
    for (role_a, a), (role_b, b) in combinations(written, 2):
        if same_file(a, b):
            raise BadParamsError(
                f"the {role_a} and the {role_b} are the same file ({str(a)!r}); give each output its own file name"
            )
    protected = _protected_files(reads)
    for role, path in written:
        for what, file in protected:
            if same_file(path, file):
                raise BadParamsError(
                    f"the {role} {str(path)!r} is {what} ({str(file)!r}): writing it would destroy that input; "
                    "choose another output file name"
                )
    for path in removes:
        for what, file in protected:
            if same_file(path, file):
                raise BadParamsError(
                    f"{str(path)!r} is {what}, and replacing the outputs would delete it as a stale sidecar; "
                    "choose other output file names"
                )


def _protected_files(reads: Mapping[str, str | os.PathLike | None]) -> list[tuple[str, Path]]:
    """(description, local file) of every input and of its sidecars."""
    protected = []
    for role, name in reads.items():
        file = input_file(name) if name else None
        if file is None:
            continue
        protected.append((f"the {role} input", file))
        if file.suffix.lower() not in NON_RASTER_SUFFIXES:
            protected += [(f"a sidecar file of the {role} input", sidecar) for sidecar in raster_sidecars(file)]
    return protected
