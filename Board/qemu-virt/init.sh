#!/bin/busybox sh
# /init of the virtual board's initramfs: mounts the host's root read-only over 9p, tmpfs where the
# guest needs to write, the share "out" at /tmp/out, then runs the guest script as PID 1.
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.list); do insmod /mods/$m.ko; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /newroot || poweroff -f
for d in tmp run var/tmp; do mount -t tmpfs -o mode=1777 tmpfs /newroot/$d; done
mkdir -p /newroot/tmp/out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /newroot/tmp/out || poweroff -f
for d in dev proc sys; do mount --move /$d /newroot/$d; done
mkdir -p /newroot/dev/shm && mount -t tmpfs -o mode=1777 tmpfs /newroot/dev/shm
exec switch_root /newroot /bin/sh /tmp/out/guest.sh
