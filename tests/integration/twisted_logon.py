"""A Twisted SMBProtocolFactory logged on from a test thread (the reactor runs in the session's
``twisted_reactor`` thread): what the Twisted tests of several files share."""
from __future__ import annotations

import threading
from typing import Any, List

from twisted.internet.threads import blockingCallFromThread

from smb.SMBProtocol import SMBProtocolFactory


class Factory(SMBProtocolFactory):
    """Reports the logon outcome to the test thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcome: List[bool] = []
        self.settled = threading.Event()

    def onAuthOK(self) -> None:
        self.outcome.append(True)
        self.settled.set()

    def onAuthFailed(self) -> None:
        self.outcome.append(False)
        self.settled.set()


def twisted_logon(reactor: Any, host: str, port: int, *args: Any, **kwargs: Any) -> Factory:
    """``reactor.connectTCP(host, port, Factory(*args, **kwargs))``; returns the factory once
    onAuthOK or onAuthFailed was called."""
    factory = Factory(*args, **kwargs)
    blockingCallFromThread(reactor, reactor.connectTCP, host, port, factory)
    assert factory.settled.wait(30), "neither onAuthOK nor onAuthFailed was called"
    return factory
