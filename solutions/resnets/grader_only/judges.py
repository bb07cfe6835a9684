"""Judges of the resnets assignment: its hidden tests, run by the grader outside the student's kernel.

Each graded cell of the master notebook hands over evidence (resnet_course.evidence); the
judge here decides its points. Cases, seeds, expected counts and the training threshold
exist only in this file, which is never released and never enters a sandbox that runs
student code. Models arrive as JSON configuration and are rebuilt as data
(resnet_course.grader.judges.safe_models); the check functions then set every weight themselves.
"""

import hashlib
import json
import os

import numpy as np

from questions import QUESTIONS, judge_recompute  # beside this file, in grader_only/

from resnet_course.grader.judges.judging import Rejected, Verdict

PARAMETER_COUNTS = (23_600_006, 23_546_886, 53_120)  # total, trainable, non-trainable
TRAINING_THRESHOLD = 0.80
TRAINING_SEED = 0
#: What decides the training test's accuracy besides the model: part of the training cache's key.
TRAINING_SPEC = {"seed": TRAINING_SEED, "recipe": "quick", "test": "SIGNS test accuracy"}
#: Other inputs whose last feature map is still 2x2 (37 to 68 pixels), so every correct head agrees.
#: None is 64x64: a ResNet50 that ignores its input_shape argument fails the cell that uses them.
OTHER_INPUTS = [((56, 48, 3), 10), ((60, 56, 3), 10), ((48, 60, 3), 4), ((40, 44, 3), 8)]
PUBLIC_IDENTITY = {"f": 3, "filters": [2, 4, 3], "input_shape": [4, 6, 5, 3], "seed": 0}
PUBLIC_CONVOLUTIONAL = {"f": 3, "filters": [2, 4, 6], "s": 2, "input_shape": [4, 6, 5, 3], "seed": 0}
STANDARD = [((64, 64, 3), 6)]


def _block_case(rng, convolutional: bool, unusual: bool = False) -> dict:
    """A random case; ``unusual`` keeps f off 3 and s off 2, the values a hard-coded number would match."""
    channels = rng.randint(2, 6)
    f = rng.choice([1, 2, 5] if unusual else [1, 2, 3, 5])
    filters = [rng.randint(2, 6), rng.randint(2, 6), rng.randint(2, 7) if convolutional else channels]
    case = {
        "f": f,
        "filters": filters,
        "input_shape": [rng.randint(2, 3), rng.randint(4, 9), rng.randint(4, 9), channels],
    }
    if convolutional:
        case["s"] = rng.choice([1, 3] if unusual else [1, 2, 3])
    case["seed"] = rng.randint(1, 10_000)
    return case


def challenge(rng):
    """This submission's cases: block sizes, kernel initializer and seeds, and ResNet50's other input."""
    stddev = round(rng.uniform(0.02, 0.09), 4)

    def cases(items):
        return [
            {**item, "input_shape": item["input_shape"][1:], "initializer": {"stddev": stddev}, **_keep(item)}
            for item in items
        ]

    other = rng.choice(OTHER_INPUTS)
    # The blocks at ResNet50's stage sizes are judged with the other value cases, and ResNet50
    # is then judged around exactly those blocks: what the block cells handed over.
    stage_cases = {kind: [] for kind in ("identity_block", "convolutional_block")}
    for shape, _ in (*STANDARD, other):
        for case in _block_cases(shape):
            kind = case.pop("kind")
            stage_cases[kind].append({**case, "input_shape": [2, *case["input_shape"]], "seed": rng.randint(1, 10_000)})
    return {
        "identity_block": cases([PUBLIC_IDENTITY]),
        "identity_block_shapes": cases(
            [_block_case(rng, False, unusual=True)] + [_block_case(rng, False) for _ in range(2)]
        ),
        "identity_block_values": cases(
            [_block_case(rng, False, unusual=True), _block_case(rng, False)] + stage_cases["identity_block"]
        ),
        "convolutional_block": cases([PUBLIC_CONVOLUTIONAL]),
        "convolutional_block_shapes": cases(
            [_block_case(rng, True, unusual=True)] + [_block_case(rng, True) for _ in range(2)]
        ),
        "convolutional_block_values": cases(
            [_block_case(rng, True, unusual=True), _block_case(rng, True)] + stage_cases["convolutional_block"]
        ),
        "resnet50": _resnet50_request(STANDARD),
        "resnet50_counts": _resnet50_request(STANDARD),
        "resnet50_stages": _resnet50_request(STANDARD),
        "resnet50_other_input": _resnet50_request([other]),
        "training": _resnet50_request(STANDARD),
        "recompute_batchnorm": rng.randint(1, 1_000_000),
        **{name: True for name in QUESTIONS},
    }


def _keep(item):
    """What the judge needs back that the kernel does not: the batch size and the seed."""
    return {"batch": item["input_shape"][0], "seed": item["seed"]}


# -- loading the evidence ------------------------------------------------------------------

_LOADED = {}
#: The models the block values cells' judges rebuilt, by configuration: ResNet50's judges build the
#: reference around the very blocks those cells handed over, so they take them from here.
_KEPT_BLOCKS = {}


def _digest(config) -> str:
    return hashlib.sha256(str(config).encode()).hexdigest()


def _load(entry, keep: bool = False):
    """A model from one ``{"config": ...}`` or ``{"error": ...}`` entry; each configuration is rebuilt once.

    ``keep``: a block that ResNet50's judges will build around (kept until the training test)."""
    from resnet_course.grader.judges.safe_models import UnsafeModel, load_model

    if not isinstance(entry, dict) or "config" not in entry:
        error = entry.get("error", "nothing was built") if isinstance(entry, dict) else "nothing was built"
        raise Rejected(f"building it raised {error}")
    digest = _digest(entry["config"])
    if digest in _KEPT_BLOCKS:
        return _KEPT_BLOCKS[digest]
    if digest not in _LOADED:
        try:
            _LOADED.clear()  # one model at a time keeps the judges' memory small
            _LOADED[digest] = load_model(entry["config"], deferred=True)  # every check sets the weights itself
        except UnsafeModel as problem:
            raise Rejected(str(problem)) from None
    if keep:
        _KEPT_BLOCKS[digest] = _LOADED[digest]
    return _LOADED[digest]


def _models(payload, expected: int, what: str) -> list:
    items = payload.get(what) if isinstance(payload, dict) else None
    if not isinstance(items, list) or len(items) != expected:
        raise Rejected("the cell did not hand over what the grader asked for; run it unchanged")
    return items


def _check_initializers(model, stddev: float, name: str) -> None:
    for layer in model.layers:
        if type(layer).__name__ == "Conv2D":
            config = layer.get_config().get("kernel_initializer") or {}
            inner = config.get("config", {}) if isinstance(config, dict) else {}
            if config.get("class_name") != "RandomNormal" or inner.get("stddev") != stddev or inner.get("seed") != 0:
                raise Rejected(
                    f"{name}: a Conv2D does not use the block's initializer as initializer(seed=0); "
                    "pass kernel_initializer=initializer(seed=0) to every Conv2D"
                )


# -- the blocks ------------------------------------------------------------------------------


def _block_models(kind, payload, cases, skip=None, keep=False):
    """(case, {True: model, False: model}) of each case, rebuilt one at a time.

    ``skip(case, models)`` says which cases need not be rebuilt at all; ``keep`` keeps the models
    for ResNet50's judges (:func:`_load`)."""
    for case, models in zip(cases, _models(payload, len(cases), "cases")):
        if not isinstance(models, dict):
            raise Rejected("the cell did not hand over what the grader asked for")
        if skip is not None and skip(case, models):
            continue
        pair = {True: _load(models.get("true"), keep), False: _load(models.get("false"), keep)}
        for model in pair.values():
            _check_initializers(model, case["initializer"]["stddev"], kind)
        yield case, pair


#: What stands for the stddev of a kernel initializer in a computation when it is the challenge's:
#: the judges set every kernel themselves, so its value changes nothing they compute, and it is the
#: one thing that differs across a class's identical blocks.
CHALLENGE_STDDEV = "the challenge's stddev"


def _checked_architecture(config_text, stddev):
    """A block's canonical architecture, with the stddev of each kernel initializer that is
    ``RandomNormal(stddev, seed=0)`` replaced by :data:`CHALLENGE_STDDEV` (any other initializer stays
    as written, so the initializer check decides alike); None when the configuration cannot be read
    or is larger than the judges rebuild (the block is then judged, and worded, in full)."""
    from resnet_course.grader.judges.safe_models import MAX_CONFIG_BYTES
    from resnet_course.grader.judges.training_cache import canonical_architecture

    if not isinstance(config_text, str) or len(config_text) > MAX_CONFIG_BYTES:
        return None
    try:
        canonical = json.loads(canonical_architecture(config_text))
        for layer in canonical["config"]["layers"]:
            initializer = (layer.get("config") or {}).get("kernel_initializer")
            inner = initializer.get("config") if isinstance(initializer, dict) else None
            if (
                isinstance(inner, dict)
                and initializer.get("class_name") == "RandomNormal"
                and inner.get("seed") == 0
                and inner.get("stddev") == stddev
            ):
                inner["stddev"] = CHALLENGE_STDDEV
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return json.dumps(canonical, sort_keys=True)


def _computation(kind, case, models):
    """What decides a case's verdict but the judge's seed: the block's arguments and both models'
    architectures with layer names left out; None when a model's configuration cannot be read.

    Identical computations give identical verdicts whatever weights the judge draws, within one
    submission and across a class (``SHARED_PASSES``)."""
    try:
        architectures = [
            _checked_architecture(models[key]["config"], case["initializer"]["stddev"]) for key in ("true", "false")
        ]
    except (KeyError, TypeError):
        return None
    if None in architectures:
        return None
    arguments = {key: value for key, value in case.items() if key not in ("seed", "initializer")}
    return json.dumps([kind, arguments, architectures], sort_keys=True)


def _verify_values(kind, payload, cases, memo) -> Verdict:
    from resnet_course import checks

    # The cells ask for ResNet50's stage blocks at two input sizes, and some stages get the same input
    # at both (stage 5 is 2x2 at every size asked for): the same arguments, seeds aside, build the same
    # architecture, which computes the same function whatever weights the judge draws, so each such
    # case is judged once, and a case whose computation passed for an earlier student of the class
    # (``memo``) passes again unjudged. A block that builds something else on a later call is judged
    # again, and a case whose configuration cannot be read is judged on its own.
    judged, computations = set(), {}

    def already_judged(case, models):
        computation = computations[id(case)] = _computation(kind, case, models)
        if computation is None:
            return False
        if computation in judged or memo.passed_before(computation):
            return True
        judged.add(computation)
        return False

    for case, pair in _block_models(kind, payload, cases, skip=already_judged, keep=True):
        arguments = {"f": case["f"], "filters": tuple(case["filters"]), "seed": case["seed"]}
        if "s" in case:
            arguments["s"] = case["s"]
        input_shape = (case["batch"], *case["input_shape"])
        checks.verify_block_models(kind, pair, input_shape=input_shape, **arguments)
        if computations[id(case)] is not None:
            memo.remember_pass(computations[id(case)])
    return Verdict(True, f"{kind} computes the right values on the grader's cases, in training and inference mode.")


def _expected_block_shape(case):
    height, width, _ = case["input_shape"]
    stride = case.get("s", 1)
    return ((height - 1) // stride + 1, (width - 1) // stride + 1, case["filters"][2])


def _verify_shapes(kind, payload, cases) -> Verdict:
    for case, pair in _block_models(kind, payload, cases):
        expected = _expected_block_shape(case)
        for training, model in pair.items():
            got = tuple(int(d) for d in model.output.shape[1:])
            if got != expected:
                arguments = f"f={case['f']}, filters={case['filters']}" + (f", s={case['s']}" if "s" in case else "")
                raise Rejected(
                    f"{kind}({arguments}) on an input of shape {tuple(case['input_shape'])} gives an output of "
                    f"shape {got}, which is not what those arguments make: check the stride and the number of "
                    "filters of each convolution"
                )
    return Verdict(True, f"{kind} gives the right output shapes for the grader's sizes and filters.")


# -- ResNet50 ------------------------------------------------------------------------------
# ResNet50 is judged with the student's own blocks: the reference here is the reference stem,
# wiring and head around the blocks as the student wrote them, so a block's mistake costs the
# block's points only. The training test asks for the whole solution to be right.

STAGES = [([64, 64, 256], 1, 2), ([128, 128, 512], 2, 3), ([256, 256, 1024], 2, 5), ([512, 512, 2048], 2, 2)]
STAGE_SHAPES_64 = [(15, 15, 256), (8, 8, 512), (4, 4, 1024), (2, 2, 2048)]


def _stage_plan(shape):
    """Each stage's (filters, stride, identity blocks, input shape), for one input size."""
    height, width = ((d + 6 - 7) // 2 + 1 for d in shape[:2])
    height, width = (height - 3) // 2 + 1, (width - 3) // 2 + 1
    channels, plan = 64, []
    for filters, stride, identities in STAGES:
        plan.append((filters, stride, identities, (height, width, channels)))
        height, width, channels = (height - 1) // stride + 1, (width - 1) // stride + 1, filters[2]
    return plan


def _block_cases(shape):
    cases = []
    for filters, stride, _, (height, width, channels) in _stage_plan(shape):
        cases.append(
            {
                "kind": "convolutional_block",
                "f": 3,
                "filters": filters,
                "s": stride,
                "input_shape": [height, width, channels],
            }
        )
        out = [(height - 1) // stride + 1, (width - 1) // stride + 1, filters[2]]
        cases.append({"kind": "identity_block", "f": 3, "filters": filters, "input_shape": out})
    return cases


def _resnet50_request(sizes):
    """The model for each size; no blocks built in this cell (ResNet50 is judged with the block cells' own)."""
    return {"sizes": [[list(shape), classes] for shape, classes in sizes], "blocks": [[] for _ in sizes]}


def _stage_block(kind, case, evidence, challenge):
    """The model the ``kind`` values cell handed over for ``case`` (one of ResNet50's stage sizes)."""
    from resnet_course.grader.judges.safe_models import UnsafeModel, load_model

    config = _stage_block_config(kind, case, evidence, challenge)
    if config is not None:
        kept = _KEPT_BLOCKS.get(_digest(config))
        if kept is not None:
            return kept
        try:
            return load_model(config, deferred=True)
        except UnsafeModel:
            pass
    raise Rejected(f"ResNet50 is judged with your own {kind}, and it could not be built at ResNet50's sizes")


def _stage_block_config(kind, case, evidence, challenge):
    """The configuration (JSON text) the ``kind`` values cell handed over for ``case``, or None."""
    asked, handed = challenge.get(f"{kind}_values", []), evidence.get(f"{kind}_values")
    wanted = {name: case[name] for name in ("f", "filters", "s", "input_shape") if name in case}
    for index, item in enumerate(asked):
        if {name: item.get(name) for name in wanted} == wanted:
            try:
                config = handed["cases"][index]["true"]["config"]
            except (KeyError, TypeError, IndexError):
                return None
            return config if isinstance(config, str) else None
    return None


def _layer_signatures(config_text):
    """Each layer's class and settings, in the order the model made them: no names, no initializers
    (the block cells build their blocks with the grader's initializer, ResNet50 with the defaults)."""
    layers = json.loads(config_text)["config"]["layers"]
    signatures = []
    for layer in layers:
        if layer.get("class_name") == "InputLayer":
            continue
        settings = {
            key: value
            for key, value in (layer.get("config") or {}).items()
            if key != "name" and not key.endswith("_initializer")
        }
        signatures.append(json.dumps([layer.get("class_name"), settings], sort_keys=True))
    return signatures


def _contains_run(sequence, run) -> bool:
    return bool(run) and any(sequence[i : i + len(run)] == run for i in range(len(sequence) - len(run) + 1))


def _require_own_blocks(entry, evidence, challenge) -> None:
    """Reject a ResNet50 whose stage 2 does not contain the student's own blocks, layer for layer."""
    try:
        model_layers = _layer_signatures(entry["config"])
    except (KeyError, TypeError, ValueError):
        raise Rejected("the cell did not hand over what the grader asked for; run it unchanged") from None
    for case in _block_cases(STANDARD[0][0])[:2]:  # stage 2: its convolutional block, then an identity block
        kind = case.pop("kind")
        config = _stage_block_config(kind, case, evidence, challenge)
        if config is None:
            raise Rejected(f"ResNet50 is judged with your own {kind}, and it could not be built at ResNet50's sizes")
        if not _contains_run(model_layers, _layer_signatures(config)):
            raise Rejected(
                f"ResNet50 is not built from your own {kind}: its stage 2 does not contain the layers your "
                f"{kind} makes. Build ResNet50 by calling identity_block and convolutional_block (not "
                "keras.applications or a copy), so that it earns the ResNet50 points."
            )


def _own_resnet50(payload, asked, evidence, challenge):
    """The student's ResNet50 for the asked size, checked to be built from their own blocks and to honour
    its input_shape and classes; returns (model, shape, classes)."""
    (entry,) = _models(payload, len(asked["sizes"]), "models")
    ((shape, classes),) = asked["sizes"]
    model = _load(entry)  # a ResNet50 that does not build says so first
    _require_own_blocks(entry, evidence, challenge)
    got_input = tuple(int(d) for d in model.input.shape[1:]) if hasattr(model, "input") else None
    if got_input != tuple(shape):
        raise Rejected(
            f"ResNet50 ignores input_shape: built with {tuple(shape)} it expects {got_input} inputs. "
            "Pass input_shape to keras.Input."
        )
    got_output = tuple(int(d) for d in model.output.shape[1:])
    if got_output != (classes,):
        raise Rejected(
            f"ResNet50(input_shape={tuple(shape)}, classes={classes}) gives outputs of shape {got_output}, "
            f"expected ({classes},): pass classes to the last Dense layer"
        )
    return model, tuple(shape), classes


def _composite(payload, asked, evidence, challenge):
    """The reference ResNet50 around the student's own blocks (those the block cells handed over),
    and the names of its checkpoints."""
    from resnet_course.deferred_weights import deferred_weights
    from resnet_course.keras_setup import import_keras

    keras = import_keras()
    ((shape, classes),) = asked["sizes"]
    blocks = []
    for case in _block_cases(tuple(shape)):
        kind = case.pop("kind")
        blocks.append(_stage_block(kind, case, evidence, challenge))
    # The blocks become layers of one model, whose layers need names of their own: the names the
    # student's kernel gave them (or that Keras counts in this process) must not decide the verdict.
    for index, block in enumerate(dict.fromkeys(blocks)):
        block.name = f"student_block_{index}"
    with deferred_weights():  # _behaviour sets every weight
        return _reference_around(keras, blocks, shape, classes)


def _reference_around(keras, blocks, shape, classes):
    layers = keras.layers
    inputs = keras.Input(tuple(shape))
    x = layers.ZeroPadding2D((3, 3))(inputs)
    x = layers.Conv2D(64, kernel_size=7, strides=2)(x)
    x = layers.BatchNormalization(axis=3)(x)
    x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D(pool_size=3, strides=2)(x)
    checkpoints = [("the stem (before stage 2)", x)]
    for index, (_, _, identities, _) in enumerate(_stage_plan(shape)):
        x = blocks[2 * index](x)
        for _ in range(identities):
            x = blocks[2 * index + 1](x)
        checkpoints.append((f"the output of stage {index + 2}", x))
    x = layers.AveragePooling2D(pool_size=2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(classes, activation="softmax")(x)
    checkpoints.append(("the output probabilities", x))
    return keras.Model(inputs, [t for _, t in checkpoints]), [name for name, _ in checkpoints]


def _behaviour(payload, asked, evidence, challenge) -> Verdict:
    from resnet_course.grader.judges import behaviour

    model, shape, classes = _own_resnet50(payload, asked, evidence, challenge)
    reference, names = _composite(payload, asked, evidence, challenge)
    x = behaviour.probe_input(shape)
    behaviour.set_shape_seeded_weights(model)
    behaviour.set_shape_seeded_weights(reference)
    every_output = behaviour.outputs_probe(model)
    # Inference mode first: it changes no variable the training mode reads (BatchNormalization updates its
    # moving averages only in training mode, and training mode normalises with the batch's statistics), so
    # the weights set once serve both modes.
    for training in (False, True):
        expected = [np.asarray(value) for value in reference(x, training=training)]
        divergence = behaviour.first_divergence(
            list(zip(names, expected)), behaviour.layer_outputs(every_output, x, training)
        )
        if divergence:
            mode = "training mode (batch statistics)" if training else "inference mode (moving averages)"
            place, detail = divergence
            raise Rejected(
                f"ResNet50: {place} is not the reference's, computed around your own blocks.\n"
                f"  On {shape} inputs with {classes} classes, in {mode}: {detail}"
            )
    return Verdict(True, _behaviour_passed(asked))


def _behaviour_passed(asked) -> str:
    ((shape, classes),) = asked["sizes"]
    return (
        f"ResNet50 computes the reference function around your blocks on {tuple(shape)} inputs "
        f"with {classes} classes."
    )


def _stage_shapes_found(model, shape):
    """The expected stage output shapes, in order, that are missing from the model's graph."""
    found = [tuple(int(d) for d in layer.output.shape[1:]) for layer in model.layers if hasattr(layer, "output")]
    missing, position = [], 0
    for expected in _stage_output_shapes(shape):
        try:
            position = found.index(expected, position) + 1
        except ValueError:
            missing.append(expected)
    return missing


def _stage_output_shapes(shape):
    shapes = []
    for filters, stride, _, (height, width, _) in _stage_plan(shape):
        shapes.append(((height - 1) // stride + 1, (width - 1) // stride + 1, filters[2]))
    return shapes


def judge_stage_shapes(payload, asked, evidence, challenge) -> Verdict:
    model, shape, _ = _own_resnet50(payload, asked, evidence, challenge)
    missing = _stage_shapes_found(model, shape)
    if missing:
        raise Rejected(
            f"output shapes of stages 2 to 5: expected {_stage_output_shapes(shape)}, in order; missing {missing}"
        )
    return Verdict(True, _stage_shapes_passed(asked))


def _stage_shapes_passed(asked) -> str:
    ((shape, _),) = asked["sizes"]
    return f"every stage ends in the right shape: {_stage_output_shapes(tuple(shape))}."


def judge_parameter_counts(payload, asked, evidence, challenge) -> Verdict:
    from resnet_course.grading import parameter_counts

    model, shape, _ = _own_resnet50(payload, asked, evidence, challenge)
    got = parameter_counts(model)
    if got != PARAMETER_COUNTS:
        raise Rejected(
            f"ResNet50 parameter counts (total, trainable, non-trainable): expected {PARAMETER_COUNTS}, got {got}"
        )
    if _stage_shapes_found(model, shape):
        raise Rejected("ResNet50 has the right number of parameters, but its stages do not end in the right shapes")
    return Verdict(True, _parameter_counts_passed(asked))


def _parameter_counts_passed(asked) -> str:
    return "ResNet50 has 23,600,006 parameters: 23,546,886 trainable and 53,120 not."


def _resnet50_computation(check: str, payload, asked, evidence, challenge):
    """What decides a ResNet50 judge's verdict: the model's architecture, the asked size and the stage
    blocks it is judged with (at the asked size and at 64x64, whose stage 2 it must contain); None when
    one of them cannot be read, and the cell is judged in full."""
    from resnet_course.grader.judges.training_cache import canonical_architecture

    try:
        (entry,) = payload["models"]
        architecture = canonical_architecture(entry["config"])
        ((shape, _),) = asked["sizes"]
        blocks = []
        for size in (STANDARD[0][0], tuple(shape)):
            for case in _block_cases(size):
                kind = case.pop("kind")
                config = _stage_block_config(kind, case, evidence, challenge)
                stddev = challenge[f"{kind}_values"][0]["initializer"]["stddev"]
                block = _checked_architecture(config, stddev) if config is not None else None
                if block is None:
                    return None
                blocks.append(block)
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return json.dumps([check, asked, architecture, blocks], sort_keys=True)


def _shared_passes(check, passed_message):
    """``check`` judged once per computation across a class (``SHARED_PASSES``): a ResNet50 whose
    computation passed before passes again, with the words a full judgement gives it."""

    def judge(payload, asked, evidence, challenge, memo) -> Verdict:
        computation = _resnet50_computation(check.__name__, payload, asked, evidence, challenge)
        if computation is not None and memo.passed_before(computation):
            return Verdict(True, passed_message(asked))
        verdict = check(payload, asked, evidence, challenge)
        if verdict.passed and computation is not None:
            memo.remember_pass(computation)
        return verdict

    return judge


def judge_training(payload, asked, evidence, challenge, memo) -> Verdict:
    """Train the student's own ResNet50 with the course's quick recipe and measure its test accuracy here.

    Every ResNet50 built from the student's own blocks with the right input and output shapes is
    trained, whatever the other cells scored: a mistake elsewhere costs only its own points. The
    accuracy of an identical model (same architecture, seeds, recipe, data and device; the grader's
    training cache) is reused from ``memo`` instead of training it again.
    """
    if os.environ.get("RESNET_COURSE_TRAINING_TEST") == "skip":
        raise Rejected("the training test was skipped by the grader's configuration (RESNET_COURSE_TRAINING_TEST=skip)")
    try:
        _own_resnet50(payload, asked, evidence, challenge)
    except Rejected as problem:
        raise Rejected(f"training skipped: {problem}") from None
    accuracy = _remembered_accuracy(memo.value)
    if accuracy is None:
        accuracy = _trained_accuracy(payload)
        memo.store({"accuracy": accuracy, "spec": TRAINING_SPEC})
    if not accuracy >= TRAINING_THRESHOLD:
        raise Rejected(
            f"your ResNet50 reached a test accuracy of {accuracy:.3f} after the course's quick recipe (seed "
            f"{TRAINING_SEED}); at least {TRAINING_THRESHOLD} is required. The reference passes with this recipe."
        )
    return Verdict(
        True, f"trained with the course's quick recipe: test accuracy {accuracy:.3f} (at least {TRAINING_THRESHOLD})."
    )


def _remembered_accuracy(value):
    """The accuracy an identical earlier training test stored, if the entry is well-formed and for this test."""
    if not isinstance(value, dict) or value.get("spec") != TRAINING_SPEC:
        return None
    accuracy = value.get("accuracy")
    if isinstance(accuracy, bool) or not isinstance(accuracy, (int, float)) or not 0.0 <= accuracy <= 1.0:
        return None
    return float(accuracy)


def _trained_accuracy(payload) -> float:
    from resnet_course import data, training
    from resnet_course.grader.judges.safe_models import load_model
    from resnet_course.keras_setup import import_keras

    _LOADED.clear()
    _KEPT_BLOCKS.clear()
    import_keras().utils.set_random_seed(TRAINING_SEED)
    model = load_model(payload["models"][0]["config"])
    X_train, Y_train, X_test, Y_test = data.model_inputs(data.load_signs())
    training.train(model, X_train, Y_train, recipe=training.QUICK_RECIPE, verbose=0)
    return float(training.evaluate(model, X_test, Y_test)["accuracy"])


# -- the "why" questions and the BatchNorm recompute ---------------------------------------


def _question(name):
    def judge(payload, _asked) -> Verdict:
        if not isinstance(payload, dict) or "value" not in payload:
            raise Rejected("no answer reached the grader")
        problem = QUESTIONS[name].check(payload["value"])
        if problem:
            raise Rejected(problem)
        return Verdict(True, "right.")

    return judge


def judge_recompute_batchnorm(payload, seed) -> Verdict:
    problem = judge_recompute(payload.get("statistics") if isinstance(payload, dict) else None, seed)
    if problem:
        raise Rejected(problem)
    return Verdict(True, "recompute_batchnorm gives the statistics of the grader's model and data.")


def _values(kind):
    return lambda payload, cases, memo: _verify_values(kind, payload, cases, memo)


def _shapes(kind):
    return lambda payload, cases: _verify_shapes(kind, payload, cases)


JUDGES = {
    "test_identity_block": ("identity_block", _values("identity_block")),
    "test_identity_block_hidden_shapes": ("identity_block_shapes", _shapes("identity_block")),
    "test_identity_block_hidden_values": ("identity_block_values", _values("identity_block")),
    "test_convolutional_block": ("convolutional_block", _values("convolutional_block")),
    "test_convolutional_block_hidden_shapes": ("convolutional_block_shapes", _shapes("convolutional_block")),
    "test_convolutional_block_hidden_values": ("convolutional_block_values", _values("convolutional_block")),
    "test_ResNet50": ("resnet50", _shared_passes(_behaviour, _behaviour_passed)),
    "test_ResNet50_hidden_parameter_counts": (
        "resnet50_counts",
        _shared_passes(judge_parameter_counts, _parameter_counts_passed),
    ),
    "test_ResNet50_hidden_stage_shapes": ("resnet50_stages", _shared_passes(judge_stage_shapes, _stage_shapes_passed)),
    "test_ResNet50_hidden_other_input": ("resnet50_other_input", _shared_passes(_behaviour, _behaviour_passed)),
    "test_training_accuracy": ("training", judge_training),
    "test_recompute_batchnorm": ("recompute_batchnorm", judge_recompute_batchnorm),
    **{f"test_{name}": (name, _question(name)) for name in QUESTIONS},
}

#: Judgements the grader reuses for an identical model (resnet_course.grader.judges.training_cache).
CACHED_JUDGEMENTS = {"test_training_accuracy": TRAINING_SPEC}
#: Cells whose judges skip a computation that passed for an earlier submission of the class
#: (resnet_course.grader.judges.judging.Memo.passed_before); the label names what a computation holds.
SHARED_PASSES = {
    grade_id: "computations-v1"
    for grade_id in (
        "test_identity_block",
        "test_identity_block_hidden_values",
        "test_convolutional_block",
        "test_convolutional_block_hidden_values",
        "test_ResNet50",
        "test_ResNet50_hidden_parameter_counts",
        "test_ResNet50_hidden_stage_shapes",
        "test_ResNet50_hidden_other_input",
    )
}
#: Cells whose judge may take longer than the grader's per-cell limit: training on 2 CPU cores, which
#: takes 2 to 5 minutes when two submissions train at once, and longer on a loaded machine.
CELL_SECONDS = {"test_training_accuracy": 1500}
