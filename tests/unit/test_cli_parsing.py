"""Offline parts of the ``smbwire`` client: argument and command-line parsing, remote paths,
password sources and their order, the authentication file, error lines, output formatting,
and the command-line scrub of ``-U user%pass`` (in a real child process)."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap

import pytest

from smb import _cli_format as F
from smb._cli_shell import (CommandError, error_line, has_wildcard, remote_join, split_args, split_commands,
                            split_parent)
from smb.base import SharedDevice, SharedFile
from smb.cli import build_parser, parse_service, parse_user, read_auth_file, resolve_credentials
from smb.exceptions import NotConnectedError, OperationFailure, SMBTimeout
from smb.nt_status import NtStatus
from smb.security_descriptors import ACE, ACL, SID, SecurityDescriptor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---------------------------------------------------------------- command lines


@pytest.mark.parametrize("text,expected", [
    ("ls", ["ls"]),
    ("ls; cd a ;get b", ["ls", "cd a", "get b"]),
    ("get \"a;b.txt\"; ls", ["get \"a;b.txt\"", "ls"]),
    ("put 'x;y' ;; ", ["put 'x;y'"]),
    ("", []),
])
def test_split_commands_respects_quotes(text, expected):
    assert split_commands(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("get a b", ["get", "a", "b"]),
    ("cd \\dir\\sub", ["cd", "\\dir\\sub"]),           # backslashes are separators, not escapes
    ("get \"name with spaces.txt\" 'local copy'", ["get", "name with spaces.txt", "local copy"]),
    ("rm #notacomment", ["rm", "#notacomment"]),
    ("   ", []),
])
def test_split_args(text, expected):
    assert split_args(text) == expected


def test_split_args_reports_an_open_quote():
    with pytest.raises(CommandError, match="cannot parse"):
        split_args("get \"open")


@pytest.mark.parametrize("cwd,arg,expected", [
    ("", "a", "a"),
    ("a", "b\\c", "a\\b\\c"),
    ("a\\b", "..", "a"),
    ("a\\b", "..\\..\\..\\x", "x"),    # .. stops at the share root
    ("a\\b", "\\x/y", "x\\y"),        # absolute, either separator
    ("a", "./b/./c/", "a\\b\\c"),
    ("a", "/", ""),
])
def test_remote_join(cwd, arg, expected):
    assert remote_join(cwd, arg) == expected


def test_split_parent_and_wildcards():
    assert split_parent("a\\b\\c") == ("a\\b", "c")
    assert split_parent("c") == ("", "c")
    assert has_wildcard("*.txt") and has_wildcard("a?") and not has_wildcard("plain")


# ---------------------------------------------------------------- arguments


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_intermixed_args(list(argv))


@pytest.mark.parametrize("text,expected", [
    ("alice", ("", "alice", None)),
    ("alice%s3cr%t", ("", "alice", "s3cr%t")),
    ("DOM\\alice%pw", ("DOM", "alice", "pw")),
    ("DOM/alice", ("DOM", "alice", None)),
    ("alice%", ("", "alice", "")),
    ("%", ("", "", "")),
])
def test_parse_user(text, expected):
    assert parse_user(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("//host/share", ("host", "share", "")),
    ("\\\\host\\share\\a\\b", ("host", "share", "a\\b")),
    ("//127.0.0.1/data/sub/", ("127.0.0.1", "data", "sub")),
])
def test_parse_service(text, expected):
    assert parse_service(text) == expected


@pytest.mark.parametrize("text", ["host/share", "//host", "//host/", "///share"])
def test_parse_service_refuses_what_is_not_a_service(text):
    with pytest.raises(CommandError):
        parse_service(text)


def test_options_may_follow_the_service():
    args = _args("//h/s", "-U", "u%p", "-m", "smb3_11", "-e", "-c", "ls", "--json")
    assert args.words == ["//h/s"] and args.user == "u%p" and args.max_protocol == "SMB3_11"
    assert args.encrypt and args.json and args.command == "ls"


def test_help_renders():
    text = build_parser().format_help() + build_parser().format_usage()
    assert "[DOMAIN\\]USER[%PASSWORD]" in text and "SMBWIRE_PASSWORD" in text


def test_an_unknown_max_protocol_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        _args("//h/s", "-m", "SMB4")
    assert info.value.code == 2


def test_auth_file(tmp_path):
    path = tmp_path / "auth"
    path.write_text(textwrap.dedent("""\
        # smbclient's format
        username = alice
        password = pa ss=word
        domain   = CORP

        ; another comment
        unknown = ignored
        """))
    assert read_auth_file(str(path)) == {"username": "alice", "password": "pa ss=word", "domain": "CORP"}


def test_auth_file_user_with_domain(tmp_path):
    path = tmp_path / "auth"
    path.write_text("username = CORP\\bob\npassword = x\n")
    assert read_auth_file(str(path)) == {"username": "bob", "password": "x", "domain": "CORP"}


class _Prompt:
    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.asked = []

    def __call__(self, text: str) -> str:
        self.asked.append(text)
        return self.answer


def test_password_order_user_option_first(tmp_path):
    path = tmp_path / "auth"
    path.write_text("username = filer\npassword = from-file\ndomain = FILEDOM\n")
    prompt = _Prompt("typed")
    creds = resolve_credentials(_args("-U", "alice%from-argv", "-A", str(path)), {"SMBWIRE_PASSWORD": "env"},
                                prompt)
    assert (creds.user, creds.password, creds.domain, creds.source) == ("alice", "from-argv", "FILEDOM", "argv")
    assert prompt.asked == []


def test_password_order_file_before_environment(tmp_path):
    path = tmp_path / "auth"
    path.write_text("username = filer\npassword = from-file\n")
    creds = resolve_credentials(_args("-A", str(path)), {"SMBWIRE_PASSWORD": "env"}, _Prompt("typed"))
    assert (creds.user, creds.password, creds.source) == ("filer", "from-file", "file")


def test_password_from_environment_then_prompt():
    creds = resolve_credentials(_args("-U", "alice"), {"SMBWIRE_PASSWORD": "env"}, _Prompt("typed"))
    assert (creds.password, creds.source) == ("env", "env")
    prompt = _Prompt("typed")
    creds = resolve_credentials(_args("-U", "DOM\\alice"), {}, prompt)
    assert (creds.password, creds.source, creds.domain) == ("typed", "prompt", "DOM")
    assert prompt.asked == ["Password for [DOM\\alice]: "]
    assert "typed" not in repr(creds)


def test_no_prompt_with_no_pass_or_kerberos_and_workgroup_wins():
    for flag in ("-N", "-k"):
        prompt = _Prompt("typed")
        creds = resolve_credentials(_args("-U", "DOM\\alice", flag, "-W", "OTHER"), {}, prompt)
        assert (creds.password, creds.domain) == ("", "OTHER") and prompt.asked == []


def test_default_user_is_the_login_name():
    creds = resolve_credentials(_args(), {"USER": "someone"}, _Prompt("typed"))
    assert creds.user == "someone" and creds.password == "typed"


def test_url_user_info_counts_as_given():
    creds = resolve_credentials(_args(), {}, _Prompt("typed"), url_user=("D", "u", "urlpw"))
    assert (creds.domain, creds.user, creds.password, creds.source) == ("D", "u", "urlpw", "url")


def test_the_user_password_is_scrubbed_from_the_command_line():
    if not sys.platform.startswith("linux"):
        pytest.skip("/proc/self/cmdline is Linux's")
    code = ("import os; from smb.cli import hide_password_in_cmdline as h; "
            "print(h(os.environ['SECRET'])); print(open('/proc/self/cmdline','rb').read())")
    proc = subprocess.run([sys.executable, "-c", code, "-U", "alice%p4ss%word", "smb://u:p4ss%word@h/s"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env=dict(os.environ, PYTHONPATH=ROOT, SECRET="p4ss%word"))
    assert proc.returncode == 0, proc.stderr
    first, cmdline = proc.stdout.splitlines()
    assert first == "True"
    assert "p4ss%word" not in cmdline
    assert "alice%XXXXXXXXX" in cmdline and "u:XXXXXXXXX@h/s" in cmdline


def test_no_terminal_to_ask_for_a_password_is_one_error_line():
    # A new session has no controlling terminal (/dev/tty cannot be opened), stdin is /dev/null:
    # as in cron or CI.  No prompt that echoes, no traceback; nothing is sent anywhere.
    env = {k: v for k, v in os.environ.items() if k != "SMBWIRE_PASSWORD"}
    proc = subprocess.run([sys.executable, "-m", "smb", "//127.0.0.1/share", "-U", "alice", "-c", "ls"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL,
                          start_new_session=True, env=dict(env, PYTHONPATH=ROOT))
    assert proc.returncode == 1
    assert proc.stderr == ("smbwire: //127.0.0.1/share: a password is needed and there is no terminal to ask for "
                           "it: use -A FILE, $SMBWIRE_PASSWORD, -U user%pass, or -N for none\n")
    assert proc.stdout == ""


# ---------------------------------------------------------------- errors and output


def test_error_line_names_the_ntstatus():
    err = OperationFailure("open failed\nwith details", [], NtStatus.OBJECT_NAME_NOT_FOUND)
    assert error_line("get x", err) == "smbwire: get x: NT_STATUS_OBJECT_NAME_NOT_FOUND (0xC0000034)"
    assert error_line("get x", OperationFailure("odd", [], 0xC0DE0001)) == "smbwire: get x: NTSTATUS 0xC0DE0001"
    assert error_line("ls", SMBTimeout("late")) == "smbwire: ls: timed out (late)"
    line = error_line("ls", NotConnectedError("connection\nlost"))
    assert line == "smbwire: ls: connection lost" and "\n" not in line
    assert error_line("get y", FileNotFoundError(2, "No such file or directory", "y")) == \
        "smbwire: get y: No such file or directory (y)"


def test_attribute_letters_and_ls_line():
    assert F.attribute_letters(0x10 | 0x02) == "DH"
    assert F.attribute_letters(0x20 | 0x01) == "RA"
    assert F.attribute_letters(0x80) == "N"
    entry = SharedFile(0.0, 0.0, 86400.0, 0.0, 1234, 4096, 0x20, "", "report.txt")
    line = F.ls_line(entry)
    assert line.split()[:3] == ["report.txt", "A", "1234"]


def test_server_names_cannot_drive_the_terminal():
    entry = SharedFile(0.0, 0.0, 0.0, 0.0, 1, 1, 0x80, "", "evil\x1b[2J\rname")
    line = F.ls_line(entry)
    assert "\x1b" not in line and "\r" not in line and "evil\\x1b[2J\\x0dname" in line


def test_entry_dict_paths_and_times():
    entry = SharedFile(0.0, 0.0, 1.5, 0.0, 7, 8, 0x10, "", "sub")
    value = F.entry_dict(entry, "a\\b")
    assert value["path"] == "\\a\\b\\sub" and value["is_directory"] is True
    assert value["write_time"] == "1970-01-01T00:00:01.500000Z"
    huge = SharedFile(0.0, 0.0, 1e30, 0.0, 7, 8, 0x10, "", "x")
    assert F.entry_dict(huge)["write_time"] is None  # a hostile time does not crash the output


def test_shares_table_and_dict():
    shares = [SharedDevice(0, "data", "the data"), SharedDevice(0x80000003, "IPC$", "IPC")]
    lines = F.shares_table(shares)
    assert lines[2].split() == ["data", "Disk", "the", "data"] and lines[3].split()[:2] == ["IPC$", "IPC"]
    assert F.share_dict(shares[1]) == {"name": "IPC$", "type": "IPC", "comment": "IPC", "special": True,
                                       "temporary": False}


def test_security_descriptor_output():
    owner = SID(1, 5, [21, 1, 2, 3, 1000])
    sd = SecurityDescriptor(0x8004, owner, SID(1, 22, [2, 100]),
                            ACL(2, [ACE(0x00, 0x03, 0x001F01FF, SID(1, 1, [0])),
                                    ACE(0x01, 0x10, 0x00000001, owner)]), None)
    info = F.security_dict(sd)
    assert info["owner"] == "S-1-5-21-1-2-3-1000" and info["group"] == "S-1-22-2-100"
    assert info["dacl"][0] == {"type": "ACCESS_ALLOWED", "flags": 3, "flag_names": ["OBJECT_INHERIT",
                               "CONTAINER_INHERIT"], "mask": 0x001F01FF, "mask_name": "FULL", "sid": "S-1-1-0"}
    assert info["dacl"][1]["type"] == "ACCESS_DENIED" and info["sacl"] is None
    text = "\n".join(F.security_lines(sd))
    assert "owner: S-1-5-21-1-2-3-1000" in text and "dacl: 2 ACEs" in text and "(FULL)" in text
    null_dacl = SecurityDescriptor(0x8000, None, None, None, None)
    assert "dacl: (none" in "\n".join(F.security_lines(null_dacl))


def test_progress_disabled_draws_nothing():
    progress = F.Progress(enabled=False)
    assert not progress.active
    with progress.file("x", 10) as callback:
        assert callback is None
    with progress.job("mget", 10, 1) as job:
        with progress.file("x", 10) as callback:
            assert callback is not None
            callback(10, 10)
        job.file_done()
        assert job.done_files == 1


def test_the_console_script_is_installed():
    import shutil
    import smb
    path = shutil.which("smbwire")
    if path is None:
        pytest.skip("smbwire is not installed (pip install -e . makes the console script)")
    proc = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert smb.__version__ in proc.stdout
