"""Runs inside the student's kernel: notice and undo tampering before each test cell.

The grader sends this file's source to the kernel, hidden (``silent``), before
the first cell runs, and calls :func:`install`. Before every autograder test
cell it evaluates the registered check, which puts back what student code
may have changed so that tests judge the student's answers, not a rigged
environment:

* functions and attributes of protected modules (``numpy.allclose``, the
  course's check functions, builtins) and their code objects;
* ``sys.modules`` entries of those modules (a fake ``numpy`` module);
* IPython's error and input hooks (``set_custom_exc``; input and AST
  transformers and event callbacks defined in the notebook, while those of
  libraries such as matplotlib stay), ``sys.stdout``/``stderr``, trace functions;
* methods of the shell, kernel and session that student code overrode on
  the instance or the class (e.g. a ``do_execute`` that reports success).

It returns what it found, and the grader notes it in the report. This is a
speed bump, not a wall: code in the same process can always find and
defeat it, so it decides nothing. Scores are decided outside the kernel,
from the evidence the graded cells hand over (``trusted_verdicts``); an
attack that disables the guard still earns exactly its due
(``tests/fixtures/scoring_attacks.py``, ``guard_found_through_builtins``).

Why it is kept, although no score depends on it: it still protects two
things that only the kernel sees, so the trusted side cannot take them over.

* The self-check output a student reads in feedback: the course's check
  functions print in the kernel, and the judges never see the kernel's
  state, so without the guard a notebook that rebinds ``numpy.allclose``
  would show "passed" under a test whose points the judges then withhold.
* The instructor's account of what a submission did: its findings become
  the report's reason (``tampering undone before the test ...``,
  ``job_runner._sandbox_notes``, ``report.reason_line``), which the
  export, the class report and the tests of bad submissions
  (``patched_numpy``, ``patched_checks``, ``swallowed_errors``) read.
  The evidence carries only what the graded cells computed, never how the
  kernel around them was changed.
"""

import sys
import types

_MISSING = object()
# Names IPython itself swaps in and out of builtins around each execution.
# ipykernel swaps input() and getpass() in for each execution, too.
_VOLATILE_BUILTINS = {"exit", "quit", "get_ipython", "_", "__", "___", "display", "__IPYTHON__", "input", "raw_input"}


def _same(a, b):
    """Identity, treating two bound methods of the same function and object as the same."""
    if a is b:
        return True
    if isinstance(a, types.MethodType) and isinstance(b, types.MethodType):
        return a.__func__ is b.__func__ and a.__self__ is b.__self__
    return False


def _from_notebook(obj):
    """Whether a callable was defined in the notebook (a cell, or code it exec'd), not in a library."""
    function = getattr(obj, "__func__", obj)
    code = getattr(function, "__code__", None)
    if code is None:
        return getattr(type(obj), "__module__", "") == "__main__"
    filename = code.co_filename
    return filename.startswith("<") or "/ipykernel_" in filename or getattr(function, "__module__", "") == "__main__"


def _restore_list(current, snapshot, what, found):
    """Drop notebook-made entries of a hook list and put back what the notebook removed; libraries may add."""
    kept = [item for item in current if not _from_notebook(item) or item in snapshot]
    kept += [item for item in snapshot if item not in kept]
    if kept != list(current):
        found.append(f"{what} were changed by the notebook")
    return kept


def _snapshot_module(module):
    namespace = dict(vars(module))
    codes = {
        key: (value.__code__, value.__defaults__, value.__kwdefaults__)
        for key, value in namespace.items()
        if isinstance(value, types.FunctionType)
    }
    return module, namespace, codes


def _restore_module(name, module, namespace, codes, found):
    if sys.modules.get(name) is not module:
        sys.modules[name] = module
        found.append(f"sys.modules[{name!r}] was replaced")
    current = vars(module)
    for key, value in namespace.items():
        if name == "builtins" and key in _VOLATILE_BUILTINS:
            continue
        if not _same(current.get(key, _MISSING), value):
            try:
                setattr(module, key, value)
                found.append(f"{name}.{key} was rebound")
            except (AttributeError, TypeError):
                found.append(f"{name}.{key} was rebound and could not be restored")
    for key, (code, defaults, kwdefaults) in codes.items():
        function = namespace[key]
        if (
            function.__code__ is not code
            or function.__defaults__ is not defaults
            or (function.__kwdefaults__ is not kwdefaults)
        ):
            function.__code__, function.__defaults__, function.__kwdefaults__ = code, defaults, kwdefaults
            found.append(f"the code of {name}.{key} was replaced")


def _class_functions(classes):
    return {
        cls: {k: v for k, v in vars(cls).items() if callable(v) or isinstance(v, (staticmethod, classmethod))}
        for cls in classes
    }


def _instance_overrides(obj):
    """Instance attributes that shadow a method of the object's class."""
    cls = type(obj)
    return {key for key, value in vars(obj).items() if callable(getattr(cls, key, None)) and callable(value)}


def install(token, module_names):
    """Snapshot the protected state and register the check under builtins.<token>."""
    import builtins
    import importlib
    import threading

    from IPython import get_ipython

    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    modules = {}
    for name in module_names:
        try:
            modules[name] = _snapshot_module(importlib.import_module(name))
        except Exception:  # a course module that is not there: nothing to protect
            continue
    objects = [o for o in (shell, kernel, getattr(kernel, "session", None), shell.displayhook) if o is not None]
    classes = [c for o in objects for c in type(o).__mro__ if c is not object]
    class_functions = _class_functions(classes)
    instance_overrides = {id(o): _instance_overrides(o) for o in objects}
    hooks = {
        "custom_exceptions": shell.custom_exceptions,
        "CustomTB": shell.CustomTB,
        "input_transformers_post": list(shell.input_transformers_post),
        "input_transformers_cleanup": list(shell.input_transformers_cleanup),
        "ast_transformers": list(shell.ast_transformers),
        "events": {event: list(callbacks) for event, callbacks in shell.events.callbacks.items()},
        "stdout": sys.stdout,
        "stderr": sys.stderr,
    }

    def check_and_restore():
        found = []
        if sys.gettrace() is not None or sys.getprofile() is not None:
            found.append("a trace or profile function was set")
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)
        threading.setprofile(None)
        for name, (module, namespace, codes) in modules.items():
            _restore_module(name, module, namespace, codes, found)
        for cls, functions in class_functions.items():
            for key, value in functions.items():
                if not _same(vars(cls).get(key, _MISSING), value):
                    setattr(cls, key, value)
                    found.append(f"{cls.__name__}.{key} was replaced")
        for obj in objects:
            for key in _instance_overrides(obj) - instance_overrides[id(obj)]:
                delattr(obj, key)
                found.append(f"{type(obj).__name__}.{key} was overridden on the instance")
        if shell.custom_exceptions != hooks["custom_exceptions"] or shell.CustomTB is not hooks["CustomTB"]:
            found.append("an IPython custom exception handler was set")
            shell.custom_exceptions, shell.CustomTB = hooks["custom_exceptions"], hooks["CustomTB"]
        for attribute in ("input_transformers_post", "input_transformers_cleanup", "ast_transformers"):
            hook_list = getattr(shell, attribute)  # some are read-only properties: change the list in place
            hook_list[:] = _restore_list(hook_list, hooks[attribute], f"IPython {attribute}", found)
        for event, callbacks in hooks["events"].items():
            current = shell.events.callbacks.setdefault(event, [])
            current[:] = _restore_list(current, callbacks, f"IPython '{event}' callbacks", found)
        for attribute in ("stdout", "stderr"):
            if getattr(sys, attribute) is not hooks[attribute]:
                found.append(f"sys.{attribute} was replaced")
                setattr(sys, attribute, hooks[attribute])
        return found

    setattr(builtins, token, check_and_restore)
