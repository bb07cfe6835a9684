"""Run untrusted notebook code (student submissions) in a bubblewrap sandbox.

README
======

What a sandboxed kernel can and cannot do
-----------------------------------------
It sees, read-only, ``/usr``, a few files of ``/etc``, the Python
installation and virtual environment, the course package and ``data/``.
It can write only ``/tmp`` and its working folder: size-capped tmpfs
mounts that vanish with it (the working folder starts as a copy of the
notebook's folder). It has no network (a new, empty network namespace: no
Internet, and not the host's loopback either), its own pid and IPC
namespaces, and, when the grader runs as root, a uid of its own with no
capabilities. ``solutions/``, the gradebook, ``autograder/``, other
students' folders and the home folder do not exist in it. Limits
(``limits.py``): memory and task count per sandbox (cgroup v2 or v1 where
writable, else RLIMIT_DATA and a watchdog), CPU time, file size, wall clock,
and the volume of notebook output (capped outside the sandbox, by the
launcher's ZMQ relay). Set them with ``RESNET_SANDBOX_<LIMIT>`` variables
(e.g. ``RESNET_SANDBOX_MEMORY_BYTES``) or launcher options.

Using it
--------
* ``python -m resnet_course.sandbox install-kernel`` installs the kernelspec
  ``resnet-course-sandboxed``; the block at the end of ``nbgrader_config.py``
  selects it, so plain ``nbgrader autograde ASSIGNMENT`` runs sandboxed.
* ``python -m resnet_course.sandbox check --tensorflow`` verifies this
  machine: bubblewrap, cgroups, no network inside, TensorFlow importable.
* ``python -m resnet_course.grader autograde ASSIGNMENT`` grades in
  parallel with the same sandbox (see ``resnet_course.grader``).

Requirements, and containers
----------------------------
bubblewrap (``apt-get install bubblewrap``). Run as root (e.g. in a CI
container), bubblewrap creates the namespaces with root's privileges and
``setpriv`` then drops to an unprivileged uid. Run as a normal user, it
needs unprivileged user namespaces: ``sysctl kernel.unprivileged_userns_clone=1``
on older Debian kernels, ``user.max_user_namespaces`` > 0, and on Ubuntu 24.04+
an AppArmor profile allowing bwrap to use them.

Inside Docker, the default seccomp profile forbids the namespace calls:
start the grading container with ``--security-opt seccomp=unconfined``
(or a profile that allows ``clone``/``unshare`` of namespaces) and
``--cap-add SYS_ADMIN`` when grading as root; a read-only cgroup
filesystem just means rlimits are used instead. Where nested sandboxing is
impossible, an alternative is one container per submission, e.g.
``docker run --rm --network none --memory 6g --pids-limit 512 --cpus 1
--read-only --tmpfs /tmp -v $PWD/src:/course/src:ro -v $PWD/data:/course/data:ro
IMAGE ...``, with only that submission's folder mounted; the kernel then
talks to the grader through IPC sockets that the relay outside reaches
(here: a 1 MiB tmpfs of the sandbox, seen through ``/proc/<pid>/root``).

Limits of the approach
----------------------
Isolation is the kernel's namespaces, not a VM: a Linux kernel exploit
escapes it. Inside the kernel, student code shares a process with the test
cells, so the grader's tamper guard (``resnet_course.grader.pipeline.kernel_guard``)
can be defeated by determined code; grading decisions that matter (scores)
are made outside. Disk use outside the tmpfs mounts is nil; memory use of
the tmpfs counts against the cgroup when there is one.
"""
