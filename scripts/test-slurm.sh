#!/usr/bin/env bash
# Runs the README's Slurm job-array script for real, on a single-node
# Slurm started here: installs slurm-wlm and munge from Debian's packages
# when missing (as root), starts munged, slurmctld and slurmd with a
# configuration of its own (nothing under /etc/slurm is changed), submits
# the job-array script read from README.md (not a copy) for a 4-shard sweep,
# waits for it, merges the shards with `symbiose merge`, and checks that the
# merged sweep.csv is byte for byte the one a plain `symbiose sweep` writes.
# Stops what it started, whatever the outcome. Exit code 0 only when the
# merged sweep equals the plain one.
#
# The symbiose binary is $SYMBIOSE, else target/release/symbiose under
# $CARGO_TARGET_DIR (as .ci/run builds it), else `symbiose` on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

shards=4
say() { echo "test-slurm: $*"; }
fail() { echo "test-slurm: FAILED: $*" >&2; exit 1; }

symbiose_bin=${SYMBIOSE:-}
if [ -z "$symbiose_bin" ]; then
  for candidate in "${CARGO_TARGET_DIR:-$repo/target}/release/symbiose" "$(command -v symbiose || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then symbiose_bin=$candidate; break; fi
  done
fi
[ -n "$symbiose_bin" ] && [ -x "$symbiose_bin" ] ||
  fail "no symbiose binary: build it (cargo build --release) or set SYMBIOSE"
symbiose_bin=$(cd "$(dirname "$symbiose_bin")" && pwd)/$(basename "$symbiose_bin")

# 1. Slurm and munge, from Debian's packages.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null ||
  ! command -v munged >/dev/null; then
  [ "$(id -u)" = 0 ] || fail "slurm-wlm and munge are missing and this is not root: install them (apt-get install slurm-wlm munge)"
  say "installing slurm-wlm and munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

work=$(mktemp -d /tmp/symbiose-slurm.XXXXXX)
started=()
cleanup() {
  local status=$?
  if command -v scancel >/dev/null && [ -n "${SLURM_CONF:-}" ] && [ -f "${SLURM_CONF:-}" ]; then
    scancel --quiet --user "$(id -un)" 2>/dev/null || true
  fi
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pidfile in "$work"/slurmctld.pid "$work"/slurmd.pid "$work"/munged.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  sleep 1
  if [ $status -ne 0 ]; then
    for log in "$work"/*.log; do
      [ -f "$log" ] && { echo "--- $log"; tail -n 30 "$log"; } >&2
    done
  fi
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT

# 2. munged with a key and a socket of its own.
mkdir -p "$work/munge" "$work/spool/ctld" "$work/spool/d" "$work/jobs"
chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
socket="$work/munge/munge.socket"
munged --force --key-file="$work/munge/munge.key" --socket="$socket" \
  --pid-file="$work/munged.pid" --log-file="$work/munged.log" --seed-file="$work/munge/munge.seed"
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || fail "munged did not start"

# 3. A one-node cluster: this machine, its cores, no cgroups.
host=$(hostname -s)
cpus=$(nproc)
memory=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2))
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=symbiose-test
SlurmctldHost=$host
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$work/spool/ctld
SlurmdSpoolDir=$work/spool/d
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
  case "$state" in idle*|mix*|alloc*) break ;; esac
  sleep 0.2
done
case "${state:-}" in idle*|mix*|alloc*) ;; *) fail "the node did not come up (state: ${state:-none})" ;; esac
say "single-node Slurm up on $host ($cpus cores)"

# 4. The README's job-array script, as the README prints it: the bash block
# after "A Slurm job array:".
script="$work/jobs/sweep-array.sh"
awk '/A Slurm job array:/ {found = 1; next}
     found && /^```bash/ {inside = 1; next}
     inside && /^```/ {exit}
     inside {print}' README.md >"$script"
[ -s "$script" ] || fail "README.md has no job-array script after \"A Slurm job array:\""
grep -q 'symbiose sweep' "$script" || fail "the README's job-array script runs no sweep"

# A study of 20 scenarios on the bundled example, in the job's folder.
cd "$work/jobs"
cat >study.toml <<'EOF'
inventory = "bundled:dunkirk"
objective = "social"
[[vary]]
parameter = "externality.co2e_t"
values = [0, 54, 250, 500, 775]
[[vary]]
parameter = "route_cost.landfill"
values = [50, 100, 150, 200]
EOF
mkdir -p shards bin
ln -s "$symbiose_bin" bin/symbiose
export PATH="$work/jobs/bin:$PATH"

# The array's size and cores per task are given on the command line, which
# overrides the script's #SBATCH lines: this machine has $cpus cores.
say "submitting the README's job array as $shards shards"
sbatch --wait --array=1-$shards --cpus-per-task=1 --output="$work/jobs/shard-%a.log" "$script" ||
  { cat "$work"/jobs/shard-*.log >&2 || true; fail "the job array failed"; }
for i in $(seq $shards); do
  [ -f "shards/$i/sweep.csv" ] || { cat "$work/jobs/shard-$i.log" >&2 || true; fail "shard $i wrote no sweep.csv"; }
done

# 5. Merge, then the same sweep in one run.
symbiose merge shards/* --out sweep >/dev/null
symbiose sweep study.toml -q --out plain >/dev/null
cmp sweep/sweep.csv plain/sweep.csv || fail "the merged sweep.csv differs from the plain sweep's"
rows=$(($(wc -l <sweep/sweep.csv) - 1))
say "ok: $shards shards on Slurm, merged sweep.csv equals the plain sweep's ($rows scenarios)"
