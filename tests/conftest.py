"""Shared pytest fixtures: real Samba servers for the integration tests.

Everything under ``tests/integration/`` is marked ``integration``. Those tests need ``smbd``,
``smbpasswd`` and ``smbclient`` and root (smbd switches to the test users). When something is
missing they are skipped locally and fail under ``CI=true``, so a CI machine without Samba is
never green by accident.

Fixtures:

``samba_factory``  session-scoped; ``samba_factory(**options) -> SambaServer`` starts (once per
                   distinct option set) a server with :class:`tests.samba_server.SambaServer`
                   options and stops all of them at the end of the session.
``samba``          session-scoped default server: NT1..SMB3_11, signing auto, encryption off,
                   nmbd on 127.0.0.2 when nmbd can run here (``samba.nmbd_running``).
``addc``           session-scoped Samba AD DC (realm SMBTEST.LAN, KDC + SMB) from
                   :class:`tests.addc_server.ADDCServer`, for Kerberos tests; skipped locally
                   (failed under ``CI=true``) when the AD DC packages are missing or it cannot
                   start.
"""
from __future__ import annotations

import os
import shutil
from typing import Any, Callable, Dict, Hashable, Optional, Tuple, Union

import pytest

from tests.addc_server import ADDCServer, ADDCStartError, addc_problem
from tests.samba_server import SambaServer, SambaStartError, find_smbd, nmbd_available

_INTEGRATION_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration")
_INSTALL_HINT = ("install samba: `sudo bash tests/bootstrap.sh deps` or `apt-get install samba "
                 "smbclient samba-common-bin samba-vfs-modules libnss-wrapper`")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def samba_problem() -> Optional[str]:
    """Why the integration tests cannot run here, or None when they can."""
    if find_smbd() is None:
        return "smbd not found: " + _INSTALL_HINT
    missing = [tool for tool in ("smbclient", "smbpasswd")
               if shutil.which(tool) is None and not os.access("/usr/bin/" + tool, os.X_OK)]
    if missing:
        return "%s not found: %s" % (", ".join(missing), _INSTALL_HINT)
    if os.name != "posix" or os.geteuid() != 0:
        return "the test smbd must run as root (it switches to the test users): run as root or via sudo"
    return None


def _skip_or_fail(reason: str) -> None:
    if in_ci():
        pytest.fail(reason + " (CI=true: integration tests must run)", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    prefix = _INTEGRATION_DIR + os.sep
    for item in items:
        path = str(getattr(item, "path", None) or item.fspath)
        if path.startswith(prefix):
            item.add_marker(pytest.mark.integration)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("integration") is not None:
        problem = samba_problem()
        if problem is not None:
            _skip_or_fail(problem)


def _freeze(value: Any) -> Hashable:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


@pytest.fixture(scope="session")
def samba_factory() -> Any:
    """``samba_factory(**options)``: a started SambaServer, one per distinct option set."""
    servers: Dict[Hashable, Union[SambaServer, SambaStartError]] = {}

    def factory(**options: Any) -> SambaServer:
        problem = samba_problem()
        if problem is not None:
            _skip_or_fail(problem)
        key: Tuple[Any, ...] = tuple(sorted((k, _freeze(v)) for k, v in options.items()))
        cached = servers.get(key)
        if cached is None:
            try:
                cached = SambaServer(**options).start()
            except SambaStartError as err:
                cached = err  # do not pay the start timeout again for every test
            servers[key] = cached
        if isinstance(cached, SambaStartError):
            raise cached
        return cached

    yield factory
    for server in servers.values():
        if isinstance(server, SambaServer):
            server.stop()


@pytest.fixture(scope="session")
def samba(samba_factory: Callable[..., SambaServer]) -> SambaServer:
    """The default server: NT1..SMB3_11, signing auto, no encryption, nmbd when possible."""
    if nmbd_available():
        try:
            return samba_factory(nmbd=True)
        except SambaStartError:
            if in_ci():
                raise
            # Locally, a host where nmbd cannot run still gets the SMB tests.
    return samba_factory()


@pytest.fixture(scope="session")
def addc() -> Any:
    """One Samba AD DC for the whole session (provisioned once, ~4-5 s), stopped at the end.

    Tests must not leave it changed: one that needs another option uses
    ``addc.set_option(...)`` and sets it back (a restart takes well under a second).
    """
    problem = addc_problem()
    if problem is not None:
        _skip_or_fail(problem)
    server = ADDCServer()
    try:
        server.start()
    except ADDCStartError as err:
        _skip_or_fail("the test AD DC did not start: %s" % err)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def twisted_reactor() -> Any:
    """Twisted's global reactor, running in a thread of its own for the whole session (a
    reactor cannot be restarted); tests call into it with ``blockingCallFromThread``."""
    pytest.importorskip("twisted")
    import threading

    from twisted.internet import reactor

    thread = threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False},
                              name="twisted-reactor", daemon=True)
    thread.start()
    yield reactor
    reactor.callFromThread(reactor.stop)
    thread.join(10)


@pytest.fixture(params=["cryptography", "pycryptodome"])
def crypto_backend(request: pytest.FixtureRequest) -> Any:
    """Signing and encryption through OpenSSL (the ``fast`` extra, skipped when
    ``cryptography`` is not installed) and through pycryptodome, in turn."""
    from smb import crypto
    if request.param == "cryptography" and not crypto.fast_backend_available():
        pytest.skip("the cryptography package is not installed")
    before = crypto.backend
    crypto.use_backend(request.param)
    yield request.param
    crypto.use_backend(before)
