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

import importlib
import sys
from types import ModuleType
from typing import Any, Callable, Dict, List, Sequence, Tuple

__all__ = ["finder", "public_names"]


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


def public_names(module_name: str) -> List[str]:
    """Every public name ``module_name`` offers: its own (its ``__all__``, or
    its public globals) and, transitively, those of its sources."""
    module = importlib.import_module(module_name)
    own = getattr(module, "__all__", None)
    names = set(own if own is not None else (n for n in vars(module) if not n.startswith("_")))
    for source in _SOURCES.get(module_name, ()):
        names.update(public_names(source))
    return sorted(names)
