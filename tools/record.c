/* record.c — `wac record`: several targets at once from one context, each
 * into its own file.
 *
 * One thread, one poll() loop, as pw-cat runs on its main loop: the loop
 * waits on every capture's descriptor (wac_capture_fd) and on a signalfd for
 * SIGINT/SIGTERM, so a signal is just another event: it stops the captures,
 * the loop drains what they had captured and the files are finished
 * properly. On each wake-up every capture is read with timeout 0 until
 * WAC_ERR_TIMEOUT (the descriptor's notifications coalesce), pulling its
 * events in between, since an event becomes available only once the audio
 * before it has been read.
 *
 * A duration counts frames, not wall time: a capture is stopped once it has
 * delivered rate * duration frames, and exactly that many are written.
 *
 * On Windows the same loop waits with WaitForMultipleObjects on every
 * capture's event handle (wac_capture_event_handle) and on an event that the
 * console's Ctrl+C / Ctrl+Break / close handler sets. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>
#endif

#include "backend.h"
#include "commands.h"
#include "level.h"
#include "report.h"
#include "status.h"
#include "wav-writer.h"

/* Redraw the status lines this often even when no audio arrives (--no-fill). */
#define STATUS_IDLE_REFRESH_MS 250

typedef struct source {
    const record_target *target;
    char label[300];
    wac_capture *cap;
#ifdef _WIN32
    void *handle; /* the capture's event handle */
#else
    int fd;
#endif
    wac_format format;
    uint32_t chunk_frames;
    void *buffer;
    wav_writer *writer;
    uint64_t frames_written;
    uint64_t frames_wanted; /* 0: open-ended */
    int64_t start_ns;       /* time of the STARTED event, the zero of event times */
    bool attached;          /* a target process was found (for --wait-timeout) */
    bool stop_requested;
    bool discarding;        /* duration reached or stdout's reader gone: drain without writing */
    bool finished;          /* the stream ended and the file is closed */
    level last_level;
    wac_capture_stats stats; /* as last seen while running */
    const char *state;
} source;

typedef struct recorder {
    const record_options *options;
    wac_context *ctx;
    source *sources;
    size_t n_sources;
#ifdef _WIN32
    HANDLE stop_event; /* set by the console control handler */
#else
    int signal_fd;
    sigset_t old_mask;
    bool mask_changed;
#endif
    status_board *status;
    /* Several targets: read on one timeline (wac_aligned), each source's
     * block into its buffer; --one-file interleaves them into joined. */
    wac_aligned *aligned;
    void **buffers;
    uint32_t *flags;
    wav_writer *joined;
    wac_format joined_format;
    uint8_t *joined_buffer;
    int64_t wait_deadline_ns; /* 0: no --wait-timeout */
    int exit_code;            /* the first failure's; 0 while all is well */
} recorder;

#ifdef _WIN32
static int64_t monotonic_ns(void)
{
    LARGE_INTEGER t, f;
    QueryPerformanceCounter(&t);
    QueryPerformanceFrequency(&f);
    return t.QuadPart / f.QuadPart * 1000000000LL + t.QuadPart % f.QuadPart * 1000000000LL / f.QuadPart;
}
#else
static int64_t monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}
#endif

static const char *sample_name(wac_sample_type sample)
{
    return sample == WAC_SAMPLE_F32 ? "f32" : "s16";
}

static uint32_t frame_bytes(const wac_format *format)
{
    return format->channels * (format->sample == WAC_SAMPLE_F32 ? 4u : 2u);
}

/* The first failure decides the exit code: later ones are usually its echo. */
static void fail(recorder *r, int exit_code)
{
    if (r->exit_code == WAC_EXIT_OK)
        r->exit_code = exit_code;
}

static void describe_target(const record_options *options, const record_target *target, char *out, size_t size)
{
    const char *prefix = options->exclude ? "all but " : "";
    const char *tree = options->include_tree ? "" : " (no tree)";
    switch (target->kind) {
    case WAC_TARGET_PID: snprintf(out, size, "%spid %u%s", prefix, target->pid, tree); break;
    case WAC_TARGET_NAME: snprintf(out, size, "%sname %s%s", prefix, target->name, tree); break;
    case WAC_TARGET_DEVICE: snprintf(out, size, "device %s", target->name); break;
    default: snprintf(out, size, "system"); break;
    }
}

/* ---- signals through the loop ------------------------------------------------ */

#ifdef _WIN32
static HANDLE console_stop_event;
static volatile LONG console_signal;

/* Runs on a thread of the console's: only sets the event the loop waits on. */
static BOOL WINAPI console_handler(DWORD type)
{
    if (type != CTRL_C_EVENT && type != CTRL_BREAK_EVENT && type != CTRL_CLOSE_EVENT)
        return FALSE;
    InterlockedExchange(&console_signal, (LONG)type + 1);
    SetEvent(console_stop_event);
    return TRUE;
}

static int signals_setup(recorder *r)
{
    r->stop_event = console_stop_event = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (!r->stop_event || !SetConsoleCtrlHandler(console_handler, TRUE)) {
        report_error("cannot handle Ctrl+C (error %lu)", (unsigned long)GetLastError());
        return -1;
    }
    return 0;
}

static void signals_restore(recorder *r)
{
    if (r->stop_event) {
        SetConsoleCtrlHandler(console_handler, FALSE);
        CloseHandle(r->stop_event);
        console_stop_event = NULL;
    }
}
#else

/* Block SIGINT/SIGTERM and receive them on a descriptor instead. Done before
 * the context opens, so the library's threads inherit the mask and the
 * signals reach this loop and nowhere else. */
static int signals_setup(recorder *r)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &mask, &r->old_mask) != 0) {
        report_error("cannot block SIGINT/SIGTERM: %s", strerror(errno));
        return -1;
    }
    r->mask_changed = true;
    r->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (r->signal_fd < 0) {
        report_error("cannot create a signalfd: %s", strerror(errno));
        return -1;
    }
    /* A pipeline's reader that exits must not kill us before the files are
     * finished: a write to it fails with EPIPE instead. */
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void signals_restore(recorder *r)
{
    if (r->signal_fd >= 0)
        close(r->signal_fd);
    if (r->mask_changed)
        sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
}
#endif

/* ---- one source ------------------------------------------------------------------ */

static void request_stop(recorder *r, source *s, const char *state)
{
    s->state = state;
    if (s->stop_requested)
        return;
    s->stop_requested = true;
    int rc = wac_capture_stop(s->cap);
    if (rc < 0) {
        status_board_hide(r->status);
        report_wac_error(rc, wac_capture_last_error(s->cap), "%s: stopping", s->label);
        fail(r, WAC_EXIT_RUNTIME);
    }
}

static void print_event(const source *s, const wac_event *event)
{
    double seconds = s->start_ns ? (double)(event->time_ns - s->start_ns) / 1e9 : 0.0;
    fprintf(stderr, "wac: event: %s: %.3f s  position %llu  %s", s->label, seconds,
            (unsigned long long)event->position, wac_event_name(event->type));
    if (event->pid)
        fprintf(stderr, "  pid %u", event->pid);
    if (event->stream_id)
        fprintf(stderr, "  stream %u", event->stream_id);
    if (event->frames)
        fprintf(stderr, "  %llu frames", (unsigned long long)event->frames);
    if (event->error)
        fprintf(stderr, "  %s", wac_error_name(event->error));
    if (event->detail[0])
        fprintf(stderr, "  (%s)", event->detail);
    fputc('\n', stderr);
}

/* The stream ended by itself or because we stopped it: say why if it matters. */
static void handle_end(recorder *r, source *s, const wac_event *event)
{
    if (event->error == 0)
        return;
    status_board_hide(r->status);
    if (event->error == WAC_ERR_TARGET_EXITED) {
        /* Recording an application until it quits is a normal way to end. */
        if (!r->options->quiet)
            report_notice("%s: the target exited; recording finished (%s)", s->label,
                          event->detail[0] ? event->detail : wac_strerror(event->error));
        return;
    }
    report_wac_error(event->error, event->detail, "%s", s->label);
    int code = report_exit_code_for(event->error);
    /* Whatever the library calls it, a stream that failed mid-way is a runtime error. */
    fail(r, code == WAC_EXIT_USAGE ? WAC_EXIT_RUNTIME : code);
}

static void handle_event(recorder *r, source *s, const wac_event *event)
{
    if (r->options->print_events) {
        status_board_hide(r->status);
        print_event(s, event);
    }
    switch (event->type) {
    case WAC_EVENT_STARTED: s->start_ns = event->time_ns; break;
    case WAC_EVENT_TARGET_ATTACHED: s->attached = true; break;
    /* A --pid target whose processes have all exited ends the stream with
     * WAC_ERR_TARGET_EXITED, handled in handle_end(); a --name target's
     * process that exits may come back, so the recording goes on. */
    case WAC_EVENT_OVERRUN:
        /* Nothing is lost silently, not even with --events off. */
        if (!r->options->quiet && !r->options->print_events) {
            status_board_hide(r->status);
            report_warning("%s: overrun: %llu frames lost at position %llu (the consumer fell behind)", s->label,
                           (unsigned long long)event->frames, (unsigned long long)event->position);
        }
        break;
    case WAC_EVENT_ENDED: handle_end(r, s, event); break;
    default: break;
    }
}

static void pull_events(recorder *r, source *s)
{
    wac_event event;
    int rc;
    while ((rc = wac_capture_next_event(s->cap, &event, sizeof event)) == 1)
        handle_event(r, s, &event);
    if (rc < 0) {
        status_board_hide(r->status);
        report_wac_error(rc, wac_capture_last_error(s->cap), "%s: reading events", s->label);
        fail(r, WAC_EXIT_RUNTIME);
    }
}

static void write_chunk(recorder *r, source *s, uint32_t n_frames)
{
    s->last_level = level_measure(s->buffer, n_frames, &s->format);
    char why[256];
    bool reader_gone = false;
    if (wav_writer_write(s->writer, s->buffer, n_frames, &reader_gone, why, sizeof why) != 0) {
        status_board_hide(r->status);
        if (reader_gone) {
            /* The pipeline's reader has what it wanted: stop this source quietly. */
            if (!r->options->quiet)
                report_notice("%s: the reader of stdout has gone; stopping", s->label);
        } else {
            report_error("writing %s: %s", wav_writer_name(s->writer), why);
            fail(r, WAC_EXIT_OUTPUT);
        }
        s->discarding = true;
        request_stop(r, s, reader_gone ? "stopped" : "write error");
        return;
    }
    s->frames_written += n_frames;
    if (s->frames_wanted && s->frames_written >= s->frames_wanted) {
        s->discarding = true;
        request_stop(r, s, "done");
    }
}

static void finish_source(recorder *r, source *s)
{
    char why[256];
    s->finished = true;
    if (s->state && strcmp(s->state, "recording") == 0)
        s->state = "ended";
    if (s->writer && wav_writer_close(s->writer, why, sizeof why) != 0) {
        status_board_hide(r->status);
        report_error("finishing %s: %s", s->target->output, why);
        fail(r, WAC_EXIT_OUTPUT);
    }
    s->writer = NULL;
}

/* Read everything that is ready now, pulling events in between. */
static void service_source(recorder *r, source *s)
{
    while (!s->finished) {
        pull_events(r, s);
        uint32_t want = s->chunk_frames;
        if (s->frames_wanted && !s->discarding && s->frames_wanted - s->frames_written < want)
            want = (uint32_t)(s->frames_wanted - s->frames_written);
        wac_chunk_info info;
        int n = wac_capture_read(s->cap, s->buffer, want, 0, &info);
        if (n > 0) {
            if (!s->discarding)
                write_chunk(r, s, (uint32_t)n);
            continue;
        }
        if (n == WAC_ERR_INTERRUPTED)
            continue;
        if (n == WAC_ERR_TIMEOUT) {
            pull_events(r, s);
            return;
        }
        if (n == WAC_ERR_ENDED) {
            pull_events(r, s);
        } else {
            status_board_hide(r->status);
            report_wac_error(n, wac_capture_last_error(s->cap), "%s: reading", s->label);
            fail(r, WAC_EXIT_RUNTIME);
        }
        finish_source(r, s);
    }
}

/* --one-file: the sources' blocks side by side, frame by frame. */
static void write_joined(recorder *r, uint32_t n_frames)
{
    uint32_t out_bytes = frame_bytes(&r->joined_format);
    uint32_t offset = 0;
    for (size_t i = 0; i < r->n_sources; i++) {
        const source *s = &r->sources[i];
        uint32_t in_bytes = frame_bytes(&s->format);
        for (uint32_t k = 0; k < n_frames; k++)
            memcpy(r->joined_buffer + (size_t)k * out_bytes + offset, (const uint8_t *)s->buffer + (size_t)k * in_bytes,
                   in_bytes);
        offset += in_bytes;
    }
    char why[256];
    bool reader_gone = false;
    if (wav_writer_write(r->joined, r->joined_buffer, n_frames, &reader_gone, why, sizeof why) != 0) {
        status_board_hide(r->status);
        if (!reader_gone)
            report_error("writing %s: %s", wav_writer_name(r->joined), why);
        if (!reader_gone)
            fail(r, WAC_EXIT_OUTPUT);
        for (size_t i = 0; i < r->n_sources; i++) {
            r->sources[i].discarding = true;
            request_stop(r, &r->sources[i], "stopped");
        }
    }
}

/* Several targets: read every block that all of them have now. */
static void service_aligned(recorder *r)
{
    for (;;) {
        for (size_t i = 0; i < r->n_sources; i++)
            if (!r->sources[i].finished)
                pull_events(r, &r->sources[i]);
        source *first = &r->sources[0];
        uint32_t want = first->chunk_frames;
        bool all_discarding = true;
        for (size_t i = 0; i < r->n_sources; i++) {
            source *s = &r->sources[i];
            all_discarding &= s->discarding || s->finished;
            if (s->frames_wanted && !s->discarding && !s->finished && s->frames_wanted - s->frames_written < want)
                want = (uint32_t)(s->frames_wanted - s->frames_written);
        }
        /* The targets advance together: when one has a block and another not
         * yet, wait a little for it here rather than poll the first one's
         * ready descriptor again and again. */
        int n = wac_aligned_read(r->aligned, r->buffers, want, 20, NULL, r->flags);
        if (n == WAC_ERR_TIMEOUT || n == WAC_ERR_INTERRUPTED)
            return;
        if (n < 0) {
            if (n != WAC_ERR_ENDED) {
                status_board_hide(r->status);
                report_wac_error(n, "", "reading the targets together");
                fail(r, WAC_EXIT_RUNTIME);
            }
            for (size_t i = 0; i < r->n_sources; i++)
                if (!r->sources[i].finished) {
                    pull_events(r, &r->sources[i]);
                    finish_source(r, &r->sources[i]);
                }
            return;
        }
        if (r->joined && !all_discarding)
            write_joined(r, (uint32_t)n);
        for (size_t i = 0; i < r->n_sources; i++) {
            source *s = &r->sources[i];
            if (s->finished)
                continue;
            if (!s->discarding) {
                if (r->joined) {
                    s->last_level = level_measure(s->buffer, (uint32_t)n, &s->format);
                    s->frames_written += (uint32_t)n;
                    if (s->frames_wanted && s->frames_written >= s->frames_wanted) {
                        s->discarding = true;
                        request_stop(r, s, "done");
                    }
                } else {
                    write_chunk(r, s, (uint32_t)n);
                }
            }
            /* Its own file ends where its stream did; in one file its
             * channels go on as silence until every stream has ended. */
            if ((r->flags[i] & WAC_CHUNK_LAST) && !r->joined) {
                pull_events(r, s);
                finish_source(r, s);
            }
        }
    }
}

static void show_status(recorder *r, source *s, size_t index)
{
    if (!s->finished)
        wac_capture_get_stats(s->cap, &s->stats, sizeof s->stats);
    status_source line = {
        .label = s->label,
        .elapsed_s = (double)s->frames_written / s->format.rate,
        .level = s->last_level,
        .streams = s->stats.streams,
        .overruns = s->stats.overruns,
        .state = s->state,
    };
    status_board_set(r->status, index, &line);
}

/* ---- the whole recording ---------------------------------------------------------- */

static int open_source(recorder *r, source *s)
{
    const record_options *options = r->options;
    wac_capture_config config;
    wac_capture_config_init(&config);
    config.target.kind = s->target->kind;
    config.target.pid = s->target->pid;
    config.target.name = s->target->name;
    bool process = s->target->kind == WAC_TARGET_PID || s->target->kind == WAC_TARGET_NAME;
    config.target.include_tree = options->include_tree;
    config.target.exclude = options->exclude && process;
    config.format = options->format;
    config.ring_ms = options->ring_ms;
    config.latency_ms = options->latency_ms;
    config.fill_silence = options->fill_silence;
    int rc = wac_capture_open(r->ctx, &config, &s->cap);
    if (rc < 0) {
        report_wac_error(rc, wac_context_last_error(r->ctx), "%s", s->label);
        return report_exit_code_for(rc);
    }
    rc = wac_capture_get_format(s->cap, &s->format, &s->chunk_frames);
#ifdef _WIN32
    if (rc == 0)
        rc = wac_capture_event_handle(s->cap, &s->handle);
#else
    if (rc == 0)
        rc = s->fd = wac_capture_fd(s->cap);
#endif
    if (rc < 0) {
        report_wac_error(rc, wac_capture_last_error(s->cap), "%s", s->label);
        return WAC_EXIT_RUNTIME;
    }
    s->buffer = malloc((size_t)s->chunk_frames * frame_bytes(&s->format));
    if (!s->buffer) {
        report_error("out of memory");
        return WAC_EXIT_RUNTIME;
    }
    if (options->duration_s > 0) {
        long long frames = llround(options->duration_s * s->format.rate);
        s->frames_wanted = frames < 1 ? 1 : (uint64_t)frames;
    }
    return WAC_EXIT_OK;
}

static int open_output(recorder *r, source *s)
{
    char why[256];
    if (r->options->one_file)
        return WAC_EXIT_OK; /* one file for all: open_joined() */
    if (wav_writer_open(s->target->output, &s->format, &s->writer, why, sizeof why) != 0) {
        report_error("cannot write %s: %s", s->target->output, why);
        return WAC_EXIT_OUTPUT;
    }
    if (!r->options->quiet)
        report_notice("recording %s to %s (%u Hz, %u channel%s, %s)", s->label, wav_writer_name(s->writer),
                      s->format.rate, s->format.channels, s->format.channels == 1 ? "" : "s",
                      sample_name(s->format.sample));
    return WAC_EXIT_OK;
}

static int open_joined(recorder *r)
{
    char why[256];
    r->joined_format = r->sources[0].format;
    r->joined_format.channels = 0;
    uint32_t bytes = 0;
    for (size_t i = 0; i < r->n_sources; i++) {
        r->joined_format.channels += r->sources[i].format.channels;
        bytes += frame_bytes(&r->sources[i].format);
    }
    r->joined_buffer = malloc((size_t)r->sources[0].chunk_frames * bytes);
    if (!r->joined_buffer) {
        report_error("out of memory");
        return WAC_EXIT_RUNTIME;
    }
    const char *path = r->sources[0].target->output;
    if (wav_writer_open(path, &r->joined_format, &r->joined, why, sizeof why) != 0) {
        report_error("cannot write %s: %s", path, why);
        return WAC_EXIT_OUTPUT;
    }
    if (!r->options->quiet)
        report_notice("recording %zu targets to %s, one after the other in %u channels (%u Hz, %s)", r->n_sources,
                      wav_writer_name(r->joined), r->joined_format.channels, r->joined_format.rate,
                      sample_name(r->joined_format.sample));
    return WAC_EXIT_OK;
}

/* Several targets: one reader over all of them, on one timeline. */
static int open_aligned(recorder *r)
{
    wac_capture **caps = calloc(r->n_sources, sizeof *caps);
    r->buffers = calloc(r->n_sources, sizeof *r->buffers);
    r->flags = calloc(r->n_sources, sizeof *r->flags);
    if (!caps || !r->buffers || !r->flags) {
        free(caps);
        report_error("out of memory");
        return WAC_EXIT_RUNTIME;
    }
    for (size_t i = 0; i < r->n_sources; i++) {
        caps[i] = r->sources[i].cap;
        r->buffers[i] = r->sources[i].buffer;
    }
    int rc = wac_aligned_open(caps, r->n_sources, r->sources[0].chunk_frames, &r->aligned);
    free(caps);
    if (rc < 0) {
        report_wac_error(rc, "", "reading the targets together");
        return report_exit_code_for(rc);
    }
    return WAC_EXIT_OK;
}

static void handle_signal(recorder *r)
{
#ifdef _WIN32
    LONG type = InterlockedExchange(&console_signal, 0);
    if (!type)
        return;
    status_board_hide(r->status);
    if (!r->options->quiet)
        report_notice("%s: stopping and finishing the files", type - 1 == CTRL_C_EVENT ? "Ctrl+C" : "Ctrl+Break");
#else
    struct signalfd_siginfo info;
    ssize_t got = read(r->signal_fd, &info, sizeof info);
    if (got != (ssize_t)sizeof info)
        return;
    status_board_hide(r->status);
    if (!r->options->quiet)
        report_notice("%s: stopping and finishing the files", strsignal((int)info.ssi_signo));
#endif
    for (size_t i = 0; i < r->n_sources; i++)
        if (!r->sources[i].finished)
            request_stop(r, &r->sources[i], "stopped");
}

/* --wait-timeout: a --name target that never appeared is "not found". */
static void check_wait_deadline(recorder *r, int64_t now)
{
    if (!r->wait_deadline_ns || now < r->wait_deadline_ns)
        return;
    for (size_t i = 0; i < r->n_sources; i++) {
        source *s = &r->sources[i];
        if (s->target->kind != WAC_TARGET_NAME || s->attached || s->stop_requested)
            continue;
        status_board_hide(r->status);
        report_error("no process named %s appeared within %g s", s->target->name, r->options->wait_timeout_s);
        fail(r, WAC_EXIT_TARGET_NOT_FOUND);
        request_stop(r, s, "not found");
    }
    r->wait_deadline_ns = 0;
}

static int poll_timeout_ms(const recorder *r, int64_t now)
{
    int timeout = -1;
    if (r->wait_deadline_ns) {
        int64_t left_ms = (r->wait_deadline_ns - now + 999999) / 1000000;
        timeout = left_ms < 0 ? 0 : left_ms > 60000 ? 60000 : (int)left_ms;
    }
    if (status_board_enabled(r->status) && (timeout < 0 || timeout > STATUS_IDLE_REFRESH_MS))
        timeout = STATUS_IDLE_REFRESH_MS;
    return timeout;
}

#ifdef _WIN32
static int run_loop(recorder *r)
{
    if (r->n_sources + 1 > MAXIMUM_WAIT_OBJECTS) {
        report_error("at most %d targets at once on Windows", MAXIMUM_WAIT_OBJECTS - 1);
        return WAC_EXIT_USAGE;
    }
    HANDLE handles[MAXIMUM_WAIT_OBJECTS];
    for (;;) {
        DWORD n = 0;
        size_t n_running = 0;
        handles[n++] = r->stop_event;
        for (size_t i = 0; i < r->n_sources; i++)
            if (!r->sources[i].finished) {
                handles[n++] = r->sources[i].handle;
                n_running++;
            }
        if (n_running == 0)
            break;
        int timeout = poll_timeout_ms(r, monotonic_ns());
        DWORD w = WaitForMultipleObjects(n, handles, FALSE, timeout < 0 ? INFINITE : (DWORD)timeout);
        if (w == WAIT_FAILED) {
            status_board_hide(r->status);
            report_error("WaitForMultipleObjects: error %lu", (unsigned long)GetLastError());
            fail(r, WAC_EXIT_RUNTIME);
            break;
        }
        handle_signal(r);
        if (r->aligned)
            service_aligned(r);
        for (size_t i = 0; i < r->n_sources; i++) {
            if (!r->aligned)
                service_source(r, &r->sources[i]);
            show_status(r, &r->sources[i], i);
        }
        check_wait_deadline(r, monotonic_ns());
        status_board_draw(r->status, false);
    }
    status_board_draw(r->status, true);
    return WAC_EXIT_OK;
}
#else
static int run_loop(recorder *r)
{
    struct pollfd *fds = calloc(r->n_sources + 1, sizeof *fds);
    if (!fds) {
        report_error("out of memory");
        return WAC_EXIT_RUNTIME;
    }
    for (;;) {
        size_t n_fds = 0, n_running = 0;
        fds[n_fds++] = (struct pollfd){.fd = r->signal_fd, .events = POLLIN};
        for (size_t i = 0; i < r->n_sources; i++)
            if (!r->sources[i].finished) {
                fds[n_fds++] = (struct pollfd){.fd = r->sources[i].fd, .events = POLLIN};
                n_running++;
            }
        if (n_running == 0)
            break;
        if (poll(fds, n_fds, poll_timeout_ms(r, monotonic_ns())) < 0 && errno != EINTR) {
            status_board_hide(r->status);
            report_error("poll: %s", strerror(errno));
            fail(r, WAC_EXIT_RUNTIME);
            break;
        }
        if (fds[0].revents & POLLIN)
            handle_signal(r);
        /* Reading a capture with nothing ready costs no system call: serve all. */
        if (r->aligned)
            service_aligned(r);
        for (size_t i = 0; i < r->n_sources; i++) {
            if (!r->aligned)
                service_source(r, &r->sources[i]);
            show_status(r, &r->sources[i], i);
        }
        check_wait_deadline(r, monotonic_ns());
        status_board_draw(r->status, false);
    }
    status_board_draw(r->status, true);
    free(fds);
    return WAC_EXIT_OK;
}
#endif

int record_run(const record_options *options)
{
#ifdef _WIN32
    recorder r = {.options = options, .n_sources = options->n_targets};
#else
    recorder r = {.options = options, .signal_fd = -1, .n_sources = options->n_targets};
#endif
    int exit_code = WAC_EXIT_OK;
    r.sources = calloc(r.n_sources, sizeof *r.sources);
    if (!r.sources) {
        report_error("out of memory");
        return WAC_EXIT_RUNTIME;
    }
    for (size_t i = 0; i < r.n_sources; i++) {
        source *s = &r.sources[i];
        s->target = &options->targets[i];
#ifndef _WIN32
        s->fd = -1;
#endif
        s->state = "recording";
        s->last_level = (level){LEVEL_FLOOR_DBFS, LEVEL_FLOOR_DBFS};
        describe_target(options, s->target, s->label, sizeof s->label);
    }
    if (signals_setup(&r) != 0) {
        exit_code = WAC_EXIT_RUNTIME;
        goto out;
    }
    exit_code = backend_open(options->backend, &r.ctx);
    if (exit_code)
        goto out;

    /* Captures first (the library checks the target and the format), then the
     * files (so a bad path fails before any audio flows, and a bad pid leaves
     * no empty file behind), then start them all together. */
    for (size_t i = 0; i < r.n_sources && !exit_code; i++)
        exit_code = open_source(&r, &r.sources[i]);
    for (size_t i = 0; i < r.n_sources && !exit_code; i++)
        exit_code = open_output(&r, &r.sources[i]);
    if (!exit_code && options->one_file)
        exit_code = open_joined(&r);
    if (!exit_code && r.n_sources > 1)
        exit_code = open_aligned(&r);
    if (exit_code)
        goto out;
    r.status = status_board_create(r.n_sources, options->quiet);
    for (size_t i = 0; i < r.n_sources && !exit_code; i++) {
        source *s = &r.sources[i];
        int rc = wac_capture_start(s->cap);
        if (rc < 0) {
            report_wac_error(rc, wac_capture_last_error(s->cap), "%s: starting", s->label);
            exit_code = report_exit_code_for(rc);
        }
    }
    if (exit_code)
        goto out;
    if (options->wait_timeout_s > 0)
        r.wait_deadline_ns = monotonic_ns() + (int64_t)(options->wait_timeout_s * 1e9);

    exit_code = run_loop(&r);
    if (!exit_code)
        exit_code = r.exit_code;

out:
    /* Files still open here were never recorded into (a failure before the
     * loop): finish them anyway so that no half-written header remains. */
    for (size_t i = 0; i < r.n_sources; i++) {
        char why[256];
        if (r.sources[i].writer && wav_writer_close(r.sources[i].writer, why, sizeof why) != 0 && !exit_code) {
            report_error("finishing %s: %s", r.sources[i].target->output, why);
            exit_code = WAC_EXIT_OUTPUT;
        }
        free(r.sources[i].buffer);
    }
    char why[256];
    if (r.joined && wav_writer_close(r.joined, why, sizeof why) != 0 && !exit_code) {
        report_error("finishing %s: %s", r.sources[0].target->output, why);
        exit_code = WAC_EXIT_OUTPUT;
    }
    free(r.joined_buffer);
    wac_aligned_close(r.aligned);
    free(r.buffers);
    free(r.flags);
    status_board_destroy(r.status);
    wac_context_close(r.ctx); /* closes the captures too */
    signals_restore(&r);
    free(r.sources);
    return exit_code;
}
