#!/usr/bin/env bash
# Install the system packages the test suite needs, on Debian 12 (bookworm).
#
#   - pebble >= 2.10 (ACME test CA + pebble-challtestsrv) from Debian forky,
#     through a low-priority (100) forky source so nothing else comes from forky;
#   - from bookworm: nginx wrk openssl curl ca-certificates redis-tools postgresql-client
#     iproute2 (`ip`, to raise loopback in the schemathesis namespace), knot and
#     dnsutils (an authoritative DNS server taking RFC 2136 updates with TSIG, and dig),
#     unbound (a recursive resolver that follows CNAMEs to peter's own DNS).
#
# Idempotent: when everything is already installed it does no apt work at all.
# `apt-get update` runs only when something has to be installed.
# The nginx package's own daemon is kept from starting (and stopped/disabled if it
# did start): tests run their own nginx with their own config and ports.
set -Eeuo pipefail

PEBBLE_MIN_VERSION="2.10"
BOOKWORM_PKGS=(nginx wrk openssl curl ca-certificates redis-tools postgresql-client iproute2 knot dnsutils unbound)
REQUIRED_CMDS=(pebble pebble-challtestsrv nginx wrk openssl curl redis-cli psql ip unshare knotd knotc dig unbound)

FORKY_SOURCES=/etc/apt/sources.list.d/forky.sources
FORKY_PREFS=/etc/apt/preferences.d/forky
POLICY_RC=/usr/sbin/policy-rc.d

log() { printf '[install-test-deps] %s\n' "$*"; }
die() { printf '[install-test-deps] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; printf "[install-test-deps] ERROR: command failed (exit %s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2; exit "$rc"' ERR

start_ts=$(date +%s)

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "must run as root (or with sudo available)"
    SUDO=(sudo)
fi
as_root() { "${SUDO[@]}" "$@"; }

pkg_installed() {
    local status
    status=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) || return 1
    [[ $status == installed ]]
}

pebble_version() {
    dpkg-query -W -f='${Version}' pebble 2>/dev/null || true
}

pebble_ok() {
    local v
    pkg_installed pebble || return 1
    v=$(pebble_version)
    [[ -n $v ]] || return 1
    dpkg --compare-versions "$v" ge "$PEBBLE_MIN_VERSION" || return 1
    [[ -x /usr/bin/pebble && -x /usr/bin/pebble-challtestsrv ]]
}

# ---------------------------------------------------------------- what is missing?
missing=()
for p in "${BOOKWORM_PKGS[@]}"; do
    pkg_installed "$p" || missing+=("$p")
done
need_pebble=0
pebble_ok || need_pebble=1

if [[ ${#missing[@]} -eq 0 && $need_pebble -eq 0 ]]; then
    log "all present: pebble $(pebble_version) (>= $PEBBLE_MIN_VERSION), ${BOOKWORM_PKGS[*]}; nothing to do"
    exit 0
fi

if [[ ${#missing[@]} -gt 0 ]]; then
    log "bookworm packages to install: ${missing[*]}"
fi
if [[ $need_pebble -eq 1 ]]; then
    cur=$(pebble_version)
    log "pebble to install from forky (installed: ${cur:-none}, need >= $PEBBLE_MIN_VERSION)"
fi

export DEBIAN_FRONTEND=noninteractive

# ------------------------------------------------ keep package daemons from starting
# Without systemd/init, or in a container, a package's postinst may still start its
# daemon through invoke-rc.d (nginx would bind 0.0.0.0:80). A policy-rc.d that exits
# 101 forbids that; install a temporary one unless the machine already has one.
temp_policy=0
cleanup() {
    if [[ $temp_policy -eq 1 ]]; then
        as_root rm -f "$POLICY_RC" || true
        log "removed temporary $POLICY_RC"
    fi
}
trap cleanup EXIT
if [[ ! -e $POLICY_RC ]]; then
    log "installing temporary $POLICY_RC (exit 101) so no daemon starts during install"
    printf '#!/bin/sh\n# temporary, from install-test-deps.sh\nexit 101\n' | as_root tee "$POLICY_RC" >/dev/null
    as_root chmod 0755 "$POLICY_RC"
    temp_policy=1
fi

# ----------------------------------------------------------------- forky apt source
write_if_changed() { # path content
    local path=$1 content=$2
    if [[ -f $path ]] && [[ "$(cat "$path")" == "$content" ]]; then
        log "$path already up to date"
    else
        log "writing $path"
        printf '%s\n' "$content" | as_root tee "$path" >/dev/null
    fi
}

debian_uri() {
    local uri=""
    if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
        # First URIs: line of the stanza that is not the security archive.
        uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
            /etc/apt/sources.list.d/debian.sources)
    fi
    if [[ -z $uri && -f /etc/apt/sources.list ]]; then
        uri=$(awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file|mirror):/ && $i !~ /security/) { print $i; exit } }' \
            /etc/apt/sources.list)
    fi
    printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

if [[ $need_pebble -eq 1 ]]; then
    [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] \
        || die "/usr/share/keyrings/debian-archive-keyring.gpg missing (package debian-archive-keyring)"
    uri=$(debian_uri)
    log "Debian archive URI: $uri"
    write_if_changed "$FORKY_SOURCES" "Types: deb
URIs: $uri
Suites: forky
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
    write_if_changed "$FORKY_PREFS" "Package: *
Pin: release n=forky
Pin-Priority: 100"
fi

# ------------------------------------------------------------------------- install
log "apt-get update"
as_root apt-get update

nginx_was_installed=0
pkg_installed nginx && nginx_was_installed=1

if [[ ${#missing[@]} -gt 0 ]]; then
    log "apt-get install -y ${missing[*]}"
    as_root apt-get install -y "${missing[@]}"
fi
if [[ $need_pebble -eq 1 ]]; then
    log "apt-get install -y -t forky pebble"
    as_root apt-get install -y -t forky pebble
fi

# ------------------------------------------------ no package nginx daemon on :80
# PID of the package's nginx master (from its default pidfile), if alive and not a zombie.
nginx_daemon_pid() {
    local pid
    pid=$(cat /run/nginx.pid 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || return 1
    grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && return 1
    printf '%s\n' "$pid"
}
wait_nginx_gone() { # tenths of a second
    local i
    for ((i = 0; i < $1; i++)); do
        nginx_daemon_pid >/dev/null || return 0
        sleep 0.1
    done
    return 1
}

if [[ $nginx_was_installed -eq 0 ]] && pkg_installed nginx; then
    if [[ -d /run/systemd/system ]]; then
        log "systemd present: systemctl disable --now nginx"
        as_root systemctl disable --now nginx || die "could not stop/disable nginx.service"
    else
        log "no systemd: disabling nginx's SysV start links"
        as_root update-rc.d nginx disable >/dev/null 2>&1 || log "update-rc.d nginx disable failed (ignored)"
    fi
    if pid=$(nginx_daemon_pid); then
        log "stopping the package's nginx daemon (pid $pid)"
        as_root nginx -s quit 2>/dev/null || as_root kill -TERM "$pid" 2>/dev/null || true
        if ! wait_nginx_gone 50; then
            log "nginx still running after quit: sending TERM to $pid"
            as_root kill -TERM "$pid" 2>/dev/null || true
            wait_nginx_gone 50 || die "the package's nginx daemon is still running (pid $pid)"
        fi
    fi
    log "nginx installed, no nginx daemon left running"
fi

# -------------------------------------------------------------------------- verify
for p in "${BOOKWORM_PKGS[@]}"; do
    pkg_installed "$p" || die "package $p is not installed after apt-get install"
done
pebble_ok || die "pebble >= $PEBBLE_MIN_VERSION not installed (have: $(pebble_version))"
for c in "${REQUIRED_CMDS[@]}"; do
    command -v "$c" >/dev/null 2>&1 || die "command $c not found after install"
done

log "done in $(( $(date +%s) - start_ts )) s: pebble $(pebble_version), ${BOOKWORM_PKGS[*]}"
