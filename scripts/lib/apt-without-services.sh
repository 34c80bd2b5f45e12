# shellcheck shell=bash
# Sourced by scripts/test: `apt_install_without_services PACKAGE...` installs Debian packages
# without starting or enabling the system services they bring.
#
# Samba and Docker packages start and enable smbd, nmbd, winbind, samba-ad-dc, docker and
# containerd; the tests start their own Samba DC and dockerd and use none of those. While
# apt-get runs, /usr/sbin/policy-rc.d answers 101 ("action forbidden"), which
# invoke-rc.d and deb-systemd-invoke honour, so nothing starts. Enabling is not covered by
# policy-rc.d, so afterwards every unit below that was not enabled before is disabled again.
# A policy-rc.d that was there before is put back; ours is removed on failure too.

POLICY_RC=${POLICY_RC:-/usr/sbin/policy-rc.d}
SERVICE_UNITS=(
    smbd.service nmbd.service winbind.service samba-ad-dc.service
    docker.service docker.socket containerd.service
)
_POLICY_RC_SAVED=
_POLICY_RC_OURS=

_unit_enabled() {
    command -v systemctl >/dev/null 2>&1 && systemctl is-enabled --quiet "$1" 2>/dev/null
}

_forbid_service_starts() {
    if [ -e "$POLICY_RC" ] || [ -L "$POLICY_RC" ]; then
        _POLICY_RC_SAVED="$POLICY_RC.gmsa-saved.$$"
        mv "$POLICY_RC" "$_POLICY_RC_SAVED"
    fi
    _POLICY_RC_OURS=1
    printf '#!/bin/sh\n# gmsa scripts/test: no service starts while it installs packages.\nexit 101\n' \
        >"$POLICY_RC"
    chmod 755 "$POLICY_RC"
}

# Safe to call more than once; scripts/test also calls it on EXIT, INT and TERM.
allow_service_starts() {
    if [ -n "$_POLICY_RC_OURS" ]; then
        rm -f "$POLICY_RC"
        _POLICY_RC_OURS=
    fi
    if [ -n "$_POLICY_RC_SAVED" ]; then
        mv "$_POLICY_RC_SAVED" "$POLICY_RC"
        _POLICY_RC_SAVED=
    fi
}

apt_install_without_services() {
    local unit rc=0
    local -a enabled_before=()
    for unit in "${SERVICE_UNITS[@]}"; do
        if _unit_enabled "$unit"; then enabled_before+=("$unit"); fi
    done
    _forbid_service_starts
    apt-get install -y -qq --no-install-recommends "$@" || rc=$?
    allow_service_starts
    for unit in "${SERVICE_UNITS[@]}"; do
        if _unit_enabled "$unit" && [[ " ${enabled_before[*]} " != *" $unit "* ]]; then
            if ! systemctl disable --quiet "$unit"; then
                echo "could not disable $unit, which the install enabled: systemctl disable $unit" >&2
                if [ "$rc" -eq 0 ]; then rc=1; fi
            fi
        fi
    done
    return "$rc"
}
