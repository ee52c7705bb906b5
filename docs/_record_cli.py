"""Record the ``smbwire`` sessions shown in docs/cli.rst, against a throwaway Samba.

Run from the repository root, as root (the private smbd switches to its test user)::

    python3 docs/_record_cli.py > /tmp/cli-session.txt

The one-shot commands run with stdout a pipe (so no progress bars); the interactive session
runs on a pseudo-terminal, as a user at a shell would have it.  The password comes from
``$SMBWIRE_PASSWORD``.  Output is printed as it came, with the port of the throwaway server.
"""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.samba_server import SambaServer  # noqa: E402


def show(argv: list, env: dict, cwd: str) -> None:
    shown = ["smbwire"] + argv
    print("$ " + " ".join(a if " " not in a and ";" not in a else '"%s"' % a for a in shown))
    proc = subprocess.run([sys.executable, "-m", "smb", *argv], env=env, cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)
    sys.stdout.write(proc.stdout)
    sys.stdout.write(proc.stderr)
    if proc.returncode:
        print("$ echo $?")
        print(proc.returncode)


def interactive(argv: list, lines: list, env: dict, cwd: str) -> None:
    print("$ smbwire " + " ".join(argv))
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execvpe(sys.executable, [sys.executable, "-m", "smb", *argv], env)
    out = bytearray()

    def drain(wait: float) -> None:
        end = time.monotonic() + wait
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                out.extend(chunk)
    drain(3)
    for line in lines:
        os.write(fd, line.encode() + b"\r")
        drain(1.5)
    drain(2)
    os.waitpid(pid, 0)
    text = out.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "")
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def main() -> int:
    srv = SambaServer(nmbd=False).start()
    home = tempfile.mkdtemp(prefix="smbwire-record-")
    try:
        data = srv.share_path("data")
        os.makedirs(os.path.join(data, "reports", "2026"), exist_ok=True)
        for name, size in (("reports/q1.csv", 48213), ("reports/q2.csv", 51877), ("reports/2026/jan.csv", 9120),
                           ("readme.txt", 63)):
            with open(os.path.join(data, name), "wb") as f:
                f.write((b"id,value\n" + b"1,2\n" * size)[:size])
        for dirpath, dirnames, filenames in os.walk(data):
            for n in dirnames:
                os.chmod(os.path.join(dirpath, n), 0o777)
            for n in filenames:
                os.chmod(os.path.join(dirpath, n), 0o666)
        with open(os.path.join(home, "notes.txt"), "w") as f:
            f.write("meeting notes\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMBWIRE_")}
        env.update(PYTHONPATH=REPO, HOME=home, SMBWIRE_HISTFILE="", SMBWIRE_PASSWORD=srv.password,
                   LC_ALL="C.UTF-8", COLUMNS="100", TERM="dumb")
        service = ["//%s/data" % srv.host, "-p", str(srv.port), "-U", srv.user]
        show(["-L", srv.host, "-p", str(srv.port), "-U", srv.user], env, home)
        print()
        show(service + ["-c", "ls; cd reports; recurse on; ls"], env, home)
        print()
        show(service + ["-c", "get reports/q1.csv; put notes.txt; stat notes.txt"], env, home)
        print()
        show(service + ["--json", "-c", "ls reports/*.csv"], env, home)
        print()
        show(service + ["-c", "get reports/missing.csv"], env, home)
        print()
        show(["get", "smb://%s@%s:%d/data/readme.txt" % (srv.user, srv.host, srv.port), "readme-copy.txt"],
             env, home)
        print()
        interactive(service, ["pwd", "cd reports", "ls *.csv", "mkdir archive", "rename q1.csv archive/q1.csv",
                              "ls archive", "lcd /tmp", "exit"], env, home)
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
