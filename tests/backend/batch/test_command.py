"""``landfuse batch`` refuses unclear scene arguments before starting anything."""

from __future__ import annotations

import pytest

from landfuse.backend.cli import main


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "exactly one of --scenes, --folder or --optical/--sar"),
        (["--folder", "scenes", "--optical", "s2.tif"], "exactly one of"),
        (["--folder", "scenes", "--optical-bands", "1,2,3"], "describe one scene"),
        (["--optical", "s2.tif", "--extent", "1,2,3"], "four numbers"),
    ],
)
def test_unclear_scene_arguments_are_refused(arguments, message, tmp_path, capsys):
    status = main(["batch", "--model", "edc-lite", "--out", str(tmp_path / "out"), *arguments])
    assert status == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
