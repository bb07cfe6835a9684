"""Helpers for the residual-networks course.

Three audiences, three places:

* what the student's kernel imports, at the top level: ``data``, ``checks``,
  ``plots``, ``keras_setup``, ``gradients`` (per-layer gradient norms),
  ``degradation`` (plain against residual, both with BatchNorm), ``shapes``
  (``trace_shapes`` and the stage table), ``figures`` (the SVG diagrams, a
  package), ``bn_exercise`` (the BatchNorm-recompute challenge and its
  self-check), ``demonstration`` (epochs of the notebook's demonstrations),
  ``pretrained``, ``grading``, ``training`` (a package) and ``paths``;
* the instructor's tools: ``resnet_course.instructor``;
* the grader (nbgrader plug-in included) and its sandbox:
  ``resnet_course.grader`` and ``resnet_course.sandbox``.
"""

__version__ = "0.1.0"
