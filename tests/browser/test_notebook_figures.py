"""The notebook's diagrams render in JupyterLab: the student runs the figure cell of section 2 and sees the
identity block drawn as SVG, at notebook width. The screenshot is the README's picture of the figure."""

from __future__ import annotations

import base64
import os
import shutil
import urllib.parse

import jupyterlab_ui as ui
import pytest
from lab_server import REPO_ROOT
from test_student_notebook import NOTEBOOK, UPDATE_SCREENSHOTS_ENV, open_student_notebook, run_setup_cell

pytestmark = pytest.mark.browser

README_SCREENSHOT = REPO_ROOT / "docs" / "img" / "identity-block-figure.png"
FIGURE_CELL = 'show("identity_block")'


def shown_svg_text(element) -> str:
    """The SVG source behind a rendered <img> (its data URL) or <svg> element."""
    if element.evaluate("e => e.tagName.toLowerCase()") == "svg":
        return element.evaluate("e => e.outerHTML")
    header, _, data = element.get_attribute("src").partition(",")
    return base64.b64decode(data).decode() if header.endswith(";base64") else urllib.parse.unquote(data)


def test_identity_block_figure_renders_as_svg_in_the_lab(page, launch_lab, student_root, artifacts_dir):
    notebook = student_root / NOTEBOOK
    setup, figure = ui.cell_index(notebook, "import_keras()"), ui.cell_index(notebook, FIGURE_CELL)
    open_student_notebook(page, launch_lab, student_root)
    run_setup_cell(page, setup)

    output = ui.run_cell(page, figure)
    # JupyterLab draws an SVG output as an <img> whose src is the SVG itself (a data URL).
    image = output.locator(".jp-RenderedSVG img, .jp-RenderedSVG svg").first
    image.wait_for()
    box = image.bounding_box()
    assert box and 400 <= box["width"] <= 700, box
    assert "Identity block" in shown_svg_text(image)

    ui.cell(page, figure).evaluate("cell => cell.scrollIntoView({block: 'start'})")
    path = artifacts_dir / README_SCREENSHOT.name
    # The output area from its prompt to just past the figure: the lab's frame without the empty width.
    area, box = output.bounding_box(), image.bounding_box()
    width = box["x"] + box["width"] + 24 - area["x"]
    page.screenshot(path=str(path), clip={"x": area["x"], "y": area["y"], "width": width, "height": area["height"]})
    if os.environ.get(UPDATE_SCREENSHOTS_ENV) == "1" or not README_SCREENSHOT.exists():
        shutil.copyfile(path, README_SCREENSHOT)
