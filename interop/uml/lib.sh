# Shared by the guest scenarios (sourced; runs inside the UML guest as root).
# Results go to $HL_OUT/result.txt as KEY=VALUE lines.
UML_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RESULT=$HL_OUT/result.txt
: >"$RESULT"

# The lab's addresses (the same as interop/strongswan and the ipsec fixture).
AWS1=198.51.100.1
AWS2=198.51.100.3
CGW_IP=198.51.100.2      # the customer gateway's public address
CGW_LAN=192.168.1.2      # its own address when it sits behind the NAT
AWS_INSIDE1=169.254.10.1 CGW_INSIDE1=169.254.10.2
AWS_INSIDE2=169.254.10.5 CGW_INSIDE2=169.254.10.6
VPC_CIDR=10.0.0.0/16
PSK1=interop.tunnel1_Secret
PSK2=interop.tunnel2_Secret

result() { echo "$1=$2" >>"$RESULT"; echo "RESULT $1=$2"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
log() { echo "[$(uptime_s)] $*"; }

render() { # TEMPLATE OUTPUT: fill {{name}} from the variables above
    sed -e "s|{{cgw_ip}}|$CGW_IP|g" -e "s|{{aws1}}|$AWS1|g" -e "s|{{aws2}}|$AWS2|g" \
        -e "s|{{cgw_inside1}}|$CGW_INSIDE1|g" -e "s|{{cgw_inside2}}|$CGW_INSIDE2|g" \
        -e "s|{{aws_inside1}}|$AWS_INSIDE1|g" -e "s|{{aws_inside2}}|$AWS_INSIDE2|g" \
        -e "s|{{vpc_cidr}}|$VPC_CIDR|g" -e "s|{{psk1}}|$PSK1|g" -e "s|{{psk2}}|$PSK2|g" \
        -e "s|{{log}}|${LOGFILE:-/dev/null}|g" "$1" >"$2"
}

# Namespaces: `aws` (198.51.100.1 and .3) and `cgw`. With NAT=1 the customer
# gateway sits behind a NAT router (namespace `nat`, public 198.51.100.2,
# customer LAN 192.168.1.0/24), as many real ones do: IKE floats to 4500
# and ESP rides in UDP (RFC 3947/3948) with the published configuration
# unchanged. Without NAT the customer gateway has 198.51.100.2 itself and
# ESP is IP protocol 50.
setup_net() {
    local nat=${1:-0}
    ip netns add aws
    ip netns add cgw
    for ns in aws cgw; do ip -n "$ns" link set lo up; done
    if [[ $nat == 1 ]]; then
        ip netns add nat
        ip -n nat link set lo up
        ip link add wan0 netns aws type veth peer name wan0 netns nat
        ip link add eth0 netns cgw type veth peer name lan0 netns nat
        ip -n nat addr add "$CGW_IP/24" dev wan0
        ip -n nat addr add 192.168.1.1/24 dev lan0
        ip -n nat link set wan0 up
        ip -n nat link set lan0 up
        ip netns exec nat sysctl -qw net.ipv4.ip_forward=1
        ip netns exec nat iptables -t nat -A POSTROUTING -o wan0 -j SNAT --to-source "$CGW_IP"
        ip -n cgw addr add "$CGW_LAN/24" dev eth0
        ip -n cgw link set eth0 up
        ip -n cgw route add default via 192.168.1.1
    else
        ip link add wan0 netns aws type veth peer name eth0 netns cgw
        ip -n cgw addr add "$CGW_IP/24" dev eth0
        ip -n cgw link set eth0 up
        ip -n cgw route add default via "$AWS1"
    fi
    ip -n aws addr add "$AWS1/24" dev wan0
    ip -n aws addr add "$AWS2/24" dev wan0
    ip -n aws link set wan0 up
}

# Start strongSwan's starter + charon (`ipsec start`, as AWS's instructions
# say) in namespace NS with the files in DIR (ipsec.conf, ipsec.secrets,
# strongswan.conf, ipsec.d/) bind-mounted over their /etc paths and a fresh
# /run (pid files and the stroke socket have fixed paths), all private to
# the mount namespace `ip netns exec` creates. Sets IPSEC_PID[NS].
declare -A IPSEC_PID
start_ipsec() {
    local ns=$1 dir=$2
    ip netns exec "$ns" sh -c "
        mount -t tmpfs tmpfs /run &&
        mount --bind $dir/ipsec.conf /etc/ipsec.conf &&
        mount --bind $dir/ipsec.secrets /etc/ipsec.secrets &&
        mount --bind $dir/strongswan.conf /etc/strongswan.conf &&
        mount --bind $dir/ipsec.d /etc/ipsec.d &&
        exec ipsec start --nofork" >"$dir/starter.out" 2>&1 &
    IPSEC_PID[$ns]=$!
}
# Run an `ipsec` command (status, statusall, ...) against NS's charon.
ipsec_in() {
    local ns=$1; shift
    nsenter -t "${IPSEC_PID[$ns]}" -m -n ipsec "$@"
}

prepare_ipsec_dir() { # DIR CONF_TMPL SECRETS_TMPL
    local dir=$1
    mkdir -p "$dir/ipsec.d"
    ln -s "$UML_DIR/aws-updown.sh" "$dir/ipsec.d/aws-updown.sh"
    LOGFILE=$dir/charon.log render "$UML_DIR/strongswan.conf.tmpl" "$dir/strongswan.conf"
    render "$2" "$dir/ipsec.conf"
    render "$3" "$dir/ipsec.secrets"
    chmod 600 "$dir/ipsec.secrets"
}

# Wait until namespace NS has N xfrm states (2 per CHILD_SA); prints the
# seconds waited, returns 1 after TIMEOUT seconds.
wait_xfrm_states() {
    local ns=$1 n=$2 timeout=$3 start now
    start=$(uptime_s)
    while :; do
        if (( $(ip -n "$ns" xfrm state | grep -c '^src') >= n )); then
            awk -v a="$start" -v b="$(uptime_s)" 'BEGIN { printf "%.2f\n", b - a }'
            return 0
        fi
        now=$(uptime_s)
        if awk -v a="$start" -v b="$now" -v t="$timeout" 'BEGIN { exit !(b - a > t) }'; then
            return 1
        fi
        sleep 0.05
    done
}

# Packets counted by each xfrm state of NS: "SRC>DST:SPI=PACKETS" per line.
xfrm_packets() {
    ip -n "$1" -s xfrm state | awk '
        /^src/ { sd = $2 ">" $4 }
        /proto esp spi/ { spi = $4; sub(/\(.*/, "", spi) }
        /lifetime current:/ { getline; gsub(/\(packets\)/, "", $2); print sd "/" spi "=" $2 }'
}

# Ping DST COUNT times from NS; records RESULT key_{tx,rx,avg_ms}.
ping_check() {
    local ns=$1 dst=$2 count=$3 key=$4 out
    out=$(ip netns exec "$ns" ping -n -q -c "$count" -i 0.05 -W 2 "$dst" 2>&1)
    echo "$out"
    result "${key}_tx" "$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' <<<"$out")"
    result "${key}_rx" "$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")"
    result "${key}_avg_ms" "$(sed -n 's|^rtt .* = [0-9.]*/\([0-9.]*\)/.*|\1|p' <<<"$out")"
}

# Compare two xfrm_packets outputs: RESULT xfrm_sa_N=SRC>DST/SPI B->A per
# SA and xfrm_sas_moved=MOVED/TOTAL.
check_xfrm_moved() {
    local ns=$1 before=$2 after=$3 moved=0 total=0 sa n b
    while IFS== read -r sa n; do
        [[ -n $sa ]] || continue
        total=$((total + 1))
        b=$(grep -F "$sa=" <<<"$before" | cut -d= -f2)
        (( n > ${b:-0} )) && moved=$((moved + 1))
        result "xfrm_sa_$total" "$sa ${b:-0}->$n"
    done <<<"$after"
    result xfrm_sas_moved "$moved/$total"
}
