#!/bin/sh
# Capture a real strongSwan 5.9.8 IKEv1 exchange (Main Mode PSK,
# aes128-sha1-modp1024 with 28 800 s, then Quick Mode with PFS) between two
# charons in two network namespaces (192.0.2.1 initiates, 192.0.2.2
# responds). These are the byte vectors in ../vectors.rs.
#
#   sh crates/isakmp/tests/capture/capture-main-mode.sh [OUTDIR]    (as root)
#
# Writes to OUTDIR: main-mode.pcap; ike.tsv (Main Mode 1-4 on port 500,
# cleartext; printed at the end); udp.tsv (every UDP payload, the encrypted
# ones on 4500 with the non-ESP marker: kernel-libipsec makes charon float
# at message 5); plaintexts.txt (the cleartext of every encrypted message
# from charon's enc=3 "plain =>" dumps); decoded.txt (tshark's view);
# charon logs. Quick Mode completes on the wire but charon cannot install
# the SAs here (no kernel ESP, libipsec policies refused): it then sends
# N(NO-PROPOSAL-CHOSEN) and, at shutdown, Deletes — also useful vectors.
#
# Needs: strongswan strongswan-swanctl libcharon-extra-plugins tshark
# python3. Cleans up its namespaces and processes (by PID).
# The cookies, KE values and nonces are random: each run gives new bytes.
set -eu

OUT=${1:-$(mktemp -d /tmp/isakmp-capture.XXXXXX)}
mkdir -p "$OUT"
NA=isk-cap-a
NB=isk-cap-b
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
# charons are killed first, so their Deletes on shutdown still reach the
# capture.
. "$ROOT/interop/strongswan/netns-pair.sh"
netns_pair isk

# One private strongswan.conf and swanctl.conf per side (interop-notes:
# explicit plugin list, vici socket in our directory).
for side in a b; do
    charon_conf "$OUT/strongswan-$side.conf" "$OUT/charon-$side.log" \
        "$OUT/charon-$side.vici" "ike = 2" "enc = 3" "net = 1"
done

conn() { # name local remote
    cat <<CONF
connections {
    $1 {
        version = 1
        aggressive = no
        local_addrs = $2
        remote_addrs = $3
        proposals = aes128-sha1-modp1024
        reauth_time = 28800s
        rekey_time = 0s
        over_time = 0s
        rand_time = 0s
        dpd_delay = 10s
        local { auth = psk
                id = $2 }
        remote { auth = psk
                id = $3 }
        children {
            $1-child {
                local_ts = 10.1.0.0/16
                remote_ts = 10.2.0.0/16
                esp_proposals = aes128-sha1-modp1024
                rekey_time = 3600s
                life_time = 3960s
                rand_time = 0s
                mode = tunnel
            }
        }
    }
}
secrets {
    ike-1 {
        id-1 = 192.0.2.1
        id-2 = 192.0.2.2
        secret = "hybridlab-test-psk"
    }
}
CONF
}
conn left 192.0.2.1 192.0.2.2 >"$OUT/swanctl-a.conf"
sed -e 's/local_ts = 10.1.0.0\/16/local_ts = 10.2.0.0\/16/' \
    -e 's/remote_ts = 10.2.0.0\/16/remote_ts = 10.1.0.0\/16/' \
    -e 's/local_addrs = 192.0.2.1/local_addrs = 192.0.2.2/' \
    -e 's/remote_addrs = 192.0.2.2/remote_addrs = 192.0.2.1/' \
    -e 's/id = 192.0.2.1/id = X/; s/id = 192.0.2.2/id = 192.0.2.1/; s/id = X/id = 192.0.2.2/' \
    -e 's/left/right/g' "$OUT/swanctl-a.conf" >"$OUT/swanctl-b.conf"

ip netns exec "$NA" dumpcap -q -i isk-va -P -f udp -w "$OUT/main-mode.pcap" >"$OUT/dumpcap.log" 2>&1 &
PIDS="$PIDS $!"

# A tmpfs /run per namespace: charon's pid file path is fixed.
for side in a b; do
    ns=$NA; [ "$side" = b ] && ns=$NB
    ip netns exec "$ns" sh -c "mount -t tmpfs none /run && exec env STRONGSWAN_CONF=$OUT/strongswan-$side.conf /usr/lib/ipsec/charon" \
        >"$OUT/charon-$side.out" 2>&1 &
    CHARONS="$CHARONS $!"
done

for side in a b; do
    i=0
    while [ ! -S "$OUT/charon-$side.vici" ]; do
        i=$((i + 1)); [ $i -gt 50 ] && { echo "charon-$side did not start" >&2; exit 1; }
        sleep 0.2
    done
done
for side in a b; do
    ns=$NA; [ "$side" = b ] && ns=$NB
    ip netns exec "$ns" swanctl --load-all --file "$OUT/swanctl-$side.conf" --uri "unix://$OUT/charon-$side.vici" >/dev/null 2>&1
done

ip netns exec "$NA" swanctl --initiate --child left-child --timeout 20 --uri "unix://$OUT/charon-a.vici" >"$OUT/initiate.log" 2>&1 || true
ip netns exec "$NA" swanctl --list-sas --uri "unix://$OUT/charon-a.vici" >"$OUT/sas-a.txt" 2>/dev/null || true
sleep 1

netns_cleanup
trap - EXIT INT TERM

# Messages 1-4 of Main Mode are the first four IKE datagrams on port 500.
tshark -r "$OUT/main-mode.pcap" -Y 'udp.port == 500' -T fields \
    -e frame.number -e ip.src -e udp.srcport -e udp.dstport -e udp.payload >"$OUT/ike.tsv"
tshark -r "$OUT/main-mode.pcap" -Y isakmp -V >"$OUT/decoded.txt"
tshark -r "$OUT/main-mode.pcap" -T fields -e frame.number -e ip.src -e udp.srcport -e udp.payload >"$OUT/udp.tsv"
# The cleartext of the encrypted messages, from charon's "plain =>" dumps
# (log level enc = 3), as "side length hex" lines.
python3 "$(dirname "$0")/plaintexts.py" "$OUT/charon-a.log" "$OUT/charon-b.log" >"$OUT/plaintexts.txt"
head -n 4 "$OUT/ike.tsv"
echo "output in $OUT" >&2
