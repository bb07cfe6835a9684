"""The sandbox's resource caps on everything a kernel can send or write: every message counts
against the output cap, the IPC folder is a small tmpfs, the working-folder copy counts pages
and inodes; and the text the grader prints or exports is escaped."""

import os
import tempfile

import pytest
from fixtures.sandboxed_kernels import running_sandboxed_kernel

from resnet_course.grader.reports.text_safety import csv_cell, escaped
from resnet_course.sandbox.launcher import StderrRelay
from resnet_course.sandbox.workdir_copy import WorkdirTooLarge, stage_workdir_copy

OUTPUT_CAP = 256 * 1024


@pytest.fixture
def capped_kernel(tmp_path):
    """A running sandboxed kernel with a 256 KiB output cap, and every message it sends the client."""
    work = tmp_path / "work"
    work.mkdir()
    with running_sandboxed_kernel(tmp_path, work, output_bytes=OUTPUT_CAP) as kernel:
        yield kernel


def run_cell(client, code, timeout=120):
    """The execute reply and every iopub message of one cell, with their total size in bytes.

    Collects until the cell's ``idle`` status, or until iopub has been quiet for 10 s after the
    reply: a kernel that floods its own iopub socket may lose its ``idle`` there (ZMQ drops what
    its full queue cannot take), which is the kernel's loss and not what is measured here.
    """
    import json
    import queue
    import time

    msg_id = client.execute(code)
    reply = client.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = client.get_shell_msg(timeout=timeout)
    messages, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = client.get_iopub_msg(timeout=10)
        except queue.Empty:
            break
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break
        messages.append(message)
    size = sum(len(json.dumps(m["content"], default=str)) for m in messages)
    return reply["content"], messages, size


FLOODS = {
    "errors": (
        "from IPython import get_ipython\nk = get_ipython().kernel\n"
        "for i in range(2000):\n"
        "    k.session.send(k.iopub_socket, 'error', {'ename': 'E', 'evalue': 'x' * 20000, 'traceback': []},"
        " parent=k.get_parent('shell'))\n"
    ),
    "display_data": (
        "from IPython.display import display\nfor i in range(2000):\n"
        "    display({'text/plain': 'd' * 20000}, raw=True)\n"
    ),
    "update_display_data": (
        "from IPython.display import display, update_display\nh = display('x', display_id=True)\n"
        "for i in range(2000):\n    h.update({'text/plain': 'u' * 20000}, raw=True)\n"
    ),
    "comms": (
        "from IPython import get_ipython\nk = get_ipython().kernel\n"
        "for i in range(2000):\n"
        "    k.session.send(k.iopub_socket, 'comm_msg', {'comm_id': 'c', 'data': {'blob': 'c' * 20000}},"
        " parent=k.get_parent('shell'))\n"
    ),
    # 40,000 tiny messages carry 560 KB of content, past what the assertion allows, in a few
    # seconds: more would only measure how fast a slow CPU can drop them.
    "clear_output": "from IPython.display import clear_output\nfor i in range(40000):\n    clear_output(wait=True)\n",
}


@pytest.mark.parametrize("kind", list(FLOODS))
def test_every_kind_of_message_counts_against_the_output_cap(capped_kernel, kind):
    manager, client = capped_kernel
    reply, messages, size = run_cell(client, FLOODS[kind])
    assert reply["status"] == "ok"
    assert size < OUTPUT_CAP + 128 * 1024, f"{kind}: {size} bytes reached the client"
    print(f"{kind}: {size} bytes of the 40 MB sent reached the client")


def test_an_error_past_the_cap_still_reaches_the_client_cut_to_name_and_value(capped_kernel):
    manager, client = capped_kernel
    run_cell(client, "print('p' * 400_000)")
    reply, messages, _ = run_cell(client, "raise ValueError('wrong answer ' + 'v' * 100_000)")
    errors = [m["content"] for m in messages if m["msg_type"] == "error"]
    assert reply["status"] == "error" and len(errors) == 1
    assert errors[0]["ename"] == "ValueError" and errors[0]["evalue"].startswith("wrong answer")
    assert len(errors[0]["evalue"]) < 3000 and errors[0]["traceback"] == []


def test_the_ipc_folder_is_a_small_tmpfs_not_a_host_folder(capped_kernel):
    manager, client = capped_kernel
    free_before = os.statvfs(tempfile.gettempdir()).f_bavail
    code = (
        "written = 0\ntry:\n    with open('/run/kernel/fill', 'wb') as f:\n"
        "        for _ in range(300):\n            f.write(b'x' * 2**20)\n            f.flush()\n"
        "            written += 2**20\nexcept OSError as error:\n    print('refused', type(error).__name__)\n"
        "import os\nprint('WROTE', os.path.getsize('/run/kernel/fill'))\n"
    )
    reply, messages, _ = run_cell(client, code)
    text = "".join(m["content"].get("text", "") for m in messages if m["msg_type"] == "stream")
    assert "refused" in text, text
    written = int(text.split("WROTE")[1].split()[0])
    assert written <= 2 * 2**20, f"{written} bytes fitted in /run/kernel"
    lost = (free_before - os.statvfs(tempfile.gettempdir()).f_bavail) * os.statvfs(tempfile.gettempdir()).f_frsize
    assert lost < 100 * 2**20, "the host's /tmp did not take the 300 MiB"
    reply, _, _ = run_cell(client, "1 + 1")
    assert reply["status"] == "ok", "the kernel still answers over its sockets"


def test_the_working_folder_copy_counts_pages_and_inodes(tmp_path):
    source = tmp_path / "submission"
    source.mkdir()
    for n in range(20_000):
        (source / f"f{n}.txt").write_bytes(b"x")
    with pytest.raises(WorkdirTooLarge, match="counted in pages"):
        stage_workdir_copy(source, tmp_path / "copy", 64 * 2**20)
    few = tmp_path / "few"
    few.mkdir()
    (few / "toy_checks.py").write_text("def check():\n    pass\n")
    assert stage_workdir_copy(few, tmp_path / "copy-few", 64 * 2**20) == []
    assert (tmp_path / "copy-few" / "toy_checks.py").read_text().startswith("def check")


def test_control_characters_are_escaped_and_formulas_neutralised():
    forged = "bob\nalice: graded - graded normally\x1b[2K\r\u202eevil\x07\x9b"
    assert escaped(forged) == "bob\\nalice: graded - graded normally\\x1b[2K\\r\\u202eevil\\x07\\x9b"
    assert "\n" not in escaped(forged) and "\x1b" not in escaped(forged)
    assert [csv_cell(v) for v in ("=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "ok", 3.0, 0.0, 2)] == [
        "'=HYPERLINK(1)",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "ok",
        3.0,
        0.0,
        2,
    ], "text is neutralised, scores stay numbers"
    assert csv_cell("\n=cmd") == "\\n=cmd"


def test_kernel_stderr_reaches_the_terminal_escaped_and_prefixed():
    relay = StderrRelay()
    out = relay.feed(b"\x1b]0;owned\x07[resnet-course] graded 3/3\n") + relay.feed(b"half")
    assert out == b"[kernel stderr] \\x1b]0;owned\\x07[resnet-course] graded 3/3\n[kernel stderr] half"


def test_an_oversized_autograded_notebook_is_cut_with_a_note_not_dropped(tmp_path):
    import json

    import nbformat

    from resnet_course.grader.jobs.job import TRUNCATION_NOTE, _read_tree

    notebook = nbformat.v4.new_notebook()
    for n in range(30):
        cell = nbformat.v4.new_code_cell(f"print({n})")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="z" * 2**20)]
        notebook.cells.append(cell)
    nbformat.write(notebook, tmp_path / "toy.ipynb")
    files, notes = _read_tree(tmp_path)
    assert "toy.ipynb" in files and len(files["toy.ipynb"]) <= 20 * 2**20
    kept = json.loads(files["toy.ipynb"])
    assert ["".join(cell["source"]) for cell in kept["cells"]] == [f"print({n})" for n in range(30)], "all code is kept"
    assert kept["cells"][-1]["outputs"][0]["text"] == TRUNCATION_NOTE
    assert notes == ["toy.ipynb: outputs cut, the autograded notebook was 30 MiB"]


def test_the_grading_process_memory_is_capped():
    import subprocess
    import sys

    code = (
        "from resnet_course.grader.jobs.job_runner import limit_memory\nlimit_memory(512 * 2**20)\n"
        "try:\n    hoard = bytearray(1024 * 2**20)\n    print('ALLOCATED')\nexcept MemoryError:\n    print('REFUSED')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "REFUSED", result.stdout + result.stderr
