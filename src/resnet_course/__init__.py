"""Helpers for the residual-networks course.

Three audiences, three places:

* what the student's kernel imports, at the top level: ``data``, ``checks``,
  ``plots``, ``keras_setup``, ``gradients``, ``pretrained``, ``grading``,
  ``training`` (a package) and ``paths``;
* the instructor's tools: ``resnet_course.instructor``;
* the grader (nbgrader plug-in included) and its sandbox:
  ``resnet_course.grader`` and ``resnet_course.sandbox``.
"""

__version__ = "0.1.0"
