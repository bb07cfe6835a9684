"""Diagnoses of how ResNet50 was built: the block calls it made, read while it is built.

The notebook's ``identity_block`` and ``convolutional_block`` are wrapped
while ``ResNet50`` runs, and each call's ``f``, ``filters``, ``s`` and shapes
are recorded. The findings (wrong stage arguments, the number of identity
blocks, blocks not used at all) explain a behaviour mismatch in the
student's words, or are shown as a note on a model that computes the right
function; they are never a reason on their own to fail a model.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re

from ..deferred_weights import build_without_initial_weights
from .core import _UNFINISHED, SelfCheckError, _attempt, _error_text, _fail
from .resnet50_reference import RESNET50_STAGES, _Stage, _stage_shapes


@dataclasses.dataclass
class _BlockCall:
    """One call of a block while ResNet50 was being built."""

    kind: str
    f: object
    filters: object
    s: object
    input_shape: tuple
    output_shape: tuple


def _argument(bound, signature, position, name):
    """An argument by its usual name, else by its position."""
    if name in bound.arguments:
        return bound.arguments[name]
    names = list(signature.parameters)
    return bound.arguments.get(names[position]) if position < len(names) else None


def _as_filters(value):
    """Filters as a tuple of ints, or unchanged if they are not numbers."""
    try:
        return tuple(int(v) for v in value)
    except (TypeError, ValueError):
        return value


def _describe_call(kind, signature, args, kwargs) -> _BlockCall:
    """Read X's shape, f, filters and s from a block call's arguments."""
    call = _BlockCall(kind, None, None, None, (), ())
    if signature is None:
        return call
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return call
    bound.apply_defaults()
    x = _argument(bound, signature, 0, "X")
    call.input_shape = tuple(getattr(x, "shape", ()) or ())[1:]
    call.f = _argument(bound, signature, 1, "f")
    call.filters = _as_filters(_argument(bound, signature, 2, "filters"))
    if kind == "convolutional_block":
        call.s = _argument(bound, signature, 3, "s")
    return call


def _recording(kind, original, calls, depth):
    """Wrap a block so each top-level call is recorded in ``calls``, before it
    runs (so a call that raises is still seen) and with its output shape after."""
    try:
        signature = inspect.signature(original)
    except (TypeError, ValueError):
        signature = None

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        if depth[0]:  # a block calling a block: record only the outer call
            return original(*args, **kwargs)
        call = _describe_call(kind, signature, args, kwargs)
        calls.append(call)
        depth[0] += 1
        try:
            output = original(*args, **kwargs)
        finally:
            depth[0] -= 1
        call.output_shape = tuple(getattr(output, "shape", ()) or ())[1:]
        return output

    return wrapper


def _build_recording_calls(ResNet50, input_shape, classes):
    """Build the model with the student's blocks replaced by recording wrappers.

    Returns:
        (model, calls, names of the blocks missing from ResNet50's globals).
    """
    namespace = getattr(ResNet50, "__globals__", None)
    names = ("identity_block", "convolutional_block")
    if namespace is None:
        missing = names
    else:
        missing = tuple(name for name in names if not callable(namespace.get(name)))
    calls, depth, originals = [], [0], {}

    def forget_calls():  # a failed build without initial weights is built again: record that build only
        calls.clear()
        depth[0] = 0

    try:
        if namespace is not None:
            for name in names:
                if name not in missing:
                    originals[name] = namespace[name]
                    namespace[name] = _recording(name, originals[name], calls, depth)
        # The check sets every weight itself, so the model is built without its initial weights.
        model, error = _attempt(
            build_without_initial_weights,
            lambda: ResNet50(input_shape=tuple(input_shape), classes=classes),
            before_retry=forget_calls,
        )
    finally:
        for name, original in originals.items():
            namespace[name] = original
    if error is not None:
        _report_resnet50_failure(calls, error, input_shape, classes)
    return model, calls, missing


def _report_resnet50_failure(calls, error, input_shape, classes):
    """Explain an error raised while building ResNet50: the block calls made
    before it are checked first, since a wrong filter list is the usual cause;
    otherwise the message says where the build stopped."""
    error_text = _error_text(error)
    stages = _group_stages(calls)
    if stages and stages[0][0].kind == "convolutional_block":
        try:
            _check_stage_settings(stages[: len(RESNET50_STAGES)], complete=False)
        except SelfCheckError as found:
            raise SelfCheckError(f"{found}\n  (building the model raised {error_text})") from None
    hint = _UNFINISHED if isinstance(error, NotImplementedError) else _block_ignoring_its_arguments(stages, input_shape)
    _fail(
        "ResNet50",
        f"ResNet50(input_shape={tuple(input_shape)}, classes={classes}) raised an error.",
        got=error_text,
        hint=hint or _where_the_build_stopped(calls, error),
    )


def _block_ignoring_its_arguments(stages, input_shape) -> str:
    """The first block call, made with the right arguments, whose output has another shape than its stage's
    (a block that hard-codes a stride or a filter count passes its own check at the check's arguments), or ""."""
    expected = _stage_shapes(input_shape)
    for stage, calls in zip(RESNET50_STAGES, stages):
        for call in calls:
            if call.output_shape and tuple(call.output_shape) != expected[stage.number]:
                return (
                    f"stage {stage.number}'s {_call_words(call)} returned shape {tuple(call.output_shape)}, expected "
                    f"{expected[stage.number]}: the block does not follow its arguments (a hard-coded stride or "
                    "filter count?), although its own check, made with one set of arguments, passes"
                )
    return ""


_POOL_SIZE = re.compile(r"pool_size=\[?\(?(\d+),? (\d+)")
_POOLED_SHAPE = re.compile(r"inputs\.shape=\[?\(?None,? (\d+),? (\d+)")


def _stage_name(stages) -> str:
    """The stage the last recorded block call belongs to ("stage 2" for the first convolutional_block)."""
    return f"stage {len(stages) + 1}"


def _call_words(call: _BlockCall) -> str:
    """A block call as the student wrote it, with the shape of its input."""
    stride = f", s={call.s}" if call.kind == "convolutional_block" else ""
    return f"{call.kind}(X, f={call.f}, filters={_as_list(call.filters)}{stride}) on X of shape {call.input_shape}"


def _where_the_build_stopped(calls, error) -> str:
    """Where the build of ResNet50 stopped, read from the block calls made before the error, and what to look at."""
    stages = _group_stages(calls)
    raised_inside = next((call for call in calls if not call.output_shape), None)
    if raised_inside is not None:
        stage = next(index for index, group in enumerate(stages) if raised_inside in group)
        return (
            f"building stopped inside {_stage_name(stages[: stage + 1])}'s {_call_words(raised_inside)}; "
            f"call it alone on keras.Input({raised_inside.input_shape}) to see why"
        )
    pool, pooled = _POOL_SIZE.search(str(error)), _POOLED_SHAPE.search(str(error))
    where = f"{_stage_name(stages)}'s" if calls else "the stem's"
    if pool and pooled and (int(pool[1]) > int(pooled[1]) or int(pool[2]) > int(pooled[2])):
        after = "the head is AveragePooling2D(pool_size=(2, 2)) -> Flatten -> Dense(classes, activation='softmax')"
        if not calls:
            after = _STEM_HINT
        return f"the pool window {pool[1]}×{pool[2]} is larger than {where} {pooled[1]}×{pooled[2]} output; {after}"
    if not calls:
        return f"building stopped before the first block, in the stem: {_STEM_HINT}"
    complete = len(stages) == len(RESNET50_STAGES) and len(stages[-1]) == RESNET50_STAGES[-1].identity_blocks + 1
    if complete:
        return (
            "building stopped after stage 5, in the head: AveragePooling2D(pool_size=(2, 2)) -> Flatten -> "
            "Dense(classes, activation='softmax'), applied to stage 5's output"
        )
    return (
        f"building stopped after {_stage_name(stages)}'s {_call_words(calls[-1])}, before the next block; "
        "compare each stage's arguments with the figure of the stages"
    )


_STEM_HINT = (
    "the stem is ZeroPadding2D((3, 3)) -> Conv2D(64, (7, 7), strides=(2, 2)) -> BatchNormalization(axis=3) "
    "-> ReLU -> MaxPooling2D((3, 3), strides=(2, 2))"
)


def _group_stages(calls) -> list:
    """Group block calls into stages, a new one at each convolutional_block."""
    stages = []
    for call in calls:
        if call.kind == "convolutional_block" or not stages:
            stages.append([call])
        else:
            stages[-1].append(call)
    return stages


def _split_into_stages(calls, missing):
    """Group the recorded calls into stages, each starting with a convolutional_block."""
    if missing or not calls:
        names = " and ".join(missing) if missing else "identity_block and convolutional_block"
        _fail(
            "ResNet50",
            "the model must be built from your identity_block and convolutional_block.",
            expected="4 calls of convolutional_block and 12 of identity_block while building the model",
            got=f"{names} never called" if not missing else f"{names} not defined in the notebook",
            hint="call the identity_block and convolutional_block functions you wrote above (not keras.applications "
            "or copies of the layers)",
        )
    if calls[0].kind != "convolutional_block":
        _fail(
            "ResNet50",
            "an identity_block comes before the first convolutional_block.",
            expected="each stage starts with convolutional_block",
            got=", ".join(c.kind for c in calls[:3]) + ", ...",
            hint="stage 2 starts with convolutional_block(X, f=3, filters=[64, 64, 256], s=1)",
        )
    stages = _group_stages(calls)
    counts = [len(stage) - 1 for stage in stages]
    if len(stages) != len(RESNET50_STAGES):
        _fail(
            "ResNet50",
            f"convolutional_block was called {len(stages)} times; ResNet50 has {len(RESNET50_STAGES)} stages (2 to 5), "
            "each starting with one convolutional_block.",
            expected=f"identity blocks per stage {[s.identity_blocks for s in RESNET50_STAGES]}",
            got=f"identity blocks after each convolutional_block {counts}",
            hint="stages 2, 3, 4, 5: one convolutional_block, then 2, 3, 5 and 2 identity blocks",
        )
    return stages


def _check_stage_settings(stages, complete=True):
    """The f, filters and s of every block call, and the identity blocks per stage.

    Args:
        stages: Block calls grouped by stage.
        complete: False when the build stopped early; the last stage's count
            of identity blocks is then not checked.
    """
    for index, (stage, calls) in enumerate(zip(RESNET50_STAGES, stages)):
        counted = complete or index < len(stages) - 1
        conv, identities = calls[0], calls[1:]
        _check_block_arguments(stage, conv, f"stage {stage.number}'s convolutional_block")
        if conv.s != stage.stride:
            _fail(
                "ResNet50",
                f"stage {stage.number}'s convolutional_block has the wrong stride.",
                expected=f"s={stage.stride}",
                got=f"s={conv.s}",
                hint="stage 2 uses s=1 (the max-pool already halved the size); stages 3, 4 and 5 use s=2",
            )
        if counted and len(identities) != stage.identity_blocks:
            _fail(
                "ResNet50",
                f"stage {stage.number} has {len(identities)} identity blocks.",
                expected=f"{stage.identity_blocks} identity blocks",
                got=f"{len(identities)} identity blocks",
                hint="stages 2, 3, 4, 5 have 2, 3, 5 and 2 identity blocks after their convolutional_block",
            )
        for position, call in enumerate(identities, start=1):
            _check_block_arguments(stage, call, f"identity block {position} of stage {stage.number}")


def _check_block_arguments(stage: _Stage, call: _BlockCall, which: str):
    """A block call's filters and f."""
    if call.filters != stage.filters:
        _fail(
            "ResNet50",
            f"{which} has the wrong filters.",
            expected=f"filters={list(stage.filters)}",
            got=f"filters={_as_list(call.filters)}",
            hint=f"every block of stage {stage.number} uses filters={list(stage.filters)}",
        )
    if call.f != 3:
        _fail(
            "ResNet50",
            f"{which} has the wrong f.",
            expected="f=3",
            got=f"f={call.f}",
            hint="every block of ResNet50 uses f=3",
        )


def _as_list(filters):
    """Filters as the list a student writes, for messages."""
    return list(filters) if isinstance(filters, tuple) else filters


def diagnose_calls(calls, missing) -> SelfCheckError | None:
    """The first finding about the recorded block calls, or None when they look right."""
    try:
        _check_stage_settings(_split_into_stages(calls, missing))
    except SelfCheckError as finding:
        return finding
    return None


def _with_diagnosis(message: str, finding: SelfCheckError | None) -> str:
    """A behaviour failure with the block-call finding added, which names the mistake in the student's terms."""
    if finding is None:
        return message
    found = str(finding).split("\n")
    lines = message.split("\n")
    tail = [lines.pop()] if lines[-1].startswith("  (checked with") else []
    got = [line.split(":", 1)[1].strip() for line in found if line.startswith("  got:")]
    extra = [f"  diagnosis: {found[0].removeprefix('ResNet50: ')}" + (f" (found: {got[0]})" if got else "")]
    hints = [line for line in found if line.startswith("  likely mistake:")]
    if hints and not any(line.startswith("  likely mistake:") for line in lines):
        extra += hints
    return "\n".join(lines + extra + tail)
