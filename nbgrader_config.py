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

# Students see a header naming the generator of their notebook.
c.IncludeHeaderFooter.header = os.path.join(ROOT, "solutions", "header.ipynb")

# Feedback shows results and messages, never the hidden tests' code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "resnet_course.feedback.HideTestCode",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Kernels started by nbgrader inherit this: the notebook skips its own long
# training demonstration, which the hidden training test replaces.
os.environ["RESNET_COURSE_AUTOGRADING"] = "1"

# TensorFlow's import and the ResNet50 cells take longer than nbgrader's 30 s default.
c.Execute.timeout = 600
c.Execute.interrupt_on_timeout = True
