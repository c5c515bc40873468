"""Scene lists: CSV tables and the folder convention, with errors a user can act on."""

from __future__ import annotations

import pytest

from landfuse.backend.batch.scenes import Scene, read_scene_table, scenes_in_folder
from landfuse.backend.errors import BadParamsError


def test_table_resolves_relative_paths_reads_bands_and_names_unnamed_scenes(tmp_path):
    table = tmp_path / "lists" / "scenes.csv"
    table.parent.mkdir()
    table.write_text(
        "name,optical,sar,optical_bands,sar_bands\n"
        "north,../data/n_s2.tif,../data/n_s1.tif,2 3 4,1;2\n"
        ",/abs/s2.vrt,,,\n"
        'zip,/vsizip/scenes.zip/s2.tif,"NETCDF:""s1.nc"":vv",,\n',
        encoding="utf-8",
    )
    north, unnamed, archived = read_scene_table(table)
    assert north == Scene(
        "north", str(tmp_path / "data" / "n_s2.tif"), str(tmp_path / "data" / "n_s1.tif"), (2, 3, 4), (1, 2)
    )
    assert unnamed == Scene("s2", "/abs/s2.vrt", None)
    assert (archived.optical, archived.sar) == ("/vsizip/scenes.zip/s2.tif", 'NETCDF:"s1.nc":vv')


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("image,radar\na.tif,b.tif\n", "expected a header"),
        ("name,optical,sar\nx,a.tif,b.tif\nx,c.tif,d.tif\n", "appears twice"),
        ("name,optical,sar\n../up,a.tif,b.tif\n", "cannot be a folder name"),
        ("name,optical,sar,optical_bands\nx,a.tif,b.tif,2 x\n", "1-based indexes"),
        ("name,optical,sar\nx,,\n", "no optical and no SAR"),
        ("name,optical,sar\n", "lists no scene"),
    ],
)
def test_bad_tables_are_refused_with_what_to_fix(tmp_path, text, message):
    table = tmp_path / "scenes.csv"
    table.write_text(text, encoding="utf-8")
    with pytest.raises(BadParamsError, match=message):
        read_scene_table(table)


def test_folder_convention_pairs_optical_and_sar_per_sub_folder(tmp_path):
    for name, files in {"b": ["optical.tif", "sar.vrt"], "a": ["sar.tif"], "empty": ["notes.txt"]}.items():
        (tmp_path / name).mkdir()
        for file in files:
            (tmp_path / name / file).write_text("")
    assert scenes_in_folder(tmp_path) == [
        Scene("a", None, str(tmp_path / "a" / "sar.tif")),
        Scene("b", str(tmp_path / "b" / "optical.tif"), str(tmp_path / "b" / "sar.vrt")),
    ]
    with pytest.raises(BadParamsError, match="does not exist"):
        scenes_in_folder(tmp_path / "missing")
