"""Write the inventory of pysmb's public surface (names and signatures only) as JSON.

Run it with an interpreter that has pysmb installed, outside this checkout (so that
``import smb`` finds pysmb, not smbwire)::

    python3 -m venv /tmp/pysmb && /tmp/pysmb/bin/pip install pysmb==1.2.15
    cd /tmp && /tmp/pysmb/bin/python /path/to/tests/pysmb_inventory.py > /path/to/tests/data/pysmb-1.2.15.json

What it records is facts about an API (module -> public names; for each callable its
parameters with their kinds and defaults; for each class its public methods, class
attributes and the attributes its ``__init__`` assigns on ``self``), never code.
``tests/unit/test_pysmb_inventory.py`` walks the result against smbwire.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import json
import sys
import textwrap
from typing import Any, Dict, List

MODULES = [
    "smb", "smb.base", "smb.SMBConnection", "smb.SMBHandler", "smb.SMBProtocol", "smb.ntlm",
    "smb.securityblob", "smb.security_descriptors", "smb.smb_constants", "smb.smb2_constants",
    "smb.smb_structs", "smb.smb2_structs", "smb.strategy", "smb.utils", "smb.utils.md4",
    "smb.utils.U32", "smb.utils.pyDes", "smb.utils.rc4", "smb.utils.sha256",
    "nmb", "nmb.base", "nmb.NetBIOS", "nmb.NetBIOSProtocol", "nmb.nmb_constants", "nmb.nmb_structs",
    "nmb.utils",
]


def _default(value: Any) -> Any:
    if value is inspect.Parameter.empty:
        return None
    if isinstance(value, (int, float, str, bool)) or value is None:
        return {"value": value}
    return {"repr": type(value).__name__}


def _signature(obj: Any) -> Any:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [{"name": p.name, "kind": p.kind.name, "default": _default(p.default)} for p in sig.parameters.values()]


def _init_attributes(cls: type) -> List[str]:
    init = cls.__dict__.get("__init__")
    if init is None:
        return []
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
    except (OSError, TypeError, SyntaxError):
        return []
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                and isinstance(node.value, ast.Name) and node.value.id == "self" and not node.attr.startswith("_"):
            names.add(node.attr)
    return sorted(names)


def _kind(obj: Any) -> str:
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "value"


def describe_class(cls: type) -> Dict[str, Any]:
    methods: Dict[str, Any] = {}
    attributes: List[str] = []
    for name, value in vars(cls).items():
        if name.startswith("_") and name != "__init__":
            continue
        if isinstance(value, (staticmethod, classmethod)):
            methods[name] = _signature(getattr(cls, name))
        elif inspect.isfunction(value):
            methods[name] = _signature(value)
        elif isinstance(value, property):
            attributes.append(name)
        else:
            attributes.append(name)
    return {"methods": methods, "attributes": sorted(attributes), "init_attributes": _init_attributes(cls)}


def main() -> int:
    out: Dict[str, Any] = {"pysmb_version": None, "modules": {}}
    try:
        from importlib.metadata import version
        out["pysmb_version"] = version("pysmb")
    except Exception:  # noqa: BLE001 - the version is informative only
        pass
    for modname in MODULES:
        module = importlib.import_module(modname)
        names: Dict[str, Any] = {}
        for name, value in sorted(vars(module).items()):
            if name.startswith("_"):
                continue
            if inspect.ismodule(value) and not value.__name__.startswith(("smb", "nmb")):
                continue  # stdlib modules the module happened to import
            home = getattr(value, "__module__", modname)
            if (inspect.isclass(value) or inspect.isfunction(value)) and home \
                    and not home.startswith(("smb", "nmb")):
                continue  # re-exported stdlib / third-party objects
            entry: Dict[str, Any] = {"kind": _kind(value)}
            if entry["kind"] == "class":
                entry.update(describe_class(value))
                entry["signature"] = _signature(value)
            elif entry["kind"] == "function":
                entry["signature"] = _signature(value)
            names[name] = entry
        out["modules"][modname] = names
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
