#!/usr/bin/env bash
# fresh-check.sh — run the README's commands on a fresh Debian 12, as a new user
# would: a clean `debootstrap --variant=minbase bookworm` root with nothing else
# installed, the committed HEAD cloned into it, and the commands run inside it.
# A missing install step fails here instead of on a user's first try. CI
# (.ci/run) runs the test command through this script.
#
#   scripts/fresh-check.sh                   the demo, then the whole test suite
#   scripts/fresh-check.sh CMD [ARGS...]     CMD inside the root, from the clone
#                                            (e.g. scripts/test.sh --quick)
#   scripts/fresh-check.sh --shell           an interactive shell in a fresh root
#
# Needs root (or sudo): debootstrap, mount, chroot. Installs debootstrap on the
# host when it is missing. The pristine root is built once and cached in
# $WAC_FRESH_CACHE (default /var/cache/wac-fresh); each run copies it, so every
# run starts from the same clean root. Downloaded .deb files are cached there
# too (a download cache only: nothing is installed in the root beforehand).
# Environment: WAC_FRESH_KEEP=1 keeps the run's root (and prints where);
# WAC_FRESH_MIRROR (default http://deb.debian.org/debian).
#
# Every exit path (success, failure, Ctrl-C, TERM) kills what still runs inside
# the root, unmounts everything mounted in it, and removes it.
set -euo pipefail
# The whole script is one block, read before it runs: bash reads a script as
# it goes, and a checkout edited during a long run would otherwise change the
# lines still to come.
{
log() { printf 'fresh-check: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "needs root (debootstrap, mount, chroot), and there is no sudo"
    exec sudo --preserve-env=WAC_FRESH_CACHE,WAC_FRESH_KEEP,WAC_FRESH_MIRROR "$0" "$@"
fi

top=$(cd "$(dirname "$0")/.." && pwd)
git -C "$top" rev-parse --verify -q HEAD >/dev/null || die "$top is not a git checkout with a commit"
head=$(git -C "$top" rev-parse HEAD)
cache=${WAC_FRESH_CACHE:-/var/cache/wac-fresh}
mirror=${WAC_FRESH_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
pristine=$cache/$suite-minbase

interactive=0
if [ "${1:-}" = "--shell" ]; then
    interactive=1
    shift
fi
if [ $interactive -eq 0 ] && [ $# -eq 0 ]; then
    set -- bash -c 'scripts/demo.sh && scripts/test.sh'
fi

host_has() { command -v "$1" >/dev/null 2>&1; }
if ! host_has debootstrap; then
    log "installing debootstrap on the host"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
for tool in debootstrap chroot mount umount git; do
    host_has "$tool" || die "$tool not found on the host"
done

mkdir -p "$cache/archives/partial"
if [ ! -f "$pristine/.wac-complete" ]; then
    log "building the pristine $suite root (once; cached in $pristine)"
    rm -rf --one-file-system "$pristine.tmp"
    debootstrap --variant=minbase "$suite" "$pristine.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
        tail -n 30 "$cache/debootstrap.log" >&2
        die "debootstrap failed (log: $cache/debootstrap.log)"
    }
    rm -rf --one-file-system "$pristine"
    mv "$pristine.tmp" "$pristine"
    touch "$pristine/.wac-complete"
fi

root=$(mktemp -d "${TMPDIR:-/var/tmp}/wac-fresh.XXXXXX")
mounted=()

# Processes whose root directory is inside $root (servers a failed test left).
procs_in_root() {
    local p link
    for p in /proc/[0-9]*; do
        link=$(readlink "$p/root" 2>/dev/null) || continue
        case $link in "$root" | "$root"/*) echo "${p#/proc/}" ;; esac
    done
}

cleanup() {
    local rc=$? i pids
    trap - EXIT INT TERM
    pids=$(procs_in_root)
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null || true
        sleep 1
        pids=$(procs_in_root)
        # shellcheck disable=SC2086
        [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
    fi
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount -l "${mounted[i]}" 2>/dev/null || log "warning: could not unmount ${mounted[i]}"
    done
    if [ "${WAC_FRESH_KEEP:-0}" = 1 ]; then
        log "kept the root: $root"
    elif grep -q " $root/" /proc/self/mounts; then
        log "warning: something is still mounted under $root; not removing it"
    else
        rm -rf --one-file-system "$root"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "copying the pristine root to $root"
cp -a "$pristine/." "$root/"
rm -f "$root/.wac-complete"

# What a fresh Debian 12 installation has: the release, its updates and security.
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"

# The root is a mount point of its own, as / is on an installed system: a
# mount namespace's tools (unshare --mount, bubblewrap as Flatpak runs apps)
# set the propagation of /, which fails on a plain directory. Private, so
# that nothing mounted inside reaches the host.
mount --bind "$root" "$root"
mount --make-private "$root"
mounted+=("$root")

bind() { # bind SRC DEST-in-root
    mkdir -p "$root$2"
    mount --bind "$1" "$root$2"
    mounted+=("$root$2")
}
bind /proc /proc
bind /sys /sys
bind /dev /dev
bind /dev/pts /dev/pts
bind /dev/shm /dev/shm
bind "$cache/archives" /var/cache/apt/archives

log "cloning $head into /root/wac"
git clone -q --no-hardlinks "$top" "$root/root/wac"
git -C "$root/root/wac" checkout -q --detach "$head"

# A clean environment, as a new user's login shell would have it.
env_clean=(env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    LANG=C.UTF-8 TERM="${TERM:-dumb}" DEBIAN_FRONTEND=noninteractive)
if [ $interactive -eq 1 ]; then
    chroot "$root" "${env_clean[@]}" bash -c 'cd /root/wac && exec bash -i'
    exit $?
fi
log "running in the fresh root: $*"
start=$SECONDS
rc=0
# In the background and waited for, so that a TERM or INT sent to this script
# alone runs the cleanup at once rather than after the command ends.
chroot "$root" "${env_clean[@]}" bash -c 'cd /root/wac && exec "$@"' bash "$@" </dev/null &
wait $! || rc=$?
log "exit $rc after $((SECONDS - start)) s"
exit "$rc"
}
