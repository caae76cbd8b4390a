#!/usr/bin/env bash
# The Debian package as an operator meets it (run by .ci/run as root after `mvn -B verify`):
# install with apt-get, check the packaged config and the unit, start the installed launcher as
# the service user with a NOTIFY, reinstall over an edited conffile, purge. Leaves the machine as
# it found it (purge removes the user, /etc/dnssec2mqtt and /var/lib/dnssec2mqtt).
# No systemd as PID 1 is needed: the unit's ExecStart runs here by hand, as its User= would.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() {
    echo "test-deb: FAIL: $*" >&2
    [ ! -f "${work:-}/bridge.log" ] || cp "$work/bridge.log" "${TMPDIR:-/tmp}/dnssec2mqtt-test-deb.log"
    exit 1
}
step() {
    echo "test-deb: $*"
}

[ "$(id -u)" -eq 0 ] || fail "must run as root (apt-get install, runuser)"
debs=(bridge/target/dnssec2mqtt_*_all.deb)
[ -f "${debs[0]}" ] || fail "no bridge/target/dnssec2mqtt_*_all.deb: run mvn -B package first"
deb=$(readlink -f "${debs[0]}")
conf=/etc/dnssec2mqtt/dnssec2mqtt.properties
unit=/lib/systemd/system/dnssec2mqtt.service
work=$(mktemp -d)
bridge_pid=
cleanup() {
    if [ -n "$bridge_pid" ]; then kill "$bridge_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if command -v lintian >/dev/null; then
    step "lintian $deb"
    lintian --fail-on error "$deb" || fail "lintian reports errors"
fi

step "install $deb"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb"
getent passwd dnssec2mqtt >/dev/null || fail "no dnssec2mqtt user after install"
[ "$(stat -c %U /var/lib/dnssec2mqtt)" = dnssec2mqtt ] || fail "/var/lib/dnssec2mqtt is not the service user's"
[ "$(stat -c %a:%U:%G "$conf")" = 640:root:dnssec2mqtt ] || fail "$conf should be 640 root:dnssec2mqtt, is $(stat -c %a:%U:%G "$conf")"
grep -qx 'data.dir = /var/lib/dnssec2mqtt' "$conf" || fail "$conf does not set data.dir = /var/lib/dnssec2mqtt"
dnssec2mqtt --version | grep -q '^dnssec2mqtt [0-9]' || fail "dnssec2mqtt --version"
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
    systemd-analyze security --offline=yes "$unit" | tail -1
fi

as_service() {
    # the unit's User=, WorkingDirectory= and PrivateTmp-free equivalent of its ExecStart
    (cd /var/lib/dnssec2mqtt && runuser -u dnssec2mqtt -- "$@")
}

step "check-config of the packaged config, as the service user"
as_service dnssec2mqtt --check-config --config "$conf" || fail "--check-config rejects the packaged config"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
notify_port=$(free_port)
mqtt_port=$(free_port)
step "start the installed launcher as the service user (NOTIFY 127.0.0.1:$notify_port, embedded MQTT 127.0.0.1:$mqtt_port)"
# only the two ports are overridden (the packaged defaults may be taken on a shared machine)
# setpriv execs (runuser would stay in between and turn a SIGTERM into its own kill sequence)
(cd /var/lib/dnssec2mqtt && exec setpriv --reuid=dnssec2mqtt --regid=dnssec2mqtt --init-groups -- env \
    DNSSEC2MQTT_NOTIFY_LISTEN="127.0.0.1:$notify_port" \
    DNSSEC2MQTT_MQTT_EMBEDDED_LISTEN="127.0.0.1:$mqtt_port" \
    dnssec2mqtt --config "$conf") >"$work/bridge.log" 2>&1 &
bridge_pid=$!
# the retained state topic says online once the bridge is connected to its broker
online=
for _ in $(seq 60); do
    if online=$(mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -t dnssec/_bridge/state -C 1 -W 2 2>/dev/null) \
            && [[ "$online" == *'"online"'* ]]; then
        break
    fi
    kill -0 "$bridge_pid" 2>/dev/null || { cat "$work/bridge.log"; fail "the bridge exited at start"; }
    sleep 0.5 # polling for the broker's port to open
done
[[ "$online" == *'"online"'* ]] || { cat "$work/bridge.log"; fail "no online state within 30 s"; }
[ "$(stat -c %U /var/lib/dnssec2mqtt/lock)" = dnssec2mqtt ] || fail "the service user did not write its data.dir"

answer=$(dig @127.0.0.1 -p "$notify_port" +opcode=notify +norec +tries=1 +time=5 ci.example SOA)
echo "$answer" | grep -q 'opcode: NOTIFY, status: NOERROR' || { echo "$answer"; cat "$work/bridge.log"; fail "the NOTIFY was not answered NOERROR"; }
step "NOTIFY answered: $(echo "$answer" | grep -o 'opcode: NOTIFY, status: [A-Z]*')"
# Nothing serves ci.example: the bridge asks the NOTIFY's source (127.0.0.1:53), is refused, backs
# off and forgets the zone with one WARN. Wait for that, so no check is in flight at the SIGTERM.
for _ in $(seq 120); do
    grep -q 'zone=ci.example forgotten' "$work/bridge.log" && break
    sleep 0.5 # polling the log
done
grep -q 'zone=ci.example forgotten' "$work/bridge.log" || { cat "$work/bridge.log"; fail "the NOTIFY's zone was never checked"; }

kill -TERM "$bridge_pid"
rc=0
wait "$bridge_pid" || rc=$?
bridge_pid=
[ "$rc" -eq 143 ] || [ "$rc" -eq 0 ] || { cat "$work/bridge.log"; fail "exit status $rc after SIGTERM"; }
grep -q 'stopped' "$work/bridge.log" || { cat "$work/bridge.log"; fail "no clean stop after SIGTERM"; }
if grep -E ' (ERROR|WARN) ' "$work/bridge.log" | grep -v 'zone=ci.example forgotten'; then
    fail "warnings or errors in the service's log"
fi

step "reinstall over an edited conffile"
echo "# edited by the operator" >>"$conf"
DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall --no-install-recommends "$deb"
grep -qx '# edited by the operator' "$conf" || fail "the reinstall replaced the edited $conf"
getent passwd dnssec2mqtt >/dev/null || fail "the reinstall lost the service user"

step "purge"
DEBIAN_FRONTEND=noninteractive apt-get purge -y dnssec2mqtt
! getent passwd dnssec2mqtt >/dev/null || fail "purge left the dnssec2mqtt user"
! getent group dnssec2mqtt >/dev/null || fail "purge left the dnssec2mqtt group"
[ ! -e /var/lib/dnssec2mqtt ] || fail "purge left /var/lib/dnssec2mqtt"
[ ! -e /etc/dnssec2mqtt ] || fail "purge left /etc/dnssec2mqtt"
[ ! -e /usr/bin/dnssec2mqtt ] || fail "purge left /usr/bin/dnssec2mqtt"
step "ok: install, check-config, start with a NOTIFY as the service user, reinstall keeping the edited config, purge"
