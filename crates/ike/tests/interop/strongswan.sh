#!/bin/sh
# hybridlab-ike against a real strongSwan 5.9.8 (charon + kernel-libipsec),
# with the cloud's parameters: IKEv1 Main Mode, PSK, aes128-sha1-modp1024
# both phases, 0.0.0.0/0 selectors, DPD 10 s.
#
#   sudo sh crates/ike/tests/interop/strongswan.sh cloud    [SECONDS] [COMMAND]
#   sudo sh crates/ike/tests/interop/strongswan.sh customer [SECONDS] [COMMAND]
#
# cloud:    charon (192.0.2.1, the customer gateway) initiates, our
#           examples/udp_peer (192.0.2.2) responds as the cloud does.
# customer: our peer initiates as an emulated customer gateway, charon
#           responds.
# COMMAND:  SECONDS:rekey-child | SECONDS:rekey-ike | SECONDS:stop, given
#           to our peer.
# Environment: CGW_PSK, CGW_IKE, CGW_ESP change charon's key and
# proposals (to provoke a mismatch); CUT_AT=N silently drops everything
# charon sends us from second N on (nftables input hook), for DPD;
# CGW_REKEY_IKE_AT=N / CGW_REKEY_CHILD_AT=N make charon rekey (IKEv1:
# reauthenticate) the IKE SA / rekey the CHILD SA at second N.
# PING=1: our peer sends ICMP echoes 10.99.0.2 -> 192.0.2.1 as ESP in UDP
# with the negotiated keys; charon's libipsec decrypts them and its replies
# come back (route 10.99.0.0/24 via ipsec0) for us to open.
# Prints our events, charon's view of the SAs and its log tail. Needs the
# packages of shared/interop-notes.md and `cargo build -p hybridlab-ike
# --example udp_peer`. Cleans up its namespaces and processes.
set -eu

MODE=${1:-cloud}
SECONDS_TO_RUN=${2:-25}
COMMAND=${3:-}
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
PEER=${PEER:-$ROOT/target/debug/examples/udp_peer}
OUT=$(mktemp -d /tmp/ike-interop.XXXXXX)
PSK=aws4lab_psk_0123456789abcdefghij
CGW_PSK=${CGW_PSK:-$PSK}
CGW_IKE=${CGW_IKE:-aes128-sha1-modp1024}
CGW_ESP=${CGW_ESP:-aes128-sha1-modp1024}
NA=ike-cgw
NB=ike-cloud
. "$ROOT/interop/strongswan/netns-pair.sh"
netns_pair ike
charon_conf "$OUT/strongswan.conf" "$OUT/charon.log" "$OUT/charon.vici" \
    "ike = 2" "cfg = 2" "net = 1"

START=none
[ "$MODE" = cloud ] && START=start
cat >"$OUT/swanctl.conf" <<CONF
connections {
    aws {
        version = 1
        aggressive = no
        local_addrs = 192.0.2.1
        remote_addrs = 192.0.2.2
        proposals = $CGW_IKE
        reauth_time = 28800s
        rekey_time = 0s
        over_time = 0s
        rand_time = 0s
        dpd_delay = 10s
        dpd_timeout = 30s
        local { auth = psk
                id = 192.0.2.1 }
        remote { auth = psk
                id = 192.0.2.2 }
        children {
            aws-child {
                local_ts = 0.0.0.0/0
                remote_ts = 0.0.0.0/0
                esp_proposals = $CGW_ESP
                rekey_time = 3600s
                life_time = 3960s
                rand_time = 0s
                mode = tunnel
                dpd_action = clear
                start_action = $START
            }
        }
    }
}
secrets {
    ike-1 {
        id-1 = 192.0.2.1
        id-2 = 192.0.2.2
        secret = "$CGW_PSK"
    }
}
CONF

ip netns exec "$NA" sh -c "mount -t tmpfs none /run && exec env STRONGSWAN_CONF=$OUT/strongswan.conf /usr/lib/ipsec/charon" >"$OUT/charon.out" 2>&1 &
PIDS="$PIDS $!"
i=0
while [ ! -S "$OUT/charon.vici" ]; do
    i=$((i + 1)); [ $i -gt 50 ] && { echo "charon did not start" >&2; exit 1; }
    sleep 0.2
done

load() {
    ip netns exec "$NA" swanctl --load-all --file "$OUT/swanctl.conf" --uri "unix://$OUT/charon.vici" >"$OUT/load.out" 2>&1
}

ROLE=""
[ "$MODE" = customer ] && ROLE=--initiator
CMD=""
[ -n "$COMMAND" ] && CMD="--command $COMMAND"
[ -n "${PING:-}" ] && CMD="$CMD --ping 10.99.0.2,192.0.2.1"
# The responder must be listening before the initiator starts.
[ "$MODE" = customer ] && load
# shellcheck disable=SC2086
ip netns exec "$NB" "$PEER" --local 192.0.2.2 --remote 192.0.2.1 \
    --psk "$PSK" --seconds "$SECONDS_TO_RUN" $ROLE $CMD >"$OUT/peer.out" 2>&1 &
PEER_PID=$!
PIDS="$PIDS $PEER_PID"
sleep 0.5
[ "$MODE" = cloud ] && load
swan() {
    ip netns exec "$NA" swanctl "$@" --uri "unix://$OUT/charon.vici"
}
if [ -n "${CGW_REKEY_IKE_AT:-}" ]; then
    (sleep "$CGW_REKEY_IKE_AT"; swan --rekey --ike aws --reauth >"$OUT/rekey-ike.out" 2>&1) &
fi
if [ -n "${CGW_REKEY_CHILD_AT:-}" ]; then
    (sleep "$CGW_REKEY_CHILD_AT"; swan --rekey --child aws-child >"$OUT/rekey-child.out" 2>&1) &
fi
if [ -n "${PING:-}" ]; then
    (i=0
     while ! ip -n "$NA" link show ipsec0 >/dev/null 2>&1; do
         i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1
     done
     ip -n "$NA" link set ipsec0 up 2>/dev/null || true
     ip -n "$NA" route add 10.99.0.0/24 dev ipsec0 2>"$OUT/route.err") &
fi
if [ -n "${CUT_AT:-}" ]; then
    (sleep "$CUT_AT"
     ip netns exec "$NB" nft add table inet cut
     ip netns exec "$NB" nft add chain inet cut input '{ type filter hook input priority 0; }'
     ip netns exec "$NB" nft add rule inet cut input udp sport '{ 500, 4500 }' drop
     echo "cut at $CUT_AT s" >"$OUT/cut.out") &
fi

wait "$PEER_PID" || true
echo "== our events =="
cat "$OUT/peer.out"
echo "== charon SAs =="
ip netns exec "$NA" swanctl --list-sas --uri "unix://$OUT/charon.vici" || true
echo "== charon log (IKE lines) =="
grep -E "IKE_SA|CHILD_SA|received|sending|DPD|error|fail|proposal|NO_PROP|INVALID|AUTH|deleting|delet" "$OUT/charon.log" | tail -40
echo "(files in $OUT)"
