# Every version the real kind cluster is built from. Changing one rebuilds what depends on it
# (each artifact is cached under a folder named after its version).

# kind v0.30 is the last release whose default node is Kubernetes 1.34 and that still tests
# cgroup v1 hosts; Kubernetes 1.35's kubelet refuses cgroup v1 by default.
KIND_VERSION=v0.30.0
KUBERNETES_VERSION=v1.34.4
# What kubeadm v1.34 asks for (`kubeadm config images list`).
ETCD_VERSION=v3.6.5
ETCD_IMAGE_TAG=3.6.5-0
COREDNS_VERSION=v1.12.1
PAUSE_VERSION=3.10.1
CRICTL_VERSION=v1.34.0
# The node's Debian release: its systemd, containerd 1.6, runc 1.1 and CNI plugins 1.1.
DEBIAN_SUITE=bookworm
# The image the blast Job names (src/cli/core/names.ts), made from this machine's curl.
CURL_IMAGE=curlimages/curl:8.11.1
