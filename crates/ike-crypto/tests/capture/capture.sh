#!/bin/sh
# Capture IKEv1 key-derivation vectors from two real strongSwan charons.
#
# Two network namespaces joined by a veth pair, one charon in each (private
# strongswan.conf, private tmpfs /run so the fixed pid file does not clash,
# userspace ESP via kernel-libipsec because this kernel has no ESP). The
# initiator runs main mode + quick mode with a PSK; charon logs every derived
# key at level 4 and dumpcap records the exchange.
#
# Usage (root): capture.sh OUTDIR [IKE_PROPOSAL [ESP_PROPOSAL]]
#   defaults: aes128-sha1-modp1024 for both phases (AWS's VPN parameters).
# Leaves OUTDIR/{initiator,responder}.log and OUTDIR/exchange.pcap.
# Everything it starts is stopped by PID; its namespaces are deleted.
#
# Regenerate the vectors of ../strongswan_kat.rs:
#   ./capture.sh /tmp/kat1 && ./extract.py /tmp/kat1 aes128-sha1-modp1024 \
#       aes128-sha1-modp1024 >aes128-sha1-modp1024.kat
#   ./capture.sh /tmp/kat2 aes256-sha1-modp2048 aes256-sha256-modp2048 &&
#       ./extract.py /tmp/kat2 aes256-sha1-modp2048 aes256-sha256-modp2048 \
#       >aes256-sha1-modp2048.kat
# (each run has fresh nonces, cookies and keys, so the files change whole.)
set -eu

OUT=${1:?usage: capture.sh OUTDIR [IKE_PROPOSAL [ESP_PROPOSAL]]}
IKE_PROPOSAL=${2:-aes128-sha1-modp1024}
ESP_PROPOSAL=${3:-$IKE_PROPOSAL}
NS_I=ikc-kat-i
NS_R=ikc-kat-r
ADDR_I=10.199.0.1
ADDR_R=10.199.0.2
PSK=hybridlab-kat-psk

mkdir -p "$OUT/i" "$OUT/r"
OUT=$(cd "$OUT" && pwd)
PIDS=""

cleanup() {
	for pid in $PIDS; do
		kill "$pid" 2>/dev/null || true
	done
	sleep 1
	for pid in $PIDS; do
		kill -9 "$pid" 2>/dev/null || true
	done
	ip netns del "$NS_I" 2>/dev/null || true
	ip netns del "$NS_R" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

ip netns del "$NS_I" 2>/dev/null || true
ip netns del "$NS_R" 2>/dev/null || true
ip netns add "$NS_I"
ip netns add "$NS_R"
ip link add ikc-veth-i netns "$NS_I" type veth peer name ikc-veth-r netns "$NS_R"
ip -n "$NS_I" addr add "$ADDR_I/24" dev ikc-veth-i
ip -n "$NS_R" addr add "$ADDR_R/24" dev ikc-veth-r
for ns in "$NS_I" "$NS_R"; do
	ip -n "$ns" link set lo up
done
ip -n "$NS_I" link set ikc-veth-i up
# Addresses inside the traffic selectors, so libipsec finds a source for its routes.
ip -n "$NS_I" addr add 10.201.1.1/32 dev lo
ip -n "$NS_R" addr add 10.201.2.1/32 dev lo
ip -n "$NS_R" link set ikc-veth-r up

# $1 = role dir, $2 = local address, $3 = remote address,
# $4/$5 = local/remote traffic selector
write_conf() {
	dir=$OUT/$1
	cat >"$dir/strongswan.conf" <<EOF
charon {
	load_modular = no
	load = random nonce openssl aes sha1 sha2 hmac kdf gmp socket-default vici updown kernel-libipsec kernel-netlink
	install_routes = no
	plugins {
		vici {
			socket = unix://$dir/charon.vici
		}
	}
	filelog {
		kat {
			path = $dir/charon.log
			time_format = %T
			append = no
			flush_line = yes
			default = 1
			ike = 4
			cfg = 2
			lib = 4
			enc = 4
			chd = 4
			net = 2
		}
	}
	syslog {
		daemon {
			default = -1
		}
	}
}
EOF
	cat >"$dir/swanctl.conf" <<EOF
connections {
	kat {
		version = 1
		local_addrs = $2
		remote_addrs = $3
		proposals = $IKE_PROPOSAL
		rekey_time = 0
		reauth_time = 0
		dpd_delay = 0
		local {
			auth = psk
			id = $2
		}
		remote {
			auth = psk
			id = $3
		}
		children {
			kat {
				local_ts = $4
				remote_ts = $5
				esp_proposals = $ESP_PROPOSAL
				mode = tunnel
				rekey_time = 0
			}
		}
	}
}
secrets {
	ike-kat {
		id-1 = $ADDR_I
		id-2 = $ADDR_R
		secret = "$PSK"
	}
}
EOF
}

write_conf i "$ADDR_I" "$ADDR_R" 10.201.1.0/24 10.201.2.0/24
write_conf r "$ADDR_R" "$ADDR_I" 10.201.2.0/24 10.201.1.0/24

ip netns exec "$NS_I" dumpcap -q -P -i ikc-veth-i -f udp -w "$OUT/exchange.pcap" &
PIDS="$PIDS $!"
# dumpcap needs a moment before it sees packets.
n=0
until [ -s "$OUT/exchange.pcap" ]; do
	n=$((n + 1))
	[ $n -lt 100 ] || { echo "dumpcap did not start" >&2; exit 1; }
	sleep 0.1
done
sleep 1

# `ip netns exec` gives the command its own mount namespace, so the tmpfs on
# /run is private to that charon; sh and env exec, so $! is charon's PID.
start_charon() {
	ip netns exec "$1" sh -c "mount -t tmpfs none /run && exec env STRONGSWAN_CONF=$OUT/$2/strongswan.conf /usr/lib/ipsec/charon" \
		>"$OUT/$2/stdout" 2>&1 &
	PIDS="$PIDS $!"
}
start_charon "$NS_R" r
CHARON_R=$!
start_charon "$NS_I" i
CHARON_I=$!

for role in i r; do
	n=0
	until [ -S "$OUT/$role/charon.vici" ]; do
		n=$((n + 1))
		[ $n -lt 100 ] || { echo "charon $role did not start" >&2; exit 1; }
		sleep 0.1
	done
	swanctl --load-all --file "$OUT/$role/swanctl.conf" --uri "unix://$OUT/$role/charon.vici" >/dev/null
done

timeout 30 swanctl --initiate --child kat --uri "unix://$OUT/i/charon.vici" >"$OUT/initiate.out" 2>&1
swanctl --list-sas --raw --uri "unix://$OUT/i/charon.vici" >"$OUT/initiator-sas.txt"
swanctl --list-sas --raw --uri "unix://$OUT/r/charon.vici" >"$OUT/responder-sas.txt"

# Stopping the initiator first makes it send INFORMATIONAL deletes (phase-2
# IV and HASH vectors) while the responder and dumpcap still listen.
stop() {
	kill "$1" 2>/dev/null || true
	n=0
	while kill -0 "$1" 2>/dev/null && [ $n -lt 50 ]; do
		n=$((n + 1))
		sleep 0.1
	done
}
stop "$CHARON_I"
sleep 1
stop "$CHARON_R"
sleep 1

cp "$OUT/i/charon.log" "$OUT/initiator.log"
cp "$OUT/r/charon.log" "$OUT/responder.log"
echo "captured $IKE_PROPOSAL / $ESP_PROPOSAL into $OUT"
