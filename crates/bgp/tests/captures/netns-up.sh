set -e
ip netns add hlcap-a
ip netns add hlcap-b
ip link add hlcapa0 type veth peer name hlcapb0
ip link set hlcapa0 netns hlcap-a
ip link set hlcapb0 netns hlcap-b
ip -n hlcap-a link set lo up
ip -n hlcap-b link set lo up
ip -n hlcap-a addr add 192.0.2.1/24 dev hlcapa0
ip -n hlcap-b addr add 192.0.2.2/24 dev hlcapb0
ip -n hlcap-a addr add 2001:db8:cafe::1/64 dev hlcapa0 nodad
ip -n hlcap-b addr add 2001:db8:cafe::2/64 dev hlcapb0 nodad
ip -n hlcap-a link set hlcapa0 up
ip -n hlcap-b link set hlcapb0 up
