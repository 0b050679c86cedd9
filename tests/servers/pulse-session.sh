#!/usr/bin/env bash
# pulse-session.sh — a private, headless PulseAudio daemon (one null sink) for
# tests, on a machine with no sound card, started the way
# /work/shared/PLATFORM-NOTES.md describes (PulseAudio 16.1, as root or not).
#
#   eval "$(tests/servers/pulse-session.sh start)"   # prints export lines
#   tests/servers/pulse-session.sh stop              # uses $WAC_PULSE_SESSION_DIR
#   tests/servers/pulse-session.sh run CMD ARGS...   # start, run CMD, stop; CMD's exit code
#
# The daemon gets its own XDG_RUNTIME_DIR, PULSE_RUNTIME_PATH and HOME, no
# autospawn, no idle exit, and only the modules server.pa below loads (-n):
# a null sink and the native protocol on a private socket with anonymous
# auth. PULSE_SERVER points at that socket, so clients never reach a user's
# server. PIPEWIRE_RUNTIME_DIR points at an empty directory, so "auto"
# finds no PipeWire and picks PulseAudio.
#
# A null sink renders as far ahead as its clients let it: with nobody asking
# for low latency, 2 s. A player that starts then is not rendered until that
# block has run out, so its first ~2 s reach nobody (the monitor included).
# Desktop sinks do not behave like that, so a keep-alive recorder (parec on
# the default sink's monitor, 20 ms) keeps $SINK at desktop-like latency for
# the tests. A second null sink, $IDLE_SINK, keeps PulseAudio's defaults, for
# the test that WAC's own latency request works.
#
# Every wait has a timeout (WAC_PULSE_TIMEOUT seconds, default 10); on failure
# the daemon's log is printed to stderr and the daemon is stopped.
# Exported: XDG_RUNTIME_DIR, PULSE_RUNTIME_PATH, HOME, PULSE_SERVER,
# PIPEWIRE_RUNTIME_DIR, WAC_PULSE_SESSION_DIR, WAC_PULSE_SINK (the default
# null sink's name), WAC_PULSE_IDLE_SINK and WAC_PULSE_PID (the daemon).
set -u

TIMEOUT=${WAC_PULSE_TIMEOUT:-10}
SINK=wac_null_sink
IDLE_SINK=wac_idle_sink

log() { printf 'pulse-session: %s\n' "$*" >&2; }

dump_logs() {
    local f=$1/log/pulseaudio.log
    [ -f "$f" ] || return 0
    printf -- '---- %s (last 40 lines) ----\n' "$f" >&2
    tail -n 40 "$f" >&2
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
    local dir=$1 pid
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    if [ -f "$dir/pid.keepalive" ]; then
        pid=$(cat "$dir/pid.keepalive")
        alive "$pid" && kill -TERM "$pid" 2>/dev/null
    fi
    if [ -f "$dir/pid.pulseaudio" ]; then
        pid=$(cat "$dir/pid.pulseaudio")
        alive "$pid" && kill -TERM "$pid" 2>/dev/null
        local deadline=$((SECONDS + 3))
        while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
        if alive "$pid"; then
            log "warning: pulseaudio (pid $pid) ignored SIGTERM; killing it"
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    case $dir in
    */wac-pulse.*) rm -rf "$dir" ;;
    *) log "warning: not removing unexpected session dir $dir" ;;
    esac
}

fail_start() {
    log "error: $*"
    dump_logs "$DIR"
    stop_dir "$DIR"
    exit 1
}

server_answers() { pactl info; }
default_sink_is_ours() { pactl info 2>/dev/null | grep -q "^Default Sink: $SINK\$"; }

do_start() {
    for tool in pulseaudio pactl paplay setsid; do
        command -v "$tool" >/dev/null || { log "error: $tool not found (install pulseaudio, pulseaudio-utils)"; exit 1; }
    done
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/wac-pulse.XXXXXX") || { log "error: cannot create a temp dir"; exit 1; }
    chmod 700 "$DIR"
    mkdir -m 700 -p "$DIR/run" "$DIR/run/pulse" "$DIR/home" "$DIR/log" "$DIR/no-pipewire"

    unset DISPLAY PIPEWIRE_REMOTE WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS
    export XDG_RUNTIME_DIR=$DIR/run HOME=$DIR/home
    export PULSE_RUNTIME_PATH=$XDG_RUNTIME_DIR/pulse
    export PULSE_SERVER=unix:$PULSE_RUNTIME_PATH/native
    export PIPEWIRE_RUNTIME_DIR=$DIR/no-pipewire
    # A client library must never start a daemon of its own here.
    printf 'autospawn = no\n' >"$DIR/client.conf"
    export PULSE_CLIENTCONFIG=$DIR/client.conf

    cat >"$DIR/server.pa" <<PA
load-module module-null-sink sink_name=$SINK sink_properties=device.description=WAC-test-null-sink rate=48000 channels=2
load-module module-null-sink sink_name=$IDLE_SINK sink_properties=device.description=WAC-test-idle-sink rate=48000 channels=2
load-module module-native-protocol-unix auth-anonymous=1 socket=$PULSE_RUNTIME_PATH/native
set-default-sink $SINK
PA

    setsid pulseaudio --daemonize=no --exit-idle-time=-1 --use-pid-file=no --system=no \
        --disallow-exit=no -n -F "$DIR/server.pa" --log-target=stderr \
        </dev/null >"$DIR/log/pulseaudio.log" 2>&1 &
    echo $! >"$DIR/pid.pulseaudio"

    wait_for "the pulse socket ($PULSE_RUNTIME_PATH/native)" test -S "$PULSE_RUNTIME_PATH/native" ||
        fail_start "pulseaudio did not start"
    wait_for "the server to answer" server_answers || fail_start "pulseaudio does not answer"
    wait_for "$SINK to be the default sink" default_sink_is_ours || fail_start "no default sink"
    alive "$(cat "$DIR/pid.pulseaudio")" || fail_start "pulseaudio exited during start-up"
    setsid parec --device="$SINK.monitor" --latency-msec=20 --raw </dev/null >/dev/null 2>"$DIR/log/keepalive.log" &
    echo $! >"$DIR/pid.keepalive"
    # Let the sink's first (2 s) block run out: from then on it renders 20 ms ahead.
    sleep 2.1
    alive "$(cat "$DIR/pid.keepalive")" || fail_start "the keep-alive recorder did not start"

    printf 'export XDG_RUNTIME_DIR=%q\n' "$XDG_RUNTIME_DIR"
    printf 'export HOME=%q\n' "$HOME"
    printf 'export PULSE_RUNTIME_PATH=%q\n' "$PULSE_RUNTIME_PATH"
    printf 'export PULSE_SERVER=%q\n' "$PULSE_SERVER"
    printf 'export PULSE_CLIENTCONFIG=%q\n' "$PULSE_CLIENTCONFIG"
    printf 'export PIPEWIRE_RUNTIME_DIR=%q\n' "$PIPEWIRE_RUNTIME_DIR"
    printf 'export WAC_PULSE_SESSION_DIR=%q\n' "$DIR"
    printf 'export WAC_PULSE_SINK=%q\n' "$SINK"
    printf 'export WAC_PULSE_IDLE_SINK=%q\n' "$IDLE_SINK"
    printf 'export WAC_PULSE_PID=%s\n' "$(cat "$DIR/pid.pulseaudio")"
    printf 'unset DISPLAY PIPEWIRE_REMOTE WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS\n'
}

do_run() {
    [ $# -gt 0 ] || { log "usage: $0 run CMD [ARGS...]"; exit 2; }
    local env_lines
    env_lines=$(do_start) || exit 1
    eval "$env_lines"
    trap 'stop_dir "$WAC_PULSE_SESSION_DIR"; exit 130' INT TERM
    "$@"
    local rc=$?
    if [ "$rc" -ne 0 ] && [ -n "${WAC_PULSE_SHOW_LOGS_ON_FAILURE:-1}" ] && [ -d "$WAC_PULSE_SESSION_DIR" ]; then
        log "command exited with $rc; server log follows"
        dump_logs "$WAC_PULSE_SESSION_DIR"
    fi
    stop_dir "$WAC_PULSE_SESSION_DIR"
    return "$rc"
}

case ${1:-} in
start) do_start ;;
stop)
    [ -n "${WAC_PULSE_SESSION_DIR:-}" ] || { log "error: WAC_PULSE_SESSION_DIR is not set"; exit 2; }
    stop_dir "$WAC_PULSE_SESSION_DIR"
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
