"""Run impacket's SMB server on loopback (executed by the impacket side venv's python).

This file is not imported by the test suite: :mod:`tests.impacket_server` runs it as a
script with the interpreter of a virtual environment that holds impacket, so impacket never
enters the environment the library is tested in.

    python impacket_launcher.py --ip 127.0.0.1 --port 4455 --share DATA=/path \
        --user alice --password secret [--smb2] [--log FILE]

It prints ``READY <port>`` on stdout once the socket listens, then serves until killed.
"""
from __future__ import annotations

import argparse
import logging
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ip", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--share", action="append", default=[], help="NAME=PATH")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--smb2", action="store_true")
    parser.add_argument("--log", default="")
    args = parser.parse_args()

    from impacket import smbserver
    from impacket.ntlm import compute_lmhash, compute_nthash

    if args.log:
        logging.basicConfig(filename=args.log, level=logging.DEBUG,
                            format="%(asctime)s %(levelname)s %(message)s")
    server = smbserver.SimpleSMBServer(listenAddress=args.ip, listenPort=args.port)
    for spec in args.share:
        name, _, path = spec.partition("=")
        server.addShare(name, path, "impacket share %s" % name)
    server.setSMB2Support(args.smb2)
    server.addCredential(args.user, 1000, compute_lmhash(args.password).hex(),
                         compute_nthash(args.password).hex())
    if args.log:
        server.setLogFile(args.log)
    sys.stdout.write("READY %d\n" % args.port)
    sys.stdout.flush()
    server.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
