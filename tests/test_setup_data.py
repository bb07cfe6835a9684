"""Data set-up copies and verifies the SIGNS files and never overwrites
what the instructor has without being told to."""

import shutil

import pytest

from resnet_course.data import DataError, sha256_of
from resnet_course.instructor.setup_data import main, prepare_data


@pytest.fixture
def empty_dest(tmp_path, repo_root):
    dest = tmp_path / "dest"
    dest.mkdir()
    shutil.copyfile(repo_root / "data" / "SHA256SUMS", dest / "SHA256SUMS")
    return dest


def test_copies_and_verifies_then_is_idempotent(data_copy, empty_dest):
    lines = []
    prepare_data(data_copy, empty_dest, log=lines.append)
    assert [line.split()[0] for line in lines] == ["copied", "copied"]
    lines.clear()
    prepare_data(data_copy, empty_dest, log=lines.append)
    assert [line.split()[0] for line in lines] == ["ok", "ok"]
    assert not list(empty_dest.glob("*.partial"))


def test_damaged_source_is_not_copied(data_copy, empty_dest):
    path = data_copy / "test_signs.h5"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match=r"test_signs\.h5 fails its checksum.*nothing was copied"):
        prepare_data(data_copy, empty_dest, log=lambda line: None)
    assert not (empty_dest / "test_signs.h5").exists()


def test_missing_source_names_the_variable(tmp_path, empty_dest):
    with pytest.raises(DataError, match="source file .*train_signs.h5 is missing. Point SIGNS_SOURCE_DIR"):
        prepare_data(tmp_path / "nowhere", empty_dest, log=lambda line: None)


def test_differing_file_in_dest_is_kept_unless_forced(data_copy, empty_dest):
    mine = empty_dest / "train_signs.h5"
    mine.write_bytes(b"an instructor's own file")
    with pytest.raises(DataError, match="exists and differs .* not overwriting it"):
        prepare_data(data_copy, empty_dest, log=lambda line: None)
    assert mine.read_bytes() == b"an instructor's own file"

    prepare_data(data_copy, empty_dest, force=True, log=lambda line: None)
    backups = list(empty_dest.glob("train_signs.h5.bak-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == b"an instructor's own file"
    assert sha256_of(mine) == sha256_of(data_copy / "train_signs.h5")


def test_command_line_reports_errors_on_stderr_with_exit_1(tmp_path, empty_dest, capsys):
    assert main(["--source", str(tmp_path / "nowhere"), "--dest", str(empty_dest)]) == 1
    assert "error: source file" in capsys.readouterr().err
