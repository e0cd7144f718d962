"""nbgrader for a learner on the workshop hub (found through JUPYTER_CONFIG_PATH).

Assignments are fetched into ~/<course id>/<assignment>/ and submitted to the hub's exchange.
The courses a learner sees are the hub groups nbgrader-<course id> they belong to.
"""
import os

c = get_config()  # noqa: F821

c.CourseDirectory.course_id = os.environ.get("AML_COURSE_ID", "aml-course")
c.Exchange.root = os.environ.get("AML_NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
c.Exchange.path_includes_course = True
c.Authenticator.plugin_class = "nbgrader.auth.JupyterHubAuthPlugin"
