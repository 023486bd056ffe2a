import sys

from sim.config.errors import InputError
from sim.config.preflight import preflight

if __name__ == "__main__":
    try:
        preflight(sys.argv[1:])
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    from sim.cli import main

    main()
