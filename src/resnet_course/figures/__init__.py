"""The course's diagrams, hand-written SVG files shipped with the package.

``identity_block``, ``convolutional_block`` and ``resnet50_stages`` are drawn at notebook width (at most
640 px) with the tensor shapes of ResNet50 on 64x64 images; :func:`show` displays one in a notebook.
"""

from __future__ import annotations

from importlib import resources

FIGURES = ("identity_block", "convolutional_block", "resnet50_stages")


def svg_text(name: str) -> str:
    """The SVG source of one figure.

    Raises:
        ValueError: ``name`` is not one of :data:`FIGURES`.
    """
    if name not in FIGURES:
        raise ValueError(f"no figure named {name!r}; the figures are {', '.join(FIGURES)}")
    return resources.files(__name__).joinpath(f"{name}.svg").read_text(encoding="utf-8")


def show(name: str):
    """Display one figure in the notebook (and return the displayed object)."""
    from IPython.display import SVG, display

    figure = SVG(data=svg_text(name))
    display(figure)
    return figure
