#!/usr/bin/env bash
# Faults of a data-parallel birealnet-train job across test-bed hosts (tools/mpi/testbed.sh), each of
# which must end the job within BOUND seconds of the fault (default 60), name the rank and host that
# failed, and lose nothing: the last checkpoint loads and `--resume auto` continues, with fewer ranks.
#
#   swift build -c release --traits MPI --product birealnet-train
#   tools/mpi/faults.sh [kill-rank] [kill-writer] [link-down] [disk-full]    # default: all four
#
# kill-rank    SIGKILL of rank 1 (host bnn-host1) in mid-step; then resume on 1 rank.
# kill-writer  SIGKILL of rank 0 while it writes last.safetensors; then resume on 2 ranks.
# link-down    bnn-host1's link taken down in mid-step: nothing tells Open MPI, so the collective
#              watchdog (BNN_COLLECTIVE_TIMEOUT=20 here) ends the job, rank 0's message naming rank 1
#              on bnn-host1 as the silent peer (its heartbeat stopped); then resume on 1 rank.
# disk-full    rank 0's run directory on a full 12 MiB tmpfs: the save fails with a message, the previous
#              checkpoint stays, training goes on; then resume from a copy with room.
# Needs root. Prints one PASS/FAIL line per case and a summary line; exits 1 when a case failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
source tools/mpi/testbed.sh
binary="$PWD/${BNN_MPI_SCRATCH:-.build}/release/birealnet-train"
bound=${BNN_FAULT_BOUND:-60}
[ "$(id -u)" = 0 ] || { echo "faults: SKIPPED: network namespaces need root"; exit 0; }
[ -x "$binary" ] || { echo "faults: FAIL: $binary is missing (swift build -c release --traits MPI)"; exit 1; }
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(kill-rank kill-writer link-down disk-full)

work=$(mktemp -d /tmp/bnn-faults.XXXXXX)
mounted=""
cleanup() {
    testbed_down
    [ -n "$mounted" ] && umount "$mounted" 2>/dev/null
    rm -rf "$work"
}
testbed_up 2 || { echo "faults: FAIL: cannot make the test bed"; exit 1; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM
export BNN_COLLECTIVE_TIMEOUT=20

# train SLOTS LOG RUNDIR ARGS…: starts the job in the background (its pid in $job).
train() {
    local slots=$1 log=$2 run=$3
    shift 3
    testbed_mpirun "$slots" 600 "$binary" --distributed --train-samples 768 --val-samples 64 --batch-size 32 --epochs 3 \
        --threads 1 --num-parallel-workers 1 --seed 1 --run-dir "$run" "$@" > "$log" 2>&1 &
    job=$!
}

# rank_pid HOST: the pid of birealnet-train in test-bed host HOST.
rank_pid() {
    local pid
    for pid in $(ip netns pids "$(testbed_ns "$1")" 2>/dev/null); do
        [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = birealnet-train ] && { echo "$pid"; return 0; }
    done
    return 1
}

# wait_for CONDITION SECONDS: polls the shell condition every 0.1 s; false after SECONDS.
wait_for() {
    local deadline=$(( SECONDS + $2 ))
    until eval "$1"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.1
    done
}

# ended_within LOG: waits for the job; true when it ended within $bound seconds; prints the time.
ended_within() {
    local start=$SECONDS waited
    if ! wait_for '! kill -0 $job 2>/dev/null' "$bound"; then
        echo "    the job did not end within $bound s"
        pkill -9 -P "$job" 2>/dev/null   # the job's own timeout and mpirun
        kill -9 "$job" 2>/dev/null
        return 1
    fi
    wait "$job" 2>/dev/null
    waited=$(( SECONDS - start ))
    echo "    the job ended $waited s after the fault"
}

# resumes SLOTS LOG RUN: --resume auto continues to the end on SLOTS rank(s) per host of 1 host.
resumes() {
    local hosts_before=$testbed_hosts
    testbed_hosts=$4
    train "$1" "$2" "$3" --resume auto
    wait "$job"
    local status=$?
    testbed_hosts=$hosts_before
    grep -q "resumed from" "$2" && grep -q "best validation" "$2" && [ $status = 0 ]
}

# kill_on_create DIR PID SECONDS: SIGKILL of PID when the temporary file of last.safetensors appears in DIR.
kill_on_create() {
    python3 - "$@" <<'PYTHON'
import ctypes, os, select, signal, struct, sys
directory, pid, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK)
IN_CREATE = 0x100
if fd < 0 or libc.inotify_add_watch(fd, directory.encode(), IN_CREATE) < 0:
    sys.exit("kill_on_create: inotify failed")
poller = select.poll()
poller.register(fd, select.POLLIN)
while poller.poll(seconds * 1000):
    data = os.read(fd, 65536)
    offset = 0
    while offset < len(data):
        _, _, _, length = struct.unpack_from("iIII", data, offset)
        name = data[offset + 16:offset + 16 + length].rstrip(b"\0")
        offset += 16 + length
        if name.startswith(b".last.safetensors.") and name.endswith(b".tmp"):
            os.kill(pid, signal.SIGKILL)
            sys.exit(0)
sys.exit("kill_on_create: no temporary file within the time")
PYTHON
}

failed=0
report() {   # report NAME OK DETAIL
    if [ "$2" = 0 ]; then echo "faults: $1: PASS ($3)"; else echo "faults: $1: FAIL ($3); log:"; sed 's/^/    /' "$4" | tail -n 25; failed=1; fi
}

for case in "${cases[@]}"; do
    run="$work/$case"
    log="$work/$case.log"
    mkdir -p "$run"
    echo "== $case"
    case $case in
    kill-rank)
        train 1 "$log" "$run"
        wait_for '[ -f "$run/last.safetensors" ]' 300 && sleep 1
        pid=$(rank_pid 1) && kill -9 "$pid"
        ok=1
        ended_within && grep -q "rank 1" "$log" && grep -q "bnn-host1" "$log" && ok=0
        [ $ok = 0 ] && { resumes 1 "$log.resume" "$run" 1 || ok=1; }
        report "$case" $ok "rank 1 on bnn-host1 killed in mid-step; named; resumed on 1 rank" "$log"
        ;;
    kill-writer)
        train 1 "$log" "$run"
        wait_for '[ -f "$run/last.safetensors" ]' 300
        # The temporary file exists only while rank 0 writes the next checkpoint: kill it as soon as
        # inotify reports its creation; the stray temporary file left behind shows it was mid-write.
        pid=$(rank_pid 0)
        caught=1
        kill_on_create "$run" "$pid" 300 && ls "$run"/.last.safetensors.*.tmp >/dev/null 2>&1 && caught=0
        ok=1
        ended_within && grep -q "rank 0" "$log" && grep -q "bnn-host0" "$log" && [ $caught = 0 ] && ok=0
        [ $ok = 0 ] && { resumes 1 "$log.resume" "$run" 2 || ok=1; }
        report "$case" $ok "rank 0 on bnn-host0 killed while writing; previous checkpoint resumed on 2 ranks" "$log"
        ;;
    link-down)
        train 1 "$log" "$run"
        wait_for '[ -f "$run/last.safetensors" ]' 300 && sleep 1
        testbed_link 1 down
        ok=1
        ended_within && grep -q "has not completed after" "$log" && grep -q "no heartbeat from rank 1 on bnn-host1" "$log" && ok=0
        testbed_link 1 up
        [ $ok = 0 ] && { resumes 1 "$log.resume" "$run" 1 || ok=1; }
        report "$case" $ok "bnn-host1's link down in mid-step; watchdog after ${BNN_COLLECTIVE_TIMEOUT} s; resumed on 1 rank" "$log"
        ;;
    disk-full)
        mount -t tmpfs -o size=12m bnn-faults "$run" && mounted="$run"
        train 1 "$log" "$run"
        wait "$job"
        status=$?
        ok=1
        grep -q "not saved" "$log" && [ $status = 0 ] && ok=0
        cp -r "$run" "$work/disk-full-copy" && umount "$run" && mounted=""
        [ $ok = 0 ] && { resumes 1 "$log.resume" "$work/disk-full-copy" 1 || ok=1; }
        report "$case" $ok "rank 0's disk full: save failed with a message, the previous checkpoint resumed" "$log"
        ;;
    *) echo "faults: unknown case $case"; failed=1 ;;
    esac
done
if [ $failed = 0 ]; then echo "faults: PASS (${cases[*]})"; else echo "faults: FAIL"; exit 1; fi
