"""Sphinx configuration for the smbwire documentation.

Build (warnings are errors)::

    python3 -m sphinx -W -b html docs docs/_build/html
"""
from __future__ import annotations

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# Document the source tree next to this directory, not an installed copy.
sys.path.insert(0, ROOT)


def _version() -> str:
    with open(os.path.join(ROOT, "smb", "__init__.py"), encoding="utf-8") as fh:
        found = re.search(r'^__version__ = "([^"]+)"', fh.read(), re.M)
    return found.group(1) if found else "0"


project = "smbwire"
author = "the smbwire authors"
copyright = "the smbwire authors"  # noqa: A001 - Sphinx's name
release = _version()
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

root_doc = "index"
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
language = "en"

# Cross references to names Sphinx cannot resolve (third-party types, string
# annotations) are not errors: only real markup problems should fail -W.
nitpicky = False

autodoc_member_order = "bysource"
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
}
# Type hints are shown once, in the signature; with ``from __future__ import
# annotations`` they are strings and are not evaluated for the description.
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autoclass_content = "both"

html_theme = "alabaster"
html_title = "smbwire %s" % release
html_static_path: list = []
html_theme_options = {
    "description": "Pure-Python SMB client, a drop-in replacement for pysmb",
    "fixed_sidebar": True,
}
