"""Tests of geonb.cli: ``python -m geonb info | data generate | data fetch | kernels install``.

``data fetch`` is tested with the local STAC server in test_datasets_stac.py and ``kernels install``
in test_runtime.py; here the commands' own behaviour.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from geonb.cli import build_parser, main


def test_info_prints_versions_and_the_device_report(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("geonb ") and "profile" in out
    assert "CPU" in out or "GPU" in out


def test_python_dash_m_geonb_runs_and_lists_commands():
    res = subprocess.run([sys.executable, "-m", "geonb", "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0
    for command in ("info", "data", "kernels"):
        assert command in res.stdout


def test_unknown_command_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["train-everything"])
    assert exc.value.code == 2


def test_data_generate_refuses_to_replace_a_dataset_and_loses_nothing(tmp_path, capsys):
    # One of the two lakes datasets is there (a user's edits, say): generating must not replace it.
    mine = tmp_path / "lakes" / "lakes-synthetic" / "catalog.geojson"
    mine.parent.mkdir(parents=True)
    mine.write_text("my edits")
    assert main(["data", "generate", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--overwrite" in err
    assert mine.read_text() == "my edits"
    assert not (tmp_path / "lakes" / "lakes-synthetic-unclassified").exists()


def test_data_generate_keeps_present_lakes_and_makes_what_is_missing(tmp_path, capsys):
    for name in ("lakes-synthetic", "lakes-synthetic-unclassified"):
        (tmp_path / "lakes" / name).mkdir(parents=True)
    assert main(["data", "generate", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "lakes datasets already in" in out
    assert list((tmp_path / "lakes" / "lakes-synthetic").iterdir()) == []  # untouched
    assert list((tmp_path / "buildings").rglob("*.geojson"))  # the buildings sample was missing: written
