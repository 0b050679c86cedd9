#!/usr/bin/env bash
# Run a command in a time namespace whose CLOCK_MONOTONIC and CLOCK_BOOTTIME
# read SECONDS when it starts, as on a machine up that long. Wine's WASAPI
# dates packets by a product that wraps once QPC (this clock) passes 25.6 h,
# so the Windows suite runs at a clock on each side of that, whatever this
# machine's uptime. Needs Linux >= 5.6 with time namespaces; as a user other
# than root, user namespaces too (the user stays itself inside).
#   tests/servers/at-clock.sh SECONDS command [args...]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 SECONDS command [args...]" >&2; exit 2; }
target=$1
shift
read -r mono boot < <(python3 -c 'import time
print(int(time.clock_gettime(time.CLOCK_MONOTONIC)), int(time.clock_gettime(time.CLOCK_BOOTTIME)))')
as_user=()
[ "$(id -u)" -eq 0 ] || as_user=(--map-current-user)
exec unshare "${as_user[@]}" --time --monotonic $((target - mono)) --boottime $((target - boot)) --fork "$@"
