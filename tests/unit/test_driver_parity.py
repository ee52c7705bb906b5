"""The three SMB drivers offer the same calls (issue 14): every public method of the blocking
SMBConnection is a coroutine function (an async generator function for the iterating ones) of
smb.aio.SMBConnection with the same parameters, and a method of the Twisted SMBProtocol
(returning a Deferred) but for the calls Twisted users have no use for; each call is the one
procedure of smb._procedures, exposed by all drivers."""
from __future__ import annotations

import inspect
from typing import List

import pytest

from smb import _procedures as P
from smb import aio
from smb.base import SMB
from smb.SMBConnection import SMBConnection

#: Driver-specific, or not offered by the Twisted driver (file objects, iterators, tree copies).
NOT_TWISTED = {"openFile", "iterPath", "walk", "downloadTree", "uploadTree", "close"}


def _public_calls() -> List[str]:
    core = set(dir(SMB))
    return sorted(n for n in dir(SMBConnection) if not n.startswith("_") and n not in core
                  and callable(getattr(SMBConnection, n)))


def _params(fn: object) -> List[str]:
    return [p for p in inspect.signature(fn).parameters if p != "self"]  # type: ignore[arg-type]


def test_the_list_is_the_whole_api() -> None:
    calls = _public_calls()
    for name in ("connect", "close", "listPath", "iterPath", "walk", "retrieveFile", "openFile", "deleteTree",
                 "getDfsReferral", "copyFile", "downloadTree"):
        assert name in calls
    assert set(P.ONE_SHOT) | set(P.ITERATING) <= set(calls)


@pytest.mark.parametrize("name", _public_calls())
def test_asyncio_has_every_call_as_a_coroutine(name: str) -> None:
    ours = getattr(aio.SMBConnection, name, None)
    assert ours is not None, name
    if name in P.ITERATING:
        assert inspect.isasyncgenfunction(ours), name
    elif name != "write":
        assert inspect.iscoroutinefunction(ours), name
    assert _params(ours) == _params(getattr(SMBConnection, name))


@pytest.mark.parametrize("name", [n for n in _public_calls() if n not in NOT_TWISTED])
def test_twisted_has_every_call(name: str) -> None:
    pytest.importorskip("twisted")
    from smb.SMBProtocol import SMBProtocol
    ours = getattr(SMBProtocol, name, None)
    assert ours is not None, name
    assert _params(ours) == _params(getattr(SMBConnection, name))


@pytest.mark.parametrize("name", P.ONE_SHOT + P.ITERATING)
def test_each_call_is_the_one_procedure(name: str) -> None:
    proc = getattr(P.ClientBase, "_p_" + name)
    drivers = [SMBConnection, aio.SMBConnection]
    try:
        from smb.SMBProtocol import SMBProtocol
    except ImportError:
        pass
    else:
        if name not in NOT_TWISTED:
            drivers.append(SMBProtocol)
    for driver in drivers:
        method = getattr(driver, name)
        assert method.__wrapped__ is proc, (driver, name)
        assert method.__doc__ == proc.__doc__
