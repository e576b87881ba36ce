"""`dubset export` and `dubset verify` as a user runs them on a local store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dubset_cli import export, verify
from dubset_cli.main import main
from dubset_common.objstore import LocalStore

from .test_export_fixtures import add_episode, show


def cli(module: object, argv: list[str]) -> int:
    """`dubset ARGV` through the real command (module: the command's own, for the reader)."""
    return main(argv)


def test_export_then_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = LocalStore(tmp_path / "store")
    add_episode(store, "ds", show("Alpha"), "1", num_clips=2)
    add_episode(store, "ds", show("Beta"), "1", num_clips=1, video=False)
    rc = cli(
        export, ["export", "--dataset", "ds", "--store", str(tmp_path / "store"), "--archives"]
    )
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "shows 2  episodes 2  clips 3" in out and "anim400k_audio_clips.tar.gz" in out
    assert "reading episode fragments" in err  # progress on stderr

    root = tmp_path / "store" / "datasets" / "ds"
    assert cli(verify, ["verify", str(root)]) == 0
    assert ": ok, 10 files checked" in capsys.readouterr().err

    (root / "anim400k_audio_clips.tar.gz").unlink()
    next((root / "anim400k_audio_clips").rglob("*.mp3")).unlink()
    assert cli(verify, ["verify", str(root), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and [p["kind"] for p in report["problems"]] == ["missing"]


def test_usage_and_io_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(verify, ["verify", str(tmp_path / "nowhere")]) == 2
    assert "nowhere does not exist" in capsys.readouterr().err
    store = str(tmp_path / "store")
    assert cli(export, ["export", "--dataset", "ds", "--store", store, "--splits", "1,2"]) == 2
    assert "three split ratios" in capsys.readouterr().err
    assert cli(export, ["export", "--dataset", "ds", "--store", store]) == 2
    assert "no episode fragments" in capsys.readouterr().err
    shutil.rmtree(store)


def test_verify_of_a_run_root_names_the_dataset_in_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`dubset verify work/` (the run's --out) is not a list of defects but a pointer."""
    store = LocalStore(tmp_path / "work")
    add_episode(store, "default", show("Alpha"), "1", num_clips=1, video=False)
    assert cli(verify, ["verify", str(tmp_path / "work")]) == 2
    err = capsys.readouterr().err
    assert "is not a dataset" in err
    assert "export them first" not in err  # fragments only under datasets/default/episodes
    assert cli(export, ["export", "--dataset", "default", "--store", str(tmp_path / "work")]) == 0
    capsys.readouterr()
    for folder in (tmp_path / "work", tmp_path / "work" / "datasets"):
        assert cli(verify, ["verify", str(folder)]) == 2
        err = capsys.readouterr().err
        assert err.strip().endswith(f"did you mean {tmp_path / 'work/datasets/default'}?"), err
    assert cli(verify, ["verify", str(tmp_path / "work" / "datasets" / "default")]) == 0


def _steps(err: str) -> list[str]:
    """The progress steps of non-terminal stderr: one "<step> ..." line as each starts."""
    return [line[: -len(" ...")] for line in err.splitlines() if line.endswith(" ...")]


def test_progress_lines_name_real_steps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = LocalStore(tmp_path / "store")
    add_episode(store, "ds", show("Alpha"), "1", num_clips=1, video=False)
    assert cli(export, ["export", "--dataset", "ds", "--store", str(tmp_path / "store")]) == 0
    err = capsys.readouterr().err
    assert _steps(err) == [
        "reading episode fragments",
        "checking media",
        "writing the manifest",
        "writing the annotations",
    ]
    assert cli(verify, ["verify", str(tmp_path / "store" / "datasets" / "ds")]) == 0
    err = capsys.readouterr().err
    steps = ["listing files", "reading the manifest", "reading the annotations"]
    assert _steps(err) == [*steps, "checking checksums"]
    assert "done done" not in err and not any(line.startswith("done") for line in err.splitlines())
    for step in _steps(err):  # one line as a step starts, one as it ends
        assert sum(line.startswith(step) for line in err.splitlines()) == 2


def test_a_filtered_export_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from .test_quality_export import add_quality

    store = LocalStore(tmp_path / "store")
    alpha = add_episode(store, "demo", show("Alpha"), "1", num_clips=2)
    add_quality(store, alpha, [0.9, 0.3])
    base = ["export", "--dataset", "demo", "--store", str(tmp_path / "store")]
    assert cli(export, [*base, "--min-quality", "0.5"]) == 2
    assert "--to" in capsys.readouterr().err
    assert cli(export, [*base, "--min-quality", "nan", "--to", "q"]) == 2
    assert "--min-quality must be a number" in capsys.readouterr().err
    assert cli(export, [*base, "--min-quality", "0.5", "--to", "q"]) == 0
    out = capsys.readouterr().out
    assert "clips 1" in out and "dropped  1 clip pairs" in out and "quality  2 clip pairs" in out
    assert cli(verify, ["verify", str(tmp_path / "store" / "datasets" / "q")]) == 0
