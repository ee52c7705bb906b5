"""``python3 -m smb``: the ``smbwire`` command-line client (:mod:`smb.cli`)."""
import sys

from smb.cli import main

if __name__ == "__main__":
    sys.exit(main())
