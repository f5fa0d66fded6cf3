# Sourced (POSIX sh) by the by-hand strongSwan scripts of the crates:
# crates/ike/tests/interop/strongswan.sh, crates/ipsec-tunnel/tests/interop/
# strongswan_bgp.sh and crates/isakmp/tests/capture/capture-main-mode.sh.
# The end-to-end tests do the same in Rust (tests/common/strongswan.rs).
#
#   NA=... NB=... . interop/strongswan/netns-pair.sh
#   netns_pair IFPREFIX           NA (192.0.2.1) and NB (192.0.2.2) joined by
#                                 veth IFPREFIX-va / IFPREFIX-vb, and the
#                                 clean-up on exit: $CHARONS killed first (so
#                                 their Deletes still reach a capture), then
#                                 $PIDS, then the namespaces.
#   charon_conf FILE LOG VICI LEVELS...
#                                 a private strongswan.conf (interop-notes:
#                                 explicit plugin list, vici socket and log
#                                 where asked); LEVELS are filelog lines such
#                                 as "ike = 2".

PIDS=${PIDS:-}
CHARONS=${CHARONS:-}

netns_cleanup() {
    if [ -n "$CHARONS" ]; then
        for p in $CHARONS; do kill "$p" 2>/dev/null || true; done
        sleep 1
    fi
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    ip netns del "$NA" 2>/dev/null || true
    ip netns del "$NB" 2>/dev/null || true
}

netns_pair() {
    trap netns_cleanup EXIT INT TERM
    ip netns add "$NA"
    ip netns add "$NB"
    ip link add "$1-va" netns "$NA" type veth peer name "$1-vb" netns "$NB"
    ip -n "$NA" addr add 192.0.2.1/24 dev "$1-va"
    ip -n "$NB" addr add 192.0.2.2/24 dev "$1-vb"
    for ns in "$NA" "$NB"; do ip -n "$ns" link set lo up; done
    ip -n "$NA" link set "$1-va" up
    ip -n "$NB" link set "$1-vb" up
}

charon_conf() {
    file=$1 log=$2 vici=$3
    shift 3
    {
        cat <<CONF
charon {
    load_modular = no
    load = random nonce openssl aes sha1 sha2 hmac kdf gmp socket-default vici updown kernel-libipsec kernel-netlink
    install_routes = no
    filelog {
        log {
            path = $log
            default = 1
CONF
        for level in "$@"; do printf '            %s\n' "$level"; done
        cat <<CONF
        }
    }
    plugins {
        vici {
            socket = unix://$vici
        }
    }
}
CONF
    } >"$file"
}
