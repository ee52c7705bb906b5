"""Compare smbwire with the committed inventory of pysmb's public surface.

:func:`gaps` lists, as sorted strings, every pysmb name that does not resolve in smbwire,
every callable whose parameters do not accept pysmb's (names, order, defaults), and every
attribute pysmb's ``__init__`` sets that an smbwire class does not declare.  Used by
``test_pysmb_inventory.py``; runnable for a report: ``python3 -m tests.unit.pysmb_surface``.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import textwrap
from typing import Any, Dict, List, Optional

INVENTORY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "pysmb-1.2.15.json")


def load() -> Dict[str, Any]:
    with open(INVENTORY, encoding="utf-8") as fh:
        return json.load(fh)


def _params_problem(theirs: Optional[List[Dict[str, Any]]], ours_obj: Any) -> Optional[str]:
    if theirs is None:
        return None
    try:
        ours = list(inspect.signature(ours_obj).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in ours) and any(p.kind == p.VAR_KEYWORD for p in ours):
        return None  # (*args, **kwargs) accepts everything
    by_name = {p.name: p for p in ours}
    positional = [p.name for p in ours if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for index, param in enumerate(theirs):
        name = param["name"]
        if param["kind"] in ("VAR_POSITIONAL", "VAR_KEYWORD"):
            continue
        if name not in by_name:
            if any(p.kind == p.VAR_KEYWORD for p in ours):
                continue
            return "no parameter %r" % name
        if param["kind"] == "POSITIONAL_OR_KEYWORD" and (index >= len(positional) or positional[index] != name):
            return "parameter %r not at position %d" % (name, index)
        default = param["default"]
        ours_default = by_name[name].default
        if default is not None and ours_default is inspect.Parameter.empty:
            return "parameter %r has no default" % name
        if default and "value" in default and ours_default is not inspect.Parameter.empty \
                and ours_default != default["value"]:
            return "parameter %r default %r, pysmb's %r" % (name, ours_default, default["value"])
    for p in ours:
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) \
                and p.name not in {t["name"] for t in theirs}:
            return "extra required parameter %r" % p.name
    return None


def _declared_attributes(cls: type) -> set:
    """Attributes an instance of ``cls`` has: class attributes and ``self.x =`` in any method."""
    names = set(dir(cls))
    for klass in cls.__mro__:
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                    and isinstance(node.value, ast.Name) and node.value.id == "self":
                names.add(node.attr)
    return names


def gaps() -> List[str]:
    found: List[str] = []
    inventory = load()["modules"]
    # Import every module first: whether a package has a submodule as an attribute must
    # not depend on what other tests happened to import.
    for modname in inventory:
        try:
            importlib.import_module(modname)
        except ImportError:
            pass
    for modname, names in inventory.items():
        try:
            module = importlib.import_module(modname)
        except ImportError as err:
            found.append("%s: module not importable (%s)" % (modname, err.__class__.__name__))
            continue
        for name, entry in names.items():
            where = "%s.%s" % (modname, name)
            if not hasattr(module, name):
                found.append("%s: missing" % where)
                continue
            ours = getattr(module, name)
            if entry["kind"] == "function":
                problem = _params_problem(entry.get("signature"), ours)
                if problem:
                    found.append("%s: %s" % (where, problem))
            elif entry["kind"] == "class":
                if not inspect.isclass(ours):
                    continue
                problem = _params_problem(entry.get("signature"), ours)
                if problem:
                    found.append("%s(): %s" % (where, problem))
                for attr in entry.get("attributes", []):
                    if not hasattr(ours, attr):
                        found.append("%s.%s: missing" % (where, attr))
                for method, sig in entry.get("methods", {}).items():
                    if method == "__init__":
                        continue
                    if not hasattr(ours, method):
                        found.append("%s.%s: missing" % (where, method))
                        continue
                    problem = _params_problem(sig, getattr(ours, method))
                    if problem:
                        found.append("%s.%s: %s" % (where, method, problem))
                declared = _declared_attributes(ours) if entry.get("init_attributes") else set()
                for attr in entry.get("init_attributes", []):
                    if attr not in declared:
                        found.append("%s.%s: instance attribute missing" % (where, attr))
    return sorted(set(found))


if __name__ == "__main__":
    for line in gaps():
        print(line)
