"""The benchmark runner finds the benchmark modules and refuses unknown names."""

from landfuse.bench.__main__ import available, run


def test_runner_lists_modules_with_main_and_skips_sections():
    names = available()
    assert "models" in names
    assert "models_reconstructions" not in names  # a section merged by bench/models.py


def test_unknown_benchmark_is_refused_with_the_valid_names(capsys):
    assert run(["no_such_bench"]) == 2
    err = capsys.readouterr().err
    assert "no_such_bench" in err and "models" in err
