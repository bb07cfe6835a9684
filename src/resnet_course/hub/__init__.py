"""The course on a JupyterHub: demo accounts, the nbgrader exchange, and ``make hub``.

``python -m resnet_course.hub start`` (``make hub``) sets up and serves a
JupyterHub on loopback with one instructor and two students, each a real
Linux user (nbgrader's exchange tells students apart by their OS user), spawned
by JupyterHub's ``LocalProcessSpawner``. ``python -m resnet_course.hub stop``
(``make hub-stop``) or Ctrl-C stops it and every process it started.
Set-up needs root: it creates users, folders owned by them and the exchange.

Modules, one job each:

* ``layout``: where the hub keeps its state, configuration and exchange; the course id and ports;
* ``accounts``: the demo accounts as Linux users, and their generated passwords;
* ``authenticator``: a JupyterHub authenticator checking those passwords (demo only);
* ``roles``: each role's Jupyter and nbgrader configuration (Assignment List, formgrader or not);
* ``feedback_link``: the exchange lister that makes the Assignment List's "view feedback" lead to the page;
* ``course_setup``: the exchange, the instructor's course folder (with a roster of the demo students),
  and closing the checkout's instructor files;
* ``config``: the JupyterHub configuration (``jupyterhub_config.py`` loads it);
* ``processes``: the processes of the demo users, to stop what a session left behind;
* ``service``: start in the foreground with a pid file, stop from another shell.
"""
