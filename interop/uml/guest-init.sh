#!/bin/bash
# PID 1 of the user-mode-linux guest that interop/uml/run-guest boots.
# The root file system is the host's, read-only (hostfs); HL_SCRIPT and
# HL_OUT come from the kernel command line.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C

mount -t proc proc /proc
t0=$(cut -d' ' -f1 /proc/uptime)
mount -t sysfs sysfs /sys
# The kernel mounts devtmpfs on /dev itself (DEVTMPFS_MOUNT); only when it
# did not.
[[ -c /dev/null ]] || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
# The results folder, read-write through to the host, at /run/out (the
# host path may be under /tmp, which the guest's tmpfs hides); the script
# is copied before that happens.
mkdir -p /run/out
mount -t hostfs none /run/out -o "$HL_OUT"
cp "$HL_SCRIPT" /run/guest-script.sh
# The repository too: a checkout under /tmp or /var/tmp (CI clones there)
# would vanish under the guest's tmpfs, so it is seen through /mnt (an
# existing empty directory of the read-only root; not under /run, which the
# scenarios' namespaces replace with their own tmpfs) and the script's path
# follows.
repo=$(cd "$(dirname "$HL_SCRIPT")/../.." && pwd)
guest_repo=/mnt
mount -t hostfs none "$guest_repo" -o "$repo"
HL_SCRIPT=$guest_repo/${HL_SCRIPT#"$repo"/}
export HL_SCRIPT
HL_HOST_OUT=$HL_OUT
export HL_OUT=/run/out HL_HOST_OUT
for d in /tmp /var/tmp; do mount -t tmpfs tmpfs "$d"; done
# /var/run is a link to /run; /var/lib and /var/log stay read-only, so
# every daemon writes under /run or /tmp.

# Modules: modprobe looks in /lib/modules/$(uname -r), which the host does
# not have; a folder in tmpfs links the UML package's modules there, and
# the kernel's own module requests (xfrm algorithms, vti) go through the
# same wrapper.
kver=$(uname -r)
mkdir -p /run/uml-modules/lib/modules
ln -s "/usr/lib/uml/modules/$kver" "/run/uml-modules/lib/modules/$kver"
# Crypto template instances ("crypto-hmac(sha1)", "...-all") are never
# modules: the kernel asks anyway before building them, and each modprobe
# costs ~70 ms in the guest, a second on the first SA install. Refuse those
# names at once.
cat >/run/uml-modules/modprobe <<'W'
#!/bin/sh
case "$*" in *'('*) exit 1 ;; esac
exec /sbin/modprobe -d /run/uml-modules "$@"
W
chmod +x /run/uml-modules/modprobe
echo /run/uml-modules/modprobe >/proc/sys/kernel/modprobe
mods="esp4 xfrm_user xfrm4_tunnel tunnel4 ip_vti veth authenc cbc hmac aes_generic sha1_generic
      sha256_generic echainiv xfrm_algo af_key iptable_mangle xt_mark xt_TCPMSS xt_tcpudp
      nf_nat nf_conntrack iptable_nat xt_nat xt_esp drbg ansi_cprng sha512_generic"
for m in $mods; do
    /run/uml-modules/modprobe "$m" 2>>"$HL_OUT/modules.log" || echo "no module $m" >>"$HL_OUT/modules.log"
done

# iptables: Debian's default is the nf_tables flavour, whose mangle and
# nat chains need nf_tables chain types this guest kernel lacks; the
# legacy x_tables flavour has its modules. What `update-alternatives --set
# iptables /usr/sbin/iptables-legacy` would do, on a copy of
# /etc/alternatives (charon's updown scripts get a fixed PATH, so it has
# to be the system's `iptables`).
cp -a /etc/alternatives /run/alternatives
for t in iptables iptables-save iptables-restore; do
    ln -sfn "/usr/sbin/${t/iptables/iptables-legacy}" "/run/alternatives/$t"
done
mount --bind /run/alternatives /etc/alternatives

ip link set lo up
hostname hybridlab-uml
t1=$(cut -d' ' -f1 /proc/uptime)
{
    echo "guest_kernel=$kver"
    echo "guest_uptime_at_init=$t0"
    echo "guest_uptime_ready=$t1"
} >"$HL_OUT/guest.txt"

args=()
if [[ -f $HL_OUT/args ]]; then
    while IFS= read -r -d '' a; do
        # Host paths inside the repository (the hybridlab binary) are seen
        # through the guest's mount of it.
        [[ $a == "$repo"/* ]] && a=$guest_repo/${a#"$repo"/}
        args+=("$a")
    done <"$HL_OUT/args"
fi
cd "$HL_OUT"
bash /run/guest-script.sh "${args[@]}" >"$HL_OUT/guest.log" 2>&1
status=$?
echo "guest_uptime_done=$(cut -d' ' -f1 /proc/uptime)" >>"$HL_OUT/guest.txt"
echo "$status" >"$HL_OUT/status"
sync
umount "$HL_OUT" 2>/dev/null
# No init system: power off straight away (SysRq o), else halt the kernel.
echo 1 >/proc/sys/kernel/sysrq 2>/dev/null
echo o >/proc/sysrq-trigger 2>/dev/null
sleep 5
exec /sbin/poweroff -f
