import atexit
import logging
import os
import sys
import threading


def exit_now(code: int = 0) -> None:
    """End the command as Python would, less the interpreter's teardown of its modules.

    Python's exit joins the threads that are not daemons, runs the atexit handlers and flushes the
    streams, then tears every module down: about 0.7 s with numba, LLVM, pyarrow, pandas and matplotlib
    loaded, after every output was written and closed. This does the first three, then ends the process.
    """
    shutdown = getattr(threading, "_shutdown", None)  # what the interpreter's exit does first (3.12)
    if shutdown is not None:
        shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more to say on it
            pass
    os._exit(code)


if __name__ == "__main__":
    from sim.core.threads import idle_threads_sleep
    from sim.studies import prestart

    # Errors Hydra meets itself (writing .hydra/ on a full disk) come back here as exceptions instead
    # of Hydra's stripped traceback, so that an expected one (a full disk) is one line; a bug still
    # prints its traceback. Set before the sweep's workers start: they inherit the environment.
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")
    idle_threads_sleep()  # numba's OpenMP threads sleep when idle, in this process and the workers
    # a local sweep: the fork server of its workers starts now and imports what a run needs, before this
    # process has imported Hydra (sim.studies.prestart); `prestart.start` below starts the pool
    prestart.start_server(sys.argv[1:], modules=("sim.cli",))

    from sim.config.errors import InputError
    from sim.config.preflight import preflight
    from sim.core.threads import requested as threads_requested
    from sim.run import drawer, partner
    from sim.run.beside import NO_TASK_FLAGS
    from sim.studies.naming import check_output_dir

    partner.spawn(sys.argv[1:])  # a cold numba cache: a second process to compile the step (sim.run.partner)
    drawer.spawn(sys.argv[1:])  # a single run: a process that imports matplotlib and draws the figure
    # a local sweep: joblib's workers start and import (the model, this command line's task) while this
    # process checks and composes the sweep
    prestart.start(sys.argv[1:], modules=("sim.cli",))
    try:
        threads_requested()  # SIM_THREADS, if set, is a count
        preflight(sys.argv[1:])
        if not any(a in NO_TASK_FLAGS for a in sys.argv[1:]):  # --help, --cfg ... write nothing
            check_output_dir(sys.argv[1:])  # where the outputs go can be written (sim.studies.naming)
    except InputError as err:
        prestart.stop()
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    from sim.cli import error_line, main, mode_from_flags, trust_preflight
    from sim.run import heap

    heap.freeze()  # the objects of the imports so far (Hydra, the config) out of later collections

    trust_preflight()  # every run of a sweep was composed and checked just above
    mode_from_flags(sys.argv[1:])  # run or sweep as -m says, unless the command line may set hydra.mode

    logging.raiseExceptions = False  # a log line that cannot be written is dropped instead of printing one
    try:
        main()
    except OSError as err:
        line = error_line(err)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        sys.exit(1)
    exit_now(0)  # every output is written and closed
