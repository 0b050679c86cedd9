/*
 * wac.h — WAC: capture the audio that one application plays.
 *
 * Overview
 * --------
 * A wac_context owns one connection to the audio system (PipeWire, PulseAudio,
 * WASAPI, or the test-only "dummy" backend) and, once a capture with callbacks
 * exists, one dispatch thread. Any number of wac_capture handles share it.
 *
 * A capture takes the audio of one target (a process and its tree, an
 * executable name, everything except one process tree, or the whole system),
 * asks the audio engine for the format the caller wants, and pushes it from the
 * engine's real-time thread into a lock-free single-producer single-consumer
 * ring. The caller consumes it in exactly one of three styles:
 *
 *   - blocking reads with a timeout:   wac_capture_read()
 *   - a pollable descriptor:           wac_capture_fd() + wac_capture_read(.., 0, ..)
 *                                      (Windows: wac_capture_event_handle())
 *   - callbacks on the dispatch thread: wac_capture_config.on_audio / on_event
 *
 * The stream is a continuous timeline. Every chunk carries its stream position
 * (frames since start, counting frames that were lost) and a monotonic
 * timestamp. While the target is silent, idle or not running the library
 * delivers silence at the stream rate (unless fill_silence is off). Gaps,
 * overruns and target changes are events, in order with the audio.
 *
 * Nothing is lost silently: when the consumer falls behind by more than the
 * ring holds, the newest frames are dropped, counted exactly, and reported as a
 * WAC_EVENT_OVERRUN at the place in the stream where they were missing.
 *
 * Errors
 * ------
 * Every function that can fail returns 0 (or a count) on success and a negative
 * wac_error on failure. wac_strerror() and wac_error_name() describe a code;
 * wac_context_last_error() / wac_capture_last_error() give the detail of the
 * failure (server or OS context). Like errno, a detail belongs to the thread
 * whose call failed: each thread reads the detail of its own last failure, and
 * other threads failing on the same handle at the same time never change it,
 * so the details need no lock and are safe to read from any thread.
 * Asynchronous failures arrive as events with their own detail. The library
 * never aborts, exits, or prints.
 *
 * Threads
 * -------
 * Unless a function says otherwise, it may be called from any thread, and calls
 * on different handles are independent. Control calls on one capture (start,
 * stop, close) are serialised internally. Only one thread may consume a capture
 * at a time (a second concurrent reader gets WAC_ERR_BUSY). No function here is
 * real-time safe: none is meant to be called from an audio engine's thread.
 */
#ifndef WAC_H
#define WAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- export and version --------------------------------------------------- */

#if defined(_WIN32) && defined(WAC_BUILDING_DLL)
#define WAC_EXPORT __declspec(dllexport)
#elif defined(_WIN32) && defined(WAC_SHARED)
#define WAC_EXPORT __declspec(dllimport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define WAC_EXPORT __attribute__((visibility("default")))
#else
#define WAC_EXPORT
#endif

#define WAC_VERSION_MAJOR 0
#define WAC_VERSION_MINOR 1
#define WAC_VERSION_PATCH 0
/** Version as one comparable number: major * 10000 + minor * 100 + patch. */
#define WAC_VERSION_NUMBER (WAC_VERSION_MAJOR * 10000 + WAC_VERSION_MINOR * 100 + WAC_VERSION_PATCH)

/** The library's version as "major.minor.patch" (static string). Any thread. */
WAC_EXPORT const char *wac_version(void);
/** The library's version as WAC_VERSION_NUMBER computes it. Any thread. */
WAC_EXPORT unsigned wac_version_number(void);

/* ---- errors ----------------------------------------------------------------- */

/* X(name, value, message): the one table that yields the codes, their names and
 * their messages. Values never change once released. */
#define WAC_ERROR_MAP(X)                                                                      \
    X(INVALID_ARGUMENT, -1, "invalid argument")                                               \
    X(NO_MEMORY, -2, "out of memory")                                                         \
    X(UNKNOWN_BACKEND, -3, "unknown backend, or not built into this libwac")                  \
    X(BACKEND_UNAVAILABLE, -4, "audio backend not available (is the audio server running?)") \
    X(TARGET_NOT_FOUND, -5, "target process not found")                                       \
    X(FORMAT_UNSUPPORTED, -6, "audio format not supported")                                   \
    X(STATE, -7, "operation not valid in the current state")                                  \
    X(TIMEOUT, -8, "timed out")                                                               \
    X(ENDED, -9, "stream has ended")                                                          \
    X(CLOSED, -10, "handle is closed")                                                        \
    X(BUSY, -11, "handle is in use by another thread")                                        \
    X(INTERRUPTED, -12, "interrupted by a signal")                                            \
    X(SERVER_LOST, -13, "connection to the audio server lost")                                \
    X(TARGET_EXITED, -14, "target process exited")                                            \
    X(NOT_SUPPORTED, -15, "not supported by this backend or platform")                        \
    X(SYSTEM, -16, "operating system error")                                                  \
    X(BACKEND, -17, "audio backend error")

/** Error codes. All are negative; 0 means success. */
typedef enum wac_error {
    WAC_OK = 0,
#define WAC__ERROR_ENUM(name, value, message) WAC_ERR_##name = value,
    WAC_ERROR_MAP(WAC__ERROR_ENUM)
#undef WAC__ERROR_ENUM
} wac_error;

/** A static, human-readable message for an error code ("unknown error" for
 * codes not in the table, "success" for 0). Any thread. */
WAC_EXPORT const char *wac_strerror(int error);
/** The code's symbolic name without prefix, e.g. "TARGET_NOT_FOUND"; "OK" for
 * 0; "UNKNOWN" otherwise. Static string. Any thread. */
WAC_EXPORT const char *wac_error_name(int error);

/* ---- memory ----------------------------------------------------------------- */

typedef void *(*wac_malloc_func)(size_t size);
typedef void *(*wac_realloc_func)(void *ptr, size_t size);
typedef void *(*wac_calloc_func)(size_t count, size_t size);
typedef void (*wac_free_func)(void *ptr);

/**
 * Replace the allocator libwac uses for its own memory (as libuv's
 * uv_replace_allocator): handles, buffers, rings, and the session and device
 * lists it hands out, which wac_session_list_free() / wac_device_list_free()
 * give back to the same allocator. Memory the audio libraries allocate for
 * themselves (libpipewire, libpulse, COM) does not go through it.
 *
 * The functions must behave like the C library's: any alignment a C object
 * needs, NULL on failure, and callable from any thread,
 * concurrently. libwac never asks them for 0 bytes, never calls realloc with a
 * NULL pointer or 0 bytes, and never passes NULL to free. They are never
 * called from an audio engine's real-time thread.
 *
 * When an allocation fails, the call that needed it fails with
 * WAC_ERR_NO_MEMORY and a detail, having released what it had taken, or
 * libwac goes on without the optional thing it wanted. Work done for a
 * running capture says so instead (PipeWire and PulseAudio backends):
 * - a stream of the target that cannot be taken: WAC_EVENT_STREAM_SKIPPED
 *   (its pid and stream id, error WAC_ERR_NO_MEMORY); it is tried again at
 *   the server's next change;
 * - an object the server announced that the context cannot track (it is not
 *   announced again): STREAM_SKIPPED with pid 0 and stream 0 in every running
 *   capture, and wac_context_list_sessions() / wac_context_list_devices()
 *   fail with WAC_ERR_NO_MEMORY, until a reconnect or a new context.
 * Audio already captured is never touched.
 *
 * @param malloc_func   allocates (must not be NULL).
 * @param realloc_func  resizes (must not be NULL).
 * @param calloc_func   allocates zeroed memory (must not be NULL).
 * @param free_func     frees what the other three returned (must not be NULL).
 * @return 0, or WAC_ERR_INVALID_ARGUMENT (a NULL function; the allocator is
 *         unchanged), WAC_ERR_BUSY (libwac still holds memory from the current
 *         allocator: a context, a list or an aligned reader is still open, and
 *         its memory would reach the wrong free; the allocator is unchanged).
 * Thread: call it before any other libwac call, or when everything libwac
 * handed out is closed or freed, and never concurrently with another libwac
 * call. The allocator stays in place for the life of the process (or until
 * replaced again); there is no way to restore the default other than passing
 * malloc, realloc, calloc and free.
 */
WAC_EXPORT int wac_replace_allocator(wac_malloc_func malloc_func, wac_realloc_func realloc_func,
                                     wac_calloc_func calloc_func, wac_free_func free_func);

/* ---- backends --------------------------------------------------------------- */

/** Name of the i-th backend built into this libwac ("pipewire", "pulse",
 * "wasapi", "dummy"), or NULL when i is past the last. Any thread. */
WAC_EXPORT const char *wac_backend_name(size_t index);

/* ---- contexts ------------------------------------------------------------ */

typedef struct wac_context wac_context;
typedef struct wac_capture wac_capture;

/**
 * Open a context: connect to an audio backend.
 *
 * @param backend  "auto" or NULL (PipeWire, then PulseAudio on Linux; WASAPI on
 *                 Windows; never "dummy"), or a backend name.
 * @param out      receives the new context; set to NULL on failure.
 * @param detail   optional buffer that receives the reason on failure (may be NULL).
 * @param detail_size  size of @p detail in bytes.
 * @return 0, or WAC_ERR_INVALID_ARGUMENT (out is NULL), WAC_ERR_UNKNOWN_BACKEND
 *         (name unknown or not built in), WAC_ERR_BACKEND_UNAVAILABLE (no server
 *         answered), WAC_ERR_NO_MEMORY, WAC_ERR_SYSTEM.
 * Thread: any.
 */
WAC_EXPORT int wac_context_open(const char *backend, wac_context **out, char *detail, size_t detail_size);

/**
 * Close a context: close every capture still open on it (as wac_capture_close
 * does), stop its dispatch thread, disconnect, and free everything, including
 * the handles of captures closed earlier. NULL does nothing.
 *
 * @return 0, or WAC_ERR_STATE when called from one of this context's callbacks
 *         (it would have to join the thread it runs on); nothing is closed then.
 * Thread: any thread except this context's dispatch thread. No other thread may
 * use the context or its captures during or after the call.
 */
WAC_EXPORT int wac_context_close(wac_context *ctx);

/** Name of the backend this context uses ("pipewire", ...). Any thread. */
WAC_EXPORT const char *wac_context_backend(const wac_context *ctx);

/**
 * What this context's captures do when the audio server goes away.
 *
 * Off (the default in the C API; `wac record` and pywac turn it on): each
 * running capture posts WAC_EVENT_SERVER_LOST and ends (WAC_EVENT_ENDED with
 * WAC_ERR_SERVER_LOST), and the context refuses new captures.
 *
 * On: the context reconnects, every 0.1 s at first and then at most every
 * 2 s, for as long as it is open. A running capture keeps its position:
 * WAC_EVENT_SERVER_LOST (error WAC_ERR_SERVER_LOST, the reason in detail)
 * marks where the server went, its streams end (WAC_EVENT_STREAM_REMOVED),
 * silence fills the timeline while there is no server (counted in
 * frames_silence; without fill_silence the gap is a DISCONTINUITY), and
 * WAC_EVENT_SERVER_RESTORED marks where it is back; from there its target's
 * streams are attached again as they play (an application connects again
 * by itself, or is started again). A pid target whose process exited with
 * the server ends as usual (WAC_EVENT_TARGET_DETACHED). Everything captured
 * before the loss is delivered. While the server is away, calls that need
 * it (opening a capture, listing) fail with WAC_ERR_SERVER_LOST.
 *
 * @param ctx        the context.
 * @param reconnect  true to reconnect, false for the default.
 * WASAPI: "the server" is the Windows audio service. When its connection is
 * gone (RPC_E_DISCONNECTED, RPC_S_SERVER_UNAVAILABLE,
 * AUDCLNT_E_SERVICE_NOT_RUNNING), the capture posts SERVER_LOST and tries a
 * new audio client on the same schedule until one works, then posts
 * SERVER_RESTORED; opening and listing need no connection of the context's
 * own. Off, such a failure is tried again three times within about 1.3 s
 * (STREAM_REMOVED, STREAM_ADDED), then ends the stream. Only the fakes under
 * Wine have shown this; a real service restart has not been tried.
 *
 * @return 0, WAC_ERR_INVALID_ARGUMENT (ctx NULL), or WAC_ERR_NOT_SUPPORTED:
 *         the PipeWire, PulseAudio (PulseAudio and pipewire-pulse alike) and
 *         WASAPI backends reconnect; dummy captures end as when off.
 *         Details: wac_context_last_error().
 * Thread: any; it applies to losses after the call.
 */
WAC_EXPORT int wac_context_set_reconnect(wac_context *ctx, bool reconnect);

/**
 * The detail message of the calling thread's last failure, if that failure was
 * of a call on this context (including wac_capture_open, and the context calls
 * that list or set something), e.g. "pid 4242: no such process".
 *
 * @param ctx  the context (NULL: "").
 * @return the detail; "" when the calling thread's last failed call was not on
 *         this context, or it has none. Never NULL. The string belongs to the
 *         calling thread: it stays valid and unchanged until this thread's next
 *         failed libwac call (on any handle) or the thread's exit. Failures on
 *         other threads never change it.
 * Thread: any; each thread sees its own failures (read it on the thread whose
 * call failed, before that thread's next libwac call that could fail).
 */
WAC_EXPORT const char *wac_context_last_error(const wac_context *ctx);

/* ---- sessions: who is playing audio ------------------------------------- */

/** One process that owns audio output streams. Strings are UTF-8, never NULL
 * (empty when unknown), and live as long as the list. */
typedef struct wac_session {
    uint32_t pid;           /**< owning process id (0 if the backend cannot tell) */
    const char *executable; /**< executable basename, e.g. "firefox" */
    const char *app_name;   /**< application name the stream announced */
    uint32_t streams;       /**< number of output streams it owns */
    bool playing;           /**< true if at least one stream is running now */
    float volume;           /**< its output streams' volume, a linear amplitude factor 0...1 (the
                                 loudest channel of the loudest stream; see wac_context_get_volume);
                                 negative when the backend cannot tell */
    bool muted;             /**< true when every one of its output streams is muted */
    const char *app_id;     /**< Linux: the Flatpak application id of a sandboxed process (e.g.
                                 "org.mozilla.firefox"), which a WAC_TARGET_NAME target also takes;
                                 "" when it has none or the backend cannot tell */
} wac_session;

typedef struct wac_session_list wac_session_list;

/**
 * List the processes that play audio now.
 * @param out  receives a list to free with wac_session_list_free().
 * @return 0, or WAC_ERR_INVALID_ARGUMENT, WAC_ERR_NO_MEMORY, WAC_ERR_SERVER_LOST,
 *         WAC_ERR_NOT_SUPPORTED, WAC_ERR_BACKEND.
 * Thread: any thread, including callbacks.
 */
WAC_EXPORT int wac_context_list_sessions(wac_context *ctx, wac_session_list **out);
/** Number of sessions in @p list (0 for NULL). Any thread. */
WAC_EXPORT size_t wac_session_list_count(const wac_session_list *list);
/** The i-th session, or NULL when out of range. Any thread. */
WAC_EXPORT const wac_session *wac_session_list_at(const wac_session_list *list, size_t index);
/** Free a session list. NULL does nothing. Any thread. */
WAC_EXPORT void wac_session_list_free(wac_session_list *list);

/* ---- devices: inputs and monitors -------------------------------------- */

/** A device a WAC_TARGET_DEVICE capture takes. Strings are UTF-8, never NULL,
 * and live as long as the list. */
typedef struct wac_device {
    const char *name;        /**< what WAC_TARGET_DEVICE takes: PipeWire and PulseAudio: the node or
                                  source name (a sink's monitor is "SINK.monitor"); WASAPI: the
                                  endpoint id */
    const char *description; /**< human-readable, e.g. "Built-in Audio Analog Stereo" */
    bool monitor;            /**< a sink's monitor: what that output plays */
    bool is_default;         /**< the default input (for a monitor: of the default output) */
    uint32_t rate;           /**< its native rate, 0 if unknown */
    uint32_t channels;       /**< its native channels, 0 if unknown */
} wac_device;

typedef struct wac_device_list wac_device_list;

/**
 * List the input devices and the sinks' monitors.
 * @param out  receives a list to free with wac_device_list_free().
 * @return 0, or WAC_ERR_INVALID_ARGUMENT, WAC_ERR_NO_MEMORY, WAC_ERR_SERVER_LOST,
 *         WAC_ERR_NOT_SUPPORTED, WAC_ERR_BACKEND. Details: wac_context_last_error().
 * Thread: any thread, including callbacks.
 */
WAC_EXPORT int wac_context_list_devices(wac_context *ctx, wac_device_list **out);
/** Number of devices in @p list (0 for NULL). Any thread. */
WAC_EXPORT size_t wac_device_list_count(const wac_device_list *list);
/** The i-th device, or NULL when out of range. Any thread. */
WAC_EXPORT const wac_device *wac_device_list_at(const wac_device_list *list, size_t index);
/** Free a device list. NULL does nothing. Any thread. */
WAC_EXPORT void wac_device_list_free(wac_device_list *list);

/* ---- capture configuration --------------------------------------------- */

typedef enum wac_target_kind {
    WAC_TARGET_PID = 1,  /**< a process id (with its process tree unless include_tree is false) */
    WAC_TARGET_NAME = 2, /**< an executable basename, or (Linux) a Flatpak application id such as
                              "org.mozilla.firefox" (compared exactly); may start later and restart */
    WAC_TARGET_SYSTEM = 3, /**< everything applications play. Linux: every application
                                output stream on every output, so a change of the default
                                output changes nothing (a device target "default.monitor"
                                is what the default output plays, and moves with it,
                                STREAM_REMOVED then STREAM_ADDED). Through the PulseAudio
                                protocol (the pulse backend), a stream the server moves to
                                another output is taken again after the move: the server ends
                                the per-stream monitor WAC reads, so what that stream plays
                                during the move (up to 0.3 s measured) is missing, without
                                an event; the PipeWire backend loses nothing. Windows: the
                                loopback of the default render endpoint, followed when it
                                changes */
    WAC_TARGET_DEVICE = 4  /**< an input device, or a sink's monitor: name is a device name from
                                wac_context_list_devices(), or NULL / "default" for the default input
                                (followed when the user changes it) */
} wac_target_kind;

/**
 * What happens as the target comes and goes (every backend):
 * - PID: a pid that plays nothing yet is captured as silence until it plays
 *   (a TARGET_ATTACHED event at start says which). When the process and, with
 *   include_tree, every process of its tree have exited, the capture posts
 *   TARGET_DETACHED and ends: ENDED with error WAC_ERR_TARGET_EXITED, after all
 *   audio captured before.
 * - NAME: each process going by the name gets TARGET_ATTACHED with its first
 *   stream and TARGET_DETACHED once it has exited; the capture goes on
 *   (silence in between) and attaches to the next one.
 * - exclude and SYSTEM: no target events; streams come and go as
 *   STREAM_ADDED / STREAM_REMOVED.
 * - DEVICE: the device is captured as one stream (STREAM_ADDED with pid 0
 *   and the device's stream id; silence until it exists). A named device
 *   that is removed posts STREAM_REMOVED, then TARGET_DETACHED (pid 0, the
 *   device in the detail) and ends the capture: ENDED with
 *   WAC_ERR_TARGET_EXITED. The default input is followed: when the user
 *   picks another default, or the default is removed, the capture moves
 *   (STREAM_REMOVED, then STREAM_ADDED for the new one) and never ends for
 *   it; while there is none, it delivers silence.
 */
typedef struct wac_target {
    wac_target_kind kind;
    uint32_t pid;      /**< WAC_TARGET_PID: the process */
    const char *name;  /**< WAC_TARGET_NAME: exact basename (case-insensitive on Windows);
                            WAC_TARGET_DEVICE: the device (NULL: the default input); copied */
    bool include_tree; /**< also capture the target's descendants (default true; WASAPI: always,
                            so false is WAC_ERR_NOT_SUPPORTED there) */
    bool exclude;      /**< capture every application except the target (not with SYSTEM; WASAPI:
                            PID only, not NAME) */
} wac_target;

/* ---- application volume ----------------------------------------------- */

/** The volume of an application's output streams. */
typedef struct wac_volume {
    float level;      /**< linear amplitude factor 0...1 (0.5 is -6.02 dB): the loudest channel
                           of the loudest matching stream. A muted stream keeps its level. */
    bool muted;       /**< true when every matching stream is muted */
    uint32_t streams; /**< how many output streams matched */
} wac_volume;

/**
 * The volume and mute flag of the output streams that @p target owns now.
 *
 * The target is a WAC_TARGET_PID (with its process tree unless include_tree is
 * false) or a WAC_TARGET_NAME (every process by that executable name), matched
 * as a capture matches it; not SYSTEM, not exclude. Only streams that exist
 * now count: an application that plays nothing has no volume to read.
 *
 * What the numbers mean on each backend (linear amplitude, so 0.5 is -6 dB):
 * - PipeWire: the stream nodes' Props (`channelVolumes` times `volume`, and
 *   `mute`), as pavucontrol, wpctl and pactl (through pipewire-pulse) show them.
 * - PulseAudio: the sink-inputs' volume (pa_sw_volume_to_linear: the
 *   software volume's cubic scale converted to amplitude) and mute.
 * - WASAPI: ISimpleAudioVolume of the process's sessions on every active
 *   render endpoint (the "volume mixer" slider's value, which Windows applies
 *   as an amplitude factor) and GetMute.
 *
 * @return 0, or WAC_ERR_INVALID_ARGUMENT (NULL pointers, SYSTEM or exclude
 *         target, empty name), WAC_ERR_TARGET_NOT_FOUND (no output stream of
 *         the target now; for a pid that does not exist, too),
 *         WAC_ERR_SERVER_LOST, WAC_ERR_NOT_SUPPORTED, WAC_ERR_BACKEND.
 *         Details: wac_context_last_error().
 * Thread: any thread, including callbacks.
 */
WAC_EXPORT int wac_context_get_volume(wac_context *ctx, const wac_target *target, wac_volume *out);

/**
 * Set the volume of every output stream @p target owns now to @p level (all
 * channels; the mute flag is kept). Streams the target opens later keep what
 * the server gives them (PipeWire's WirePlumber and PulseAudio's
 * module-stream-restore restore an application's last volume by its name).
 *
 * After the change, on every backend: what the user hears from that
 * application changes; a whole-system capture (WAC_TARGET_SYSTEM, exclude)
 * gets it as the user hears it; a capture of the application itself:
 * - PipeWire (and PulseAudio through pipewire-pulse): gets it too; the volume
 *   applies before the stream's output ports that WAC links to.
 * - PulseAudio: gets it too; the sink-input's monitor carries its volume.
 * - WASAPI: process loopback is documented to capture the process's audio as
 *   it is mixed; whether the session volume is applied before the tap is
 *   only known on real Windows (Wine has no process loopback).
 *
 * @param level  linear amplitude factor 0...1 (0.5 is -6.02 dB).
 * @return 0, or WAC_ERR_INVALID_ARGUMENT (level outside 0...1 or NaN, and as
 *         for wac_context_get_volume), WAC_ERR_TARGET_NOT_FOUND,
 *         WAC_ERR_SERVER_LOST, WAC_ERR_NOT_SUPPORTED, WAC_ERR_BACKEND (the
 *         server refused: another user's stream, a sandbox's permissions).
 *         When several streams match and one refuses, the others are still set
 *         and the error is returned.
 * Thread: any thread, including callbacks.
 */
WAC_EXPORT int wac_context_set_volume(wac_context *ctx, const wac_target *target, float level);

/**
 * Mute (@p muted true) or unmute every output stream @p target owns now.
 * The level is kept, so unmuting restores it. A muted application is silent
 * to the user and in every capture that gets its volume (see
 * wac_context_set_volume).
 * @return as wac_context_set_volume.
 * Thread: any thread, including callbacks.
 */
WAC_EXPORT int wac_context_set_mute(wac_context *ctx, const wac_target *target, bool muted);

typedef enum wac_sample_type {
    WAC_SAMPLE_F32 = 1, /**< 32-bit float, native endian, nominal range [-1, 1] */
    WAC_SAMPLE_S16 = 2  /**< 16-bit signed integer, native endian */
} wac_sample_type;

typedef struct wac_format {
    uint32_t rate;          /**< frames per second, 8000 ... 192000 */
    uint32_t channels;      /**< 1 ... 8; fewer channels than the source are averaged, never clipped */
    wac_sample_type sample; /**< sample type */
} wac_format;

/** Where a chunk sits in the stream. */
typedef struct wac_chunk_info {
    uint64_t position; /**< stream position of the first frame: frames since start, counting lost ones */
    int64_t time_ns;   /**< CLOCK_MONOTONIC (QueryPerformanceCounter on Windows) time of the first frame, ns:
                            when it is heard (an application's output, a monitor) or recorded (an
                            input), so captures of one server line up; an application's chunk can
                            arrive up to one graph cycle before that time on PipeWire */
    uint32_t flags;    /**< WAC_CHUNK_* */
} wac_chunk_info;

/** A gap (lost or skipped frames) lies before the first frame or inside this chunk. */
#define WAC_CHUNK_DISCONTINUOUS 0x1u
/** The chunk is shorter than asked because the stream ended. */
#define WAC_CHUNK_LAST 0x2u

typedef enum wac_event_type {
    WAC_EVENT_STARTED = 1,         /**< the stream started (position 0) */
    WAC_EVENT_TARGET_ATTACHED = 2, /**< a target process was found; pid set */
    WAC_EVENT_TARGET_DETACHED = 3, /**< a target process exited; pid set */
    WAC_EVENT_STREAM_ADDED = 4,    /**< an output stream of the target is now captured; pid, stream_id set */
    WAC_EVENT_STREAM_REMOVED = 5,  /**< such a stream ended; pid, stream_id set */
    WAC_EVENT_OVERRUN = 6,         /**< the consumer fell behind: frames lost, exactly, starting at position */
    WAC_EVENT_DISCONTINUITY = 7,   /**< the backend skipped frames (silence fill off, engine glitch) */
    WAC_EVENT_SERVER_LOST = 8,     /**< the audio server went away; the stream ends next, unless the
                                        context reconnects (wac_context_set_reconnect) */
    WAC_EVENT_ERROR = 9,           /**< an asynchronous error; error and detail set; the stream ends next */
    WAC_EVENT_ENDED = 10,          /**< last event: no audio follows; error says why (0 = stopped) */
    WAC_EVENT_STREAM_SKIPPED = 11, /**< an output stream of the target is not captured (yet); pid, stream_id,
                                        error and detail say why. The capture goes on without it; a
                                        STREAM_ADDED follows if it is attached later */
    WAC_EVENT_SERVER_RESTORED = 12 /**< the audio server is back after a SERVER_LOST (reconnecting
                                        contexts); the target's streams are attached again */
} wac_event_type;

/** An event, in order with the audio. */
typedef struct wac_event {
    wac_event_type type;
    uint64_t position;  /**< stream position where it happened */
    int64_t time_ns;    /**< monotonic time of that position */
    uint64_t frames;    /**< OVERRUN: frames lost; DISCONTINUITY: frames skipped; else 0 */
    uint32_t pid;       /**< TARGET_*, STREAM_*: the process; else 0 */
    uint32_t stream_id; /**< STREAM_*: the backend's stream id; else 0 */
    int error;          /**< SERVER_LOST, ERROR, ENDED: a wac_error; else 0 */
    char detail[160];   /**< human-readable detail, may be empty */
} wac_event;

/** Name of an event type, e.g. "overrun". Static string. Any thread. */
WAC_EXPORT const char *wac_event_name(wac_event_type type);

/**
 * Called on the context's dispatch thread with each chunk: exactly
 * chunk_frames frames, except the last of a stream (flag WAC_CHUNK_LAST).
 * @p frames is valid only during the call. The callback may call any libwac
 * function except wac_context_close() of its own context; it may stop or close
 * its own capture (see wac_capture_stop / wac_capture_close).
 */
typedef void (*wac_audio_cb)(wac_capture *cap, const void *frames, uint32_t n_frames, const wac_chunk_info *info,
                             void *userdata);
/** Called on the dispatch thread with each event, in order with the chunks. */
typedef void (*wac_event_cb)(wac_capture *cap, const wac_event *event, void *userdata);

typedef struct wac_capture_config {
    size_t size;        /**< sizeof(wac_capture_config); set by wac_capture_config_init() */
    wac_target target;  /**< what to capture (default: WAC_TARGET_SYSTEM) */
    wac_format format;  /**< what to deliver (default: 48000 Hz, 2 channels, F32) */
    uint32_t ring_ms;   /**< ring capacity (default 2000); rounded up to a power of two of frames; max 60000 */
    uint32_t chunk_frames; /**< callback chunk and fd readiness threshold; 0 = 100 ms of frames (default) */
    bool fill_silence;  /**< deliver silence while the target plays nothing (default true) */
    /** Ask the engine for this latency. 0 (default) = don't ask: on PipeWire the graph keeps
     *  its quantum; on PulseAudio, whose default for a monitor would be seconds-long lumps,
     *  each stream asks for 25 ms fragments. Behind pipewire-pulse a fragment below the
     *  PipeWire graph's quantum lowers it for every application (25 ms halves the usual
     *  2048 frames). 100 keeps it and costs the servers what parec at 100 ms costs, with
     *  audio in 100 ms lumps and aligned captures up to 27 ms apart (at 25 ms: 5.2 ms); 50 keeps
     *  it too, but misaligned captures of one context by a quantum in 3 runs of 24
     *  (bench/FINDINGS.md sections 11 and 13). WASAPI always uses the engine's period. */
    uint32_t latency_ms;
    wac_audio_cb on_audio; /**< callback style; NULL for read/fd style */
    wac_event_cb on_event; /**< events for the callback style; needs on_audio */
    void *userdata;        /**< passed to the callbacks */
} wac_capture_config;

/** Fill @p config with the defaults above. NULL does nothing. Any thread. */
WAC_EXPORT void wac_capture_config_init(wac_capture_config *config);

/* ---- capture lifecycle -------------------------------------------------- */

typedef enum wac_capture_state {
    WAC_STATE_OPEN = 1,    /**< opened, not started */
    WAC_STATE_RUNNING = 2, /**< started */
    WAC_STATE_ENDED = 3,   /**< stopped, or ended by itself; buffered audio can still be read */
    WAC_STATE_CLOSED = 4   /**< closed; only wac_capture_state/last_error and close are meaningful */
} wac_capture_state;

/**
 * Open a capture on @p ctx. The configuration is copied. The target is checked
 * (a pid must exist; a name need not be running yet) and the format validated,
 * but no audio flows until wac_capture_start().
 *
 * @return 0, or WAC_ERR_INVALID_ARGUMENT (NULL pointers, wrong config size,
 *         ring smaller than one chunk, on_event without on_audio, exclude with
 *         SYSTEM, empty name...), WAC_ERR_FORMAT_UNSUPPORTED (rate, channels or
 *         sample type out of range, or refused by the backend),
 *         WAC_ERR_TARGET_NOT_FOUND (no such pid), WAC_ERR_SERVER_LOST,
 *         WAC_ERR_NOT_SUPPORTED, WAC_ERR_NO_MEMORY. Details: wac_context_last_error().
 * Thread: any. When it fails, no callback is ever called.
 */
WAC_EXPORT int wac_capture_open(wac_context *ctx, const wac_capture_config *config, wac_capture **out);

/**
 * Start the stream: emits WAC_EVENT_STARTED at position 0, then audio.
 * With the PulseAudio backend behind pipewire-pulse, an application's stream
 * is attached no sooner than 200 ms after the context last closed one (a
 * stream connected sooner was fed zeros for its whole life, 11 of 19 times);
 * a capture reopened at once hears the application from about 300 ms on,
 * with silence before.
 * @return 0, or WAC_ERR_STATE (already started or ended: a capture runs once),
 *         WAC_ERR_CLOSED, WAC_ERR_SERVER_LOST, WAC_ERR_BACKEND.
 * Thread: any, including callbacks.
 */
WAC_EXPORT int wac_capture_start(wac_capture *cap);

/**
 * Stop the stream. Audio already captured stays readable; then comes
 * WAC_EVENT_ENDED (error 0), then reads return WAC_ERR_ENDED. Called from this
 * capture's own callback, the callbacks continue with the buffered audio and
 * the ENDED event after the current callback returns.
 * @return 0 (also when the stream had already ended by itself), or
 *         WAC_ERR_STATE (never started, or already stopped), WAC_ERR_CLOSED.
 * Thread: any, including callbacks.
 */
WAC_EXPORT int wac_capture_stop(wac_capture *cap);

/**
 * Close a capture: stop it if running, wake and return WAC_ERR_CLOSED to a
 * thread blocked in wac_capture_read(), and free its buffers. When close
 * returns no callback of this capture runs any more, except when close is
 * called from this capture's own callback: then the callback in progress
 * finishes and no other follows. Audio not yet read is discarded.
 *
 * The handle itself stays valid (every call on it returns WAC_ERR_CLOSED) until
 * its context is closed, so a late call from another thread is an error, not a
 * crash. What a closed handle keeps is small (under 1 KiB: its ring, event
 * queues and buffers are freed here), so a program may open and close
 * captures on one context for as long as it runs. NULL does nothing.
 * @return 0, or WAC_ERR_CLOSED (already closed).
 * Thread: any, including callbacks.
 */
WAC_EXPORT int wac_capture_close(wac_capture *cap);

/** The capture's state. WAC_STATE_CLOSED for a closed handle. Any thread. */
WAC_EXPORT wac_capture_state wac_capture_get_state(const wac_capture *cap);

/**
 * The format delivered (as negotiated with the engine) and the chunk size.
 * @return 0, or WAC_ERR_INVALID_ARGUMENT, WAC_ERR_CLOSED. Any thread.
 */
WAC_EXPORT int wac_capture_get_format(const wac_capture *cap, wac_format *format, uint32_t *chunk_frames);

/**
 * The detail message of the calling thread's last failure, if that failure was
 * of a call on this capture (start, stop, read, ...), e.g. "capture not
 * started". A failed wac_capture_open() has its detail on the context.
 *
 * @param cap  the capture, open or closed (NULL: "").
 * @return the detail, or "" (never NULL), with the lifetime and thread rules of
 *         wac_context_last_error(): the string is the calling thread's, valid
 *         until its next failed libwac call.
 * Thread: any; each thread sees its own failures.
 */
WAC_EXPORT const char *wac_capture_last_error(const wac_capture *cap);

/* ---- consuming: read and fd style ---------------------------------------- */

/**
 * Read exactly @p frames frames into @p buffer (interleaved, in the capture's
 * format), waiting up to @p timeout_ms for them (-1: forever, 0: don't wait).
 * Only at the end of the stream may fewer be returned (the rest of the stream,
 * flag WAC_CHUNK_LAST).
 *
 * @param info  optional: position, time and flags of the first frame read.
 * @return the number of frames read (> 0), or
 *         WAC_ERR_TIMEOUT (nothing consumed), WAC_ERR_INTERRUPTED (a signal
 *         arrived while waiting; nothing consumed; call again),
 *         WAC_ERR_ENDED (the stream ended and everything has been read),
 *         WAC_ERR_CLOSED, WAC_ERR_BUSY (another thread is reading),
 *         WAC_ERR_STATE (not started yet, or the capture delivers by callback),
 *         WAC_ERR_INVALID_ARGUMENT (NULL buffer, frames 0 or above the ring's capacity).
 * Thread: any, one at a time per capture. Blocking; never call it from a callback
 * of the same capture.
 */
WAC_EXPORT int wac_capture_read(wac_capture *cap, void *buffer, uint32_t frames, int timeout_ms,
                                wac_chunk_info *info);

/** Frames ready to read now (0 for closed or callback captures). Any thread. */
WAC_EXPORT uint32_t wac_capture_available(const wac_capture *cap);

/**
 * A descriptor for poll/epoll/asyncio: readable when a chunk of chunk_frames
 * frames, an event, or the end of the stream is waiting. Notifications
 * coalesce: one readable state may stand for many chunks, so on readiness read
 * with timeout 0 (and pull events) until WAC_ERR_TIMEOUT. The descriptor is
 * owned by the capture; don't read or close it. It stays the same until close.
 * @return a descriptor >= 0, or WAC_ERR_STATE (callback capture),
 *         WAC_ERR_CLOSED, WAC_ERR_NOT_SUPPORTED (Windows: use wac_capture_event_handle()).
 * Thread: any.
 */
WAC_EXPORT int wac_capture_fd(wac_capture *cap);

/**
 * Windows' counterpart of wac_capture_fd(): a Win32 event HANDLE for
 * WaitForSingleObject / WaitForMultipleObjects / RegisterWaitForSingleObject.
 * It is a manual-reset event, so it behaves like the descriptor: signalled
 * when a chunk of chunk_frames frames, an event, or the end of the stream is
 * waiting, and it stays signalled until a consumer finds nothing more (read
 * with timeout 0 and pull events until WAC_ERR_TIMEOUT: the capture resets it).
 * Notifications coalesce. The handle is owned by the capture: don't reset,
 * set or close it. It stays the same until close. (wac_capture_fd() returns
 * WAC_ERR_NOT_SUPPORTED on Windows: a HANDLE is not a descriptor.)
 *
 * @param handle  receives the HANDLE (as void *).
 * @return 0, or WAC_ERR_INVALID_ARGUMENT, WAC_ERR_STATE (callback capture),
 *         WAC_ERR_CLOSED, WAC_ERR_NOT_SUPPORTED (not Windows: use wac_capture_fd).
 * Thread: any.
 */
WAC_EXPORT int wac_capture_event_handle(wac_capture *cap, void **handle);

/**
 * Pull the next event, for read/fd consumers. An event becomes available once
 * all audio before its position has been read, so events come in order with
 * the audio. The pending queue holds 256 events; beyond that the oldest are
 * dropped and counted in wac_capture_stats.events_dropped.
 *
 * @param event  receives the event.
 * @param size   sizeof(wac_event) as the caller knows it.
 * @return 1 if an event was stored, 0 if none is pending, or
 *         WAC_ERR_INVALID_ARGUMENT, WAC_ERR_CLOSED, WAC_ERR_BUSY,
 *         WAC_ERR_STATE (callback capture: events go to on_event).
 * Thread: the consuming thread (not concurrently with wac_capture_read).
 */
WAC_EXPORT int wac_capture_next_event(wac_capture *cap, wac_event *event, size_t size);

/** Counters of a capture. */
typedef struct wac_capture_stats {
    uint64_t frames_delivered; /**< frames handed to the consumer */
    uint64_t frames_lost;      /**< frames dropped because the ring was full (all reported as overruns) */
    /** Frames of silence WAC itself put into the timeline (fill_silence) where
     *  the engine delivered nothing for longer than a period: the target had no
     *  stream, stalled, or the engine skipped. Silence the engine delivers as
     *  audio is audio, counted in frames_delivered only. So the same quiet
     *  target counts differently per engine: on PipeWire the graph keeps
     *  delivering (zeros included) while the target is quiet or absent, and
     *  this stays 0 unless the graph itself stops; on PulseAudio a target with
     *  no stream, and on WASAPI an engine that sends no packets, are filled
     *  and counted here (WASAPI's packets flagged silent are audio), as are,
     *  on PulseAudio, the zeros WAC's mix of a target's streams puts where the
     *  server dates a stream's next audio later than its audio so far, or
     *  marks a hole in it. It says how much WAC made up, not how much of the
     *  audio is silent. */
    uint64_t frames_silence;
    uint64_t frames_skipped;   /**< timeline frames skipped (fill_silence off, engine discontinuities) */
    uint32_t overruns;         /**< overrun events */
    uint32_t discontinuities;  /**< discontinuity events */
    uint32_t ring_fill;        /**< frames in the ring now */
    uint32_t ring_capacity;    /**< ring capacity in frames */
    uint32_t streams;          /**< target streams attached now */
    uint64_t events_dropped;   /**< events dropped because nobody pulled them */
    /** Frames of one of the target's streams that WAC dropped to keep the
     *  streams on one timeline: the server dated them earlier than audio of
     *  that stream already placed there (PulseAudio backend, which mixes a
     *  target's streams itself; 0 elsewhere). Where it instead dates a stream
     *  later than its audio so far, WAC puts zeros in between, counted in
     *  frames_silence. */
    uint64_t frames_discarded;
    /** Chunks whose engine time stamp lay more than 1 s after now, or more
     *  than 10 min before the stream's timeline, so on no clock of this
     *  machine's: each was dated by when it arrived instead, so the timeline
     *  neither jumps nor fills. Wine's WASAPI dates every packet so once the
     *  machine has been up 25.6 hours (its QPC positions overflow); 0 from a
     *  sound engine. A chunk dated by its arrival (these, and chunks the
     *  engine flags as untimed) opens a gap only when it is later than a
     *  delivery may be (two periods and 20 ms): its lateness is the
     *  delivery's, not missing audio. */
    uint64_t timestamps_rejected;
} wac_capture_stats;

/**
 * Copy the counters (a consistent-enough snapshot; each counter is exact).
 * @param size  sizeof(wac_capture_stats) as the caller knows it.
 * @return 0, or WAC_ERR_INVALID_ARGUMENT, WAC_ERR_CLOSED. Any thread.
 */
WAC_EXPORT int wac_capture_get_stats(const wac_capture *cap, wac_capture_stats *stats, size_t size);

/* ---- aligned reading: several captures on one timeline ------------------ */

typedef struct wac_aligned wac_aligned;

/** The most captures one aligned reader takes. */
#define WAC_ALIGNED_MAX_CAPTURES 64

/** Where an aligned block sits. */
typedef struct wac_aligned_info {
    uint64_t position; /**< frames since the common start (frame 0 of every capture's output) */
    int64_t time_ns;   /**< monotonic time of that frame */
} wac_aligned_info;

/**
 * Read several captures as one timeline: every read returns the same number
 * of frames of each, frame k of every capture being the same instant.
 *
 * The common start is the earliest capture's first frame; a capture whose
 * first frame came later gets silence before it. The offsets come from the
 * chunks' timestamps (rounded to a frame); nothing is resampled, so captures
 * on different clocks (two sound cards) drift apart by their clocks'
 * difference — captures of one server's graph (applications, the sinks'
 * monitors, its devices) share its clock. A capture that ends delivers
 * silence from then on (its flags say WAC_CHUNK_LAST once).
 *
 * Timing. A capture is dated by the earliest of what its chunks' stamps say
 * over its first half second (a server's stamps settle in that time), so the
 * first block comes once every capture has delivered 0.5 s. For the first
 * 5 s of the timeline, a capture whose stamps then date it earlier by more
 * than 1 ms is moved earlier by as much: that many of its frames are dropped
 * and its block is flagged WAC_CHUNK_DISCONTINUOUS. Measured with an
 * application and the monitor of its sink (tests/integration/test-devices.c,
 * from 5 s on; bench/FINDINGS.md section 15): within 0.44 ms on PipeWire in
 * 40 runs (1.9 ms once; the test allows 3 ms); on the PulseAudio daemon
 * within 0.1 ms in most runs, 2.0-5.3 ms in three of about 30 (its latency
 * reports; the test allows 10 ms); through pipewire-pulse, whose timing the
 * PulseAudio backend can only infer from when the audio arrives, within
 * 1.8 ms in 17 of 18 runs at the default 25 ms fragments (5.2 ms once; the
 * test allows 10 ms), but at latency_ms = 100 past 10 ms in 15 of 55 runs
 * and up to 27 ms (the test allows 40 ms, under the graph's cycle) — on
 * such a system the
 * PipeWire backend (what WAC_BACKEND_AUTO picks) is exact.
 *
 * @param captures   the captures (read/fd style, not callback), all with the
 *                   same rate; each may have its own channels and sample type.
 *                   They stay the caller's: close them after wac_aligned_close.
 * @param count      1 ... WAC_ALIGNED_MAX_CAPTURES.
 * @param max_frames the most frames one wac_aligned_read() will be asked for.
 * @param out        receives the reader.
 * @return 0, or WAC_ERR_INVALID_ARGUMENT (NULL pointers, count out of range, a
 *         capture twice, a callback capture, max_frames 0), WAC_ERR_FORMAT_UNSUPPORTED
 *         (rates differ: resampling is not done silently), WAC_ERR_NO_MEMORY.
 * Thread: any.
 */
WAC_EXPORT int wac_aligned_open(wac_capture *const *captures, size_t count, uint32_t max_frames, wac_aligned **out);

/**
 * Read exactly @p frames frames of every capture: buffers[i] receives capture
 * i's, in its format. Waits up to @p timeout_ms (-1: forever, 0: don't wait)
 * for all of them; on timeout nothing is lost: what was read is kept for the
 * next call.
 *
 * @param flags  optional array of count: capture i's WAC_CHUNK_* flags for this
 *               block (DISCONTINUOUS: a gap lies in it; LAST: it ended here).
 * @return frames (> 0), or WAC_ERR_TIMEOUT, WAC_ERR_ENDED (every capture has
 *         ended and everything was read), WAC_ERR_INVALID_ARGUMENT (NULL
 *         buffers, frames 0 or above max_frames), WAC_ERR_INTERRUPTED, or a
 *         capture's read error (its wac_capture_last_error() says more).
 * Thread: one reader at a time; the captures must not be read otherwise.
 */
WAC_EXPORT int wac_aligned_read(wac_aligned *aligned, void *const *buffers, uint32_t frames, int timeout_ms,
                                wac_aligned_info *info, uint32_t *flags);

/** Free the reader (not the captures). NULL does nothing. Any thread. */
WAC_EXPORT void wac_aligned_close(wac_aligned *aligned);

/* ---- the dummy backend's fault injection (tests) ------------------------- */

typedef enum wac_dummy_fault {
    WAC_DUMMY_STALL = 1,       /**< produce nothing for `amount` ms (the core fills silence) */
    WAC_DUMMY_BURST = 2,       /**< hold data back for `amount` ms, then deliver it all at once */
    WAC_DUMMY_OVERRUN = 3,     /**< deliver `amount` extra frames at once, beyond the clock */
    WAC_DUMMY_DISCONNECT = 4,  /**< the fake server dies: every capture of the context ends */
    WAC_DUMMY_TARGET_EXIT = 5, /**< the player exits: a PID target's stream ends; otherwise it plays again after `amount` ms */
    WAC_DUMMY_SKIP = 6,        /**< the engine skips `amount` ms: timestamps jump ahead, no data */
    WAC_DUMMY_LOSS = 7,        /**< the engine loses the next `amount` ms and says how many frames (as WASAPI's
                                    DATA_DISCONTINUITY with device positions does): a discontinuity of exactly
                                    that many frames, never silence */
    WAC_DUMMY_LATE_STAMPS = 8, /**< from now on, time stamps `amount` ms later than the audio (0: exact again),
                                    as a server whose clock settles after its first reads */
    WAC_DUMMY_EARLY_STAMPS = 9 /**< from now on, time stamps `amount` ms earlier than the audio (0: exact
                                    again), as Wine's WASAPI once its QPC positions overflow */
} wac_dummy_fault;

/**
 * Inject a fault into a running capture of the "dummy" backend. The dummy
 * produces, every period (10 ms, or WAC_DUMMY_PERIOD_MS), frames whose every
 * sample encodes a frame counter: value = (n mod (2^24 - 1) + 1) / 2^24 for F32,
 * (n mod 32767) + 1 for S16, where n counts the frames the dummy produced.
 * @return 0, or WAC_ERR_NOT_SUPPORTED (not a dummy capture),
 *         WAC_ERR_INVALID_ARGUMENT, WAC_ERR_STATE (not running), WAC_ERR_CLOSED.
 * Thread: any.
 */
WAC_EXPORT int wac_dummy_inject(wac_capture *cap, wac_dummy_fault fault, uint32_t amount);

#ifdef __cplusplus
}
#endif

#endif /* WAC_H */
