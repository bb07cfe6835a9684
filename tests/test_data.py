"""The SIGNS loader: the real data loads as documented, and every kind of bad
input fails with a message naming the file and the fix."""

import h5py
import numpy as np
import pytest

from resnet_course import data
from resnet_course.data import DataError, load_signs


def test_loads_signs_with_documented_shapes_and_classes(repo_root):
    signs = load_signs(repo_root / "data")
    assert signs.x_train.shape == (1080, 64, 64, 3) and signs.x_train.dtype == np.uint8
    assert signs.x_test.shape == (120, 64, 64, 3) and signs.x_test.dtype == np.uint8
    assert np.bincount(signs.y_train).tolist() == [180] * 6
    assert np.bincount(signs.y_test).tolist() == [20] * 6
    assert signs.classes.tolist() == [0, 1, 2, 3, 4, 5]


def test_finds_data_folder_from_a_notebook_folder_below_the_root(repo_root, monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.chdir(repo_root / "assignments" / "resnets")
    assert data.find_data_dir() == repo_root / "data"


def test_env_variable_names_the_data_folder(data_copy, monkeypatch, tmp_path):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(data_copy))
    monkeypatch.chdir(tmp_path)
    assert data.find_data_dir() == data_copy


def test_model_inputs_are_normalised_and_one_hot(repo_root):
    X_train, Y_train, X_test, Y_test = data.model_inputs(load_signs(repo_root / "data"))
    assert X_train.dtype == np.float32 and 0.0 <= X_train.min() and X_train.max() <= 1.0
    assert Y_train.shape == (1080, 6) and Y_test.shape == (120, 6)
    assert np.all(Y_train.sum(axis=1) == 1)


def test_missing_folder_tells_the_student_to_ask_for_the_files(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="SIGNS data not found.*Ask your instructor for the SIGNS files") as caught:
        load_signs()
    assert caught.value._render_traceback_() == [f"DataError: {caught.value}"], "one message, no frames"


def test_missing_file_is_named(data_copy):
    (data_copy / "test_signs.h5").unlink()
    with pytest.raises(DataError, match=r"missing data file .*test_signs\.h5.*Ask your instructor"):
        load_signs(data_copy)


def test_checksum_mismatch_is_reported(data_copy):
    with h5py.File(data_copy / "train_signs.h5", "r+") as handle:
        handle["train_set_y"][0] = (handle["train_set_y"][0] + 1) % 6
    with pytest.raises(DataError, match=r"checksum mismatch for .*train_signs\.h5: expected sha256 56235ac8"):
        load_signs(data_copy)


def test_missing_checksum_file_is_reported_unless_verification_is_off(data_copy):
    (data_copy / "SHA256SUMS").unlink()
    with pytest.raises(DataError, match="SHA256SUMS is missing"):
        load_signs(data_copy)
    assert load_signs(data_copy, verify=False).x_test.shape == (120, 64, 64, 3)


def test_truncated_file_is_not_readable_hdf5(data_copy):
    path = data_copy / "test_signs.h5"
    path.write_bytes(path.read_bytes()[:4096])
    with pytest.raises(DataError, match=r"test_signs\.h5 is not a readable HDF5 file \(truncated or corrupt\?\)"):
        load_signs(data_copy, verify=False)


def test_garbage_file_is_not_readable_hdf5(data_copy):
    (data_copy / "train_signs.h5").write_bytes(b"this is not an HDF5 file\n" * 100)
    with pytest.raises(DataError, match="not a readable HDF5 file"):
        load_signs(data_copy, verify=False)


def test_wrong_keys_are_listed(data_copy):
    with h5py.File(data_copy / "test_signs.h5", "w") as handle:
        handle["images"] = np.zeros((120, 64, 64, 3), np.uint8)
        handle["labels"] = np.zeros(120, np.int64)
    with pytest.raises(
        DataError,
        match=r"lacks the dataset\(s\) \['test_set_x', 'test_set_y', 'list_classes'\]: it has \['images', 'labels'\]",
    ):
        load_signs(data_copy, verify=False)


def test_wrong_image_shape_is_reported(data_copy):
    with h5py.File(data_copy / "test_signs.h5", "w") as handle:
        handle["test_set_x"] = np.zeros((120, 32, 32, 3), np.uint8)
        handle["test_set_y"] = np.zeros(120, np.int64)
        handle["list_classes"] = np.arange(6)
    with pytest.raises(DataError, match=r"'test_set_x' has shape \(120, 32, 32, 3\), expected \(120, 64, 64, 3\)"):
        load_signs(data_copy, verify=False)


def test_label_count_and_range_are_checked(data_copy):
    with h5py.File(data_copy / "test_signs.h5", "r+") as handle:
        del handle["test_set_y"]
        handle["test_set_y"] = np.full(120, 7, np.int64)
    with pytest.raises(DataError, match=r"labels must lie in 0\.\.5, found 7\.\.7"):
        load_signs(data_copy, verify=False)


def test_normalize_rejects_already_normalised_images():
    with pytest.raises(TypeError, match="expects uint8 pixels"):
        data.normalize(np.zeros((2, 64, 64, 3), np.float32))


def test_one_hot_rejects_out_of_range_labels():
    assert data.one_hot(np.array([0, 5])).tolist() == [[1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1]]
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.5, found 0\.\.6"):
        data.one_hot(np.array([0, 6]))
