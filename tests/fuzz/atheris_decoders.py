"""Coverage-guided fuzzing of the decoders with atheris (libFuzzer for Python).

Optional; CI runs the hypothesis version in ``tests/unit/test_fuzz_decoders.py``, which defines
the targets used here too (one definition of what each target calls and what it may raise).

    pip install atheris
    python3 -m tests.fuzz.atheris_decoders --list
    python3 -m tests.fuzz.atheris_decoders smb2_structs -max_total_time=300
    python3 -m tests.fuzz.atheris_decoders ntlm -runs=200000 -rss_limit_mb=512 -timeout=5

The first argument names the target; the rest go to libFuzzer.  Without a corpus directory a
temporary one is filled with the committed seeds of the target's families
(``tests/fuzz/seeds/<family>/``), so the seed files are never modified.  A crash is any
exception other than :class:`smb.exceptions.SMBError` (libFuzzer writes the input to
``crash-*``); ``-timeout`` catches hangs and ``-rss_limit_mb`` / ``-malloc_limit_mb`` memory
blow-ups.  Reproduce a crash with ``python3 -m tests.fuzz.atheris_decoders <target> crash-...``.
"""
from __future__ import annotations

import os
import sys
import tempfile
from typing import Callable, Dict, List

import atheris

with atheris.instrument_imports(include=["smb", "nmb"]):
    import nmb.base  # noqa: F401 - imported here so that it is instrumented
    import nmb.nmb_structs  # noqa: F401
    import smb._framing  # noqa: F401
    import smb._msrpc  # noqa: F401
    import smb._smb1_ops  # noqa: F401
    import smb._smb2_ops  # noqa: F401
    import smb.base  # noqa: F401
    import smb.fscc  # noqa: F401
    import smb.ntlm  # noqa: F401
    import smb.security_descriptors  # noqa: F401
    import smb.securityblob  # noqa: F401
    import smb.smb2_structs  # noqa: F401
    import smb.smb_structs  # noqa: F401

from tests.unit import test_fuzz_decoders as fuzz  # noqa: E402 - after instrumentation


def core_receive(data: bytes) -> None:
    """A connected core (fake peer) running one operation gets its recorded answers with one of
    them replaced by ``data[2:]``; ``data[0]`` picks the operation, ``data[1]`` the answer."""
    if len(data) < 2:
        return
    keys = sorted(fuzz.scripts())
    dialect, name = keys[data[0] % len(keys)]
    responses = list(fuzz.scripts()[(dialect, name)])
    responses[data[1] % len(responses)] = data[2:]
    fuzz.replay(dialect, name, responses)


def core_receive_corpus() -> List[bytes]:
    out = []
    for i, key in enumerate(sorted(fuzz.scripts())):
        for j, response in enumerate(fuzz.scripts()[key]):
            out.append(bytes((i, j)) + response)
    return out


TARGETS: Dict[str, Callable[[bytes], None]] = {name: t.fn for name, t in fuzz.TARGETS.items()}
TARGETS["core_receive"] = core_receive


def seed_corpus(name: str) -> List[bytes]:
    if name == "core_receive":
        return core_receive_corpus()
    return fuzz.TARGETS[name].seeds()


def main(argv: List[str]) -> int:
    if len(argv) < 2 or argv[1] in ("-h", "--help", "--list"):
        print("usage: python3 -m tests.fuzz.atheris_decoders TARGET [libFuzzer options] [corpus dirs]")
        print("targets: " + " ".join(sorted(TARGETS)))
        return 0 if len(argv) >= 2 else 2
    name = argv[1]
    if name not in TARGETS:
        print("unknown target %r; targets: %s" % (name, " ".join(sorted(TARGETS))))
        return 2
    target = TARGETS[name]
    libfuzzer_args = [argv[0]] + argv[2:]
    if not any(not arg.startswith("-") for arg in argv[2:]):
        corpus = tempfile.mkdtemp(prefix="smbwire-atheris-%s-" % name)
        for i, seed in enumerate(seed_corpus(name)):
            with open(os.path.join(corpus, "seed-%04d" % i), "wb") as fh:
                fh.write(seed)
        libfuzzer_args.append(corpus)
        print("corpus: %s" % corpus, flush=True)

    def test_one_input(data: bytes) -> None:
        target(data)  # anything but SMBError propagates and is reported as a crash

    atheris.Setup(libfuzzer_args, test_one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
