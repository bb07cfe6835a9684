"""JupyterHub's configuration file for the course hub: ``jupyterhub -f`` this file.

``python -m resnet_course.hub start`` runs it after set-up; the layout (folders
and ports) comes from the ``HUB_*`` environment variables (``layout.py``).
"""

from resnet_course.hub.config import apply
from resnet_course.hub.layout import HubLayout

apply(get_config(), HubLayout.from_env())  # noqa: F821 -- get_config is provided by JupyterHub
