#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, all of its state in DIR (docs/cluster.md): try the
# Slurm path of eval_suite.py without a cluster, and the test tests/python/test_slurm_cluster.py.
#   scripts/slurm/local_cluster.sh start DIR   # munged, slurmctld, slurmd; then: export SLURM_CONF=DIR/slurm.conf
#   scripts/slurm/local_cluster.sh stop DIR    # cancels the cluster's jobs, stops its daemons
# Needs root (slurmd starts jobs as their user) and Debian's slurm-wlm and munge
# (scripts/install_deps.sh). Exit 77 with the reason where it cannot run. The daemons use a
# munge key, socket, ports, spool and logs of their own: nothing in /etc is read or changed.
set -euo pipefail
usage() { echo "usage: local_cluster.sh start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
export SLURM_CONF=$dir/slurm.conf

stop() {
  if [ -f "$dir/slurm.conf" ] && [ -f "$dir/slurmctld.pid" ]; then
    scancel --full --user "$(id -un)" 2>/dev/null || true
    for _ in $(seq 20); do  # let slurmd end the jobs' processes
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  for d in slurmd slurmctld munged; do
    [ -f "$dir/$d.pid" ] || continue
    pid=$(cat "$dir/$d.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/$d.pid"
  done
  echo "local_cluster: stopped the daemons of $dir" >&2
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  [ "$(id -u)" -eq 0 ] || { echo "local_cluster: needs root (slurmd starts jobs as their user)" >&2; exit 77; }
  for b in munged slurmctld slurmd sbatch; do
    command -v "$b" >/dev/null || { echo "local_cluster: $b not found (scripts/install_deps.sh installs Slurm and munge)" >&2; exit 77; }
  done
  if [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
    echo "local_cluster: $dir already runs a cluster (stop it first)" >&2
    exit 1
  fi
  chmod 700 "$dir"
  mkdir -p "$dir/state" "$dir/spool"
  head -c 1024 /dev/urandom > "$dir/munge.key"
  chmod 600 "$dir/munge.key"
  munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" --pid-file="$dir/munged.pid" \
    --log-file="$dir/munged.log" --seed-file="$dir/munged.seed"
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
  cat > "$dir/slurm.conf" <<EOF
# written by scripts/slurm/local_cluster.sh: one node, this machine
ClusterName=sadi-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1,sched_min_interval=100000
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
KillWait=10
MinJobAge=3600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  slurmctld -i
  slurmd
  for _ in $(seq 60); do
    if sinfo -h -o %T 2>/dev/null | grep -qx idle; then
      echo "local_cluster: up ($cpus CPUs on $host); export SLURM_CONF=$SLURM_CONF" >&2
      return 0
    fi
    sleep 0.5
  done
  echo "local_cluster: the node did not come up in 30 s; $dir/slurmctld.log and slurmd.log say why:" >&2
  tail -n 5 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
  stop
  exit 1
}

case $action in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
