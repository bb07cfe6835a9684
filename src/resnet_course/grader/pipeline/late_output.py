"""Wait for a cell's output as long as a loaded machine needs, and survive output that never ends.

After a cell's reply, nbclient waits ``iopub_timeout`` for the rest of the
cell's output, up to its ``idle`` status, and nbgrader makes it raise when
that does not come. The course waits 30 s, not nbclient's 4: on a loaded
grading machine the output comes seconds after the reply, and it carries the
evidence the graded cells hand over. A flood can make the kernel's own socket
drop the ``idle`` status for good. The cell has ended (its reply came), so
:class:`LateOutputTolerated` asks the kernel for a hidden reply of its own: when
that request's ``idle`` arrives, output still flows and the notebook goes on.
"""

from __future__ import annotations

import time
from queue import Empty

from nbclient.exceptions import CellTimeoutError
from nbclient.util import ensure_async, run_sync
from traitlets import Integer
from traitlets.config import LoggingConfigurable

#: Seconds to wait for a cell's output after its reply: nbclient's iopub_timeout in the course's executors.
OUTPUT_WAIT_S = 30
#: Seconds the kernel has to end a hidden request's output, or an interrupted cell's output.
OUTPUT_PROBE_S = 10


def output_was_late(error: CellTimeoutError) -> bool:
    """Whether nbclient raised ``error`` for output that did not end after the reply (not for a late reply)."""
    return "IOPub" in str(error)  # nbclient raises one class for both; only the text differs


class LateOutputTolerated(LoggingConfigurable):
    """Mixin for an nbclient-based executor (before it in the class's bases)."""

    iopub_timeout = Integer(
        OUTPUT_WAIT_S,
        help="Seconds to wait, after a cell's reply, for the rest of its output (nbclient's default is 4).",
    ).tag(config=True)

    def preprocess(self, *args, **kwargs):
        self._output_wait = self.iopub_timeout
        return super().preprocess(*args, **kwargs)

    def preprocess_cell(self, cell, resources, index):
        self._interrupted = False
        self.iopub_timeout = self._output_wait
        try:
            return super().preprocess_cell(cell, resources, index)
        except CellTimeoutError as error:
            if not output_was_late(error) or self._interrupted or not self._output_flows():
                raise
            self.output_lost(cell, index)
            return cell, self.resources

    def output_lost(self, cell, index: int) -> None:
        """Note that the end of cell ``index``'s output was lost while output still flows."""
        self.log.warning("cell %s: the end of its output was lost; the notebook goes on", index)

    async def _async_handle_timeout(self, timeout, cell=None):
        # nbclient interrupts a cell at its time limit, then waits iopub_timeout for the output that ends it:
        # an interrupted kernel gets OUTPUT_PROBE_S to show it responds.
        self._interrupted = True
        self.iopub_timeout = OUTPUT_PROBE_S
        return await super()._async_handle_timeout(timeout, cell)

    async def _async_output_flows(self) -> bool:
        """Whether the kernel's output still reaches us: a hidden request's ``idle`` status arrives."""
        msg_id = self.kc.execute("", silent=True, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + OUTPUT_PROBE_S
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                message = await ensure_async(self.kc.iopub_channel.get_msg(timeout=min(remaining, 1.0)))
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    return False
                continue
            if (
                message["parent_header"].get("msg_id") == msg_id
                and message["msg_type"] == "status"
                and message["content"].get("execution_state") == "idle"
            ):
                return True
        return False

    _output_flows = run_sync(_async_output_flows)
