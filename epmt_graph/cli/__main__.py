"""``python -m epmt_graph.cli``."""

import sys

from epmt_graph.cli import main

if __name__ == "__main__":
    sys.exit(main())
