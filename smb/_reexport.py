"""pysmb's star imports, without star imports in our package.

pysmb's modules started with ``from .smb_constants import *`` and the like, so
a constant can be read from several module paths (``smb.base.ATTR_READONLY``,
``smb.SMBConnection.SMB_COM_ECHO``, ``smb.smb2_structs.SMB2_FLAGS_SIGNED``)
and scripts rely on that.  Our modules define only their own names; each of
the affected modules gets a PEP 562 ``__getattr__`` built from :func:`finder`,
which looks an unknown name up in the modules pysmb star-imported there, in
order.  The lookup imports lazily, so it adds no import cycles, and the result
is cached in the module's namespace.

:func:`public_names` lists what such a module offers, for its ``__dir__`` and
for ``from module import *``.
"""
from __future__ import annotations

import __future__
import importlib
import sys
from types import FunctionType, ModuleType
from typing import Any, Callable, Dict, List, Sequence, Tuple

__all__ = ["finder", "public_names", "star_all"]


#: module name -> the modules its ``__getattr__`` searches.
_SOURCES: Dict[str, Tuple[str, ...]] = {}


def finder(module_name: str, sources: Sequence[str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``module_name`` that resolves names from
    ``sources`` (module paths, searched in order)."""
    _SOURCES[module_name] = tuple(sources)

    def __getattr__(name: str) -> Any:
        if not name.startswith("_"):
            for source in _SOURCES[module_name]:
                module = importlib.import_module(source)
                try:
                    value = getattr(module, name)
                except AttributeError:
                    continue
                setattr(sys.modules[module_name], name, value)
                return value
        raise AttributeError("module %r has no attribute %r" % (module_name, name))

    return __getattr__


def _own_names(module: ModuleType) -> List[str]:
    exported = getattr(module, "__all__", None)
    if exported is not None:
        return list(exported)
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, (ModuleType, __future__._Feature)):
            continue
        if isinstance(value, (type, FunctionType)) and value.__module__ != module.__name__:
            continue  # imported helpers (IntEnum, ...), not the module's own names
        names.append(name)
    return names


def public_names(module_name: str) -> List[str]:
    """Every public name ``module_name`` offers: its own (its ``__all__``, or
    the names it defines) and, transitively, those of its sources."""
    names = set(_own_names(importlib.import_module(module_name)))
    for source in _SOURCES.get(module_name, ()):
        names.update(public_names(source))
    return sorted(names)


def star_all(own: Sequence[str], sources: Sequence[str]) -> List[str]:
    """An ``__all__`` for ``from module import *`` as pysmb's module gave it:
    ``own`` plus every public name of ``sources`` (imported now, so they must
    not import the calling module)."""
    names = list(own)
    seen = set(names)
    for source in sources:
        for name in public_names(source):
            if name not in seen:
                seen.add(name)
                names.append(name)
    return names
