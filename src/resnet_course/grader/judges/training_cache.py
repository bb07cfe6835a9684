"""The training test's results, kept per distinct model, so that a class trains each architecture once.

The training test is deterministic: a fixed seed, recipe and data. Its
outcome therefore depends only on what :func:`cache_key` hashes:

* the model's canonical architecture: its configuration with every layer's
  name replaced by its position (names change nothing in training; the
  order of the layers does, since it decides the initial weights);
* the judges' training specification (seed, recipe, threshold; the judges
  file's ``TRAINING_CACHE["spec"]``);
* the data's checksums, the Keras backend, the precision, the device kind and the
  judges' thread count (TensorFlow may sum in another order with other threads);
* the course version: the package's version, the source of the judges and
  of the whole package (the checks and the judges' machinery decide verdicts
  too), and the versions of Keras and the libraries it computes with.

The key is computed here, by the grader, from the evidence's configuration:
it is never read from the evidence or from the judges' output. An entry
carries a digest of itself; an entry that is unreadable, for another key or
does not match its digest is ignored and recomputed. A cache failure costs
time and never a score: every error here is a miss.

Entries live in ``<autograder>/training-cache/<key>.json``, beside the
gradebook, so a regrade reuses them. A lock per key makes a second worker
grading the same model wait for the first one's result instead of training
it again.

The same folder keeps the class's shared passes (a judges file's
``SHARED_PASSES``): per such cell, one entry under :func:`shared_key` holds
the digests of the computations its judge saw pass (``judging.Memo``). The
judge decides what a computation is; the grader only adds the digests it
reports (:meth:`TrainingCache.add_passes`).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.util
import json
import os
import re
import time
from importlib import metadata
from pathlib import Path

FOLDER_NAME = "training-cache"
#: The most digests a shared-passes entry keeps (the newest): about 70 bytes each.
MAX_SHARED_PASSES = 5_000
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
#: The environment variable that names the precision the judges train in (default float32).
PRECISION_VARIABLE = "RESNET_COURSE_JUDGES_PRECISION"


#: The layer names a canonical architecture accepts: letters, digits and underscores, as Keras makes
#: them. Any other name (Keras refuses some, such as one with a slash) gives no canonical architecture,
#: so two configurations with the same text always build alike, whatever names they had.
PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")


def canonical_architecture(config_json: str) -> str:
    """The model's configuration as canonical JSON, layer names replaced by their positions.

    Everything else of the configuration stays, the outer keys included. Only what names a layer is
    renamed, to ``#<position>`` (which no plain name can be): each layer's own name, the tensors'
    ``keras_history`` and the model's input and output layers. A layer name left anywhere else
    (another form of reference Keras might also read, or a setting that happens to be spelled like
    a layer) gives no canonical architecture: two configurations with one canonical text then
    always build the same model, wired the same way.

    Raises:
        ValueError: The text is not a functional model's configuration; a layer's name is not plain
            (:data:`PLAIN_NAME`) or not unique; or a layer's name is left where it was not renamed.
    """
    config = json.loads(config_json)
    inner = config.get("config") if isinstance(config, dict) else None
    if not isinstance(inner, dict) or not isinstance(inner.get("layers"), list):
        raise ValueError("not a functional model's configuration")
    if not _plain(inner.get("name", "model")):
        raise ValueError("the model's name is not plain")
    names = {}
    for index, layer in enumerate(inner["layers"]):
        name = layer.get("name") if isinstance(layer, dict) else None
        if not _plain(name) or name in names:
            raise ValueError("a layer without a plain, unique name")
        names[name] = f"#{index}"

    def history(value):
        """``value`` with every tensor's ``keras_history`` pointing at the layers' positions."""
        if isinstance(value, dict):
            renamed = {}
            for key, item in value.items():
                if key == "keras_history" and isinstance(item, list) and item and isinstance(item[0], str):
                    if item[0] not in names:
                        raise ValueError("a tensor from a layer the model does not have")
                    renamed[key] = [names[item[0]], *item[1:]]
                else:
                    renamed[key] = history(item)
            return renamed
        if isinstance(value, list):
            return [history(item) for item in value]
        return value

    layers = []
    for layer in inner["layers"]:
        renamed = {key: item for key, item in layer.items() if key not in ("name", "inbound_nodes")}
        renamed["name"] = names[layer["name"]]
        if isinstance(layer.get("config"), dict):
            settings = dict(layer["config"])
            if "name" in settings:
                if settings["name"] != layer["name"]:
                    raise ValueError("a layer whose configuration names another layer")
                settings["name"] = renamed["name"]
            renamed["config"] = settings
        renamed["inbound_nodes"] = history(layer.get("inbound_nodes", []))
        layers.append(renamed)
    canonical = {key: item for key, item in inner.items() if key not in ("name", "layers")}
    canonical["layers"] = layers
    for key in ("input_layers", "output_layers"):
        if key in inner:
            canonical[key] = _rename_reference(inner[key], names)
    canonical["name"] = "model"
    whole = {key: item for key, item in config.items() if key != "config"}
    whole["config"] = canonical
    if any(text in names for text in _strings(whole)):
        raise ValueError("a layer's name is left where it was not renamed")
    return json.dumps(whole, sort_keys=True, separators=(",", ":"))


def _plain(name) -> bool:
    return isinstance(name, str) and PLAIN_NAME.fullmatch(name) is not None


def _strings(value):
    """Every string value in ``value`` (not the keys of its mappings)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _rename_reference(item, names):
    """One entry of ``input_layers``/``output_layers``: ``[name, node, tensor]`` (or a list of them)."""
    if isinstance(item, list) and item and isinstance(item[0], str):
        if item[0] not in names:
            raise ValueError("an input or output layer the model does not have")
        return [names[item[0]], *item[1:]]
    if isinstance(item, list):
        return [_rename_reference(inner, names) for inner in item]
    return item


def _sources_digest(paths: list[Path], root: Path | None = None) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        name = path.relative_to(root) if root else path.name
        digest.update(str(name).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


#: The libraries whose versions are part of the course version: what the judges compute with.
LIBRARIES = ("keras", "tensorflow", "tensorflow-cpu", "jax", "jaxlib", "torch", "numpy", "h5py")


def course_version(judges_folder: Path) -> str:
    """The package version, a digest of the judges' files and of the package's source (the checks,
    the judges' machinery and the training code all decide verdicts), and the libraries' versions."""
    judges = [p for p in Path(judges_folder).glob("*.py") if p.is_file()]
    return f"{_package_version()}:{_sources_digest(judges)}:{_package_digest()}:{_library_versions()}"


_PACKAGE_DIGESTS: dict = {}


def _package_digest() -> str:
    # Found, not imported: importing the package's modules would import Keras and TensorFlow (seconds
    # of CPU in every grading job). Read again whenever a file's size or time changed: the judges'
    # processes import the source as it is on disk, however long this process has run.
    package = Path(importlib.util.find_spec("resnet_course").origin).parent
    files = sorted(p for p in package.rglob("*.py") if p.is_file() and "__pycache__" not in p.parts)
    stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    if stamp not in _PACKAGE_DIGESTS:
        _PACKAGE_DIGESTS.clear()
        _PACKAGE_DIGESTS[stamp] = _sources_digest(files, package)
    return _PACKAGE_DIGESTS[stamp]


@functools.cache
def _package_version() -> str:
    try:
        return metadata.version("resnet-course")
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.cache
def _library_versions() -> str:
    # Once per process: a grader that outlives an upgrade of its libraries already runs the old ones.
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ",".join(versions)


def device_kind() -> str:
    """The kind of device the judges train on, as far as the grader can tell without a framework."""
    if any(Path("/dev").glob("nvidia[0-9]*")):
        return "cuda-gpu"
    flags = ""
    with contextlib.suppress(OSError):
        flags = Path("/proc/cpuinfo").read_text()
    return "cpu-amx" if " amx_bf16" in flags else "cpu"


def data_checksums() -> str:
    """The SIGNS files' checksums (the data folder's SHA256SUMS, which loading verifies)."""
    from resnet_course.data import CHECKSUM_FILE, find_data_dir

    try:
        return (find_data_dir() / CHECKSUM_FILE).read_text()
    except (OSError, FileNotFoundError, RuntimeError):
        return "no data found"


def cache_key(architecture: str, spec: dict, judges_folder: Path, threads: int = 0) -> str:
    """The content address of one training test: everything that decides its result.

    Args:
        architecture: The evidence's canonical text (:func:`canonical_architecture` of each model).
        spec: The judges' training specification.
        judges_folder: The assignment's ``grader_only`` folder (part of the course version).
        threads: The judges' threads per TensorFlow pool (0: as this environment's
            ``TF_NUM_INTRAOP_THREADS``, which the sandbox passes on, or TensorFlow's default).
    """
    parts = {
        "architecture": architecture,
        "spec": spec,
        "data": data_checksums(),
        "backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
        "precision": os.environ.get(PRECISION_VARIABLE, "float32"),
        "device": device_kind(),
        "threads": str(int(threads)) if threads else os.environ.get("TF_NUM_INTRAOP_THREADS", "0"),
        "course": course_version(judges_folder),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def shared_key(grade_id: str, label: str, judges_folder: Path, threads: int = 0) -> str:
    """The key of one cell's shared passes: the cell, the judges file's label and everything of
    :func:`cache_key` but a model (a computation's digest, inside the entry, stands for that)."""
    return cache_key(f"shared passes of {grade_id}", {"label": label}, judges_folder, threads)


def _digest(key: str, value) -> str:
    return hashlib.sha256((key + "\0" + json.dumps(value, sort_keys=True)).encode()).hexdigest()


class TrainingCache:
    """The cache folder: read, write and lock entries by key; every failure is a miss."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        if not (len(key) == 64 and all(c in "0123456789abcdef" for c in key)):
            raise ValueError("a cache key is a sha256 hex digest")
        return self.folder / f"{key}.json"

    def get(self, key: str):
        """The value stored for ``key``, or None (absent, unreadable, or not matching its digest)."""
        try:
            entry = json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key or "value" not in entry:
            return None
        if entry.get("digest") != _digest(key, entry["value"]):
            return None
        return entry["value"]

    def put(self, key: str, value) -> bool:
        """Store ``value`` under ``key`` atomically; False when it could not be written."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self._path(key)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            entry = {"key": key, "value": value, "digest": _digest(key, value), "stored": time.time()}
            temporary.write_text(json.dumps(entry))
            os.replace(temporary, path)
            return True
        except (OSError, ValueError, TypeError):
            return False

    def passes(self, key: str) -> list[str]:
        """The digests of a shared-passes entry; an empty list when it is absent or not well-formed."""
        value = self.get(key)
        if not isinstance(value, list) or not all(isinstance(d, str) and _HEX_DIGEST.fullmatch(d) for d in value):
            return []
        return value

    def add_passes(self, key: str, digests) -> bool:
        """Add ``digests`` (a judge's new passes) to ``key``'s entry, keeping the newest
        :data:`MAX_SHARED_PASSES`; False when nothing was written. Anything but a list of sha256 hex
        digests is ignored: a judge's report is only as good as its form."""
        if not isinstance(digests, list):
            return False
        new = [d for d in digests if isinstance(d, str) and _HEX_DIGEST.fullmatch(d)]
        if not new:
            return False
        with self.locked(key, timeout=30):
            known = self.passes(key)
            seen = set(known)
            merged = known + [d for d in dict.fromkeys(new) if d not in seen]
            return self.put(key, merged[-MAX_SHARED_PASSES:])

    @contextlib.contextmanager
    def locked(self, key: str, timeout: float):
        """Hold ``key``'s lock (waiting up to ``timeout`` s for another worker); go on without it after that."""
        handle = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle = open(self.folder / f"{self._path(key).stem}.lock", "w")
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
        except (OSError, ValueError):
            pass
        try:
            yield
        finally:
            if handle is not None:
                handle.close()  # closing releases the lock
