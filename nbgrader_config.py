"""nbgrader configuration for the course; nbgrader reads it from the repository root.

Instructor sources live in solutions/, generated student notebooks in
assignments/, and everything produced by grading (submissions, autograded
copies, feedback, the gradebook) under autograder/, which git ignores.
"""

import os

ROOT = os.path.dirname(os.path.abspath(__file__))

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.root = ROOT
c.CourseDirectory.course_id = "resnets-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.submitted_directory = os.path.join("autograder", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("autograder", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("autograder", "feedback")
# The gradebook lives in autograder/ (git-ignored); sqlite cannot create its folder.
os.makedirs(os.path.join(ROOT, "autograder"), exist_ok=True)
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, "autograder", "gradebook.db")

# Each assignment's judges (solutions/<assignment>/grader_only/) decide the graded
# cells outside the student's kernel: never released, never copied beside a submission.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "grader_only"]

# Students see a header naming the generator of their notebook.
c.IncludeHeaderFooter.header = os.path.join(ROOT, "solutions", "header.ipynb")

# Generating the student version (`make assignment`, `nbgrader generate_assignment`, the
# formgrader's Generate button) first drops the master's maintainer notes (cells tagged
# master-only) and its demonstration tags (resnet_course/instructor/release_steps.py), before
# nbgrader records any cell in the gradebook; then nbgrader 0.9.6's own steps, in their order.
c.GenerateAssignment.preprocessors = [
    "resnet_course.instructor.release_steps.DropMasterOnlyCells",
    "resnet_course.instructor.release_steps.RemoveDemonstrationTags",
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearSolutions",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Feedback shows results and messages, never the hidden tests' code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "resnet_course.grader.pipeline.feedback.HideTestCode",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# TensorFlow's import and the ResNet50 cells take longer than nbgrader's 30 s default.
c.Execute.timeout = 600
c.Execute.interrupt_on_timeout = True
# A cell's output can come seconds after its reply on a busy machine; nbclient waits only 4 s for it
# (resnet_course/grader/pipeline/late_output.py).
c.Execute.iopub_timeout = 30

# --- Sandboxed kernel (resnet_course.sandbox; see its docstring) --------------------
# Every notebook nbgrader executes (autograde, validate) runs in the
# resnet-course-sandboxed kernel: bubblewrap, no network, no view of
# solutions/, the gradebook or other submissions, with memory/CPU/process/
# output limits. Execute (not ExecutePreprocessor) is the section nbgrader
# 0.9.6's autograde honours; it also overrides the notebook's own kernelspec.
# If the kernelspec cannot be installed, grading fails ("No such kernel")
# rather than running student code unsandboxed.
c.Execute.kernel_name = "resnet-course-sandboxed"
try:
    from resnet_course.sandbox.kernelspec import ensure_installed
    ensure_installed()
except ImportError:
    pass
# Pre-flight: `nbgrader autograde` checks once that the sandbox works (bubblewrap,
# namespaces, a kernel that answers) before it writes any gradebook entry, and again
# when a kernel cannot start; a broken sandbox stops the run with one message naming
# the cause and the fix, and is never recorded against a student
# (resnet_course/grader/pipeline/plain_nbgrader.py). SandboxCheckedExecute takes the
# c.Execute settings above.
c.Autograde.pre_convert_hook = "resnet_course.grader.pipeline.plain_nbgrader.pre_convert_hook"
# Trusted verdicts (resnet_course/grader/pipeline/trusted_verdicts.py): the judges draw this
# submission's inputs before the kernel starts and decide every graded cell from the
# evidence it handed over, in a process of their own; the kernel's own outcome only
# ever takes points away.
c.Autograde.autograde_preprocessors = [
    "resnet_course.grader.pipeline.trusted_verdicts.WriteChallenge",
    "resnet_course.grader.pipeline.demonstrations.SkipDemonstrations",
    "resnet_course.grader.pipeline.plain_nbgrader.SandboxCheckedExecute",
    "resnet_course.grader.pipeline.demonstrations.RestoreDemonstrations",
    "resnet_course.grader.pipeline.trusted_verdicts.TrustedVerdicts",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# The training test's results per distinct model, reused by a regrade (resnet_course.grader.judges.training_cache).
c.TrustedVerdicts.training_cache_dir = os.path.join(ROOT, "autograder", "training-cache")
# What judging one submission may cost, on both grading paths: JudgesLimits' defaults in
# resnet_course.grader.judges.judge_process (2 minutes per cell, the judges file allows the training test 25;
# 30 minutes in all; 6 GiB), each overridden by RESNET_JUDGES_CELL_SECONDS, _SUBMISSION_SECONDS and
# _MEMORY_BYTES in the grader's environment. A value set here wins over both, for example:
# c.TrustedVerdicts.judges_memory_bytes = 8 * 1024**3
# --- end of sandboxed kernel block ----------------------------------------------------

# --- Late submissions ------------------------------------------------------------------
# A submission is late when the timestamp nbgrader's exchange gives it on Submit is after
# the assignment's due date, set with `nbgrader db assignment add resnets --duedate="2027-01-15
# 23:59:00 Europe/Paris"` or in the formgrader (Manage Assignments > Edit). Grading records it:
# the gradebook keeps the timestamp and the seconds late of every submission, and the
# formgrader shows them. The policy: no automatic penalty ("none"); the instructor reads the
# list of late submissions and decides, which suits a course where lateness is often excused.
# nbgrader's other built-in policy, "zero", gives a late submission no points.
c.AssignLatePenalties.plugin_class = "nbgrader.plugins.LateSubmissionPlugin"
c.LateSubmissionPlugin.penalty_method = "none"
# --- end of late submissions block ------------------------------------------------------
