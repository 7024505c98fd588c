#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Pod networking through Debian's CNI plugins, in the test host's own network namespace: a network
# namespace per pod, rkt's default and default-restricted networks, none, host, a named bridge network,
# ports by name and number (from 127.0.0.1 and the host's address), DNS and hosts entries, what list,
# status and machinectl show, bad configurations, and that nothing leaks (gc of a killed pod included).
set -euxo pipefail
. "$ROCKET_TEST_DIR/integration/lib.sh"

pod_test_setup
[ -x /usr/lib/cni/ptp ] || { echo "containernetworking-plugins is not installed"; exit 1; }

# What the host's network looks like with no pod: every test must leave it so.
snapshot() {
        { ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
          iptables-save | grep -v '^#' | sed 's/\[[0-9:]*\]//' | sort
          ls /run/netns 2>/dev/null
          find /var/lib/rocket/networks -type f 2>/dev/null | grep -v '/lock$\|/last_reserved_ip' | sort
        } | grep -v '^$' || true
}
# "Outside": a second network namespace behind a veth, 192.0.2.2, that knows no route to the pods.
ip netns add outside
trap 'ip netns del outside 2>/dev/null || true' EXIT
ip link add out0 type veth peer name eth0 netns outside
ip addr add 192.0.2.1/24 dev out0
ip link set out0 up
ip -n outside addr add 192.0.2.2/24 dev eth0
ip -n outside link set eth0 up
ip -n outside link set lo up
mkdir -p "$fx/www"
echo outside >"$fx/www/index.html"
ip netns exec outside busybox httpd -p 192.0.2.2:9000 -h "$fx/www"
# The plugins' own top-level chains (CNI-HOSTPORT-DNAT, CNI-FORWARD…) stay once made, as with every CNI
# runtime: the reference is taken after one pod with a port has come and gone.
rocket run --port=8099:80 "$img" --exec /bin/true
before=$(snapshot)

pod_ip() {      # pod_ip POD: its address on its first network
        rocket status --format=json "$1" | jq -r '.networks[0].addresses[0]' | cut -d/ -f1
}
serve() {       # serve NAME [OPTIONS…]: a pod with httpd on :80, running in the background until stopped
        local name=$1
        shift
        rocket run --name="$name" "$@" "$img" --exec /bin/sh -- -c \
                'echo "pod $(hostname)" >/tmp/index.html; exec httpd -f -p 80 -h /tmp' >/dev/null 2>&1 &
        wait_until "rocket status --format=json $name 2>/dev/null | jq -e '.networks[0].addresses[0]' >/dev/null \
                || rocket status $name 2>/dev/null | grep -q 'app-.*=running'"
}

# --- a network of its own by default: eth0 with a 172.16.28.x address, lo, a default route ----------------
out=$(rocket run "$img" --exec /bin/sh -- -c 'ls /sys/class/net | tr "\n" " "; ip -4 -o addr show eth0; ip route')
assert_in "eth0 lo" "$out"
assert_in "inet 172.16.28." "$out"
assert_in "default via 172.16.28." "$out"

# --- two pods both on :80 at once; host → pod, pod → pod; machinectl, list and status show the address -
serve web1
serve web2
wait_until "[ \"\$(pod_ip web1)\" != null ] && [ \"\$(pod_ip web2)\" != null ]"
ip1=$(pod_ip web1)
ip2=$(pod_ip web2)
[ "$ip1" != "$ip2" ]
wait_until "busybox wget -qO- http://$ip1/index.html | grep -q 'pod web1'"
wait_until "busybox wget -qO- http://$ip2/index.html | grep -q 'pod web2'"
assert_eq "$(rocket run "$img" --exec /bin/wget -- -qO- "http://$ip2/index.html")" "pod web2"
assert_in "$ip1" "$(machinectl status web1 --no-pager)"
assert_in "Iface:" "$(machinectl status web1 --no-pager)"
assert_in "default:$ip1/24" "$(rocket list --no-legend)"
assert_in "network-default=eth0 $ip1/24" "$(rocket status web1)"
# enter joins the pod's network namespace
assert_in "inet $ip1/24" "$(rocket enter web1 /bin/ip -4 -o addr show eth0)"
uuid1=$(rocket status --format=json web1 | jq -r .uuid)
ip netns list | grep -q "rocket-$uuid1"
assert_in "inet $ip1/24" "$(ip netns exec "rocket-$uuid1" ip -4 -o addr show eth0)"
# CNI CHECK of a healthy pod's network
assert_eq "$(rocket status --check-networks web1)" "network-default=ok"
# --- masquerade: the pod reaches "outside", which has no route back to the pods --------------------------
assert_in "ok" "$(rocket run "$img" --exec /bin/sh -- -c 'wget -qO- http://192.0.2.2:9000/ >/dev/null && echo ok')"

# --- the host's loopback services and ports are out of a default pod's reach ------------------------
busybox nc -l -p 7000 -s 127.0.0.1 </dev/null >/dev/null 2>&1 & ncpid=$!
out=$(rocket run "$img" --exec /bin/sh -- -c 'nc -w 1 127.0.0.1 7000 </dev/null 2>/dev/null && echo reached || echo unreachable')
assert_eq "$out" "unreachable"
kill $ncpid 2>/dev/null || true
wait $ncpid 2>/dev/null || true

# --- default-restricted: the host and the pod only -------------------------------------------------------
out=$(rocket run --net=default-restricted "$img" --exec /bin/sh -- -c \
        'ip route; wget -T 2 -qO- http://192.0.2.2:9000/ >/dev/null 2>&1 && echo out || echo no-out')
assert_in "172.17." "$out"
assert_in "no-out" "$out"
[[ "$out" != *default* ]]
serve rweb --net=default-restricted
wait_until "[ \"\$(pod_ip rweb)\" != null ]"
wait_until "busybox wget -qO- http://$(pod_ip rweb)/index.html | grep -q 'pod rweb'"

# --- none: lo only; host: the host's interfaces -------------------------------------------------------
assert_eq "$(rocket run --net=none "$img" --exec /bin/ls -- /sys/class/net)" "lo"
assert_in "out0" "$(rocket run --net=host "$img" --exec /bin/sh -- -c 'ls /sys/class/net')"

# --- fly has only the host's network: its default, and anything else refused in one line -----------
assert_in "out0" "$(rocket run --stage1-name=fly "$img" --exec /bin/ls -- /sys/class/net)"
assert_fails_with 254 "cannot honour a network of the pod's own" rocket run --stage1-name=fly --net=default "$img" --exec /bin/true

# --- ports: by the image's name and by number, from 127.0.0.1 and the host's address; clashes refused --
serve pweb --port=80-tcp:8080 --port=8081:80
wait_until "busybox wget -qO- http://127.0.0.1:8080/index.html | grep -q 'pod pweb'"
assert_in "pod pweb" "$(busybox wget -qO- http://192.0.2.1:8081/index.html)"
assert_in "pod pweb" "$(ip netns exec outside busybox wget -qO- http://192.0.2.1:8080/index.html)"
assert_in "pod pweb" "$(rocket run "$img" --exec /bin/wget -- -qO- http://192.0.2.1:8081/index.html)"
assert_fails_with 254 "Host port 8080/tcp is in use" rocket run --port=8080:80 "$img" --exec /bin/true
busybox nc -l -p 8090 </dev/null >/dev/null 2>&1 & ncpid=$!
sleep 0.2
assert_fails_with 254 "Host port 8090/tcp is in use" rocket run --port=8090:80 "$img" --exec /bin/true
kill $ncpid 2>/dev/null || true
wait $ncpid 2>/dev/null || true
assert_fails_with 254 "no image of the pod declares a port of that name" rocket run --port=http:8082 "$img" --exec /bin/true
assert_fails_with 2 "invalid pod port" rocket run --port=80:x "$img" --exec /bin/true
assert_fails_with 254 "has the host's ports already" rocket run --net=host --port=8083:80 "$img" --exec /bin/true
iptables-save -t nat | grep -q 'dport 8080'
rocket stop pweb
wait_until "! rocket status pweb | grep -q state=running"
sleep 0.5
assert_not_in 'dport 8080' "$(iptables-save -t nat)"

# --- DNS and hosts -----------------------------------------------------------------------------------
cat /etc/resolv.conf >"$fx/host-resolv" 2>/dev/null || true
assert_eq "$(rocket run "$img" --exec /bin/cat -- /etc/resolv.conf)" "$(cat "$fx/host-resolv")"
out=$(rocket run --dns=192.0.2.53 --dns=192.0.2.54 --dns-search=example.test --dns-opt=ndots:2 "$img" \
        --exec /bin/cat -- /etc/resolv.conf)
assert_eq "$out" "$(printf 'nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch example.test\noptions ndots:2')"
out=$(rocket run --dns=none "$img" --exec /bin/sh -- -c 'cat /etc/resolv.conf 2>&1 || true')
[[ "$out" != *nameserver* ]]
out=$(rocket run --hosts-entry=192.0.2.7=db.test --hosts-entry=192.0.2.8=cache.test --hostname=h1 "$img" \
        --exec /bin/cat -- /etc/hosts)
assert_in "192.0.2.7	db.test" "$out"
assert_in "192.0.2.8	cache.test" "$out"
assert_in "172.16.28." "$out"        # the hostname at the pod's own address
echo "192.0.2.99	marker.test" >>/etc/hosts        # the test host's /etc is its own tmpfs
assert_eq "$(rocket run --hosts-entry=host "$img" --exec /bin/cat -- /etc/hosts)" "$(cat /etc/hosts)"

# --- a named bridge network in /etc/rocket/net.d, with the default one beside it ---------------------
mkdir -p /etc/rocket/net.d
cat >/etc/rocket/net.d/10-br.conflist <<'EOF'
{ "cniVersion": "1.0.0", "name": "br-test", "plugins": [
  { "type": "bridge", "bridge": "rkbr0", "isGateway": true,
    "dns": { "nameservers": [ "192.0.2.60" ], "search": [ "br.test" ] },
    "ipam": { "type": "host-local", "ranges": [[{ "subnet": "10.88.7.0/24" }]], "dataDir": "/var/lib/rocket/networks" } } ] }
EOF
out=$(rocket run --net=default,br-test "$img" --exec /bin/sh -- -c 'ip -4 -o addr show eth0; ip -4 -o addr show eth1')
assert_in "172.16.28." "$out"
assert_in "10.88.7." "$out"
out=$(rocket run --net=br-test:IP=10.88.7.77 "$img" --exec /bin/ip -- -4 -o addr show eth0)
assert_in "10.88.7.77/24" "$out"
# A network that returns DNS gives the pod its resolv.conf; --dns wins over it, --dns-search edits it.
assert_eq "$(rocket run --net=br-test "$img" --exec /bin/cat -- /etc/resolv.conf)" \
        "$(printf 'nameserver 192.0.2.60\nsearch br.test')"
assert_eq "$(rocket run --net=br-test --dns=192.0.2.53 "$img" --exec /bin/cat -- /etc/resolv.conf)" "nameserver 192.0.2.53"
assert_eq "$(rocket run --net=br-test --dns-search=other.test "$img" --exec /bin/cat -- /etc/resolv.conf)" \
        "$(printf 'nameserver 192.0.2.60\nsearch other.test')"

# --- bad configurations: one line naming the network, nothing left behind --------------------------
echo '{ not json' >/etc/rocket/net.d/broken.conf
assert_fails_with 254 "Network 'broken'" rocket run --net=broken "$img" --exec /bin/true
cat >/etc/rocket/net.d/noplug.conf <<'EOF'
{ "cniVersion": "1.0.0", "name": "noplug", "type": "no-such-plugin" }
EOF
assert_fails_with 254 "plugin 'no-such-plugin' is not installed" rocket run --net=noplug "$img" --exec /bin/true
assert_fails_with 254 "no configuration has that name" rocket run --net=nosuch "$img" --exec /bin/true
cat >/etc/rocket/net.d/fails.conflist <<'EOF'
{ "cniVersion": "1.0.0", "name": "fails", "plugins": [
  { "type": "ptp", "ipam": { "type": "host-local", "ranges": [[{ "subnet": "10.99.0.0/30", "rangeStart": "10.99.0.9" }]],
    "dataDir": "/var/lib/rocket/networks" } } ] }
EOF
running_before=$(ls /var/lib/rocket/pods/run | wc -l)
assert_fails_with 254 "Network 'fails': plugin ptp" rocket run --net=fails "$img" --exec /bin/true
assert_eq "$(ls /var/lib/rocket/pods/run | wc -l)" "$running_before"
rm -f /etc/rocket/net.d/broken.conf /etc/rocket/net.d/noplug.conf /etc/rocket/net.d/fails.conflist

# --- .pod files: Network=, Port=, DNS=, HostsEntry= ---------------------------------------------------
cat >/etc/rocket/netpod.pod <<EOF
[Pod]
Network=default,br-test
Port=8085:80
DNS=192.0.2.53
HostsEntry=192.0.2.9=pod.test

[App web]
Image=$img
Exec=/bin/sh
Args=-c 'grep -q pod.test /etc/hosts && grep -q 192.0.2.53 /etc/resolv.conf && echo "pod file" >/tmp/index.html && exec httpd -f -p 80 -h /tmp'
EOF
assert_fails_with 254 "none of the pod's networks maps ports" rocket run --net=br-test --port=8084:80 "$img" --exec /bin/true
rocket run --pod=/etc/rocket/netpod.pod >/dev/null 2>&1 &
wait_until "busybox wget -qO- http://127.0.0.1:8085/index.html | grep -q 'pod file'"
rocket stop netpod

# --- 20 pods at once get 20 addresses --------------------------------------------------------------
for i in $(seq 20); do
        rocket run --name="many$i" "$img" --exec /bin/sh -- -c 'ip -4 -o addr show eth0 | awk "{print \$4}"; sleep 3' \
                >"$fx/many$i" 2>&1 &
done
wait_until "[ \$(cat $fx/many* | grep -c 172.16.28.) -eq 20 ]"
assert_eq "$(cat "$fx"/many* | grep 172.16.28. | sort -u | wc -l)" 20
wait_until "! rocket list --no-legend | grep many | grep -q running"

# --- kill -9 of a pod and its supervisor: gc DELetes its networks ------------------------------------
serve victim --port=8086:80
wait_until "busybox wget -qO- http://127.0.0.1:8086/index.html | grep -q 'pod victim'"
leader=$(rocket status --format=json victim | jq -r .pid)
supervisor=$(ps -o ppid= -p "$leader" | tr -d ' ')
kill -9 "$supervisor" "$leader"
wait_until "! kill -0 $leader 2>/dev/null"
rocket gc --grace-period=0 >/dev/null

# --- CHECK notices a route gone behind the pod's back -------------------------------------------------
uuid2=$(rocket status --format=json web2 | jq -r .uuid)
ip netns exec "rocket-$uuid2" ip route del default
assert_fails_with 254 "Network 'default' of pod $uuid2: CHECK failed" rocket status --check-networks web2

# --- machinectl terminate ends the pod, and its networks with it -----------------------------------
serve term --port=8087:80
wait_until "busybox wget -qO- http://127.0.0.1:8087/index.html | grep -q 'pod term'"
machinectl terminate term
wait_until "! rocket status term | grep -q state=running"
wait_until "! iptables-save -t nat | grep -q 'dport 8087'"

# --- the rest ends; nothing of any pod is left on the host's network ------------------------------
for p in web1 web2 rweb; do rocket stop "$p" >/dev/null; done
wait_until "! rocket list --no-legend | grep -E ' (web1|web2|rweb) ' | grep -q running"
rocket gc --grace-period=0 >/dev/null
rm -f /etc/rocket/net.d/10-br.conflist
ip link del rkbr0 2>/dev/null || true     # the bridge plugin leaves its bridge, as with every runtime
after=$(snapshot)
diff <(echo "$before") <(echo "$after")
