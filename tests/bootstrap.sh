#!/usr/bin/env bash
# Set up and run smbwire's tests on Debian/Ubuntu. Run from the repository root, as root or
# through sudo (only the apt-get step needs it).
#
#   bash tests/bootstrap.sh deps            install Samba, the Samba AD DC and MIT Kerberos
#                                           client tools (Kerberos tests), the Python test
#                                           dependencies and the impacket side venv (second
#                                           test server) if missing
#   bash tests/bootstrap.sh demo [ARGS]     deps, then python3 -m tests.demo
#   bash tests/bootstrap.sh test [ARGS]     deps, then python3 -m pytest tests -q -ra [ARGS]
#
# "test" exits non-zero when pytest fails and also when pytest ran no test at all (exit 5).
# PYTHON=/path/to/python overrides the interpreter (default: python3).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
APT_PACKAGES=(samba smbclient samba-common-bin samba-vfs-modules libnss-wrapper)
# The AD DC (its own KDC) for the Kerberos integration tests (tests/addc_server.py).  They are
# installed with --no-install-recommends: the recommended libnss-winbind would edit
# /etc/nsswitch.conf and krb5-config would write /etc/krb5.conf.
ADDC_APT_PACKAGES=(samba-ad-dc samba-ad-provision krb5-user libnss-wrapper)
PY_MODULES="pytest hypothesis tqdm pyasn1 Crypto sphinx mypy pandas fsspec dask.dataframe distributed pyarrow twisted cryptography"

say() { printf 'bootstrap: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        say "need root for: $*"
        return 1
    fi
}

have_program() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]
}

have_file_glob() {
    compgen -G "$1" >/dev/null 2>&1
}

samba_complete() {
    local tool
    for tool in smbd nmbd smbclient smbpasswd nmblookup; do
        have_program "$tool" || { say "missing: $tool"; return 1; }
    done
    have_file_glob "/usr/lib/*/samba/vfs/shadow_copy2.so" \
        || have_file_glob "/usr/lib*/samba/vfs/shadow_copy2.so" \
        || { say "missing: samba vfs module shadow_copy2"; return 1; }
    have_file_glob "/usr/lib/*/libnss_wrapper.so*" \
        || have_file_glob "/usr/lib*/libnss_wrapper.so*" \
        || { say "missing: libnss_wrapper"; return 1; }
}

# apt_install WHAT PACKAGE...: install the packages without a question and without letting
# their scripts start the system's daemons.
apt_install() {
    local what="$1"
    shift
    if ! command -v apt-get >/dev/null 2>&1; then
        say "apt-get not found: install $* (or your system's equivalents) by hand"
        return 1
    fi
    say "installing $what: $*"
    # Keep the package scripts from starting the system's smbd/nmbd/samba: the tests run their own.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [ ! -e "$policy" ]; then
        as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
        created_policy=1
    fi
    local status=0
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || status=$?
    if [ "$status" -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            "$@" || status=$?
    fi
    if [ "$created_policy" -eq 1 ]; then
        as_root rm -f "$policy"
    fi
    if [ "$status" -ne 0 ]; then
        say "apt-get failed with status $status"
        return "$status"
    fi
}

install_samba() {
    if samba_complete; then
        return 0
    fi
    apt_install Samba "${APT_PACKAGES[@]}" || return $?
    samba_complete
}

addc_complete() {
    local tool
    for tool in samba samba-tool kinit klist; do
        have_program "$tool" || { say "missing: $tool"; return 1; }
    done
    # samba-ad-provision carries the schema and templates that "samba-tool domain provision" reads.
    have_file_glob "/usr/share/samba/setup/provision.ldif" \
        || { say "missing: samba AD provisioning data (samba-ad-provision)"; return 1; }
    # samba-ad-dc (a metapackage) pulls in the directory database modules and winbindd; the
    # /usr/sbin/samba of package samba cannot run a DC without them.
    have_file_glob "/usr/lib/*/samba/ldb/samba_dsdb.so" \
        || have_file_glob "/usr/lib*/samba/ldb/samba_dsdb.so" \
        || { say "missing: samba AD DC database modules (samba-ad-dc)"; return 1; }
    have_program winbindd || { say "missing: winbindd (samba-ad-dc)"; return 1; }
    have_file_glob "/usr/lib/*/libnss_wrapper.so*" \
        || have_file_glob "/usr/lib*/libnss_wrapper.so*" \
        || { say "missing: libnss_wrapper"; return 1; }
}

install_addc() {
    if addc_complete; then
        return 0
    fi
    apt_install "the Samba AD DC" "${ADDC_APT_PACKAGES[@]}" || return $?
    addc_complete
}

python_deps_present() {
    "$PYTHON" - "$PY_MODULES" <<'EOF' >/dev/null 2>&1
import importlib, sys
for name in sys.argv[1].split():
    importlib.import_module(name)
# The package itself must be installed (editable) for its entry points: the smbwire
# command and fsspec's smbwire:// protocol.
from importlib.metadata import entry_points
eps = entry_points()
specs = eps.select(group="fsspec.specs") if hasattr(eps, "select") else eps.get("fsspec.specs", [])
if not any(ep.name == "smbwire" for ep in specs):
    sys.exit(1)
EOF
}

install_python_deps() {
    if python_deps_present; then
        return 0
    fi
    if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
        # A fresh Debian/Ubuntu has python3 without pip.
        if command -v apt-get >/dev/null 2>&1; then
            say "installing python3-pip"
            as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-pip
        else
            say "pip is missing for $PYTHON: install it first"
            return 1
        fi
    fi
    say "installing Python test dependencies: $PYTHON -m pip install -e .[test,docs]"
    local log status=0
    log="$(mktemp)"
    "$PYTHON" -m pip install --disable-pip-version-check -q -e ".[test,docs]" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ] && grep -q "externally-managed-environment" "$log"; then
        say "pip refuses to touch the system Python; retrying with --break-system-packages"
        status=0
        "$PYTHON" -m pip install --disable-pip-version-check -q --break-system-packages \
            -e ".[test,docs]" >"$log" 2>&1 || status=$?
    fi
    if [ "$status" -ne 0 ]; then
        cat "$log" >&2
        rm -f "$log"
        say "pip install failed with status $status"
        return "$status"
    fi
    rm -f "$log"
    python_deps_present || { say "Python dependencies still missing after pip install"; return 1; }
}

# impacket's SMB server is the suite's second server implementation.  It is a test-only
# dependency and lives in a virtual environment of its own (tests/impacket_server.py names
# the version and the place), never in the environment the library is tested in.
install_impacket() {
    local venv version
    venv="$("$PYTHON" -c 'from tests.impacket_server import VENV; print(VENV)')"
    version="$("$PYTHON" -c 'from tests.impacket_server import IMPACKET_VERSION; print(IMPACKET_VERSION)')"
    if "$venv/bin/python" -c "import impacket.smbserver" >/dev/null 2>&1; then
        return 0
    fi
    say "installing impacket $version into $venv (the tests' second SMB server)"
    rm -rf "$venv"
    if ! "$PYTHON" -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        if command -v apt-get >/dev/null 2>&1; then
            say "installing python3-venv"
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv \
                || { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
                     && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                        python3-venv; } || true
        fi
        "$PYTHON" -m venv "$venv" || { say "cannot make a virtual environment: impacket tests will not run"; return 0; }
    fi
    local log status=0
    log="$(mktemp)"
    "$venv/bin/python" -m pip install --disable-pip-version-check -q "impacket==$version" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        cat "$log" >&2
        say "impacket install failed (status $status): its tests will fail under CI=true"
    fi
    rm -f "$log"
    return 0
}

deps() {
    install_samba
    install_addc
    install_python_deps
    install_impacket
}

run_tests() {
    local status=0
    if have_program smbd; then
        say "$("$(command -v smbd || echo /usr/sbin/smbd)" --version 2>/dev/null || true)"
    fi
    "$PYTHON" -m pytest tests -q -ra "$@" || status=$?
    if [ "$status" -eq 5 ]; then
        say "pytest collected no tests: treating that as a failure"
        return 1
    fi
    return "$status"
}

main() {
    local sub="${1:-}"
    if [ "$#" -gt 0 ]; then shift; fi
    case "$sub" in
        deps) deps ;;
        demo) deps; exec "$PYTHON" -m tests.demo "$@" ;;
        test) deps; run_tests "$@" ;;
        *)
            say "usage: bash tests/bootstrap.sh {deps|demo|test} [ARGS...]"
            return 2
            ;;
    esac
}

main "$@"
