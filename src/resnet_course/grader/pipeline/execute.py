"""nbgrader's Execute step, run against a sandboxed kernel and hardened against bad notebooks.

:class:`SandboxedExecute` replaces nbgrader's ``Execute`` in the grader's
autograde pipeline. It

* starts the kernel through the sandbox launcher (``resnet_course.sandbox``)
  with the grader's limits, over IPC sockets in a private folder;
* installs the tamper guard (``kernel_guard.py``) before the first cell and
  runs its check before every test cell (for the feedback and the report's
  reason: the cells' points are decided outside the kernel, by ``trusted_verdicts``);
* waits for a cell's output as long as a loaded machine needs, and goes on
  when a flood lost the end of it (``late_output.py``);
* survives a kernel that dies or hangs: the cell where it happened gets an
  error saying why (memory, CPU, wall clock, exit), every later code cell an
  error saying it was not run, so test cells score 0 instead of the whole
  submission failing to grade.

What it noticed is kept in ``resources["sandbox"]`` for the grading report.
"""

from __future__ import annotations

import ast
import inspect
import json
import secrets
import signal
import tempfile
import time
from pathlib import Path
from queue import Empty

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Float, List, Unicode

from resnet_course.sandbox.kernelspec import KERNEL_NAME, kernel_manager

from . import kernel_guard
from .kernel_messages import MalformedMessagesTolerated
from .late_output import LateOutputTolerated, output_was_late

# Installing the guard imports the protected modules: allow for a loaded machine.
GUARD_TIMEOUT_S = 120
# Always protected; the grader adds every module the assignment's test cells import.
DEFAULT_PROTECTED_MODULES = ["builtins", "math", "numpy", "numpy.linalg"]


class SandboxedExecute(LateOutputTolerated, MalformedMessagesTolerated, Execute):
    """Execute a notebook in a sandboxed kernel, guarding test cells."""

    protected_modules = List(
        DEFAULT_PROTECTED_MODULES,
        help="Modules whose functions the guard restores before each test cell (course check modules belong here).",
    ).tag(config=True)

    launcher_arguments = List(
        [], help="Options for the sandbox launcher, e.g. limits: ['--memory-bytes', '1073741824']."
    ).tag(config=True)

    runtime_dir = Unicode(
        "",
        help="Private folder for connection files, IPC sockets and the launcher's report (default: a new temp folder).",
    ).tag(config=True)

    report_file = Unicode(
        "", help="JSON file to which the tampering and kernel events of each notebook are added."
    ).tag(config=True)

    probe_timeout = Float(
        10.0, help="Seconds a kernel has to answer after a timed-out cell before it is declared hung and stopped."
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._stopped_reason: str | None = None
        self._guard_token = "_g" + secrets.token_hex(12)
        self._guard_ready = False
        self._report = {"tampering": [], "events": []}
        resources = resources if resources is not None else {}
        resources["sandbox"] = self._report
        self._stages = resources.setdefault("stage_seconds", {})
        started = time.monotonic()
        try:
            return super().preprocess(nb, resources, km)
        finally:
            elapsed = time.monotonic() - started
            self._stages["notebook execution"] = round(elapsed - self._stages.get("sandbox start", 0.0), 3)
            if self.report_file:
                self._write_report()

    def _write_report(self) -> None:
        path = Path(self.report_file)
        report = json.loads(path.read_text()) if path.exists() else {"tampering": [], "events": []}
        for key in ("tampering", "events"):
            report[key] += self._report[key]
        if "kernel_start_failed" in self._report:
            report["kernel_start_failed"] = self._report["kernel_start_failed"]
        path.write_text(json.dumps(report))

    # -- kernel ---------------------------------------------------------------------------

    def create_kernel_manager(self):
        runtime = Path(self.runtime_dir or _private_folder())
        runtime.mkdir(parents=True, exist_ok=True)
        self.km, self._status_file = kernel_manager(
            runtime, list(self.launcher_arguments), AsyncKernelManager, config=self.config
        )
        self.kernel_name = KERNEL_NAME
        return self.km

    async def async_start_new_kernel_client(self):
        # A kernel that never answers may be the machine's fault, not the student's:
        # the coordinator re-runs the sandbox pre-flight when it sees this mark.
        started = time.monotonic()
        try:
            return await super().async_start_new_kernel_client()
        except Exception as error:
            self._report["kernel_start_failed"] = f"{self._stop_reason_from_launcher()} ({error})"
            raise
        finally:
            self._stages["sandbox start"] = round(time.monotonic() - started, 3)

    start_new_kernel_client = run_sync(async_start_new_kernel_client)  # the sync name binds the function

    def _stop_reason_from_launcher(self) -> str:
        for _ in range(20):  # the launcher writes it as it exits
            if self._status_file.exists():
                try:
                    status = json.loads(self._status_file.read_text())
                except ValueError:
                    status = {}
                if status.get("reason"):
                    return status["reason"]
                return f"the kernel exited (status {status.get('exit_status')})"
            time.sleep(0.1)
        return "the kernel died"

    # -- cells ----------------------------------------------------------------------------

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, self.resources
        if self._stopped_reason is not None:
            cell.outputs = [
                _error_output("CellNotRun", f"not run: the kernel had stopped earlier ({self._stopped_reason})")
            ]
            return cell, self.resources
        try:
            self._guard(cell)
            cell, resources = super().preprocess_cell(cell, resources, index)
            if _timed_out(cell):
                self._report["events"].append(f"cell {index}: stopped at the time limit of {self.timeout} s")
                if not self._kernel_answers():
                    self._stop_hung_kernel(cell, index)
        except DeadKernelError:
            self._stopped_reason = self._stop_reason_from_launcher()
            cell.outputs.append(
                _error_output("KernelStopped", f"the kernel stopped in this cell: {self._stopped_reason}")
            )
            self._report["events"].append(f"cell {index}: kernel stopped: {self._stopped_reason}")
        except CellTimeoutError as error:
            if output_was_late(error) and not self._interrupted:  # LateOutputTolerated found output stopped
                silent = f"nothing for {self.iopub_timeout} s after the cell ended"
                self._stop_kernel(cell, index, f"its output stopped reaching the grader ({silent})")
            else:
                self._stop_hung_kernel(cell, index)
        except TimeoutError:
            self._stop_hung_kernel(cell, index)
        return cell, self.resources

    def _guard(self, cell: NotebookNode) -> None:
        if not self._guard_ready:
            source = inspect.getsource(kernel_guard)
            code = (
                f"exec(compile({source!r}, '<grader guard>', 'exec'), __guard_ns := {{'__name__': '_grader_guard'}})\n"
                f"__guard_ns['install']({self._guard_token!r}, {list(self.protected_modules)!r})\n"
                "del __guard_ns\n"
            )
            reply = self._run_hidden(code, {}, max(GUARD_TIMEOUT_S, self.timeout or 0))
            if reply.get("status") != "ok":
                raise RuntimeError(f"the grader could not install its guard in the kernel: {reply.get('evalue')}")
            self._guard_ready = True
        if utils.is_grade(cell) and not utils.is_solution(cell):
            reply = self._run_hidden("", {"found": f"{self._guard_token}()"}, max(GUARD_TIMEOUT_S, self.timeout or 0))
            found = _parse_found(reply)
            for item in found:
                note = f"{cell.metadata.nbgrader.get('grade_id')}: {item}"
                if note not in self._report["tampering"]:
                    self._report["tampering"].append(note)

    async def _async_run_hidden(self, code: str, expressions: dict, timeout: float) -> dict:
        """Run code the notebook does not show, and return the execute reply's content."""
        msg_id = self.kc.execute(
            code, silent=True, store_history=False, user_expressions=expressions, allow_stdin=False
        )
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the kernel did not answer")
            try:
                message = await ensure_async(self.kc.shell_channel.get_msg(timeout=min(remaining, 1.0)))
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    raise DeadKernelError("Kernel died") from None
                continue
            if message["parent_header"].get("msg_id") == msg_id:
                return message["content"]

    _run_hidden = run_sync(_async_run_hidden)

    def output_lost(self, cell: NotebookNode, index: int) -> None:
        self._report["events"].append(
            f"cell {index}: the end of its output was lost (nothing for {self.iopub_timeout} s after it ended)"
        )

    def _kernel_answers(self) -> bool:
        try:
            self._run_hidden("", {}, self.probe_timeout)
            return True
        except (TimeoutError, DeadKernelError):
            return False

    def _stop_hung_kernel(self, cell: NotebookNode, index: int) -> None:
        hung = "it kept running after the cell's time limit and did not respond to an interrupt"
        self._stop_kernel(cell, index, hung)

    def _stop_kernel(self, cell: NotebookNode, index: int, reason: str) -> None:
        self._stopped_reason = reason
        self._report["events"].append(f"cell {index}: {self._stopped_reason}; kernel stopped")
        cell.outputs.append(_error_output("KernelStopped", f"the grader stopped the kernel: {self._stopped_reason}"))
        try:
            # SIGTERM lets the launcher remove its sandbox, cgroup and folders; SIGKILL only if it must.
            run_sync(self.km.signal_kernel)(signal.SIGTERM)
            deadline = time.monotonic() + 5
            while run_sync(self.km.is_alive)() and time.monotonic() < deadline:
                time.sleep(0.1)
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # already gone
            pass


def _timed_out(cell: NotebookNode) -> bool:
    return any(
        o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])
    )


def _error_output(name: str, message: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=name, evalue=message, traceback=[f"{name}: {message}"])


def _parse_found(reply: dict) -> list[str]:
    result = reply.get("user_expressions", {}).get("found", {})
    if result.get("status") != "ok":
        return [f"the guard could not run ({result.get('ename', 'no reply')}): its check was removed"]
    try:
        found = ast.literal_eval(result.get("data", {}).get("text/plain", "[]"))
    except (ValueError, SyntaxError):
        return ["the guard's report was unreadable"]
    return [str(item) for item in found] if isinstance(found, list) else ["the guard's report was unreadable"]


def _private_folder() -> str:
    return tempfile.mkdtemp(prefix="resnet-grader-runtime-")
