#!/bin/sh
# One hybridlab tunnel end (examples/tunnel_peer: IKE responder, ESP,
# userspace TCP/IP, a BGP speaker on 169.254.10.1, AS 64512) against a real
# customer gateway: strongSwan 5.9.8 (charon + kernel-libipsec, IKEv1,
# aes128-sha1-modp1024 both phases, DPD 10 s) and BIRD 2 (AS 65000) on
# ipsec0 = 169.254.10.2/30, as the cloud's generated configuration sets
# them up.
#
#   sudo sh crates/ipsec-tunnel/tests/interop/strongswan_bgp.sh [SECONDS] [cloud|customer]
#
# cloud (default): charon initiates, ours responds as the cloud does.
# customer: ours initiates as an emulated customer gateway (ESP forced
# into UDP 4500), charon responds; the inside addresses stay as above.
#
# Checks, from the customer side: ping of the cloud's inside address and of
# a VPC host (10.0.5.9) through the tunnel, BGP Established, 10.0.0.0/16
# learned; from ours: 192.168.0.0/16 learned. Environment: CHILD_REKEY_AT=N
# makes charon rekey the CHILD SA at second N while a ping runs every 0.2 s;
# CUT_AT=N silently drops everything charon sends us from second N on
# (nftables input hook in our namespace), for DPD and the BGP hold timer.
# Needs the packages of shared/interop-notes.md and `cargo build -p
# hybridlab-ipsec-tunnel --example tunnel_peer`. Cleans up its namespaces
# and processes (by PID).
set -eu

SECONDS_TO_RUN=${1:-45}
MODE=${2:-cloud}
START=start
ROLE=""
if [ "$MODE" = customer ]; then START=none; ROLE=--initiator; fi
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
PEER=${PEER:-$ROOT/target/debug/examples/tunnel_peer}
OUT=$(mktemp -d /tmp/ipsec-tunnel-interop.XXXXXX)
PSK=aws4lab_psk_0123456789abcdefghij
NA=ipt-cgw
NB=ipt-aws
. "$ROOT/interop/strongswan/netns-pair.sh"
netns_pair ipt
charon_conf "$OUT/strongswan.conf" "$OUT/charon.log" "$OUT/charon.vici" \
    "ike = 2" "cfg = 1" "net = 1"

cat >"$OUT/swanctl.conf" <<CONF
connections {
    aws {
        version = 1
        aggressive = no
        local_addrs = 192.0.2.1
        remote_addrs = 192.0.2.2
        proposals = aes128-sha1-modp1024
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
                esp_proposals = aes128-sha1-modp1024
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
        secret = "$PSK"
    }
}
CONF

cat >"$OUT/bird.conf" <<CONF
log "$OUT/bird.log" all;
timeformat log "%F %T.%3f";
router id 169.254.10.2;
protocol device { scan time 1; }
protocol direct { ipv4; interface "ipsec0"; }
protocol static { ipv4; route 192.168.0.0/16 blackhole; }
protocol bgp aws {
    local 169.254.10.2 as 65000;
    neighbor 169.254.10.1 as 64512;
    hold time 30;
    keepalive time 10;
    ipv4 { import all; export where source = RTS_STATIC; };
}
CONF

run_peer() {
    # shellcheck disable=SC2086
    ip netns exec "$NB" "$PEER" --local 192.0.2.2 --remote 192.0.2.1 --psk "$PSK" \
        --seconds "$SECONDS_TO_RUN" --inside 169.254.10.1 --peer-inside 169.254.10.2 \
        --asn 64512 --peer-asn 65000 --announce 10.0.0.0/16 --vpc 10.0.5.0/24 \
        --expect 192.168.0.0/16 $ROLE >"$OUT/peer.out" 2>&1 &
    PEER_PID=$!
    PIDS="$PIDS $PEER_PID"
    sleep 0.5
}

# The responder must be listening before the initiator starts.
[ "$MODE" = cloud ] && run_peer

ip netns exec "$NA" sh -c "mount -t tmpfs none /run && exec env STRONGSWAN_CONF=$OUT/strongswan.conf /usr/lib/ipsec/charon" >"$OUT/charon.out" 2>&1 &
PIDS="$PIDS $!"
i=0
while [ ! -S "$OUT/charon.vici" ]; do
    i=$((i + 1)); [ $i -gt 50 ] && { echo "charon did not start" >&2; exit 1; }
    sleep 0.2
done
ip netns exec "$NA" swanctl --load-all --file "$OUT/swanctl.conf" --uri "unix://$OUT/charon.vici" >"$OUT/load.out" 2>&1
[ "$MODE" = customer ] && run_peer

i=0
while ! ip -n "$NA" link show ipsec0 >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "no ipsec0" >&2; break; }
    sleep 0.1
done
ip -n "$NA" addr add 169.254.10.2/30 dev ipsec0
ip -n "$NA" link set ipsec0 up
ip -n "$NA" route add 10.0.0.0/16 dev ipsec0
ip netns exec "$NA" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.ipsec0.rp_filter=0

ip netns exec "$NA" bird -f -c "$OUT/bird.conf" -s "$OUT/bird.ctl" -P "$OUT/bird.pid" >"$OUT/bird.out" 2>&1 &
PIDS="$PIDS $!"

swan() {
    ip netns exec "$NA" swanctl "$@" --uri "unix://$OUT/charon.vici"
}
if [ -n "${CHILD_REKEY_AT:-}" ]; then
    (sleep "$CHILD_REKEY_AT"; swan --rekey --child aws-child >"$OUT/rekey-child.out" 2>&1) &
    ip netns exec "$NA" ping -i 0.2 -c $(( (SECONDS_TO_RUN - 8) * 5 )) -W 1 10.0.5.9 >"$OUT/ping-stream.out" 2>&1 &
    PIDS="$PIDS $!"
fi

if [ -n "${CUT_AT:-}" ]; then
    (sleep "$CUT_AT"
     ip netns exec "$NB" nft add table inet cut
     ip netns exec "$NB" nft add chain inet cut input '{ type filter hook input priority 0; }'
     ip netns exec "$NB" nft add rule inet cut input udp sport '{ 500, 4500 }' drop
     echo "cut at $CUT_AT s" >"$OUT/cut.out") &
fi

sleep 3
echo "== ping inside address =="
ip netns exec "$NA" ping -c 3 -W 2 169.254.10.1 | tail -2 || true
echo "== ping VPC host =="
ip netns exec "$NA" ping -c 3 -W 2 10.0.5.9 | tail -2 || true
sleep 10
echo "== BIRD =="
birdc -s "$OUT/bird.ctl" show protocols aws || true
birdc -s "$OUT/bird.ctl" show route 10.0.0.0/16 || true

wait "$PEER_PID" || true
echo "== ours =="
cat "$OUT/peer.out"
if [ -n "${CHILD_REKEY_AT:-}" ]; then
    echo "== ping stream across the rekey =="
    tail -3 "$OUT/ping-stream.out"
    cat "$OUT/rekey-child.out"
fi
echo "== charon SAs =="
swan --list-sas || true
echo "== charon log =="
grep -E "IKE_SA|CHILD_SA|DPD|error|fail|proposal|delet" "$OUT/charon.log" | tail -20
echo "(files in $OUT)"
