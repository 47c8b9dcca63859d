# Hosts on one machine for MPI tests: sourced by tools/mpi/hosts-check.sh, faults.sh and overlap.sh.
#
# testbed_up H [RATE DELAY]  makes H "hosts": network namespaces bnn<ID>h0 … bnn<ID>h<H-1>, each with
#                            an interface eth0 at 10.213.<ID%200>.<i+1>/24 and a loopback, joined by a bridge
#                            inside one more namespace (the switch), so nothing touches the machine's own
#                            network. RATE (e.g. 1gbit, 10gbit) limits each host's egress (tbf, bursts
#                            of 1 ms at that rate); DELAY (e.g. 200us) adds one-way latency with netem
#                            where the kernel has it (the kernel of our CI machines does not: then the
#                            script says so and the links keep veth's own latency).
# testbed_mpirun ARGS…       runs mpirun in host 0 with one host file line per host, Open MPI over TCP
#                            only (shared memory off), its rsh agent replaced by tools/mpi/netns-rsh.
# testbed_link HOST up|down  takes a host's link down or up (from the switch side).
# testbed_down               removes everything testbed_up made (also called on EXIT, INT and TERM).
#
# Each host runs in its own UTS namespace with the host name bnn-host<i>, so Open MPI and our
# messages name the hosts. Root only (ip netns). Every mpirun started here is under `timeout`.
testbed_id=$(( $$ % 200 ))
testbed_prefix="bnn${testbed_id}"
testbed_subnet="10.213.${testbed_id}"
testbed_hosts=0
testbed_dir=""

testbed_ns() { echo "${testbed_prefix}h$1"; }
testbed_switch() { echo "${testbed_prefix}sw"; }
testbed_address() { echo "${testbed_subnet}.$(( $1 + 1 ))"; }

testbed_require() {
    if [ "$(id -u)" != 0 ]; then echo "testbed: needs root (ip netns)"; return 1; fi
    if ! command -v ip >/dev/null 2>&1 || ! command -v tc >/dev/null 2>&1; then
        if command -v apt-get >/dev/null 2>&1; then
            echo "testbed: installing iproute2"
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2; } >/dev/null 2>&1 \
                || { echo "testbed: apt-get could not install iproute2"; return 1; }
        else
            echo "testbed: ip and tc (iproute2) are missing"; return 1
        fi
    fi
    command -v unshare >/dev/null 2>&1 || { echo "testbed: unshare (util-linux) is missing"; return 1; }
}

testbed_up() {
    local hosts=$1 rate=${2:-} delay=${3:-} i ns switch
    testbed_require || return 1
    trap testbed_down EXIT
    trap 'testbed_down; exit 130' INT TERM
    testbed_dir=$(mktemp -d /tmp/bnn-testbed.XXXXXX)
    switch=$(testbed_switch)
    ip netns add "$switch" || return 1
    ip -n "$switch" link add br0 type bridge || return 1
    ip -n "$switch" link set br0 up
    for (( i = 0; i < hosts; i++ )); do
        ns=$(testbed_ns "$i")
        ip netns add "$ns" || return 1
        testbed_hosts=$(( i + 1 ))
        ip link add "${testbed_prefix}v$i" netns "$ns" type veth peer name "port$i" netns "$switch" || return 1
        ip -n "$ns" link set "${testbed_prefix}v$i" name eth0
        ip -n "$ns" addr add "$(testbed_address "$i")/24" dev eth0
        ip -n "$ns" link set eth0 up
        ip -n "$ns" link set lo up
        # TCP gives up on an unacknowledged peer after about 6 s instead of 15 minutes, so that mpirun
        # ends a job whose host became unreachable (as a cluster would set net.ipv4.tcp_retries2).
        ip netns exec "$ns" sysctl -qw net.ipv4.tcp_retries2=4
        ip -n "$switch" link set "port$i" master br0
        ip -n "$switch" link set "port$i" up
        testbed_shape "$ns" "$rate" "$delay" || return 1
        echo "$(testbed_address "$i") bnn-host$i $ns" >> "$testbed_dir/hosts.map"
    done
    echo "testbed: $hosts hosts on ${testbed_subnet}.0/24${rate:+, $rate}${delay:+, $delay one way}"
}

# testbed_shape NAMESPACE RATE DELAY: the egress qdisc of a host's eth0 (see testbed_up).
testbed_shape() {
    local ns=$1 rate=$2 delay=$3
    if [ -n "$delay" ]; then
        if tc -n "$ns" qdisc add dev eth0 root netem delay "$delay" ${rate:+rate "$rate"} limit 100000 2>/dev/null; then return 0; fi
        [ "$ns" = "$(testbed_ns 0)" ] && echo "testbed: no netem in this kernel: DELAY $delay not applied (links keep veth latency)"
    fi
    [ -n "$rate" ] || return 0
    local bits
    bits=$(numfmt --from=si "$(echo "${rate%bit}" | tr 'kmg' 'KMG')")
    # Bursts of 1 ms at the rate, at least 128 KiB (a GSO packet on veth is up to 64 KiB).
    local burst=$(( bits / 8 / 1000 > 131072 ? bits / 8 / 1000 : 131072 ))
    tc -n "$ns" qdisc add dev eth0 root tbf rate "$rate" burst "$burst" latency 50ms
}

testbed_link() {
    ip -n "$(testbed_switch)" link set "port$1" "$2"
}

testbed_down() {
    local i
    trap - EXIT INT TERM
    for (( i = 0; i < testbed_hosts; i++ )); do
        # Processes still running in a host (a rank that survived a fault) go with it.
        local pids
        pids=$(ip netns pids "$(testbed_ns "$i")" 2>/dev/null)
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null
        ip netns del "$(testbed_ns "$i")" 2>/dev/null
    done
    ip netns del "$(testbed_switch)" 2>/dev/null
    testbed_hosts=0
    [ -n "$testbed_dir" ] && rm -rf "$testbed_dir"
    testbed_dir=""
}

# testbed_mpirun SLOTS SECONDS ARGS…: mpirun from host 0 with SLOTS ranks per host, ended after SECONDS.
testbed_mpirun() {
    local slots=$1 seconds=$2 i
    shift 2
    : > "$testbed_dir/hostfile"
    for (( i = 0; i < testbed_hosts; i++ )); do echo "bnn-host$i slots=$slots" >> "$testbed_dir/hostfile"; done
    local here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 BNN_TESTBED_MAP="$testbed_dir/hosts.map" \
        timeout -k 5 "$seconds" ip netns exec "$(testbed_ns 0)" unshare --uts sh -c 'hostname bnn-host0; exec "$@"' mpirun \
        mpirun --hostfile "$testbed_dir/hostfile" -np $(( slots * testbed_hosts )) --map-by "ppr:$slots:node" \
        --bind-to none --oversubscribe \
        --mca plm_rsh_agent "$here/netns-rsh" --mca plm_rsh_no_tree_spawn 1 \
        --mca pml ob1 --mca btl tcp,self --mca btl_tcp_if_include eth0 --mca oob_tcp_if_include eth0 \
        -x BNN_THREADS="${BNN_THREADS:-1}" -x BNN_TESTBED_MAP "$@"
}
