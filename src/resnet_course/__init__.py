"""Helpers for the residual-networks course.

Three audiences, three places:

* what the student's kernel imports, at the top level: ``data``, ``checks``,
  ``plots``, ``keras_setup``, ``gradients`` (per-layer gradient norms),
  ``degradation`` (shallow plain, deep plain and deep residual, all with
  BatchNorm), ``shapes`` (``trace_shapes`` and the stage table), ``figures``
  (the SVG diagrams, a package), ``bn_exercise`` (the BatchNorm-recompute
  challenge and its self-check), ``answers`` (reading the short answers, and
  their form check), ``demonstration`` (the notebook's demonstrations: their
  epochs, and one line instead of a second error), ``evidence`` (what the
  graded cells hand to the grader), ``deferred_weights`` (models built
  without their initial weights, for the evidence, the self-checks and the
  judges, which set every weight themselves), ``pretrained``, ``grading``,
  ``training`` (a package) and ``paths``;
* the instructor's tools: ``resnet_course.instructor``;
* the grader (nbgrader plug-in included) and its sandbox:
  ``resnet_course.grader`` and ``resnet_course.sandbox``.
"""

__version__ = "0.1.0"
