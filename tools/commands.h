/* commands.h — the subcommands, with their options already parsed and
 * checked for consistency by wac.c. Each returns the process's exit code. */
#ifndef WAC_TOOL_COMMANDS_H
#define WAC_TOOL_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wac.h>

typedef struct list_options {
    const char *backend; /* NULL: $WAC_BACKEND, else auto */
    bool json;
    bool devices; /* the input devices and monitors instead of the sessions */
} list_options;

/* One target of `wac record`, in command-line order. */
typedef struct record_target {
    wac_target_kind kind;
    uint32_t pid;     /* WAC_TARGET_PID */
    const char *name; /* WAC_TARGET_NAME, WAC_TARGET_DEVICE */
    const char *output; /* the -o paired with it: a file name or "-" */
} record_target;

typedef struct record_options {
    const char *backend;
    record_target *targets;
    size_t n_targets;
    bool exclude;          /* the single pid/name target is what to leave out */
    bool include_tree;     /* false with --no-tree */
    wac_format format;
    double duration_s;     /* 0: until SIGINT/SIGTERM or the end of the stream */
    double wait_timeout_s; /* 0: wait for --name targets forever */
    uint32_t latency_ms;   /* 0: don't ask */
    uint32_t ring_ms;      /* the library checks it; its default unless --ring */
    bool fill_silence;
    bool quiet;
    bool print_events;
    bool one_file;         /* every target a channel group of one file (one -o) */
} record_options;

typedef enum volume_action {
    VOLUME_SHOW = 1, /* print the level (and " muted") */
    VOLUME_SET,      /* set the level */
    VOLUME_MUTE,
    VOLUME_UNMUTE
} volume_action;

typedef struct volume_options {
    const char *backend;
    wac_target target; /* PID or NAME */
    volume_action action;
    float level; /* VOLUME_SET */
} volume_options;

int list_run(const list_options *options);
int volume_run(const volume_options *options);
int record_run(const record_options *options);

#endif
