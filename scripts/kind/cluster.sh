#!/usr/bin/env bash
# Makes a real kind cluster on this machine with nothing pulled from any container registry:
# kind, Kubernetes, etcd, CoreDNS and crictl are built from their Go modules; the node image
# is a Debian root filesystem (debootstrap) laid out the way kind's node image is; every
# image a node needs is built here and loaded into the node image.
#
#   scripts/kind/cluster.sh [create]   build what is missing, then create the cluster
#   scripts/kind/cluster.sh build      build what is missing, create nothing
#   scripts/kind/cluster.sh delete     delete the cluster (the cache stays)
#   scripts/kind/cluster.sh status     say what is built and whether the cluster answers
#   scripts/kind/cluster.sh registry   start a local registry the cluster pulls from (create does too)
#   scripts/kind/cluster.sh path       print the folder with kind and kubectl, for PATH
#
# Environment: KIND_CLUSTER_NAME (default kind), REPLICA_DEMO_KIND_CACHE (default
# ~/.cache/replica-demo/kind). Every artifact is cached in a folder named after its version,
# and each is written to a temporary name and moved into place when whole, so a failed or
# interrupted run resumes where it stopped.
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=versions.sh
source "$here/versions.sh"

cluster=${KIND_CLUSTER_NAME:-kind}
cache=${REPLICA_DEMO_KIND_CACHE:-$HOME/.cache/replica-demo/kind}
bin="$cache/bin"
min_free_gb=${REPLICA_DEMO_KIND_MIN_FREE_GB:-20}

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
  printf 'cluster:kind: %s\n' "$1" >&2
  [ $# -gt 1 ] && printf '  %s\n' "$2" >&2
  exit "${3:-1}"
}

# --- what is left after an interrupt -------------------------------------------------------

stage=""
# Scratch space for this run (root filesystems being assembled, image contexts), removed on
# every exit; the build container of the node image likewise.
scratch=""
builder=""
cleanup() {
  [ -n "$builder" ] && docker rm -f "$builder" >/dev/null 2>&1
  [ -n "$scratch" ] && rm -rf "$scratch"
  return 0
}
trap cleanup EXIT
# A new folder in this run's scratch space (made by build_all, outside any subshell).
scratch_dir() { mktemp -d "$scratch/XXXXXX"; }

on_interrupt() {
  trap - INT TERM
  printf '\ncluster:kind: interrupted during %s.\n' "${stage:-start-up}" >&2
  case "$stage" in
    "cluster creation")
      printf '  Removing the half-made cluster "%s"...\n' "$cluster" >&2
      if kind_cmd delete cluster --name "$cluster" >&2; then
        printf '  Removed. Built artifacts stay in %s; run the same command again to resume.\n' "$cache" >&2
      else
        printf '  It could not be removed: run %s delete cluster --name %s\n' "$bin/kind-$KIND_VERSION/kind" "$cluster" >&2
      fi
      ;;
    *)
      printf '  Finished artifacts stay in %s; unfinished ones (*.tmp) are replaced by the next run,\n' "$cache" >&2
      printf '  which resumes from there. Remove everything with: rm -rf %s\n' "$cache" >&2
      ;;
  esac
  exit 130
}
trap on_interrupt INT TERM

# --- checks before anything is built -------------------------------------------------------

check_host() {
  [ "$(id -u)" = 0 ] ||
    die "it must run as root: debootstrap builds the node's root filesystem, and on hosts that lack a capability the Docker engine gets a runtime wrapper." \
      "Run it as root (for example in sudo -i), and npm run test:kind as root too." 2
  command -v go >/dev/null || die "Go is not installed (go not on PATH)." "Install Go 1.24 or newer (https://go.dev/dl/)." 2
  local tool
  for tool in cc node jq; do
    command -v "$tool" >/dev/null || die "$tool is not installed; the build needs it (cc builds pause statically, node makes the server's base image, jq edits JSON)." "Install it (Debian: apt-get install gcc libc6-dev nodejs jq)." 2
  done
  command -v docker >/dev/null || die "The docker command is not installed." "Install a Docker engine (Debian: apt-get install docker.io)." 3
  docker info >/dev/null 2>&1 ||
    die "The Docker engine is not reachable (docker info fails)." "Start it: bash .ci/start-docker (or systemctl start docker)." 4
  mkdir -p "$cache"
  local free_cache free_docker docker_root
  free_cache=$(df -Pk "$cache" | awk 'NR==2 {print int($4/1048576)}')
  docker_root=$(docker info --format '{{.DockerRootDir}}' 2>/dev/null || echo /var/lib/docker)
  free_docker=$(df -Pk "$docker_root" 2>/dev/null | awk 'NR==2 {print int($4/1048576)}' || echo "$free_cache")
  if [ "$free_cache" -lt "$min_free_gb" ] || [ "$free_docker" -lt "$min_free_gb" ]; then
    die "not enough disk: ${free_cache} GB free for $cache and ${free_docker} GB for $docker_root; the build needs about $min_free_gb GB." \
      "Free some space (docker system prune, go clean -cache) or point REPLICA_DEMO_KIND_CACHE at a bigger disk." 2
  fi
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
    die "the kernel has no overlay filesystem; containerd in the nodes needs it." "Load it (modprobe overlay) or use a kernel built with CONFIG_OVERLAY_FS." 2
  local controller
  for controller in cpu memory pids; do
    grep -qE "^$controller\s.*\s1$" /proc/cgroups ||
      die "the kernel has no enabled '$controller' cgroup controller; the kubelet needs it." "Boot with that controller enabled (see /proc/cgroups)." 2
  done
  [ -e /proc/sys/net/netfilter ] || modprobe nf_conntrack 2>/dev/null ||
    die "the kernel has no netfilter connection tracking; kube-proxy needs it." "Load it (modprobe nf_conntrack) or use a kernel with CONFIG_NF_CONNTRACK." 2
}

print_versions() {
  say "versions"
  note "kind $KIND_VERSION, Kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION, CoreDNS $COREDNS_VERSION,"
  note "pause $PAUSE_VERSION, crictl $CRICTL_VERSION, Debian $DEBIAN_SUITE (systemd, containerd, runc, CNI plugins),"
  note "$(go version | cut -d' ' -f3-4); cache $cache"
}

# --- Go builds ------------------------------------------------------------------------------

# go_build_into DIR OUT LDFLAGS PACKAGE...: builds main packages of a module that cannot be
# `go install`ed as it is (its go.mod replaces modules with local folders), from the go.mod of
# our own in DIR that requires it and pins the replaced modules to published ones.
go_build_into() {
  local dir=$1 out=$2 ldflags=$3
  shift 3
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$out/" "$@")
}

# module_field MODULE@VERSION FIELD: downloads a module (from the module cache when it is
# there) and prints one field of `go mod download -json`, such as Dir or GoMod.
module_field() {
  (cd "$cache" && GO111MODULE=on GOFLAGS=-mod=mod go mod download -json "$1") | jq -r ".$2"
}

tools_file() {
  printf '//go:build tools\n\npackage tools\n\nimport (\n'
  local pkg
  for pkg in "$@"; do printf '\t_ "%s"\n' "$pkg"; done
  printf ')\n'
}

build_kubernetes() {
  local out="$bin/kubernetes-$KUBERNETES_VERSION"
  [ -x "$out/kube-proxy" ] && return 0
  say "building Kubernetes $KUBERNETES_VERSION from the k8s.io/kubernetes module (about 10 minutes on 2 cores)"
  stage="the Kubernetes build"
  local work="$cache/src/kubernetes-$KUBERNETES_VERSION"
  mkdir -p "$work"
  local modfile
  modfile=$(module_field "k8s.io/kubernetes@$KUBERNETES_VERSION" GoMod)
  local staging="v0.${KUBERNETES_VERSION#v1.}"
  {
    printf 'module replica-demo.local/kubernetes-build\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$KUBERNETES_VERSION"
    # Every staging module the release's go.mod points at a local folder, pinned instead to
    # the build of the same release published on its own.
    grep -E '=> \./staging/' "$modfile" | awk -v v="$staging" '{ printf "\t%s => %s %s\n", $1, $1, v }'
    printf ')\n'
  } >"$work/go.mod"
  local commands=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
  local packages=()
  local c
  for c in "${commands[@]}"; do packages+=("k8s.io/kubernetes/cmd/$c"); done
  tools_file "${packages[@]}" >"$work/tools.go"
  (cd "$work" && go mod tidy)
  local v=$KUBERNETES_VERSION minor=${KUBERNETES_VERSION#v1.}
  minor=${minor%%.*}
  local ldflags="-s -w"
  local prefix
  for prefix in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $prefix.gitVersion=$v -X $prefix.gitMajor=1 -X $prefix.gitMinor=$minor -X $prefix.gitTreeState=clean"
    ldflags+=" -X $prefix.buildDate=1970-01-01T00:00:00Z"
  done
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  go_build_into "$work" "$out.tmp" "$ldflags" "${packages[@]}"
  mv "$out.tmp" "$out"
  note "built: $("$out/kubeadm" version -o short)"
}

build_etcd() {
  local out="$bin/etcd-$ETCD_VERSION"
  [ -x "$out/etcd" ] && return 0
  say "building etcd $ETCD_VERSION from go.etcd.io/etcd/server/v3"
  stage="the etcd build"
  local work="$cache/src/etcd-$ETCD_VERSION"
  mkdir -p "$work"
  cat >"$work/go.mod" <<EOF
module replica-demo.local/etcd-build

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION

replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 $ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
)
EOF
  tools_file go.etcd.io/etcd/server/v3 >"$work/tools.go"
  (cd "$work" && go mod tidy)
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  (cd "$work" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3)
  mv "$out.tmp" "$out"
}

build_plain_module() {
  # build_plain_module NAME MODULE VERSION PACKAGE BINARY: modules that build as they are.
  local name=$1 module=$2 version=$3 package=$4 binary=$5
  local out="$bin/$name-$version"
  [ -x "$out/$binary" ] && return 0
  say "building $name $version from $module"
  stage="the $name build"
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  CGO_ENABLED=0 GOBIN="$out.tmp" go install -trimpath -ldflags "-s -w" "$package@$version"
  mv "$out.tmp" "$out"
}

build_runc_shim() {
  local out
  out="$bin/runc-shim-$(sha256sum "$here/runc-shim/main.go" | cut -c1-12)"
  [ -x "$out/runc-shim" ] && { shim="$out/runc-shim"; return 0; }
  say "building the runc wrapper (scripts/kind/runc-shim)"
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  (cd "$here/runc-shim" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out.tmp/runc-shim" .)
  mv "$out.tmp" "$out"
  shim="$out/runc-shim"
}

build_pause() {
  local out="$bin/pause-$KUBERNETES_VERSION"
  [ -x "$out/pause" ] && return 0
  say "building pause from the Kubernetes sources (build/pause/linux/pause.c)"
  local src
  src=$(module_field "k8s.io/kubernetes@$KUBERNETES_VERSION" Dir)
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  cc -Os -static -Wall -Werror -DVERSION="v$PAUSE_VERSION-replica-demo" -o "$out.tmp/pause" "$src/build/pause/linux/pause.c"
  mv "$out.tmp" "$out"
}

# --- root filesystems -----------------------------------------------------------------------

node_packages=systemd,systemd-sysv,dbus,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,curl,jq,procps,containerd,runc,containernetworking-plugins,socat,ebtables,iputils-ping,less
proxy_packages=iptables,conntrack,ipset,kmod,iproute2

rootfs() {
  # rootfs NAME PACKAGES: a Debian root filesystem, as a tarball.
  local name=$1 include=$2
  local key
  key=$(printf '%s %s' "$DEBIAN_SUITE" "$include" | sha256sum | cut -c1-12)
  local out="$cache/rootfs/$name-$DEBIAN_SUITE-$key.tar"
  if [ ! -s "$out" ]; then
    command -v debootstrap >/dev/null || {
      say "installing debootstrap (Debian package)"
      apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
    }
    say "making the $name root filesystem: debootstrap $DEBIAN_SUITE (about a minute)"
    stage="debootstrap of the $name root filesystem"
    local dir="$cache/rootfs/$name.tmp"
    rm -rf "$dir" && mkdir -p "$dir"
    debootstrap --variant=minbase --include="$include" "$DEBIAN_SUITE" "$dir" http://deb.debian.org/debian >"$cache/rootfs/$name.log" 2>&1 ||
      die "debootstrap failed; see $cache/rootfs/$name.log" "$(tail -n 3 "$cache/rootfs/$name.log")"
    rm -rf "$dir/var/cache/apt/archives/"*.deb "$dir/var/lib/apt/lists/"*
    tar -C "$dir" --numeric-owner -cf "$out.tmp" .
    mv "$out.tmp" "$out"
    rm -rf "$dir"
  fi
  rootfs_tar=$out
}

# --- images ---------------------------------------------------------------------------------

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# import_image TAG DIR ENTRYPOINT_JSON: an image of exactly the files in DIR.
import_image() {
  local tag=$1 dir=$2 entrypoint=$3
  image_exists "$tag" && return 0
  note "image $tag"
  tar -C "$dir" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENTRYPOINT $entrypoint" - "$tag" >/dev/null
}

single_binary_image() {
  # single_binary_image TAG BINARY [PATH_IN_IMAGE]
  local tag=$1 binary=$2 inside=${3:-/usr/local/bin/$(basename "$2")}
  image_exists "$tag" && return 0
  local dir
  dir=$(scratch_dir)
  mkdir -p "$dir$(dirname "$inside")" "$dir/tmp" "$dir/etc/ssl/certs"
  chmod 1777 "$dir/tmp"
  cp "$binary" "$dir$inside"
  cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/"
  import_image "$tag" "$dir" "[\"$inside\"]"
  rm -rf "$dir"
}

build_cluster_images() {
  say "images the nodes need, tagged with the names kubeadm asks for"
  stage="the image builds"
  local k="$bin/kubernetes-$KUBERNETES_VERSION"
  local name
  for name in kube-apiserver kube-controller-manager kube-scheduler; do
    single_binary_image "registry.k8s.io/$name:$KUBERNETES_VERSION" "$k/$name"
  done
  single_binary_image "registry.k8s.io/etcd:$ETCD_IMAGE_TAG" "$bin/etcd-$ETCD_VERSION/etcd"
  single_binary_image "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" "$bin/coredns-$COREDNS_VERSION/coredns" /coredns
  single_binary_image "registry.k8s.io/pause:$PAUSE_VERSION" "$bin/pause-$KUBERNETES_VERSION/pause" /pause
  local tag="registry.k8s.io/kube-proxy:$KUBERNETES_VERSION"
  if ! image_exists "$tag"; then
    rootfs proxy "$proxy_packages"
    local dir
    dir=$(scratch_dir)
    tar -C "$dir" -xf "$rootfs_tar"
    cp "$k/kube-proxy" "$dir/usr/local/bin/kube-proxy"
    import_image "$tag" "$dir" '["/usr/local/bin/kube-proxy"]'
    rm -rf "$dir"
  fi
  podnet_image="replica-demo/podnet:$(cat "$here/node/podnet" "$here/versions.sh" | sha256sum | cut -c1-12)"
  if ! image_exists "$podnet_image"; then
    rootfs proxy "$proxy_packages"
    local dir
    dir=$(scratch_dir)
    tar -C "$dir" -xf "$rootfs_tar"
    cp "$k/kubectl" "$dir/usr/local/bin/kubectl"
    install -m 0755 "$here/node/podnet" "$dir/usr/local/bin/podnet"
    import_image "$podnet_image" "$dir" '["/usr/local/bin/podnet"]'
    rm -rf "$dir"
  fi
  build_curl_image
}

# The curl image the blast Job names, made of this machine's curl and the libraries it loads,
# with a shell for an entrypoint that behaves like the published image's.
build_curl_image() {
  local tag
  tag=$(sed -n "s/^export const CURL_IMAGE = '\(.*\)';/\1/p" "$root/src/cli/core/names.ts")
  [ -n "$tag" ] || die "cannot read CURL_IMAGE from src/cli/core/names.ts"
  image_exists "$tag" && return 0
  command -v curl >/dev/null || die "curl is not installed; the blast image is made from it." "Install curl." 2
  local dir curl_bin
  dir=$(scratch_dir)
  curl_bin=$(readlink -f "$(command -v curl)")
  mkdir -p "$dir/usr/bin" "$dir/tmp" "$dir/etc/ssl/certs"
  chmod 1777 "$dir/tmp"
  cp "$curl_bin" "$dir/usr/bin/curl"
  mkdir -p "$dir/bin" "$dir/usr/local/bin"
  cp "$(readlink -f /bin/sh)" "$dir/bin/sh"
  install -m 0755 "$here/curl-entrypoint.sh" "$dir/usr/local/bin/entrypoint.sh"
  local lib
  for lib in $({ ldd "$curl_bin"; ldd "$(readlink -f /bin/sh)"; } | grep -oE '/[^ ]+' | sort -u); do
    mkdir -p "$dir$(dirname "$lib")"
    cp -L "$lib" "$dir$lib"
  done
  cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/"
  printf 'curl_user:x:100:101::/tmp:/sbin/nologin\n' >"$dir/etc/passwd"
  printf 'curl_group:x:101:\n' >"$dir/etc/group"
  note "image $tag (this machine's $(curl --version | head -n 1 | cut -d' ' -f1-2))"
  tar -C "$dir" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'USER 100' \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]' \
    --change "LABEL org.opencontainers.image.description=\"$(curl --version | head -n 1 | cut -d' ' -f1-2) from the machine that built the cluster\"" \
    - "$tag" >/dev/null
  rm -rf "$dir"
}

# The Node.js runtime the server image builds on (the Dockerfile's BASE_IMAGE), made of this
# machine's node, npm and the libraries node loads, since no base image can be pulled.
node_base_image=""
build_node_base_image() {
  node_base_image="replica-demo/node-base:$(node --version)"
  image_exists "$node_base_image" && return 0
  say "the server's base image from this machine's Node.js ($(node --version))"
  node "$root/scripts/node-base-image.mjs" "$node_base_image"
}

node_image_key() {
  {
    cat "$here/versions.sh" "$here/cluster.sh" "$here/node/"* "$here/runc-shim/main.go"
  } | sha256sum | cut -c1-12
}

build_node_image() {
  node_image="replica-demo/kind-node:$KUBERNETES_VERSION-$(node_image_key)"
  image_exists "$node_image" && { note "node image $node_image (cached)"; return 0; }
  rootfs node "$node_packages"
  stage="the node image build"
  local kind_src
  kind_src=$(module_field "sigs.k8s.io/kind@$KIND_VERSION" Dir)
  local base_files="$kind_src/images/base/files"
  [ -d "$base_files" ] || die "kind's node files are missing from $kind_src"

  say "node image: a Debian root filesystem laid out as kind's base image ($KIND_VERSION images/base)"
  local rootfs_image
  rootfs_image="replica-demo/kind-rootfs:$DEBIAN_SUITE-$(basename "$rootfs_tar" .tar | rev | cut -d- -f1 | rev)"
  image_exists "$rootfs_image" || docker import "$rootfs_tar" "$rootfs_image" >/dev/null

  local ctx
  ctx=$(scratch_dir)
  cp -r "$base_files" "$ctx/files"
  chmod -R u+w "$ctx/files"
  cp "$shim" "$ctx/runc-shim"
  cp "$bin/crictl-$CRICTL_VERSION/crictl" "$ctx/crictl"
  local k="$bin/kubernetes-$KUBERNETES_VERSION"
  cp "$k/kubeadm" "$k/kubelet" "$k/kubectl" "$ctx/"
  cp "$here/node/node.Dockerfile" "$ctx/Dockerfile"
  local base
  base="replica-demo/kind-node-base:$KUBERNETES_VERSION-$(node_image_key)"
  docker build --quiet --build-arg "ROOTFS=$rootfs_image" --build-arg "PAUSE_IMAGE=registry.k8s.io/pause:$PAUSE_VERSION" \
    -t "$base" "$ctx" >/dev/null
  rm -rf "$ctx"

  say "node image: loading the control-plane images into its containerd, as kind build node-image does"
  local images=(
    "registry.k8s.io/kube-apiserver:$KUBERNETES_VERSION"
    "registry.k8s.io/kube-controller-manager:$KUBERNETES_VERSION"
    "registry.k8s.io/kube-scheduler:$KUBERNETES_VERSION"
    "registry.k8s.io/kube-proxy:$KUBERNETES_VERSION"
    "registry.k8s.io/etcd:$ETCD_IMAGE_TAG"
    "registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
    "registry.k8s.io/pause:$PAUSE_VERSION"
    "$podnet_image"
  )
  builder="replica-demo-node-build-$$"
  docker rm -f "$builder" >/dev/null 2>&1 || true
  docker run -d --name "$builder" --entrypoint sleep --security-opt seccomp=unconfined "$base" infinity >/dev/null
  docker exec "$builder" sh -c 'printf %s "$1" >/kind/version' sh "$KUBERNETES_VERSION"
  docker exec "$builder" mkdir -p /kind/manifests
  sed "s#PODNET_IMAGE#$podnet_image#" "$here/node/default-cni.yaml" |
    docker exec -i "$builder" sh -c 'cat >/kind/manifests/default-cni.yaml'
  docker exec "$builder" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 & for i in $(seq 1 30); do ctr version >/dev/null 2>&1 && exit 0; sleep 1; done; cat /tmp/containerd.log; exit 1'
  local image
  for image in "${images[@]}"; do
    docker save "$image" | docker exec -i "$builder" ctr --namespace=k8s.io images import \
      --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - >/dev/null
  done
  docker exec "$builder" sh -c 'pkill containerd; rm -f /tmp/containerd.log'
  docker commit \
    --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
    --change 'CMD []' \
    "$builder" "$node_image" >/dev/null
  docker rm -f "$builder" >/dev/null
  builder=""
  note "node image $node_image"
}

# --- the Docker engine on hosts without CAP_SYS_RESOURCE --------------------------------------

# kind's nodes are privileged containers. runc gives a privileged container every capability
# and fails ("unable to apply caps: operation not permitted") where the host's bounding set
# lacks one. Only there, register the wrapper as the engine's default runtime.
ensure_runtime() {
  local missing last full
  missing=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
  last=$(cat /proc/sys/kernel/cap_last_cap)
  full=$(((1 << (last + 1)) - 1))
  if (((0x$missing & full) == full)); then
    note "capability bounding set $missing is complete: the Docker engine's runtime is left as it is"
    return 0
  fi
  local installed=/usr/local/sbin/replica-demo-runc-shim
  if [ "$(docker info --format '{{.DefaultRuntime}}')" = "replica-demo-runc" ] && cmp -s "$shim" "$installed"; then
    note "this host lacks capabilities; the Docker engine already runs containers through $installed"
    return 0
  fi
  say "this host's capability bounding set ($missing) lacks capabilities (CAP_SYS_RESOURCE where seen): privileged containers fail"
  note "registering $installed (drops capabilities the host lacks, then runs runc) as the Docker engine's default runtime"
  install -m 0755 "$shim" "$installed"
  local config=/etc/docker/daemon.json
  local current='{}'
  [ -s "$config" ] && current=$(cat "$config")
  if [ "$(jq -r '."default-runtime" // ""' <<<"$current")" != "replica-demo-runc" ]; then
    local kept=""
    if [ -s "$config" ]; then
      cp "$config" "$config.replica-demo-backup"
      kept=" (the previous one is $config.replica-demo-backup)"
    fi
    jq --arg path "$installed" '.runtimes["replica-demo-runc"] = {path: $path} | ."default-runtime" = "replica-demo-runc"' <<<"$current" >"$config.tmp"
    mv "$config.tmp" "$config"
    note "wrote $config$kept; reloading the engine"
    if command -v systemctl >/dev/null && systemctl is-active --quiet docker 2>/dev/null; then
      systemctl reload docker
    else
      local pid
      pid=$(pidof -s dockerd) || die "no dockerd process to reload; $config is written." "Restart the Docker engine and run this again."
      kill -HUP "$pid"
    fi
    sleep 1
  fi
  [ "$(docker info --format '{{.DefaultRuntime}}')" = "replica-demo-runc" ] ||
    die "the Docker engine did not take the runtime from $config." "Restart the engine and run this again."
}

# --- the cluster ----------------------------------------------------------------------------

kind_cmd() { "$bin/kind-$KIND_VERSION/kind" "$@"; }

cluster_exists() {
  local clusters
  clusters=$(kind_cmd get clusters 2>/dev/null) || return 1
  grep -qx "$cluster" <<<"$clusters"
}

cluster_answers() {
  "$bin/kubernetes-$KUBERNETES_VERSION/kubectl" --context "kind-$cluster" get --raw /readyz >/dev/null 2>&1
}

# Before anything is built: a cluster of that name that does not answer is refused now.
check_existing_cluster() {
  [ -x "$bin/kind-$KIND_VERSION/kind" ] && [ -x "$bin/kubernetes-$KUBERNETES_VERSION/kubectl" ] || return 0
  if cluster_exists && ! cluster_answers; then
    die "kind cluster \"$cluster\" exists but does not answer." "Delete it (scripts/kind/cluster.sh delete) and run this again." 8
  fi
}

create_cluster() {
  if cluster_exists; then
    if cluster_answers; then
      say "kind cluster \"$cluster\" already exists and answers"
      return 0
    fi
    die "kind cluster \"$cluster\" exists but does not answer." "Delete it (scripts/kind/cluster.sh delete) and run this again." 8
  fi
  say "creating kind cluster \"$cluster\" from manifests/kind/kind-cluster.yaml"
  stage="cluster creation"
  local started=$SECONDS
  # kind removes its half-made cluster when it fails or gets Ctrl-C itself (and then exits
  # with its own status, so bash runs no INT trap); make sure, and say so.
  if ! kind_cmd create cluster --name "$cluster" --config "$root/manifests/kind/kind-cluster.yaml" \
    --image "$node_image" --wait 5m; then
    if cluster_exists; then kind_cmd delete cluster --name "$cluster" >&2 || true; fi
    if cluster_exists; then
      die "creating kind cluster \"$cluster\" failed or was interrupted, and it is still there." \
        "Remove it: $bin/kind-$KIND_VERSION/kind delete cluster --name $cluster"
    fi
    die "creating kind cluster \"$cluster\" failed or was interrupted; nothing of it is left." \
      "Built artifacts stay in $cache; run the same command again to resume."
  fi
  note "created in $((SECONDS - started)) s; waiting for every node to be Ready (their pod network starts last)"
  "$bin/kubernetes-$KUBERNETES_VERSION/kubectl" --context "kind-$cluster" wait --for=condition=Ready nodes --all --timeout=180s >/dev/null
  stage=""
  note "ready in $((SECONDS - started)) s"
  "$bin/kubernetes-$KUBERNETES_VERSION/kubectl" --context "kind-$cluster" get nodes -o wide
}

# --- a local registry, as kind's documentation sets one up ----------------------------------
# A registry container on the kind network, published on the host's loopback only, and each
# node's containerd told that localhost:$registry_port means that container; so
# `docker push localhost:$registry_port/...` on this machine and a pod's
# `image: localhost:$registry_port/...` name the same image, the way a cloud cluster pulls from
# its registry. The registry program is Debian's docker-registry (the CNCF distribution).

registry_name=kind-registry
registry_port=${REPLICA_DEMO_REGISTRY_PORT:-5001}
registry_image=""

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
}

build_registry_image() {
  if ! command -v docker-registry >/dev/null; then
    say "installing Debian's docker-registry (the registry program)"
    apt_install docker-registry || die "docker-registry could not be installed." "Install it: apt-get install docker-registry" 2
  fi
  local version program dir lib
  version=$(dpkg-query -W -f '${Version}' docker-registry 2>/dev/null | sed 's/[+~].*//')
  registry_image="replica-demo/registry:${version:-local}"
  image_exists "$registry_image" && return 0
  program=$(readlink -f "$(command -v docker-registry)")
  dir=$(scratch_dir)
  mkdir -p "$dir/bin" "$dir/etc/docker/registry" "$dir/var/lib/registry" "$dir/tmp"
  chmod 1777 "$dir/tmp"
  cp "$program" "$dir/bin/registry"
  for lib in $(ldd "$program" | grep -oE '/[^ ]+' | sort -u); do
    mkdir -p "$dir$(dirname "$lib")"
    cp -L "$lib" "$dir$lib"
  done
  cat >"$dir/etc/docker/registry/config.yml" <<'YAML'
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
YAML
  import_image "$registry_image" "$dir" '["/bin/registry", "serve", "/etc/docker/registry/config.yml"]'
  rm -rf "$dir"
}

start_registry() {
  local state
  state=$(docker inspect -f '{{.State.Running}}' "$registry_name" 2>/dev/null || true)
  if [ "$state" = "false" ]; then
    docker start "$registry_name" >/dev/null
  elif [ -z "$state" ]; then
    docker run -d --restart=always --name "$registry_name" --network kind \
      -p "127.0.0.1:$registry_port:5000" "$registry_image" >/dev/null
  fi
  local i
  for i in $(seq 1 30); do
    curl -fsS -o /dev/null "http://127.0.0.1:$registry_port/v2/" && return 0
    sleep 1
  done
  die "the registry $registry_name does not answer on 127.0.0.1:$registry_port." "Its log: docker logs $registry_name"
}

# Each node: containerd reads per-registry hosts from certs.d (a cluster made from
# manifests/kind/kind-cluster.yaml has that already; an older one gets it and a containerd
# restart, which running pods survive), and localhost:PORT there is the registry container.
connect_nodes_to_registry() {
  local node dir="/etc/containerd/certs.d/localhost:$registry_port"
  for node in $(kind_cmd get nodes --name "$cluster"); do
    if ! docker exec "$node" grep -q '^ *config_path' /etc/containerd/config.toml; then
      note "$node: containerd now reads /etc/containerd/certs.d (restarting it)"
      docker exec "$node" sh -c 'printf "\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n" >>/etc/containerd/config.toml && systemctl restart containerd'
    fi
    docker exec "$node" mkdir -p "$dir"
    printf '[host."http://%s:5000"]\n' "$registry_name" | docker exec -i "$node" cp /dev/stdin "$dir/hosts.toml"
  done
  # Where tools look for a local registry (KEP-1755), as kind's recipe publishes it.
  "$bin/kubernetes-$KUBERNETES_VERSION/kubectl" --context "kind-$cluster" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-registry-hosting
  namespace: kube-public
data:
  localRegistryHosting.v1: |
    host: "localhost:$registry_port"
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
YAML
}

ensure_registry() {
  say "local registry $registry_name on 127.0.0.1:$registry_port"
  stage="the registry"
  cluster_exists || die "kind cluster \"$cluster\" does not exist." "Create it first: scripts/kind/cluster.sh create" 8
  mkdir -p "$cache/tmp"
  [ -n "$scratch" ] || scratch=$(mktemp -d "$cache/tmp/run.XXXXXX")
  build_registry_image
  start_registry
  connect_nodes_to_registry
  stage=""
  note "push to localhost:$registry_port/PATH; \`replica-demo up --registry localhost:$registry_port/replica-demo\` uses it"
}

link_tools() {
  mkdir -p "$bin/path"
  ln -sfn "$bin/kind-$KIND_VERSION/kind" "$bin/path/kind"
  ln -sfn "$bin/kubernetes-$KUBERNETES_VERSION/kubectl" "$bin/path/kubectl"
}

build_all() {
  check_host
  check_existing_cluster
  mkdir -p "$cache/tmp"
  scratch=$(mktemp -d "$cache/tmp/run.XXXXXX")
  print_versions
  local started=$SECONDS
  build_runc_shim
  ensure_runtime
  build_plain_module kind sigs.k8s.io/kind "$KIND_VERSION" sigs.k8s.io/kind kind
  build_kubernetes
  build_etcd
  build_plain_module coredns github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns coredns
  build_plain_module crictl sigs.k8s.io/cri-tools "$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl crictl
  build_pause
  build_cluster_images
  build_node_base_image
  build_node_image
  link_tools
  stage=""
  note "built or found everything in $((SECONDS - started)) s"
}

case "${1:-create}" in
  create)
    build_all
    create_cluster
    ensure_registry
    say "done: kind and kubectl $KUBERNETES_VERSION are in $bin/path"
    note "export PATH=$bin/path:\$PATH    # to use them by hand"
    note "REPLICA_DEMO_BASE_IMAGE=$node_base_image is the server's base image here (npm run test:kind sets it)"
    ;;
  build) build_all ;;
  registry) ensure_registry ;;
  delete)
    [ -x "$bin/kind-$KIND_VERSION/kind" ] || die "kind was never built here ($bin)." "Nothing to delete."
    kind_cmd delete cluster --name "$cluster"
    if docker inspect "$registry_name" >/dev/null 2>&1; then
      docker rm -f "$registry_name" >/dev/null && note "removed the registry container $registry_name (and the images pushed to it)"
    fi
    ;;
  status)
    for f in "kind-$KIND_VERSION/kind" "kubernetes-$KUBERNETES_VERSION/kube-proxy" "etcd-$ETCD_VERSION/etcd" \
      "coredns-$COREDNS_VERSION/coredns" "crictl-$CRICTL_VERSION/crictl" "pause-$KUBERNETES_VERSION/pause"; do
      if [ -x "$bin/$f" ]; then echo "built    $f"; else echo "missing  $f"; fi
    done
    if [ -x "$bin/kind-$KIND_VERSION/kind" ] && cluster_exists; then
      echo "cluster  $cluster exists"
    else
      echo "cluster  $cluster does not exist"
    fi
    if curl -fsS -o /dev/null "http://127.0.0.1:$registry_port/v2/" 2>/dev/null; then
      echo "registry localhost:$registry_port answers"
    else
      echo "registry localhost:$registry_port does not answer"
    fi
    ;;
  path) echo "$bin/path" ;;
  *) die "unknown command: $1" "Use create, build, delete, status, registry or path." 2 ;;
esac
