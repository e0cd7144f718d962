"""The learner's view of JupyterLab, used by `python3 run.py` (which puts this folder first on
JUPYTER_CONFIG_PATH). Instructors who start `jupyter lab` themselves, or `python3 run.py --instructor`,
keep nbgrader's instructor tools; learners get the course, not the authoring tools.
"""
import os

c = get_config()  # noqa: F821 - provided by Jupyter's config loader

# nbgrader's instructor tools (formgrader, the course and assignment lists of the exchange) are off;
# validate_assignment stays: it is the learner's "Validate" button.
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
    "nbgrader.server_extensions.assignment_list": False,
}

# JupyterLab's terminal starts a login shell when the server has no terminal of its own; a login
# shell resets PATH (/etc/profile), so the course's `course` command would not be found. Start the
# learner's shell as a plain interactive shell: it keeps the PATH that run.py set.
if os.name != "nt":
    c.ServerApp.terminado_settings = {"shell_command": [os.environ.get("SHELL") or "/bin/sh"]}
