"""safe_local_name: the one check every name from a server passes before it becomes part of a
local path (smb.treecopy).  Pure: no files, no server."""
from __future__ import annotations

import os

import pytest

from smb.treecopy import safe_local_name

REFUSED = [
    # (name, words the reason must contain)
    ("", "empty"),
    (".", "folder itself or its parent"),
    ("..", "folder itself or its parent"),
    ("/", "absolute"),
    ("/etc/passwd", "absolute"),
    ("\\", "absolute"),
    ("\\\\server\\share", "absolute"),
    ("\\Windows", "absolute"),
    ("C:\\Windows", "absolute"),
    ("a/b", "path separator"),
    ("a/../../x", "path separator"),
    ("../x", "path separator"),
    ("x/", "path separator"),
    ("x\\y", "path separator"),
    ("a\\..\\..\\x", "path separator"),
    ("..\\x", "path separator"),
    ("C:", "':'"),
    ("C:evil", "':'"),
    ("c:x.txt", "':'"),
    ("file:stream", "':'"),
    ("file::$DATA", "':'"),
    ("a:", "':'"),
    ("\x00", "NUL"),
    ("a\x00b", "NUL"),
    ("name\x00.txt", "NUL"),
    ("\x01", "U+0001"),
    ("tab\there", "U+0009"),
    ("new\nline", "U+000A"),
    ("cr\r", "U+000D"),
    ("\x1b[31mred", "U+001B"),
    ("\x1f", "U+001F"),
    ("del\x7f", "U+007F"),
    ("nel\x85", "U+0085"),
    ("csi\x9b", "U+009B"),
    ("\ud800", "surrogate"),
    ("x\udcff.txt", "surrogate"),
    ("...", "dots and spaces"),
    (" ", "dots and spaces"),
    ("   ", "dots and spaces"),
    (". .", "dots and spaces"),
    (".. ", "dots and spaces"),
    ("a.", "ends with a dot or a space"),
    ("a ", "ends with a dot or a space"),
    ("report.txt.", "ends with a dot or a space"),
    ("CON", "device name CON"),
    ("con", "device name CON"),
    ("Con.txt", "device name CON"),
    ("CON.tar.gz", "device name CON"),
    ("CON .txt", "device name CON"),
    ("PRN", "device name PRN"),
    ("prn.log", "device name PRN"),
    ("AUX", "device name AUX"),
    ("aux.c", "device name AUX"),
    ("NUL", "device name NUL"),
    ("nul.txt", "device name NUL"),
    ("Nul.TXT", "device name NUL"),
    ("CONIN$", "device name CONIN$"),
    ("conout$.x", "device name CONOUT$"),
] + [(f"{dev}{d}{ext}", f"device name {dev.upper()}{d}")
     for dev in ("COM", "lpt") for d in "0123456789\u00b9\u00b2\u00b3" for ext in ("", ".txt")]

ACCEPTED = [
    "a",
    "file.txt",
    ".hidden",
    "..hidden",
    "a..b",
    "a.b.c",
    " leading space",
    "inner space.txt",
    "CONSOLE",
    "CONFIG.SYS",
    "icon.png",
    "xCON",
    "con_tent",
    "NULL",
    "nul_",
    "COM",
    "COM10",
    "LPT",
    "LPT10",
    "COM1x",
    "AUXILIARY.txt",
    "prn-queue",
    "Ünïcödé.txt",
    "résumé.pdf",
    "日本語のファイル",
    "Ωμέγα",
    "emoji 😀.png",
    "ﬁ ligature",
    "e\u0301 combining",
    "fullwidth \uff0f slash",  # U+FF0F is not a separator anywhere
    "division \u2215 slash",
    "rtl \u202e override",  # a format character (Cf), not a control character
    "nbsp\u00a0inside",
    "a" * 255,
    "~$lock.docx",
    "$RECYCLE.BIN",
    "semi;colon,comma=eq[br]{c}",
    "#hash%percent&amp'quote",
]


@pytest.mark.parametrize("name,reason", REFUSED, ids=[repr(n) for n, _ in REFUSED])
def test_refused(name: str, reason: str) -> None:
    with pytest.raises(ValueError) as info:
        safe_local_name(name)
    message = str(info.value)
    assert repr(name) in message, "the error names the offending name"
    assert reason in message


@pytest.mark.parametrize("name", ACCEPTED, ids=[repr(n) for n in ACCEPTED])
def test_accepted(name: str) -> None:
    assert safe_local_name(name) is name
    # Accepted names really are one component below a folder.
    joined = os.path.join("top", name)
    assert os.path.dirname(joined) == "top" and os.path.basename(joined) == name


def test_every_control_character_is_refused() -> None:
    controls = [chr(c) for c in list(range(0x00, 0x20)) + list(range(0x7F, 0xA0))]
    for char in controls:
        for name in (char, "a" + char, char + "a", "a" + char + "b.txt"):
            with pytest.raises(ValueError):
                safe_local_name(name)


def test_every_device_name_in_every_case_and_with_extensions() -> None:
    devices = ["CON", "PRN", "AUX", "NUL"] + ["COM%d" % i for i in range(10)] + ["LPT%d" % i for i in range(10)]
    for device in devices:
        for spelled in (device, device.lower(), device.capitalize(), device[:1].lower() + device[1:]):
            for tail in ("", ".txt", ".tar.gz", " .x", ".", "  "):
                with pytest.raises(ValueError):
                    safe_local_name(spelled + tail)
        # A device name inside a longer word is an ordinary name.
        assert safe_local_name(device + "X") == device + "X"
        assert safe_local_name("X" + device) == "X" + device
        assert safe_local_name(device + "_1.txt") == device + "_1.txt"


def test_a_separator_or_colon_anywhere_is_refused() -> None:
    for bad in ("/", "\\", ":"):
        for name in (bad + "a", "a" + bad, "a" + bad + "b", "ok.txt" + bad + "x"):
            with pytest.raises(ValueError):
                safe_local_name(name)


def test_not_a_string_is_a_type_error() -> None:
    for value in (b"name", None, 3, ["a"]):
        with pytest.raises(TypeError):
            safe_local_name(value)  # type: ignore[arg-type]
