# Guest scenario: the AWS strongSwan download (kernel ESP, VTIs with marks)
# as the customer gateway against a second strongSwan set up like AWS's
# end. Usage (host): interop/uml/run-guest interop/uml/scenario-strongswan.sh [nat]
# `nat`: the customer gateway sits behind a NAT router (ESP in UDP 4500).
set -u
source "$(dirname "$HL_SCRIPT")/lib.sh"
NAT=0; [[ ${1:-} == nat ]] && NAT=1
result scenario "strongswan$([[ $NAT == 1 ]] && echo -nat)"
result guest_boot_s "$(uptime_s)"

setup_net "$NAT"
[[ $NAT == 1 ]] && CGW_BIND=$CGW_LAN || CGW_BIND=$CGW_IP

prepare_ipsec_dir /tmp/ns/aws "$UML_DIR/aws-strongswan/ipsec.conf.tmpl" "$UML_DIR/aws-strongswan/ipsec.secrets.tmpl"
prepare_ipsec_dir /tmp/ns/cgw "$UML_DIR/cgw/ipsec.conf.tmpl" "$UML_DIR/cgw/ipsec.secrets.tmpl"
# Something on the AWS side to reach through the VPC route the download
# installs (-r): one VPC address.
ip -n aws addr add 10.0.0.10/32 dev lo

start_ipsec aws /tmp/ns/aws
sleep 1 # the responder listens before the customer gateway (auto=start) begins
t0=$(uptime_s)
start_ipsec cgw /tmp/ns/cgw
if secs=$(wait_xfrm_states cgw 4 30); then
    result establish_s "$secs"
else
    result establish_s timeout
fi
# The updown script runs right after the SAs are installed.
for i in $(seq 1 40); do
    ip -n cgw link show Tunnel2 >/dev/null 2>&1 && ip -n cgw link show Tunnel1 >/dev/null 2>&1 && break
    sleep 0.1
done
result vti_ready_s "$(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.2f", b - a }')"

echo "== cgw: ip -d link (VTIs)"; ip -n cgw -d link show type vti
echo "== cgw: addresses"; ip -n cgw addr
echo "== cgw: routes"; ip -n cgw route
echo "== cgw: xfrm policy"; ip -n cgw xfrm policy
echo "== cgw: iptables mangle"; ip netns exec cgw iptables -t mangle -S
echo "== aws: ipsec statusall"; ipsec_in aws statusall
echo "== cgw: ipsec statusall"; ipsec_in cgw statusall

echo "== cgw: xfrm before"; before=$(xfrm_packets cgw); echo "$before"
ping_check cgw "$AWS_INSIDE1" 20 ping_tunnel1
ping_check cgw "$AWS_INSIDE2" 20 ping_tunnel2
ping_check cgw 10.0.0.10 10 ping_vpc
echo "== cgw: ip -s xfrm state"; ip -n cgw -s xfrm state
after=$(xfrm_packets cgw); echo "$after"
result xfrm_states "$(ip -n cgw xfrm state | grep -c '^src')"
# Each SA's packet counter must have moved: both directions of both tunnels.
check_xfrm_moved cgw "$before" "$after"
result esp_encap "$(ip -n cgw xfrm state | grep -c 'encap type espinudp')"
echo "== cgw: VTI counters"; ip -n cgw -s link show Tunnel1; ip -n cgw -s link show Tunnel2
result vti_marks "$(ip -n cgw -d link show type vti | grep -o 'ikey [0-9.]*' | tr '\n' ' ')"
result done 1

cp /tmp/ns/aws/charon.log "$HL_OUT/aws-charon.log" 2>/dev/null
cp /tmp/ns/cgw/charon.log "$HL_OUT/cgw-charon.log" 2>/dev/null
cat /tmp/ns/*/starter.out
