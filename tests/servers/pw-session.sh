#!/usr/bin/env bash
# pw-session.sh — a private, headless PipeWire stack (dbus, pipewire with a
# null sink, wireplumber, pipewire-pulse) for tests, on a machine with no sound
# card, started the way /work/shared/PLATFORM-NOTES.md describes.
#
#   eval "$(tests/servers/pw-session.sh start)"   # prints export lines
#   tests/servers/pw-session.sh stop              # uses $WAC_PW_SESSION_DIR
#   tests/servers/pw-session.sh run CMD ARGS...   # start, run CMD, stop; CMD's exit code
#
# Every wait has a timeout (WAC_PW_TIMEOUT seconds, default 10); on failure the
# logs of the session are printed to stderr and everything started is stopped.
# Exported: XDG_RUNTIME_DIR, XDG_CONFIG_HOME, XDG_STATE_HOME, HOME,
# DBUS_SESSION_BUS_ADDRESS, PIPEWIRE_RUNTIME_DIR, WAC_PW_SESSION_DIR,
# WAC_PW_SINK (the null sink's node.name) and the daemons' pids
# WAC_PW_DBUS_PID, WAC_PW_PIPEWIRE_PID, WAC_PW_WIREPLUMBER_PID, WAC_PW_PULSE_PID.
set -u

TIMEOUT=${WAC_PW_TIMEOUT:-10}
SINK=wac_null_sink

log() { printf 'pw-session: %s\n' "$*" >&2; }

dump_logs() {
    local dir=$1 f
    for f in "$dir"/log/*.log; do
        [ -f "$f" ] || continue
        printf -- '---- %s (last 40 lines) ----\n' "$f" >&2
        tail -n 40 "$f" >&2
    done
}

# wait_for DESCRIPTION COMMAND...: poll COMMAND every 50 ms until it succeeds.
wait_for() {
    local what=$1
    shift
    local deadline=$((SECONDS + TIMEOUT))
    while ! "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "error: timed out after ${TIMEOUT}s waiting for $what"
            return 1
        fi
        sleep 0.05
    done
}

alive() { kill -0 "$1" 2>/dev/null; }

stop_dir() {
    local dir=$1 pid name
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    # Reverse start order: clients of the server first.
    for name in pulse wireplumber pipewire dbus; do
        [ -f "$dir/pid.$name" ] || continue
        pid=$(cat "$dir/pid.$name")
        alive "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    local deadline=$((SECONDS + 3))
    for name in pulse wireplumber pipewire dbus; do
        [ -f "$dir/pid.$name" ] || continue
        pid=$(cat "$dir/pid.$name")
        while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
        if alive "$pid"; then
            log "warning: $name (pid $pid) ignored SIGTERM; killing it"
            kill -KILL "$pid" 2>/dev/null
        fi
    done
    case $dir in
    */wac-pw.*) rm -rf "$dir" ;;
    *) log "warning: not removing unexpected session dir $dir" ;;
    esac
}

# spawn NAME COMMAND...: start a daemon in its own session, detached from our
# stdout (the caller reads it through $(...)), logging into the session dir.
spawn() {
    local name=$1
    shift
    setsid "$@" </dev/null >"$DIR/log/$name.log" 2>&1 &
    echo $! >"$DIR/pid.$name"
}

fail_start() {
    log "error: $*"
    dump_logs "$DIR"
    stop_dir "$DIR"
    exit 1
}

sink_exists() { pw-cli ls Node 2>/dev/null | grep -q "node.name = \"$SINK\""; }
default_sink_is_ours() { pactl info 2>/dev/null | grep -q "^Default Sink: $SINK\$"; }

do_start() {
    for tool in dbus-daemon pipewire wireplumber pipewire-pulse pw-cli pactl setsid; do
        command -v "$tool" >/dev/null || { log "error: $tool not found (install pipewire, wireplumber, pipewire-pulse, dbus, pulseaudio-utils)"; exit 1; }
    done
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/wac-pw.XXXXXX") || { log "error: cannot create a temp dir"; exit 1; }
    chmod 700 "$DIR"
    mkdir -m 700 -p "$DIR/run" "$DIR/config/pipewire/pipewire.conf.d" "$DIR/state" "$DIR/home" "$DIR/log"

    unset DISPLAY PULSE_SERVER PIPEWIRE_REMOTE WAYLAND_DISPLAY
    export XDG_RUNTIME_DIR=$DIR/run XDG_CONFIG_HOME=$DIR/config XDG_STATE_HOME=$DIR/state HOME=$DIR/home
    export PIPEWIRE_RUNTIME_DIR=$XDG_RUNTIME_DIR
    export DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus

    cat >"$XDG_CONFIG_HOME/pipewire/pipewire.conf.d/50-wac-null-sink.conf" <<CONF
context.objects = [
    {   factory = adapter
        args = {
            factory.name     = support.null-audio-sink
            node.name        = "$SINK"
            node.description = "WAC test null sink"
            media.class      = "Audio/Sink"
            audio.position   = [ FL FR ]
            audio.rate       = 48000
            object.linger    = true
            monitor.channel-volumes = true
        }
    }
]
CONF

    # WirePlumber for a headless test server: no hardware monitors. Its
    # bluetooth monitor loads the logind plugin, which fails where there is no
    # systemd-logind (containers, chroots, CI images) and takes WirePlumber
    # down with it; ALSA would open a desktop's sound cards beside the user's
    # own server. Only the policy (links, default sink) is needed.
    mkdir -p "$XDG_CONFIG_HOME/wireplumber/main.lua.d" "$XDG_CONFIG_HOME/wireplumber/bluetooth.lua.d"
    cat >"$XDG_CONFIG_HOME/wireplumber/main.lua.d/80-wac-headless.lua" <<'LUA'
alsa_monitor.enabled = false
v4l2_monitor.enabled = false
libcamera_monitor.enabled = false
LUA
    cat >"$XDG_CONFIG_HOME/wireplumber/bluetooth.lua.d/80-wac-headless.lua" <<'LUA'
bluez_monitor.enabled = false
bluez_monitor.properties["with-logind"] = false
LUA

    spawn dbus dbus-daemon --session --address="$DBUS_SESSION_BUS_ADDRESS" --nofork --nopidfile
    wait_for "the session bus ($XDG_RUNTIME_DIR/bus)" test -S "$XDG_RUNTIME_DIR/bus" || fail_start "dbus-daemon did not start"

    spawn pipewire pipewire
    wait_for "the PipeWire socket ($XDG_RUNTIME_DIR/pipewire-0)" test -S "$XDG_RUNTIME_DIR/pipewire-0" ||
        fail_start "pipewire did not start"

    spawn wireplumber wireplumber
    spawn pulse pipewire-pulse
    wait_for "the pulse socket ($XDG_RUNTIME_DIR/pulse/native)" test -S "$XDG_RUNTIME_DIR/pulse/native" ||
        fail_start "pipewire-pulse did not start"
    wait_for "the null sink $SINK" sink_exists || fail_start "the null sink did not appear"
    wait_for "WirePlumber to make $SINK the default sink" default_sink_is_ours ||
        fail_start "no default sink (is WirePlumber running?)"
    local name
    for name in dbus pipewire wireplumber pulse; do
        alive "$(cat "$DIR/pid.$name")" || fail_start "$name exited during start-up"
    done

    printf 'export XDG_RUNTIME_DIR=%q\n' "$XDG_RUNTIME_DIR"
    printf 'export XDG_CONFIG_HOME=%q\n' "$XDG_CONFIG_HOME"
    printf 'export XDG_STATE_HOME=%q\n' "$XDG_STATE_HOME"
    printf 'export HOME=%q\n' "$HOME"
    printf 'export PIPEWIRE_RUNTIME_DIR=%q\n' "$PIPEWIRE_RUNTIME_DIR"
    printf 'export DBUS_SESSION_BUS_ADDRESS=%q\n' "$DBUS_SESSION_BUS_ADDRESS"
    printf 'export WAC_PW_SESSION_DIR=%q\n' "$DIR"
    printf 'export WAC_PW_SINK=%q\n' "$SINK"
    printf 'export WAC_PW_DBUS_PID=%s\n' "$(cat "$DIR/pid.dbus")"
    printf 'export WAC_PW_PIPEWIRE_PID=%s\n' "$(cat "$DIR/pid.pipewire")"
    printf 'export WAC_PW_WIREPLUMBER_PID=%s\n' "$(cat "$DIR/pid.wireplumber")"
    printf 'export WAC_PW_PULSE_PID=%s\n' "$(cat "$DIR/pid.pulse")"
    printf 'unset DISPLAY PULSE_SERVER PIPEWIRE_REMOTE WAYLAND_DISPLAY\n'
}

do_run() {
    [ $# -gt 0 ] || { log "usage: $0 run CMD [ARGS...]"; exit 2; }
    local env_lines
    env_lines=$(do_start) || exit 1
    eval "$env_lines"
    trap 'stop_dir "$WAC_PW_SESSION_DIR"; exit 130' INT TERM
    "$@"
    local rc=$?
    if [ "$rc" -ne 0 ] && [ -n "${WAC_PW_SHOW_LOGS_ON_FAILURE:-1}" ] && [ -d "$WAC_PW_SESSION_DIR" ]; then
        log "command exited with $rc; server logs follow"
        dump_logs "$WAC_PW_SESSION_DIR"
    fi
    stop_dir "$WAC_PW_SESSION_DIR"
    return "$rc"
}

case ${1:-} in
start) do_start ;;
stop)
    [ -n "${WAC_PW_SESSION_DIR:-}" ] || { log "error: WAC_PW_SESSION_DIR is not set"; exit 2; }
    stop_dir "$WAC_PW_SESSION_DIR"
    ;;
run)
    shift
    do_run "$@"
    exit $?
    ;;
*)
    echo "usage: $0 start | stop | run CMD [ARGS...]" >&2
    exit 2
    ;;
esac
