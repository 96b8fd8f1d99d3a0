#!/bin/bash
# Installs Debian's rtpengine-daemon for bench/media when it is missing, without
# leaving the packaged service running: it would take UDP ports 30000-40000 (the
# test suite's RTP ports) and the ng port 2223. The bench starts its own
# rtpengine in the foreground per run. Idempotent: a second run only checks.
set -euo pipefail

if ! command -v rtpengine >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    # A policy-rc.d that refuses every service start during the install (exit
    # 101), unless one is already there (containers often have it).
    policy=/usr/sbin/policy-rc.d
    placed=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
        $SUDO chmod 755 "$policy"
        placed=1
    fi
    trap 'if [ -n "$placed" ]; then $SUDO rm -f "$policy"; fi' EXIT
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
        rtpengine-daemon >/dev/null
fi

# Whatever happened before (an older install, a reboot): the packaged service
# must not run. systemd where it runs, the init script otherwise.
stop_packaged() {
    if [ -d /run/systemd/system ]; then
        ${SUDO:-} systemctl disable --now rtpengine-daemon.service >/dev/null 2>&1 || true
    elif [ -x /etc/init.d/rtpengine-daemon ]; then
        ${SUDO:-} /etc/init.d/rtpengine-daemon stop >/dev/null 2>&1 || true
    fi
}
stop_packaged
pidfile=/run/rtpengine/rtpengine-daemon.pid
if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "the packaged rtpengine-daemon is still running (pid $(cat "$pidfile")): stop it" >&2
    exit 1
fi
echo "rtpengine: $(rtpengine --version 2>&1 | head -1)"
