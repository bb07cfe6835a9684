"""Load the SIGNS hand-sign dataset and turn it into model inputs.

The HDF5 files are never part of the repository: ``make data`` (see
:mod:`resnet_course.instructor.setup_data`) copies them into ``data/`` and verifies
their SHA-256 checksums. Every error raised here names the file at fault
and says what to do about it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

#: Environment variable naming a folder that holds the SIGNS files.
DATA_DIR_ENV = "RESNET_COURSE_DATA_DIR"

IMAGE_SHAPE = (64, 64, 3)
NUM_CLASSES = 6
CHECKSUM_FILE = "SHA256SUMS"

# file name -> (image key, label key, expected number of images)
SIGNS_FILES = {
    "train_signs.h5": ("train_set_x", "train_set_y", 1080),
    "test_signs.h5": ("test_set_x", "test_set_y", 120),
}

#: What a student reads after every data error. The course's maintainers set the files up with
#: ``make data`` (named last, for them), which copies and verifies them.
FIX_HINT = (
    "Ask your instructor for the SIGNS files (train_signs.h5, test_signs.h5 and SHA256SUMS) and put them "
    "in a folder named data beside this notebook or above it. (Course maintainers: `make data`.)"
)


class DataError(RuntimeError):
    """The SIGNS data is missing, damaged or not what the course expects."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows the message alone: the frames of this module say nothing a student can act on.
        return [f"{type(self).__name__}: {self}"]


class SignsData(NamedTuple):
    """The SIGNS dataset as numpy arrays (unpacks like a tuple)."""

    x_train: np.ndarray  # (1080, 64, 64, 3) uint8
    y_train: np.ndarray  # (1080,) int64, values 0..5
    x_test: np.ndarray  # (120, 64, 64, 3) uint8
    y_test: np.ndarray  # (120,) int64
    classes: np.ndarray  # (6,) class labels: the number of fingers shown


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_checksums(path: Path) -> dict[str, str]:
    """Parse a ``sha256sum``-style file into ``{file name: hex digest}``."""
    sums = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64:
            raise DataError(f"{path}, line {number}: expected '<sha256>  <file name>', got {line!r}")
        sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def verify_file(path: Path, expected_sha256: str) -> None:
    """Raise :class:`DataError` unless ``path`` has the expected checksum."""
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise DataError(
            f"checksum mismatch for {path}: expected sha256 {expected_sha256}, got {actual}. "
            f"The file is damaged or not the course's SIGNS file. {FIX_HINT}"
        )


def candidate_data_dirs(start: Path | None = None) -> list[Path]:
    """Folders searched for the data, in order: the env variable, then ``data/``
    in the current folder and each parent (notebooks run from
    ``assignments/resnets/``, two levels below the repository root)."""
    dirs = []
    if os.environ.get(DATA_DIR_ENV):
        dirs.append(Path(os.environ[DATA_DIR_ENV]))
    here = Path(start or Path.cwd()).resolve()
    dirs += [folder / "data" for folder in (here, *here.parents)]
    return dirs


def find_data_dir(start: Path | None = None) -> Path:
    """Return the first candidate folder that holds both SIGNS files."""
    candidates = candidate_data_dirs(start)
    for folder in candidates:
        if all((folder / name).is_file() for name in SIGNS_FILES):
            return folder
    shown = ", ".join(str(c) for c in candidates[:4])
    raise DataError(
        f"SIGNS data not found: no folder holding {' and '.join(SIGNS_FILES)} among {shown}. "
        f"{FIX_HINT} Or set {DATA_DIR_ENV} to the folder that holds them."
    )


def _read_split(path: Path, image_key: str, label_key: str, expected_count: int):
    import h5py  # imported here so that the rest of the module works without it

    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise DataError(f"{path} is not a readable HDF5 file (truncated or corrupt?): {error}. {FIX_HINT}") from None
    with handle:
        wanted = (image_key, label_key, "list_classes")
        missing = [key for key in wanted if key not in handle]
        if missing:
            raise DataError(
                f"{path} lacks the dataset(s) {missing}: it has {sorted(handle.keys())}, "
                f"expected {list(wanted)}. Is it the right file? {FIX_HINT}"
            )
        try:
            images = np.asarray(handle[image_key][:])
            labels = np.asarray(handle[label_key][:]).reshape(-1)
            classes = np.asarray(handle["list_classes"][:])
        except OSError as error:  # a file cut short fails here, not at open
            raise DataError(f"{path} is damaged: reading it failed with {error}. {FIX_HINT}") from None
    if images.shape != (expected_count, *IMAGE_SHAPE):
        raise DataError(
            f"{path}: '{image_key}' has shape {images.shape}, expected "
            f"{(expected_count, *IMAGE_SHAPE)} (N images of 64x64 RGB). {FIX_HINT}"
        )
    if labels.shape != (expected_count,):
        raise DataError(f"{path}: '{label_key}' holds {labels.size} labels for {expected_count} images. {FIX_HINT}")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(
            f"{path}: labels must lie in 0..{NUM_CLASSES - 1}, found {labels.min()}..{labels.max()}. {FIX_HINT}"
        )
    return images.astype(np.uint8, copy=False), labels.astype(np.int64, copy=False), classes


def load_signs(data_dir: str | os.PathLike | None = None, verify: bool = True) -> SignsData:
    """Load the SIGNS training and test sets.

    Args:
        data_dir: Folder holding ``train_signs.h5`` and ``test_signs.h5``. By
            default the ``RESNET_COURSE_DATA_DIR`` variable, else the first
            ``data/`` folder in the current folder or one of its parents.
        verify: Check each file against the ``SHA256SUMS`` beside it.

    Returns:
        A :class:`SignsData` with uint8 images, int64 labels and the classes.

    Raises:
        DataError: a file is missing, fails its checksum, is not valid HDF5,
            or lacks the expected datasets or shapes.
    """
    folder = Path(data_dir) if data_dir is not None else find_data_dir()
    sums_path = folder / CHECKSUM_FILE
    sums = read_checksums(sums_path) if verify and sums_path.is_file() else {}
    if verify and not sums:
        raise DataError(
            f"{sums_path} is missing, so the data cannot be verified. {FIX_HINT} "
            "(Pass verify=False to load unverified files.)"
        )
    splits = []
    for name, (image_key, label_key, count) in SIGNS_FILES.items():
        path = folder / name
        if not path.is_file():
            raise DataError(f"missing data file {path}. {FIX_HINT}")
        if verify:
            if name not in sums:
                raise DataError(f"{sums_path} has no checksum for {name}. {FIX_HINT}")
            verify_file(path, sums[name])
        splits.append(_read_split(path, image_key, label_key, count))
    (x_train, y_train, classes), (x_test, y_test, _) = splits
    return SignsData(x_train, y_train, x_test, y_test, classes)


def normalize(images: np.ndarray) -> np.ndarray:
    """Scale uint8 pixels to float32 values in [0, 1]."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(
            f"normalize expects uint8 pixels (0..255), got dtype {images.dtype}; were the images normalised already?"
        )
    return images.astype(np.float32) / 255.0


def one_hot(labels: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Turn integer labels of shape (N,) into a float32 (N, num_classes) matrix."""
    labels = np.asarray(labels).reshape(-1)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"one_hot expects integer class labels, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in 0..{num_classes - 1}, found {labels.min()}..{labels.max()}")
    return np.eye(num_classes, dtype=np.float32)[labels]


def model_inputs(data: SignsData) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(X_train, Y_train, X_test, Y_test)``: normalised images and one-hot labels."""
    return (
        normalize(data.x_train),
        one_hot(data.y_train),
        normalize(data.x_test),
        one_hot(data.y_test),
    )


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read any image file and prepare it like the SIGNS images.

    The image is converted to RGB, centre-cropped to a square and resized to
    64x64, then scaled to [0, 1] exactly as :func:`normalize` does.

    Returns:
        A float32 array of shape (64, 64, 3).
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no image file at {path}: check the path (relative to {Path.cwd()})")
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
    except UnidentifiedImageError:
        raise DataError(f"{path} is not an image file Pillow can read (try a .jpg or .png)") from None
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize(IMAGE_SHAPE[:2], Image.Resampling.BILINEAR)
    return normalize(np.asarray(image, dtype=np.uint8))
