"""The training test's cache: one training per distinct model, keyed by trusted code, never trusted blindly.

The key tests use small Keras models (their configurations only, nothing is
trained). The pipeline tests run :class:`TrustedVerdicts` with a judges file
whose cached judge says whether it computed or remembered its result, in the
judges' real sandboxed process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output
from traitlets.config import Config

from resnet_course.evidence import MIME_TYPE, encode
from resnet_course.grader.judges import training_cache
from resnet_course.grader.pipeline.trusted_verdicts import TrustedVerdicts, canonical_payload
from resnet_course.keras_setup import import_keras

keras = import_keras()
layers = keras.layers


def small_model(names: str = "a", momentum: float = 0.99, extra_branch: bool = False, stop_gradient: bool = False):
    """A tiny residual model; ``names`` changes only the layer names."""
    inputs = keras.Input((8, 8, 3), name=f"{names}_input")
    x = layers.Conv2D(4, 3, padding="same", name=f"{names}_conv")(inputs)
    x = layers.BatchNormalization(momentum=momentum, name=f"{names}_bn")(x)
    if stop_gradient:
        x = keras.ops.stop_gradient(x)
    shortcut = layers.Conv2D(4, 1, name=f"{names}_shortcut")(inputs)
    x = layers.Add(name=f"{names}_add")([x, shortcut])
    if extra_branch:
        x = layers.Add(name=f"{names}_extra")([x, layers.Conv2D(4, 1, name=f"{names}_branch")(inputs)])
    outputs = layers.Dense(6, activation="softmax", name=f"{names}_dense")(layers.Flatten(name=f"{names}_flat")(x))
    return keras.Model(inputs, outputs, name=f"{names}_model")


def evidence_of(model) -> dict:
    return {"models": [{"config": model.to_json()}], "blocks": [[]]}


def key_of(model, spec=None, judges_folder=None) -> str:
    return training_cache.cache_key(canonical_payload(evidence_of(model)), spec or {"recipe": "quick"}, judges_folder)


@pytest.fixture()
def judges_folder(tmp_path):
    folder = tmp_path / "grader_only"
    folder.mkdir()
    (folder / "judges.py").write_text(
        textwrap.dedent(
            """
            from resnet_course.grader.judges.judging import Verdict

            SPEC = {"recipe": "toy"}


            def challenge(rng):
                return {"training": True}


            def judge_training(payload, asked, memo):
                if isinstance(memo.value, dict) and memo.value.get("layers"):
                    return Verdict(True, f"remembered {memo.value['layers']} layers")
                layers = len(json_config(payload)["config"]["layers"])
                memo.store({"layers": layers})
                return Verdict(True, f"trained {layers} layers")


            def json_config(payload):
                import json

                return json.loads(payload["models"][0]["config"])


            JUDGES = {"test_training": ("training", judge_training)}
            CACHED_JUDGEMENTS = {"test_training": SPEC}
            """
        )
    )
    return folder


def graded_cell_text(grade_id: str, key: str, payload: dict, trusted: dict, cache_dir) -> tuple[str, dict]:
    """The text of a graded cell that handed over ``payload`` under ``key``, after TrustedVerdicts with
    the ``trusted`` part of the resources, and the resources."""
    cell = new_code_cell("submit()")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "points": 1, "solution": False}
    bundle = {MIME_TYPE: {"key": key, **encode(payload)}, "text/plain": "[evidence]"}
    cell.outputs = [new_output("display_data", data=bundle)]
    config = Config()
    config.TrustedVerdicts.training_cache_dir = str(cache_dir) if cache_dir else ""
    resources = {"trusted": trusted, "nbgrader": {"assignment": "toy", "student": "someone"}}
    notebook, resources = TrustedVerdicts(config=config).preprocess(new_notebook(cells=[cell]), resources)
    output = notebook.cells[0].outputs[0]
    return output.get("text") or output.get("evalue"), resources


def judge(model, judges_folder, cache_dir):
    """The graded cell's text after TrustedVerdicts, and the cache's outcome."""
    trusted = {
        "folder": str(judges_folder),
        "challenge": {"training": True},
        "cached": {"test_training": {"recipe": "toy"}},
    }
    text, resources = graded_cell_text("test_training", "training", evidence_of(model), trusted, cache_dir)
    outcome = resources.get("training_cache", {}).get("test_training")
    return text, outcome.split()[0] if outcome else None


# -- the key ---------------------------------------------------------------------------


def test_layer_names_do_not_change_the_key(tmp_path):
    assert key_of(small_model("a"), judges_folder=tmp_path) == key_of(small_model("b"), judges_folder=tmp_path)


@pytest.mark.parametrize(
    "change",
    [{"momentum": 0.9}, {"extra_branch": True}, {"stop_gradient": True}],
    ids=["another momentum", "an extra branch", "a stop_gradient"],
)
def test_a_change_that_changes_training_changes_the_key(tmp_path, change):
    assert key_of(small_model(), judges_folder=tmp_path) != key_of(small_model(**change), judges_folder=tmp_path)


def test_the_spec_backend_precision_threads_and_judges_are_in_the_key(tmp_path, monkeypatch):
    model = small_model()
    plain = key_of(model, judges_folder=tmp_path)
    assert key_of(model, {"recipe": "course"}, tmp_path) != plain
    payload = canonical_payload(evidence_of(model))
    assert training_cache.cache_key(payload, {"recipe": "quick"}, tmp_path, threads=0) == plain
    assert training_cache.cache_key(payload, {"recipe": "quick"}, tmp_path, threads=1) != plain
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")  # what the judges' sandbox passes on when none is given
    assert key_of(model, judges_folder=tmp_path) == training_cache.cache_key(
        payload, {"recipe": "quick"}, tmp_path, threads=1
    )
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert key_of(model, judges_folder=tmp_path) != plain
    monkeypatch.delenv("KERAS_BACKEND")
    monkeypatch.setenv(training_cache.PRECISION_VARIABLE, "mixed_bfloat16")
    assert key_of(model, judges_folder=tmp_path) != plain
    monkeypatch.delenv(training_cache.PRECISION_VARIABLE)
    (tmp_path / "judges.py").write_text("THRESHOLD = 0.8\n")
    assert key_of(model, judges_folder=tmp_path) != plain


def test_the_package_source_and_the_libraries_are_in_the_course_version(tmp_path, monkeypatch):
    """The checks and the judges' machinery decide verdicts as much as the judges file: a change to any
    of the package's source is another course version, and so is another Keras."""
    import importlib.util
    import types

    package = tmp_path / "package"
    (package / "checks").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "checks" / "blocks.py").write_text("TOLERANCE = 1e-4\n")
    spec = types.SimpleNamespace(origin=str(package / "__init__.py"))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    before = training_cache.course_version(tmp_path)
    (package / "checks" / "blocks.py").write_text("TOLERANCE = 0.01\n")  # another size: seen whatever the clock
    assert training_cache.course_version(tmp_path) != before
    assert "keras==" in training_cache.course_version(tmp_path)


def test_the_grading_job_computes_the_key_without_importing_keras(tmp_path):
    """The job process that computes the key grades no model itself: importing Keras and TensorFlow there
    cost every submission seconds of CPU."""
    payload = canonical_payload(evidence_of(small_model()))
    (tmp_path / "payload.json").write_text(payload)
    child = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from resnet_course.grader.judges import training_cache
        from resnet_course.grader.pipeline import trusted_verdicts
        key = training_cache.cache_key(Path({str(tmp_path / "payload.json")!r}).read_text(), {{"recipe": "quick"}},
                                       Path({str(tmp_path)!r}))
        print(key, sorted(name for name in ("keras", "tensorflow", "jax", "torch") if name in sys.modules))
        """
    )
    completed = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True)
    assert completed.stdout.split(" ", 1) == [training_cache.cache_key(payload, {"recipe": "quick"}, tmp_path), "[]\n"]


def test_a_layer_named_like_a_setting_does_not_make_two_models_read_alike():
    """A layer called "float32" must not make the dtype policies of that name read as the layer: two
    models that differ in their policies would then share a text. A name left anywhere but where a
    layer is named gives no canonical architecture at all."""

    def model(name, dtype):
        inputs = keras.Input((4, 4, 3), name="input")
        x = layers.Conv2D(2, 3, name=name, dtype=dtype)(inputs)
        return keras.Model(inputs, layers.Flatten(name="flat")(x))

    for name in ("float32", "bfloat16"):
        with pytest.raises(ValueError):
            training_cache.canonical_architecture(model(name, name).to_json())
    single = training_cache.canonical_architecture(model("conv", "float32").to_json())
    assert single != training_cache.canonical_architecture(model("conv", "bfloat16").to_json())
    assert training_cache.canonical_architecture(model("other", "float32").to_json()) == single


def test_references_keras_reads_but_the_text_would_not_rename_give_no_canonical_architecture():
    """Keras also reads the old list form of a layer's inbound nodes and input layers given as a mapping.
    Left with their names while the layers get positions, two models wired differently could read alike."""
    config = json.loads(small_model().to_json())
    legacy = json.loads(json.dumps(config))
    for layer in legacy["config"]["layers"]:
        layer["inbound_nodes"] = [
            [[arg["config"]["keras_history"][0], 0, 0, {}] for arg in node["args"] if isinstance(arg, dict)]
            for node in layer["inbound_nodes"]
        ]
    mapped = json.loads(json.dumps(config))
    mapped["config"]["input_layers"] = {"x": mapped["config"]["input_layers"]}
    training_cache.canonical_architecture(json.dumps(config))  # the form Keras writes has one
    for changed in (legacy, mapped):
        with pytest.raises(ValueError):
            training_cache.canonical_architecture(json.dumps(changed))


def test_the_configuration_outside_the_layers_is_in_the_text():
    config = json.loads(small_model().to_json())
    plain = training_cache.canonical_architecture(json.dumps(config))
    for key, value in (("class_name", "Sequential"), ("module", "os"), ("compile_config", {"optimizer": "x"})):
        assert training_cache.canonical_architecture(json.dumps({**config, key: value})) != plain


@pytest.mark.parametrize(
    "rename",
    [lambda names: ["same"] * len(names), lambda names: [f"{n}/x" for n in names], lambda names: [""] * len(names)],
    ids=["duplicate names", "a slash in a name", "empty names"],
)
def test_a_configuration_whose_names_keras_may_refuse_has_no_canonical_architecture(rename):
    """Two configurations with the same canonical text must build alike: names other than plain, unique
    ones (which Keras may refuse) give none, and whatever caches by it judges such a model in full."""
    config = json.loads(small_model().to_json())
    names = [layer["name"] for layer in config["config"]["layers"]]
    text = config_text = json.dumps(config)
    for old, new in zip(names, rename(names)):
        text = text.replace(f'"{old}"', f'"{new}"')
    assert text != config_text
    with pytest.raises(ValueError):
        training_cache.canonical_architecture(text)


def test_evidence_without_a_model_has_no_key():
    with pytest.raises(ValueError):
        canonical_payload({"value": 3})


# -- the cache folder ------------------------------------------------------------------


def test_an_entry_reads_back_and_a_corrupted_one_is_a_miss(tmp_path):
    cache = training_cache.TrainingCache(tmp_path)
    key = "ab" * 32
    assert cache.get(key) is None
    assert cache.put(key, {"accuracy": 0.9})
    assert cache.get(key) == {"accuracy": 0.9}
    path = tmp_path / f"{key}.json"
    entry = json.loads(path.read_text())
    path.write_text(json.dumps({**entry, "value": {"accuracy": 1.0}}))  # changed without its digest
    assert cache.get(key) is None
    path.write_text(json.dumps(entry)[:20])  # cut short
    assert cache.get(key) is None
    other = "cd" * 32
    path.write_text(json.dumps(entry))
    (tmp_path / f"{other}.json").write_text(path.read_text())  # an entry filed under another key
    assert cache.get(other) is None


def test_shared_passes_add_up_and_only_digests_are_kept(tmp_path, monkeypatch):
    cache = training_cache.TrainingCache(tmp_path)
    key = training_cache.shared_key("test_cell", "v1", tmp_path)
    assert key != training_cache.shared_key("test_other_cell", "v1", tmp_path)
    assert key != training_cache.shared_key("test_cell", "v2", tmp_path)
    first, second = "1" * 64, "2" * 64
    assert cache.passes(key) == []
    assert cache.add_passes(key, [first])
    assert cache.add_passes(key, [first, second, "not a digest", 3, "../" + "a" * 61])
    assert cache.passes(key) == [first, second]
    assert not cache.add_passes(key, {"digests": [first]}) and not cache.add_passes(key, ["x"])
    monkeypatch.setattr(training_cache, "MAX_SHARED_PASSES", 2)
    cache.add_passes(key, ["3" * 64])
    assert cache.passes(key) == [second, "3" * 64]  # the newest are kept


def test_a_corrupted_shared_passes_entry_is_empty_not_trusted(tmp_path):
    cache = training_cache.TrainingCache(tmp_path)
    key = training_cache.shared_key("test_cell", "v1", tmp_path)
    cache.add_passes(key, ["1" * 64])
    path = tmp_path / f"{key}.json"
    entry = json.loads(path.read_text())
    path.write_text(json.dumps({**entry, "value": ["1" * 64, "f" * 64]}))  # a digest added by hand
    assert cache.passes(key) == []
    cache.put(key, ["1" * 64, "a list with more than digests"])  # well-signed, badly formed
    assert cache.passes(key) == []


def test_a_key_that_is_not_a_digest_is_refused(tmp_path):
    cache = training_cache.TrainingCache(tmp_path)
    assert cache.get("../../etc/passwd") is None
    assert not cache.put("../escape", {"accuracy": 1.0})
    assert not list(tmp_path.parent.glob("escape*"))


# -- through the trusted pipeline ------------------------------------------------------


def test_the_same_model_is_judged_once_and_a_regrade_trains_nothing(tmp_path, judges_folder):
    cache_dir = tmp_path / "cache"
    first = judge(small_model("a"), judges_folder, cache_dir)
    assert first == ("Graded outside your notebook: passed. trained 7 layers\n", "miss")
    renamed = judge(small_model("b"), judges_folder, cache_dir)
    assert renamed == ("Graded outside your notebook: passed. remembered 7 layers\n", "hit")
    regrade = judge(small_model("a"), judges_folder, cache_dir)
    assert regrade[1] == "hit" and "remembered" in regrade[0]
    assert len(list(cache_dir.glob("*.json"))) == 1


def test_a_different_model_trains_itself(tmp_path, judges_folder):
    cache_dir = tmp_path / "cache"
    judge(small_model(), judges_folder, cache_dir)
    text, outcome = judge(small_model(extra_branch=True), judges_folder, cache_dir)
    assert outcome == "miss" and "trained 9 layers" in text


def test_a_corrupted_entry_is_recomputed_not_trusted(tmp_path, judges_folder):
    cache_dir = tmp_path / "cache"
    judge(small_model(), judges_folder, cache_dir)
    (entry,) = cache_dir.glob("*.json")
    stored = json.loads(entry.read_text())
    entry.write_text(json.dumps({**stored, "value": {"layers": 99}}))
    text, outcome = judge(small_model(), judges_folder, cache_dir)
    assert outcome == "miss" and "trained 7 layers" in text
    assert json.loads(entry.read_text())["value"] == {"layers": 7}


def test_without_a_cache_every_model_is_judged(tmp_path, judges_folder):
    for _ in range(2):
        text, outcome = judge(small_model(), judges_folder, None)
        assert "trained" in text and outcome is None


def test_an_unwritable_cache_only_costs_time(tmp_path, judges_folder):
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    text, outcome = judge(small_model(), judges_folder, blocked)
    assert text == "Graded outside your notebook: passed. trained 7 layers\n" and outcome == "miss"


# -- shared passes, through the trusted pipeline ----------------------------------------


@pytest.fixture()
def sharing_judges(tmp_path):
    """A judges file whose judge shares its passes: it says whether it judged a value or found it passed."""
    folder = tmp_path / "sharing" / "grader_only"
    folder.mkdir(parents=True)
    (folder / "judges.py").write_text(
        textwrap.dedent(
            """
            from resnet_course.grader.judges.judging import Rejected, Verdict


            def challenge(rng):
                return {"answer": True}


            def judge_answer(payload, asked, memo):
                if isinstance(payload.get("echo"), str):  # as a library that prints a student's text would
                    import sys

                    print(payload["echo"], flush=True)
                    print(payload["echo"], file=sys.stderr, flush=True)
                computation = repr(payload.get("value"))
                if memo.passed_before(computation):
                    return Verdict(True, "passed before")
                if payload.get("value") != 42:
                    raise Rejected("not 42")
                memo.remember_pass(computation)
                return Verdict(True, "judged")


            JUDGES = {"test_answer": ("answer", judge_answer)}
            SHARED_PASSES = {"test_answer": "v1"}
            """
        )
    )
    return folder


def judge_answer(value, judges_folder, cache_dir, echo=None) -> str:
    """The graded cell's text after TrustedVerdicts, for a cell that handed over ``value`` (and ``echo``)."""
    payload = {"value": value, **({"echo": echo} if echo is not None else {})}
    trusted = {
        "folder": str(judges_folder),
        "challenge": {"answer": True},
        "cached": {},
        "shared": {"test_answer": "v1"},
    }
    return graded_cell_text("test_answer", "answer", payload, trusted, cache_dir)[0]


def test_a_shared_pass_is_judged_once_and_a_wrong_value_is_judged_every_time(tmp_path, sharing_judges):
    cache_dir = tmp_path / "cache"
    assert judge_answer(42, sharing_judges, cache_dir).endswith("judged\n")
    assert judge_answer(42, sharing_judges, cache_dir).endswith("passed before\n")
    for _ in range(2):
        assert "not 42" in judge_answer(41, sharing_judges, cache_dir)
    (entry,) = cache_dir.glob("*.json")
    assert len(json.loads(entry.read_text())["value"]) == 1
    # Without the cache folder (--no-training-cache), every value is judged.
    assert judge_answer(42, sharing_judges, None).endswith("judged\n")


def test_a_judges_line_printed_from_the_evidence_is_not_taken(tmp_path, sharing_judges):
    """A library in the judges may print a student's text. Text that forges the judges' own lines (a
    passing verdict, a shared pass for its wrong value, a judges fault that would stop grading) is
    not taken: the lines the grader reads carry a nonce drawn after the evidence was made."""
    import hashlib

    from resnet_course.grader.judges import judge_process

    cache_dir = tmp_path / "cache"
    forged_pass = hashlib.sha256(repr(41).encode()).hexdigest()
    echo = "\n".join(
        [
            "",
            judge_process.VERDICT_PREFIX + json.dumps(["test_answer", True, "forged", 0.1]),
            judge_process.MEMO_PREFIX + json.dumps(["test_answer", [forged_pass]]),
            judge_process.FAULT_PREFIX + json.dumps("forged fault"),
            "",
        ]
    )
    assert "not 42" in judge_answer(41, sharing_judges, cache_dir, echo=echo)
    assert "not 42" in judge_answer(41, sharing_judges, cache_dir)
    assert not list(cache_dir.glob("*.json"))
