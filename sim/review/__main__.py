import sys

from sim.review.cli import main

if __name__ == "__main__":
    sys.exit(main())
