"""nbgrader for an instructor on the workshop hub (found through JUPYTER_CONFIG_PATH).

The course folder is a clone of the course repository in the instructor's home
(~/aml-course by default): its own nbgrader_config.py (solutions/ is the source, exercises/
the release, grading settings) is loaded first, then the hub's exchange is added.
"""
import os

c = get_config()  # noqa: F821

course_dir = os.path.join(os.path.expanduser("~"), os.environ.get("AML_COURSE_DIR", "aml-course"))
course_config = os.path.join(course_dir, "nbgrader_config.py")
if os.path.exists(course_config):
    load_subconfig(course_config)  # noqa: F821 - provided by traitlets' config loader
c.CourseDirectory.root = course_dir
c.CourseDirectory.course_id = os.environ.get("AML_COURSE_ID", "aml-course")
c.Exchange.root = os.environ.get("AML_NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
c.Exchange.path_includes_course = True
c.Authenticator.plugin_class = "nbgrader.auth.JupyterHubAuthPlugin"
