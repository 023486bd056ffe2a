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
"""

from __future__ import annotations

import functools
import types
from typing import Any

import numba as nb
from llvmlite import ir
from numba.core import cgutils
from numba.extending import intrinsic

SERIAL_SUFFIX = "__serial"
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
    copy = types.FunctionType(fn.__code__, env, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__doc__ = fn.__doc__
    copy.__module__ = fn.__module__
    copy.__qualname__ = fn.__qualname__ if parallel else fn.__qualname__ + SERIAL_SUFFIX
    return nb.njit(parallel=parallel, **kernel._flags)(copy)


def parallel_kernel(**flags: Any) -> Any:
    """`@parallel_kernel(cache=True, ...)`: as `@numba.njit(parallel=True, ...)`, with a serial form for 1 thread."""

    def wrap(fn: types.FunctionType) -> Kernel:
        return Kernel(fn, flags)

    return wrap


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


prefetch: Any = intrinsic(_prefetch)  # typed Any: called from compiled code as prefetch(arr, i)


@nb.njit(cache=True, nogil=True)
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
