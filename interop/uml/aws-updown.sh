#!/bin/bash
# The `leftupdown` script of AWS's downloadable strongSwan configuration
# (route-based VTI, aws-behavior.md "Generated customer gateway
# configuration" part C), as charon's updown plugin runs it:
#
#   aws-updown.sh -ln Tunnel1 -ll 169.254.10.2/30 -lr 169.254.10.1/30 -m 100 -r 10.0.0.0/16
#
# up-client: a VTI named after the tunnel, keyed with the connection's mark
# (outbound packets routed into it get that mark and so match the
# connection's mark=100 policy and SA), the inside address with the AWS end
# as peer, MTU 1419; forwarding on, rp_filter loose and no policy check on
# the VTI, no xfrm on the physical interface (IKE and ESP themselves must
# bypass the 0.0.0.0/0 policies); TCP MSS clamped on forwarding into the
# VTI and inbound ESP from the AWS end marked with the tunnel's mark;
# optionally a static route to the VPC CIDR(s) with metric = mark (tunnel 1
# preferred). down-client undoes it. Output goes to charon's log.
set -u

name="" local_inside="" remote_inside="" mark="" routes=""
while (($# > 1)); do
    case $1 in
        -ln | --link-name) name=$2 ;;
        -ll | --link-local) local_inside=$2 ;;
        -lr | --link-remote) remote_inside=$2 ;;
        -m | --mark) mark=$2 ;;
        -r | --static-route) routes=$2 ;;
        *) echo "aws-updown: unknown argument $1" >&2 ;;
    esac
    shift 2
done
phys=${PLUTO_INTERFACE:-}
me=${PLUTO_ME:-}
peer=${PLUTO_PEER:-}

up() {
    ip link add "$name" type vti local "$me" remote "$peer" key "$mark"
    ip addr add "$local_inside" remote "$remote_inside" dev "$name"
    ip link set "$name" up mtu 1419
    sysctl -qw net.ipv4.ip_forward=1
    sysctl -qw "net.ipv4.conf.$name.rp_filter=2"
    sysctl -qw "net.ipv4.conf.$name.disable_policy=1"
    if [[ -n $phys ]]; then
        sysctl -qw "net.ipv4.conf.$phys.disable_xfrm=1"
        sysctl -qw "net.ipv4.conf.$phys.disable_policy=1"
    fi
    iptables -t mangle -A FORWARD -o "$name" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
    iptables -t mangle -A INPUT -p esp -s "$peer" -d "$me" -j MARK --set-xmark "$mark"
    local r
    IFS=',' read -ra r <<<"$routes"
    for net in "${r[@]}"; do
        ip route add "$net" dev "$name" metric "$mark"
    done
}

down() {
    local r
    IFS=',' read -ra r <<<"$routes"
    for net in "${r[@]}"; do
        ip route del "$net" dev "$name" metric "$mark"
    done
    iptables -t mangle -D FORWARD -o "$name" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
    iptables -t mangle -D INPUT -p esp -s "$peer" -d "$me" -j MARK --set-xmark "$mark"
    ip link del "$name"
}

echo "aws-updown: $name ${PLUTO_VERB:-?} me=$me peer=$peer mark=$mark"
case ${PLUTO_VERB:-} in
    up-client) up ;;
    down-client) down ;;
esac
exit 0
