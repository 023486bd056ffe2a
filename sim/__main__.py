import logging
import os
import sys

from sim.config.errors import InputError
from sim.config.preflight import preflight
from sim.core.threads import requested as threads_requested

if __name__ == "__main__":
    from sim.run import partner

    partner.spawn(sys.argv[1:])  # a cold numba cache: a second process to compile the step (sim.run.partner)
    try:
        threads_requested()  # SIM_THREADS, if set, is a count
        preflight(sys.argv[1:])
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    from sim.cli import error_line, main, trust_preflight

    trust_preflight()  # every run of a sweep was composed and checked just above

    # Errors Hydra meets itself (writing .hydra/ on a full disk) come back here as exceptions instead
    # of Hydra's stripped traceback, so that an expected one (a full disk) is one line; a bug still
    # prints its traceback. A log line that cannot be written is dropped instead of printing one.
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")
    logging.raiseExceptions = False
    try:
        main()
    except OSError as err:
        line = error_line(err)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        sys.exit(1)
