"""``python -m sidecar``: the command of a node task."""

import sys

from sidecar.main import main

sys.exit(main())
