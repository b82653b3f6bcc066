# Sourced by scripts/kube-*: the pinned release, where its build is cached, and small helpers.
# Nothing here has side effects.

KUBE_VERSION=v1.34.4            # the last minor whose kubelet still runs on cgroup v1 by default
KUBE_STAGING_VERSION=v0.34.4    # k8s.io/api, client-go, ... are published as v0.<minor>.<patch>
COREDNS_VERSION=v1.15.0
KUBE_CACHE=${PODVOY_KUBE_CACHE:-/var/cache/podvoy/kube/$KUBE_VERSION}
KUBE_BIN=$KUBE_CACHE/bin        # kube-apiserver ... kubectl, coredns
KUBE_DEB_ROOT=$KUBE_CACHE/debs/root   # etcd, containerd, runc, CNI plugins unpacked by dpkg -x
KUBE_GO=$KUBE_CACHE/go          # module and build cache of this build only
KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
# Debian packages unpacked (never installed, so no packaged service starts).
KUBE_DEBS=(etcd-server containerd runc containernetworking-plugins conntrack)

kube_say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
kube_die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }
kube_need_root() { [ "$(id -u)" = 0 ] || kube_die "run as root: sudo $0"; }

# The test cluster: one node, one at a time per host (kube-proxy's KUBE-* chains and the
# ports below are host-wide). Addresses are our own and clash with no podman network
# (podman uses 10.88.0.0/16 and 10.89.N.0/24).
KUBE_STATE_DEFAULT=/var/lib/podvoy-kube
KUBE_ACTIVE=/run/podvoy-kube.active   # holds the state directory of the cluster that is up
KUBE_NODE_NAME=podvoy-kube
KUBE_NODE_IP=10.233.255.1             # a /32 on lo: the kubelet refuses a loopback node IP
KUBE_POD_SUBNET=10.233.0.0/24
KUBE_SERVICE_CIDR=10.233.64.0/20
KUBE_API_SERVICE_IP=10.233.64.1
KUBE_DNS_IP=10.233.64.10
KUBE_BRIDGE=podvoykube0
KUBE_PAUSE_IMAGE=localhost/podvoy/kube-pause:catatonit   # built by kube-build, FROM scratch
KUBE_CGROUP=podvoy-kube               # every daemon and containerd's shims run in this cgroup
KUBE_API_PORT=6443
KUBE_ETCD_PORT=23790                  # not 2379: a host may run an etcd of its own
KUBE_DNS_READY=127.0.0.1:18181        # CoreDNS's ready plugin
# Sysctls the node changes (kubelet's kernel tunables, kube-proxy's route_localnet):
# saved by kube-up, restored by kube-down.
KUBE_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.conf.all.route_localnet)
# Host paths that a kubelet or containerd creates whatever they are told: removed by kube-down
# when kube-up found them absent.
KUBE_HOST_PATHS=(/var/log/containers /run/containerd /var/lib/cni /var/lib/kubelet)
# Daemons in start order; kube-down stops them in reverse.
KUBE_DAEMONS=(etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy coredns)

export PATH="$KUBE_BIN:$KUBE_DEB_ROOT/usr/bin:$KUBE_DEB_ROOT/usr/sbin:$PATH"

# The state directory: --dir, else the one that is up, else the default.
kube_state_dir() {
  if [ -n "${1:-}" ]; then realpath -m "$1"
  elif [ -s "$KUBE_ACTIVE" ]; then cat "$KUBE_ACTIVE"
  else echo "$KUBE_STATE_DEFAULT"; fi
}

# A pid from a pid file, only if that process still runs one of our binaries (a pid can be
# reused after a crash: never signal a stranger).
kube_pid_alive() {
  local pid exe
  [ -s "$1" ] || return 1
  pid=$(cat "$1")
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  case "$exe" in "$KUBE_CACHE"/*) echo "$pid" ;; *) return 1 ;; esac
}

# Serialises kube-up and kube-down on the cache directory itself (flock on its fd), so that no
# lock file is left on the host.
kube_lock() {
  [ -d "$KUBE_CACHE" ] || return 0
  exec 9<"$KUBE_CACHE"
  flock -w 120 9 || kube_die "another kube-up or kube-down is running (it holds $KUBE_CACHE)"
}

# TOOL-save -t TABLE (TOOL: iptables or ip6tables), retried: an nf_tables dump fails now and
# then while another process changes the ruleset (netavark, kube-proxy). Prints nothing for a
# table that cannot be read.
kube_iptables_save() {
  local i out
  for ((i = 0; i < 5; i++)); do
    if out=$("$1-save" -t "$2" 2>/dev/null); then
      [ -z "$out" ] || printf '%s\n' "$out"
      return 0
    fi
    sleep 0.2
  done
  kube_say "warning: $1-save -t $2 failed 5 times"
}

kube_cgroup_dirs() {
  local c
  for c in /sys/fs/cgroup/*/; do [ -d "$c$KUBE_CGROUP" ] && echo "$c$KUBE_CGROUP"; done
  return 0
}
