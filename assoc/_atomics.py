"""Atomic loads and stores for Numba kernels that run in several threads at once.

Numba's CPU target offers no atomics. Plain reads of a flag that another thread writes
may be hoisted out of a wait loop by LLVM, because a data race is undefined behaviour.
These intrinsics emit LLVM's atomic instructions instead: a release store publishes
every write made before it, and an acquire load that reads the stored value is
guaranteed to observe those writes. :func:`wait_at_least` builds a spin barrier from them.
"""

from __future__ import annotations

import platform

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from assoc._config import NUMBA_CACHE

# The x86 PAUSE instruction signals to the core that it is in a spin loop, which saves power
# and lets a sibling hyperthread run. Other processors spin without a hint.
_HAS_PAUSE = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def _item_pointer(context, builder, array_type, array, index):
    structure = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(context, builder, array_type, structure, [index])


@intrinsic
def load_acquire(typingctx, array, index):
    """Return ``array[index]`` of a C-contiguous int64 array, read atomically with acquire order."""
    if not (isinstance(array, types.Array) and array.dtype == types.int64 and isinstance(index, types.Integer)):
        return None
    signature = types.int64(array, index)

    def codegen(context, builder, signature, args):
        pointer = _item_pointer(context, builder, signature.args[0], args[0], args[1])
        return builder.load_atomic(pointer, "acquire", 8)

    return signature, codegen


@intrinsic
def store_release(typingctx, array, index, value):
    """Set ``array[index]`` of a C-contiguous int64 array atomically, with release order."""
    if not (isinstance(array, types.Array) and array.dtype == types.int64 and isinstance(index, types.Integer)):
        return None
    signature = types.void(array, index, types.int64)

    def codegen(context, builder, signature, args):
        pointer = _item_pointer(context, builder, signature.args[0], args[0], args[1])
        value = context.cast(builder, args[2], signature.args[2], types.int64)
        builder.store_atomic(value, pointer, "release", 8)
        return context.get_dummy_value()

    return signature, codegen


@intrinsic
def spin_pause(typingctx):
    """Hint the processor that the caller is in a spin loop (PAUSE on x86, nothing elsewhere)."""
    signature = types.void()

    def codegen(context, builder, signature, args):
        if _HAS_PAUSE:
            function_type = ir.FunctionType(ir.VoidType(), [])
            pause = cgutils.get_or_insert_function(builder.module, function_type, "llvm.x86.sse2.pause")
            builder.call(pause, [])
        return context.get_dummy_value()

    return signature, codegen


@njit(cache=NUMBA_CACHE, nogil=True)
def wait_at_least(counters, index, value, abort_index):
    """Spin until ``counters[index]`` is at least ``value``; return False if ``counters[abort_index]`` turns non-zero first.

    Both entries are read with acquire order. The abort entry lets another thread release
    a waiter whose partner failed before it reached the barrier.
    """
    while load_acquire(counters, index) < value:
        if load_acquire(counters, abort_index) != 0:
            return False
        spin_pause()
    return True
