"""Parallel kernels compiled twice, each only when first needed: serial for one thread, parallel for more.

numba compiles a `parallel=True` function into a parallel loop nest (parfors), which takes about twice
as long to compile as the same function compiled as plain loops and pays off only on several threads.
A run uses one thread below `sim.core.threads.PARALLEL_FROM` agents (the default scenario, every test
and most sweeps), so it should never compile the parallel form. `@parallel_kernel(...)` replaces
`@numba.njit(parallel=True, ...)`: the function is compiled as plain loops (`prange` runs as `range`)
when numba's thread count is one for the calling thread (`sim.core.threads.use_threads`), and with
`parallel=True` otherwise. Each form is compiled the first time it is called and kept in numba's
on-disk cache under its own name (the serial form's ends in `__serial`), so the two never overwrite one
another.

A kernel gives the same result in both forms: every kernel here is written so that its output does not
depend on the number of threads (the fixed work split of `_movers`, reductions in a fixed order), which
`tests/unit/test_threads.py` checks for the whole model under one thread and several.

A kernel that calls another `parallel_kernel` calls the same form of it (the serial form of a caller
calls the serial form of its callees). Calls go through global names of the caller's module; a kernel
reached as a module attribute (`module.kernel(...)`) inside compiled code would not be found, so call it
by a name imported into the module.

Every compiled function of the package is declared with `@jit(...)` (or `@parallel_kernel(...)`), not
`@numba.njit(...)`. numba gives each compiled function two entry points besides its native code: a
CPython wrapper, through which Python calls it, and a C wrapper (`cfunc`), through which it can be passed
to compiled code as a first-class function. Most of the package's functions are rules and helpers that
only other compiled functions call, and the package never passes functions as values, yet building
those entry points took a seventh of the first run (26.5 -> 23.0 s without them, the default scenario
with an empty cache and no compile partner, 2-core Intel Xeon). `@jit` compiles a function without either
(`CompiledOnly`); a call from Python (the per-agent reference calling a rule, a step calling a kernel)
goes to the function's twin, the same function compiled by numba with a CPython entry point the first
time Python calls it, and cached under its own name (ending in `__py`). Both compile the same source
with the same options and argument types into the same native code, so a rule gives the same bits
called from either.
"""

from __future__ import annotations

import functools
import threading
import types
from typing import Any

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import cgutils
from numba.core import config as numba_config
from numba.core.caching import NullCache
from numba.core.registry import CPUDispatcher
from numba.extending import intrinsic

import sim.core.cache  # noqa: F401  (the package's cache locator, before any function here is declared)

SERIAL_SUFFIX = "__serial"
#: The Python-callable twin of a `CompiledOnly` function is cached under the function's name and this
TWIN_SUFFIX = "__py"
# How many agents ahead a pass over the agents' tie blocks asks for the neighbours' words it will read
# (`prefetch`): 4, 8 and 16 gave the same exchange times at one and ten million agents here
PREFETCH_AHEAD = 8


class Kernel:
    """A function with a serial and a parallel numba form, chosen at each call by numba's thread count."""

    def __init__(self, fn: types.FunctionType, flags: dict[str, Any]) -> None:
        self.py_func = fn
        self._flags = flags
        self._forms: dict[bool, Any] = {}
        functools.update_wrapper(self, fn)

    def form(self, parallel: bool) -> Any:
        """The numba dispatcher of one form (created on first use; compiled by numba on its first call)."""
        dispatcher = self._forms.get(parallel)
        if dispatcher is None:
            dispatcher = self._forms[parallel] = _dispatcher(self, parallel)
        return dispatcher

    @property
    def serial(self) -> Any:
        return self.form(False)

    @property
    def parallel(self) -> Any:
        return self.form(True)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.form(nb.get_num_threads() > 1)(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<parallel_kernel {self.py_func.__module__}.{self.py_func.__qualname__}>"


def _dispatcher(kernel: Kernel, parallel: bool) -> Any:
    """Numba's dispatcher for one form: a copy of the function whose global kernels are their same form."""
    fn = kernel.py_func
    names = fn.__code__.co_names
    env = dict(fn.__globals__)
    for name in names:
        value = env.get(name)
        if isinstance(value, Kernel):
            env[name] = value.form(parallel)
    copy = _copy(fn, fn.__qualname__ if parallel else fn.__qualname__ + SERIAL_SUFFIX, env)
    return _compiled_only(copy, {"parallel": parallel, **kernel._flags})


def parallel_kernel(**flags: Any) -> Any:
    """`@parallel_kernel(cache=True, ...)`: as `@numba.njit(parallel=True, ...)`, with a serial form for 1 thread."""

    def wrap(fn: types.FunctionType) -> Kernel:
        return Kernel(fn, flags)

    return wrap


def _copy(fn: types.FunctionType, qualname: str, env: dict[str, Any] | None = None) -> types.FunctionType:
    """A copy of `fn` (same code and defaults; globals `env`, or fn's) under another qualified name.

    numba names a function's cache files after its qualified name.
    """
    copy = types.FunctionType(
        fn.__code__, fn.__globals__ if env is None else env, fn.__name__, fn.__defaults__, fn.__closure__
    )
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__doc__ = fn.__doc__
    copy.__module__ = fn.__module__
    copy.__qualname__ = qualname
    return copy


def _numba_options(flags: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """(cache, target options) of `numba.njit(**flags)`."""
    options = dict(flags)
    cache = bool(options.pop("cache", False))
    return cache, {"nopython": True, "boundscheck": options.pop("boundscheck", None), **options}


class CompiledOnly(CPUDispatcher):
    """numba's dispatcher of a function compiled for calls from compiled code only (no entry point from Python).

    Compiled code calls it as any numba function. A call from Python goes to `twin()`: the same function
    compiled with a CPython entry point (numba would crash calling the entry point this one lacks).
    """

    _twin_lock = threading.Lock()

    def twin(self) -> Any:
        """The Python-callable twin (a numba dispatcher of a copy of the same function), made on first use."""
        twin = self.__dict__.get("_twin")
        if twin is None:
            with self._twin_lock:
                twin = self.__dict__.get("_twin")
                if twin is None:
                    options = {k: v for k, v in self.targetoptions.items() if k != "no_cpython_wrapper"}
                    twin = CPUDispatcher(
                        py_func=_copy(self.py_func, self.py_func.__qualname__ + TWIN_SUFFIX),  # type: ignore[arg-type]
                        locals=dict(self.locals),
                        targetoptions=options,
                    )
                    if not isinstance(self._cache, NullCache):  # type: ignore[attr-defined]  # cached as this one is
                        twin.enable_caching()
                    self.__dict__["_twin"] = twin
        return twin

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.twin()(*args, **kwargs)


def _compiled_only(fn: types.FunctionType, flags: dict[str, Any]) -> Any:
    """A `CompiledOnly` dispatcher of `fn`; `fn` itself with NUMBA_DISABLE_JIT set, as numba's decorators do."""
    if getattr(numba_config, "DISABLE_JIT", False):
        return fn
    cache, options = _numba_options(flags)
    dispatcher = CompiledOnly(
        py_func=fn, locals={}, targetoptions={**options, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}
    )
    if cache:
        dispatcher.enable_caching()
    return dispatcher


def jit(**flags: Any) -> Any:
    """`@jit(cache=True, nogil=True, ...)`: as `@numba.njit(...)`, compiled without entry points nobody calls.

    Returns a `CompiledOnly` dispatcher: compiled code calls the function itself, Python calls its twin
    (see the module's docstring). With NUMBA_DISABLE_JIT set, the plain Python function, as numba does.
    """

    def wrap(fn: types.FunctionType) -> Any:
        return _compiled_only(fn, flags)

    return wrap


def signatures(dispatcher: Any) -> list[Any]:
    """The argument types a function was compiled (or loaded) for: from compiled code and, via its twin, from Python."""
    found = list(dispatcher.signatures)
    twin = dispatcher.__dict__.get("_twin")
    if twin is not None:
        found += [s for s in twin.signatures if s not in found]
    return found


def _prefetch(typingctx: Any, arr: Any, index: Any) -> Any:
    """`prefetch(arr, i)` in compiled code: ask the CPU to bring `arr[i]`'s cache line in, and go on.

    A hint only (LLVM's `llvm.prefetch`: a read, kept in every cache level): it changes no value, cannot
    fault (a prefetch of any address is allowed) and returns nothing. A loop whose reads of `arr[j]` land
    far apart in memory (an agent's ties to agents anywhere among millions) asks for the next agents'
    lines while it computes the current one, so the waits for memory overlap the arithmetic. `index` is
    not bounds-checked: callers pass indices they are about to read.
    """
    sig = nb.types.void(arr, index)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, byte_ptr), i32(0), i32(3), i32(1)])  # read, all caches, data
        return context.get_dummy_value()

    return sig, codegen


def _no_prefetch(arr: Any, index: Any) -> None:
    """`prefetch` in pure Python (NUMBA_DISABLE_JIT): a hint only, so nothing."""


# typed Any: called from compiled code as prefetch(arr, i)
prefetch: Any = _no_prefetch if getattr(numba_config, "DISABLE_JIT", False) else intrinsic(_prefetch)


#: Up to this many values, `sort_small` sorts by insertion; above, by heapsort.
_INSERTION_UP_TO = 16


@jit(cache=True, nogil=True)
def sort_small(a):
    """Sort the integers `a` in place: by insertion up to a few, by heapsort above (O(n log n), no recursion).

    For the blocks of an agent's ties (tens of values, a thousand in the classic presets' dense graphs).
    numba's own `ndarray.sort()` (a quicksort) took about a second to compile on a cold cache, in the run
    and in its compile partner alike; this compiles in about a third of a second. Sorting the blocks of a
    million agents took 0.40 s against 0.60 s at mean degree 20 and 0.10 against 0.39 s at 10; 10,000
    blocks of about a thousand, 0.57 against 0.38 s (one measurement each, 2-core Xeon). The values carry
    nothing else, so any correct sort leaves the same array.
    """
    n = len(a)
    if n <= _INSERTION_UP_TO:
        for x in range(1, n):
            v = a[x]
            y = x - 1
            while y >= 0 and a[y] > v:
                a[y + 1] = a[y]
                y -= 1
            a[y + 1] = v
        return
    for start in range((n - 2) // 2, -1, -1):  # a max-heap, then the largest moved to the end in turn
        _sift_down(a, start, n)
    for end in range(n - 1, 0, -1):
        v = a[0]
        a[0] = a[end]
        a[end] = v
        _sift_down(a, np.int64(0), end)  # typed: a literal 0 would compile _sift_down once more


@jit(cache=True, nogil=True)
def _sift_down(a, root, end):
    """Restore the max-heap a[root:end] below `root`."""
    v = a[root]
    while True:
        child = 2 * root + 1
        if child >= end:
            break
        if child + 1 < end and a[child + 1] > a[child]:
            child += 1
        if a[child] <= v:
            break
        a[root] = a[child]
        root = child
    a[root] = v


@jit(cache=True, nogil=True)
def prefetch_ends(indptr, nbr, k, arr, arr2):
    """`prefetch` of `arr[j]`, and of `arr2[j]` unless it is None, for every tie k-j of agent k.

    Nothing for k past the last agent. Passes over the agents call it for the agent PREFETCH_AHEAD
    places on, so that its neighbours' words, which at ten million agents are mostly cache misses,
    arrive while the current one computes.
    """
    if k < len(indptr) - 1:
        for s in range(indptr[k], indptr[k + 1]):
            j = nbr[s]
            if j < 0:  # blocks are compact: the ties end at the first free slot
                break
            prefetch(arr, j)
            if arr2 is not None:
                prefetch(arr2, j)
