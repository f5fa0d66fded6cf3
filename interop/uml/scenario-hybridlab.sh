# Guest scenario: hybridlab's VGW (`hybridlab run vgw-ipsec.toml`, VPN with
# ipsec = true) in namespace `aws`; the customer gateway in `cgw` is AWS's
# strongSwan download unchanged (kernel ESP, VTIs with marks, aws-updown.sh)
# plus FRR bgpd over the VTIs.
# Usage (host): interop/uml/run-guest interop/uml/scenario-hybridlab.sh [nat|direct] [HYBRIDLAB-BINARY]
# `nat` (default): the customer gateway sits behind a NAT router, so IKE
# floats to 4500 and ESP rides in UDP; `direct`: no NAT, ESP as IP
# protocol 50.
set -u
source "$(dirname "$HL_SCRIPT")/lib.sh"
MODE=${1:-nat}
NAT=0; [[ $MODE == nat ]] && NAT=1
HL=${2:-$(cd "$UML_DIR/../.." && pwd)/target/release/hybridlab}
TOPO=$UML_DIR/vgw-ipsec.toml
result scenario "hybridlab-$MODE"
result guest_boot_s "$(uptime_s)"

setup_net "$NAT"
prepare_ipsec_dir /tmp/ns/cgw "$UML_DIR/cgw/ipsec.conf.tmpl" "$UML_DIR/cgw/ipsec.secrets.tmpl"

# hybridlab's VGW. Its control API on the namespace's own loopback.
hl() { ip netns exec aws "$HL" "$@"; }
hl run "$TOPO" --log info,hybridlab_runtime=debug >"$HL_OUT/hybridlab.log" 2>&1 &
HL_PID=$!
for i in $(seq 1 100); do
    hl show sessions >/dev/null 2>&1 && break
    sleep 0.1
done
result hybridlab_api_s "$(uptime_s)"

# FRR bgpd in cgw, before the tunnels: it connects once the VTIs exist.
FRR=/tmp/frr
mkdir -p "$FRR"
sed "s|{{dir}}|$FRR|g" "$UML_DIR/cgw/bgpd.conf.tmpl" >"$FRR/bgpd.conf"
chown -R frr:frr "$FRR"
ip netns exec cgw /usr/lib/frr/bgpd -P 0 -n -p 179 --vty_socket "$FRR" -z "$FRR/zserv.api" \
    -i "$FRR/bgpd.pid" -f "$FRR/bgpd.conf" >"$FRR/bgpd.out" 2>&1 &
vtysh_json() { ip netns exec cgw vtysh --vty_socket "$FRR" -c "$1"; }

t0=$(uptime_s)
start_ipsec cgw /tmp/ns/cgw
if secs=$(wait_xfrm_states cgw 4 40); then
    result establish_s "$secs"
else
    result establish_s timeout
fi

# BGP Established over both VTIs, as FRR sees it.
# At most 30 s (each vtysh call costs ~0.1 s in the guest).
bgp_up=0
while awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { exit !(b - a < 30) }'; do
    n=$(vtysh_json 'show ip bgp summary json' 2>/dev/null | grep -o '"state":"Established"' | wc -l)
    if [[ $n -ge 2 ]]; then bgp_up=1; break; fi
    sleep 0.1
done
if [[ $bgp_up == 1 ]]; then
    result bgp_established_s "$(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.2f", b - a }')"
else
    result bgp_established_s timeout
fi
summary=$(vtysh_json 'show ip bgp summary json' 2>&1)
echo "== FRR: show ip bgp summary json"; echo "$summary"
for peer in "$AWS_INSIDE1" "$AWS_INSIDE2"; do
    st=$(ip netns exec cgw vtysh --vty_socket "$FRR" -c "show ip bgp neighbors $peer json" 2>/dev/null |
        grep -o '"bgpState":"[A-Za-z]*"' | head -1 | cut -d'"' -f4)
    result "frr_bgp_${peer}" "${st:-unknown}"
done
echo "== FRR: show ip bgp"; vtysh_json 'show ip bgp'
# The VPC's prefix as FRR learned it, and through which VTI.
result frr_vpc_route "$(vtysh_json 'show ip bgp 10.0.0.0/16 json' 2>/dev/null | grep -c '"valid":true')"

# hybridlab's view: VGW sessions and the VPC's route to the customer prefix.
# The VPC route is propagated once the VGW accepts FRR's prefix: give it
# a few seconds after Established.
for i in $(seq 1 $((bgp_up ? 50 : 1))); do
    hl show routes prod 2>/dev/null | grep -q 172.16.0.0/16 && break
    sleep 0.2
done
echo "== hybridlab: show sessions"; hl show sessions 2>&1
echo "== hybridlab: show vgw vgw1"; hl show vgw vgw1 2>&1
echo "== hybridlab: show routes prod"; routes=$(hl show routes prod 2>&1); echo "$routes"
result hl_sessions_established "$(hl show sessions 2>/dev/null | grep -c Established)"
result hl_vpc_route_172_16 "$(grep -c '172.16.0.0/16' <<<"$routes")"
hl show tunnels >/dev/null 2>&1 && { echo "== hybridlab: show tunnels"; hl show tunnels 2>&1; }

echo "== cgw: VTIs"; ip -n cgw -d link show type vti
echo "== cgw: routes"; ip -n cgw route
echo "== cgw: ipsec statusall"; ipsec_in cgw statusall
echo "== cgw: xfrm before"; before=$(xfrm_packets cgw); echo "$before"
ping_check cgw "$AWS_INSIDE1" 20 ping_tunnel1
ping_check cgw "$AWS_INSIDE2" 20 ping_tunnel2
ping_check cgw 10.0.0.10 10 ping_vpc
echo "== cgw: ip -s xfrm state"; ip -n cgw -s xfrm state
after=$(xfrm_packets cgw); echo "$after"
result xfrm_states "$(ip -n cgw xfrm state | grep -c '^src')"
check_xfrm_moved cgw "$before" "$after"
result esp_encap "$(ip -n cgw xfrm state | grep -c 'encap type espinudp')"
result vti_marks "$(ip -n cgw -d link show type vti | grep -o 'ikey [0-9.]*' | tr '\n' ' ')"
echo "== cgw: VTI counters"; ip -n cgw -s link show Tunnel1; ip -n cgw -s link show Tunnel2
# hybridlab's own ESP counters for the same SAs (SPI IN/OUT = the cgw's
# outbound/inbound SPIs).
echo "== hybridlab: show tunnels (after the pings)"; hl show tunnels 2>&1
result done 1

kill "$HL_PID" 2>/dev/null
cp /tmp/ns/cgw/charon.log "$HL_OUT/cgw-charon.log" 2>/dev/null
cp "$FRR/bgpd.log" "$HL_OUT/bgpd.log" 2>/dev/null
cat /tmp/ns/cgw/starter.out "$FRR/bgpd.out"
