# A kind node: a Debian root filesystem with the files of kind's base image (images/base/files
# of the kind module, copied into the build context by cluster.sh), Debian's containerd,
# runc and CNI plugins in place of the ones kind builds, and Kubernetes' node binaries.
ARG ROOTFS
FROM ${ROOTFS}
ARG PAUSE_IMAGE

COPY files/usr/local/bin/ /usr/local/bin/
COPY files/kind/ /kind/
COPY files/etc/ /etc/
# runc is found on PATH, and /usr/local/sbin comes first: the wrapper runs Debian's runc.
COPY runc-shim /usr/local/sbin/runc
COPY crictl /usr/local/bin/crictl
COPY kubeadm kubelet kubectl /usr/bin/

# restrict_oom_score_adj: a pod's oom_score_adj is never set below containerd's own, since
# lowering it needs CAP_SYS_RESOURCE, which nodes on some hosts lack (see runc-shim).
# The same steps as kind's base image: systemd as PID 1 with only the units a node needs.
RUN chmod 0755 /kind/bin /kind/bin/* /usr/local/bin/* /usr/local/sbin/runc /usr/bin/kubeadm /usr/bin/kubelet /usr/bin/kubectl \
 && find /kind /etc/containerd /etc/default /etc/sysctl.d /etc/systemd/system -type f ! -path '/kind/bin/*' -exec chmod 0644 {} + \
 && find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete \
 && rm -f /lib/systemd/system/multi-user.target.wants/* \
 && rm -f /etc/systemd/system/*.wants/* \
 && rm -f /lib/systemd/system/local-fs.target.wants/* \
 && rm -f /lib/systemd/system/sockets.target.wants/*udev* \
 && rm -f /lib/systemd/system/sockets.target.wants/*initctl* \
 && rm -f /lib/systemd/system/basic.target.wants/* \
 && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \
 && ln -sf /lib/systemd/systemd /sbin/init \
 && systemctl enable kubelet.service containerd.service undo-mount-hacks.service \
 && systemctl mask systemd-binfmt.service \
 && mkdir -p /etc/kubernetes/manifests /opt/cni/bin /etc/cni/net.d \
 && ln -sf /usr/lib/cni/* /opt/cni/bin/ \
 && ln -sf /usr/bin/containerd /usr/local/bin/containerd \
 && ln -sf /usr/bin/ctr /usr/local/bin/ctr \
 && sed -i "s#sandbox_image = .*#sandbox_image = \"${PAUSE_IMAGE}\"#" /etc/containerd/config.toml \
 && sed -i "s#restrict_oom_score_adj = false#restrict_oom_score_adj = true#" /etc/containerd/config.toml \
 && ctr oci spec \
    | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
    | jq 'del(.process.rlimits)' \
    > /etc/containerd/cri-base.json

ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]
