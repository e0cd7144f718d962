import sys

from course.delivery.cli import main

sys.exit(main())
