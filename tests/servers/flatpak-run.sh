#!/bin/sh
# flatpak-run.sh APP_ID COMMAND [ARG...] — run COMMAND the way Flatpak runs an
# application, as far as an audio server and WAC can tell: in a pid namespace
# of its own (it is pid 1 there) and a mount namespace whose root holds
# /.flatpak-info naming APP_ID in its [Application] group. The root is an
# overlay of this one (a tmpfs on top holds the file), with /proc, /sys, /dev,
# /tmp and /run bound in so the servers' sockets are where they were.
#
# The command's process keeps this script's pid (everything is exec'd), so
# the child of `unshare` is the application. Needs CAP_SYS_ADMIN (root).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 APP_ID COMMAND [ARG...]" >&2; exit 2; }
if [ "${WAC_FLATPAK_INNER:-}" != 1 ]; then
    export WAC_FLATPAK_INNER=1
    exec unshare --mount --pid --fork "$0" "$@"
fi
unset WAC_FLATPAK_INNER
app_id=$1
shift
# A tmpfs over /mnt, in this mount namespace only: nothing to clean up after.
base=/mnt
mount -t tmpfs tmpfs "$base"
mkdir "$base/upper" "$base/work" "$base/root"
printf '[Application]\nname=%s\nruntime=runtime/org.freedesktop.Platform/x86_64/23.08\n' "$app_id" \
    > "$base/upper/.flatpak-info"
mount -t overlay overlay -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work" "$base/root"
for d in proc sys dev tmp run; do
    mount --rbind "/$d" "$base/root/$d"
done
exec chroot "$base/root" /usr/bin/env --chdir="$PWD" "$@"
