/* wac.c — the wac command-line tool: `wac list`, `wac record`, and
 * `wac volume` / `mute` / `unmute`.
 *
 * This file is the front door: it dispatches the subcommand, parses its
 * options with getopt_long, and refuses inconsistent combinations before any
 * audio server is contacted (exit code 2). The work itself is in list.c,
 * record.c and volume.c. Exit codes: report.h. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wac.h>

#include "commands.h"
#include "report.h"
#include "wav-writer.h"

static const char exit_codes_help[] =
    "Exit codes:\n"
    "  0  success (also when SIGINT or SIGTERM ends a recording: the files are complete)\n"
    "  1  runtime error (audio server lost, backend error, ...)\n"
    "  2  usage error (bad or conflicting options, a format the library refuses)\n"
    "  3  target not found (no such pid; --name target absent after --wait-timeout)\n"
    "  4  backend unknown, not built in, or its audio server not running\n"
    "  5  an output file cannot be created, written or finished\n";

static void print_main_help(FILE *out)
{
    fprintf(out,
            "Usage: wac [--help] [--version] COMMAND [OPTIONS]\n"
            "Capture the audio that one application plays.\n"
            "\n"
            "Commands:\n"
            "  list      show the processes that play audio now\n"
            "  record    record one or more applications (or the system) to files\n"
            "  volume    show or set an application's volume\n"
            "  mute      mute an application (its volume is kept)\n"
            "  unmute    unmute an application\n"
            "\n"
            "Options:\n"
            "  -h, --help     show this help\n"
            "  -V, --version  show the version of wac and libwac\n"
            "\n"
            "Run 'wac COMMAND --help' for the options of a command.\n"
            "The backend is --backend, else $WAC_BACKEND, else auto.\n"
            "\n"
            "%s",
            exit_codes_help);
}

static void print_list_help(FILE *out)
{
    fprintf(out,
            "Usage: wac list [--devices] [--json] [--backend NAME]\n"
            "Show the processes that play audio now: pid, executable, application\n"
            "name, number of output streams, whether one of them is playing, and\n"
            "their volume (a linear factor 0-1, the loudest stream's; 'muted' when\n"
            "every stream is muted; '-' or null when the backend cannot tell).\n"
            "\n"
            "  --devices       show the input devices and the outputs' monitors instead: the\n"
            "                  names 'wac record --device' takes, which is the default, and\n"
            "                  the native rate and channels\n"
            "  --json          print {\"backend\": ..., \"sessions\": [...]} (with --devices:\n"
            "                  \"devices\") instead of a table\n"
            "  --backend NAME  auto, pipewire, pulse or dummy (default: $WAC_BACKEND, else auto)\n"
            "  -h, --help      show this help\n"
            "\n"
            "%s",
            exit_codes_help);
}

static void print_record_help(FILE *out)
{
    fprintf(out,
            "Usage: wac record TARGET... -o FILE... [OPTIONS]\n"
            "Record each target into its own file, all at once, until the duration is\n"
            "reached, the stream ends, or SIGINT/SIGTERM (the files are finished properly).\n"
            "\n"
            "Targets (each needs its own -o, in the same order):\n"
            "  --pid N               a process and its children (repeatable)\n"
            "  --name EXE            an executable name; may start later, and restart (repeatable)\n"
            "  --system              everything played on the default output\n"
            "  --device NAME         an input device or a monitor (wac list --devices), or\n"
            "                        default: the default input, followed when it changes\n"
            "  --exclude             record everything except the single --pid or --name target\n"
            "  --no-tree             only the process itself, not its children\n"
            "  --wait-timeout SEC    fail (exit 3) if a --name target has not appeared after SEC s\n"
            "\n"
            "Several targets (any mix) are recorded on one clock: frame k of every file is\n"
            "the same instant (the starts are aligned from the chunks' time stamps; a\n"
            "target that starts later gets silence before its first frame).\n"
            "\n"
            "Output:\n"
            "  -o, --output FILE     FILE.wav or FILE.flac, or - for raw samples on stdout\n"
            "                        (native endian, interleaved; only one target may use -)\n"
            "  --one-file            write every target into one file given by one -o: the\n"
            "                        channels of the first target, then of the second, ...\n"
            "  -r, --rate HZ         sample rate (default 48000)\n"
            "  -c, --channels N      channels (default 2)\n"
            "  -f, --format FMT      f32 or s16 (default f32); f32 goes into WAV as float,\n"
            "                        into FLAC as 24-bit integers (FLAC has no float samples)\n"
            "  -d, --duration SEC    stop after exactly SEC s of audio (rate * SEC frames);\n"
            "                        default: until SIGINT/SIGTERM or the stream ends\n"
            "\n"
            "Capture:\n"
            "  --backend NAME        auto, pipewire, pulse or dummy (default: $WAC_BACKEND, else auto)\n"
            "  --latency MS          ask the audio server for this latency (default: don't ask)\n"
            "  --ring MS             buffer this much audio before frames are lost (default 2000)\n"
            "  --no-fill             leave out silence while the target plays nothing (the\n"
            "                        file then holds only audio the target played)\n"
            "\n"
            "Messages:\n"
            "  -q, --quiet           no status lines and no notices (errors still shown)\n"
            "  --events              print every capture event to stderr\n"
            "  -h, --help            show this help\n"
            "\n"
            "On a terminal, a status line per target shows the time recorded, the level\n"
            "of the last chunk in dBFS, the attached streams and the overruns.\n"
            "A --pid target that exits ends its recording normally (exit 0).\n"
            "\n"
            "%s",
            exit_codes_help);
}

static void print_volume_help(FILE *out)
{
    fprintf(out,
            "Usage: wac volume (--pid N | --name EXE) [LEVEL] [OPTIONS]\n"
            "       wac mute (--pid N | --name EXE) [OPTIONS]\n"
            "       wac unmute (--pid N | --name EXE) [OPTIONS]\n"
            "Show or set the volume of an application's output streams, or mute and\n"
            "unmute them. Without LEVEL, 'wac volume' prints the volume as a linear\n"
            "factor (e.g. 0.50, the loudest stream's), followed by ' muted' when every\n"
            "stream is muted. LEVEL is a linear factor from 0 to 1 (0.5 is -6 dB) or a\n"
            "percentage such as 50%%; it sets every channel of every stream. Muting\n"
            "keeps the level, so unmuting restores it. What the user hears and what a\n"
            "system capture gets both change (see wac.h for each backend).\n"
            "\n"
            "  --pid N         a process and its children\n"
            "  --name EXE      every process by that executable name\n"
            "  --no-tree       only the process itself, not its children\n"
            "  --backend NAME  auto, pipewire, pulse or dummy (default: $WAC_BACKEND, else auto)\n"
            "  -h, --help      show this help\n"
            "\n"
            "%s",
            exit_codes_help);
}

/* "wac: error: <message>" plus where to find help; returns the usage exit code. */
REPORT_PRINTF(2, 3) static int usage_error(const char *command, const char *format, ...)
{
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    report_error("%s", message);
    fprintf(stderr, "Try 'wac%s%s --help'.\n", command ? " " : "", command ? command : "");
    return WAC_EXIT_USAGE;
}

/* getopt's own complaint, in our words. */
static int option_error(const char *command, int result, char **argv)
{
    const char *option = argv[optind - 1];
    if (result == ':')
        return usage_error(command, "option '%s' needs a value", option);
    if (optopt)
        return usage_error(command, "unknown option '-%c'", optopt);
    return usage_error(command, "unknown option '%s'", option);
}

static bool parse_uint32(const char *text, uint32_t *out)
{
    if (!text[0] || text[0] == '-' || text[0] == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno || *end || value > UINT32_MAX)
        return false;
    *out = (uint32_t)value;
    return true;
}

static bool parse_seconds(const char *text, double *out)
{
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (!text[0] || errno || *end || !isfinite(value) || value <= 0)
        return false;
    *out = value;
    return true;
}

/* ---- wac list ---------------------------------------------------------------- */

enum { OPT_JSON = 256, OPT_BACKEND, OPT_DEVICES };

static int list_main(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"devices", no_argument, NULL, OPT_DEVICES},
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    list_options options = {.backend = NULL, .json = false};
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: options.json = true; break;
        case OPT_DEVICES: options.devices = true; break;
        case OPT_BACKEND: options.backend = optarg; break;
        case 'h': print_list_help(stdout); return WAC_EXIT_OK;
        default: return option_error("list", c, argv);
        }
    }
    if (optind < argc)
        return usage_error("list", "unexpected argument '%s'", argv[optind]);
    return list_run(&options);
}

/* ---- wac volume / mute / unmute ----------------------------------------------- */

enum { OPT_VOLUME_PID = 280, OPT_VOLUME_NAME, OPT_VOLUME_NO_TREE, OPT_VOLUME_BACKEND };

/* "0.5", "1", "50%": a level 0...1. */
static bool parse_level(const char *text, float *out)
{
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (!text[0] || errno || end == text || !isfinite(value))
        return false;
    if (*end == '%') {
        value /= 100.0;
        end++;
    }
    if (*end || value < 0.0 || value > 1.0)
        return false;
    *out = (float)value;
    return true;
}

static int volume_main(int argc, char **argv, volume_action action)
{
    static const struct option long_options[] = {
        {"pid", required_argument, NULL, OPT_VOLUME_PID},
        {"name", required_argument, NULL, OPT_VOLUME_NAME},
        {"no-tree", no_argument, NULL, OPT_VOLUME_NO_TREE},
        {"backend", required_argument, NULL, OPT_VOLUME_BACKEND},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *command = argv[0];
    volume_options options = {.backend = NULL, .action = action};
    options.target.include_tree = true;
    int targets = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_VOLUME_PID:
            if (!parse_uint32(optarg, &options.target.pid) || options.target.pid == 0)
                return usage_error(command, "--pid needs a positive process id, not '%s'", optarg);
            options.target.kind = WAC_TARGET_PID;
            targets++;
            break;
        case OPT_VOLUME_NAME:
            if (!optarg[0])
                return usage_error(command, "--name needs an executable name");
            options.target.kind = WAC_TARGET_NAME;
            options.target.name = optarg;
            targets++;
            break;
        case OPT_VOLUME_NO_TREE: options.target.include_tree = false; break;
        case OPT_VOLUME_BACKEND: options.backend = optarg; break;
        case 'h': print_volume_help(stdout); return WAC_EXIT_OK;
        default: return option_error(command, c, argv);
        }
    }
    if (targets != 1)
        return usage_error(command, "give exactly one --pid or --name");
    if (optind < argc && action == VOLUME_SHOW) {
        if (!parse_level(argv[optind], &options.level))
            return usage_error(command, "bad level '%s': a factor from 0 to 1 (e.g. 0.5) or a percentage (e.g. 50%%)",
                               argv[optind]);
        options.action = VOLUME_SET;
        optind++;
    }
    if (optind < argc)
        return usage_error(command, "unexpected argument '%s'", argv[optind]);
    return volume_run(&options);
}

/* ---- wac record -------------------------------------------------------------- */

enum {
    OPT_PID = 300,
    OPT_NAME,
    OPT_SYSTEM,
    OPT_DEVICE,
    OPT_EXCLUDE,
    OPT_NO_TREE,
    OPT_RECORD_BACKEND,
    OPT_LATENCY,
    OPT_RING,
    OPT_NO_FILL,
    OPT_EVENTS,
    OPT_WAIT_TIMEOUT,
    OPT_ONE_FILE,
};

/* Everything the options say that cannot be checked one option at a time. */
static int check_record_options(const record_options *options, const char *const *outputs, size_t n_outputs,
                                 size_t n_system)
{
    size_t n_names = 0, n_processes = 0;
    for (size_t i = 0; i < options->n_targets; i++) {
        n_names += options->targets[i].kind == WAC_TARGET_NAME;
        n_processes += options->targets[i].kind == WAC_TARGET_NAME || options->targets[i].kind == WAC_TARGET_PID;
    }
    if (options->n_targets == 0)
        return usage_error("record", "no target: give --pid N, --name EXE, --system or --device NAME");
    if (n_system > 1)
        return usage_error("record", "--system given more than once");
    if (options->exclude && (n_processes != 1 || options->n_targets != 1))
        return usage_error("record", "--exclude needs exactly one --pid or --name target");
    if (!options->include_tree && n_processes == 0)
        return usage_error("record", "--no-tree needs a --pid or --name target");
    if (options->one_file && options->n_targets < 2)
        return usage_error("record", "--one-file needs two targets or more");
    if (options->one_file && n_outputs != 1)
        return usage_error("record", "--one-file writes one file: give one -o FILE");
    if (options->one_file) {
        if (!wav_writer_supports(outputs[0]))
            return usage_error("record", "-o %s: unknown file type", outputs[0]);
        return WAC_EXIT_OK;
    }
    if (options->wait_timeout_s > 0 && n_names == 0)
        return usage_error("record", "--wait-timeout needs a --name target");
    if (n_outputs != options->n_targets)
        return usage_error("record", "%zu target%s but %zu -o: give one -o FILE per target, in order",
                           options->n_targets, options->n_targets == 1 ? "" : "s", n_outputs);
    size_t n_stdout = 0;
    for (size_t i = 0; i < n_outputs; i++) {
        if (!wav_writer_supports(outputs[i]))
#ifdef _WIN32
            return usage_error("record", "-o %s: unknown file type; use a name ending in .wav, or - "
                                         "(this Windows build writes no FLAC)", outputs[i]);
#else
            return usage_error("record", "-o %s: unknown file type; use a name ending in .wav or .flac, or -",
                               outputs[i]);
#endif
        n_stdout += strcmp(outputs[i], "-") == 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(outputs[i], "-") != 0 && strcmp(outputs[i], outputs[j]) == 0)
                return usage_error("record", "-o %s given twice: each target needs its own file", outputs[i]);
    }
    if (n_stdout > 1)
        return usage_error("record", "only one target can write to stdout (-o -)");
    return WAC_EXIT_OK;
}

static int record_main(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"pid", required_argument, NULL, OPT_PID},
        {"name", required_argument, NULL, OPT_NAME},
        {"system", no_argument, NULL, OPT_SYSTEM},
        {"device", required_argument, NULL, OPT_DEVICE},
        {"one-file", no_argument, NULL, OPT_ONE_FILE},
        {"exclude", no_argument, NULL, OPT_EXCLUDE},
        {"no-tree", no_argument, NULL, OPT_NO_TREE},
        {"wait-timeout", required_argument, NULL, OPT_WAIT_TIMEOUT},
        {"output", required_argument, NULL, 'o'},
        {"rate", required_argument, NULL, 'r'},
        {"channels", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},
        {"duration", required_argument, NULL, 'd'},
        {"backend", required_argument, NULL, OPT_RECORD_BACKEND},
        {"latency", required_argument, NULL, OPT_LATENCY},
        {"ring", required_argument, NULL, OPT_RING},
        {"no-fill", no_argument, NULL, OPT_NO_FILL},
        {"quiet", no_argument, NULL, 'q'},
        {"events", no_argument, NULL, OPT_EVENTS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* Every target and every -o takes at least one argv slot. */
    record_target *targets = calloc((size_t)argc, sizeof *targets);
    const char **outputs = calloc((size_t)argc, sizeof *outputs);
    record_options options = {
        .targets = targets,
        .include_tree = true,
        .format = {48000, 2, WAC_SAMPLE_F32},
        .fill_silence = true,
    };
    size_t n_outputs = 0, n_system = 0;
    int exit_code = WAC_EXIT_OK;
    wac_capture_config defaults;
    wac_capture_config_init(&defaults);
    options.ring_ms = defaults.ring_ms;
    if (!targets || !outputs) {
        report_error("out of memory");
        exit_code = WAC_EXIT_RUNTIME;
        goto out;
    }

    int c;
    optind = 0;
    opterr = 0;
    while (exit_code == WAC_EXIT_OK && (c = getopt_long(argc, argv, ":o:r:c:f:d:qh", long_options, NULL)) != -1) {
        record_target *next = &targets[options.n_targets];
        switch (c) {
        case OPT_PID:
            if (!parse_uint32(optarg, &next->pid))
                exit_code = usage_error("record", "--pid %s: not a process id", optarg);
            next->kind = WAC_TARGET_PID;
            options.n_targets++;
            break;
        case OPT_NAME:
            next->kind = WAC_TARGET_NAME;
            next->name = optarg;
            options.n_targets++;
            break;
        case OPT_SYSTEM:
            next->kind = WAC_TARGET_SYSTEM;
            options.n_targets++;
            n_system++;
            break;
        case OPT_DEVICE:
            if (!optarg[0])
                exit_code = usage_error("record", "--device needs a device name (or default)");
            next->kind = WAC_TARGET_DEVICE;
            next->name = optarg;
            options.n_targets++;
            break;
        case OPT_ONE_FILE: options.one_file = true; break;
        case OPT_EXCLUDE: options.exclude = true; break;
        case OPT_NO_TREE: options.include_tree = false; break;
        case OPT_WAIT_TIMEOUT:
            if (!parse_seconds(optarg, &options.wait_timeout_s))
                exit_code = usage_error("record", "--wait-timeout %s: not a positive number of seconds", optarg);
            break;
        case 'o': outputs[n_outputs++] = optarg; break;
        case 'r':
            /* Only the number is checked here; the library says which rates it takes. */
            if (!parse_uint32(optarg, &options.format.rate))
                exit_code = usage_error("record", "--rate %s: not a number of Hz", optarg);
            break;
        case 'c':
            if (!parse_uint32(optarg, &options.format.channels))
                exit_code = usage_error("record", "--channels %s: not a number", optarg);
            break;
        case 'f':
            if (strcmp(optarg, "f32") == 0)
                options.format.sample = WAC_SAMPLE_F32;
            else if (strcmp(optarg, "s16") == 0)
                options.format.sample = WAC_SAMPLE_S16;
            else
                exit_code = usage_error("record", "--format %s: use f32 or s16", optarg);
            break;
        case 'd':
            if (!parse_seconds(optarg, &options.duration_s))
                exit_code = usage_error("record", "--duration %s: not a positive number of seconds", optarg);
            break;
        case OPT_RECORD_BACKEND: options.backend = optarg; break;
        case OPT_LATENCY:
            if (!parse_uint32(optarg, &options.latency_ms))
                exit_code = usage_error("record", "--latency %s: not a number of milliseconds", optarg);
            break;
        case OPT_RING:
            if (!parse_uint32(optarg, &options.ring_ms))
                exit_code = usage_error("record", "--ring %s: not a number of milliseconds", optarg);
            break;
        case OPT_NO_FILL: options.fill_silence = false; break;
        case 'q': options.quiet = true; break;
        case OPT_EVENTS: options.print_events = true; break;
        case 'h': print_record_help(stdout); goto out;
        default: exit_code = option_error("record", c, argv); break;
        }
    }
    if (exit_code)
        goto out;
    if (optind < argc) {
        exit_code = usage_error("record", "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    exit_code = check_record_options(&options, outputs, n_outputs, n_system);
    if (exit_code)
        goto out;
    for (size_t i = 0; i < options.n_targets; i++)
        targets[i].output = options.one_file ? outputs[0] : outputs[i];
    exit_code = record_run(&options);
out:
    free(outputs);
    free(targets);
    return exit_code;
}

/* ---- main ---------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    /* '+': stop at the command; its options are its own. */
    while ((c = getopt_long(argc, argv, "+:hV", long_options, NULL)) != -1) {
        switch (c) {
        case 'h': print_main_help(stdout); return WAC_EXIT_OK;
        case 'V': printf("wac %s (libwac %s)\n", WAC_TOOL_VERSION, wac_version()); return WAC_EXIT_OK;
        default: return option_error(NULL, c, argv);
        }
    }
    if (optind >= argc)
        return usage_error(NULL, "no command: use 'wac list', 'wac record', 'wac volume', 'wac mute' or 'wac unmute'");
    const char *command = argv[optind];
    int command_argc = argc - optind;
    char **command_argv = argv + optind;
    if (strcmp(command, "list") == 0)
        return list_main(command_argc, command_argv);
    if (strcmp(command, "record") == 0)
        return record_main(command_argc, command_argv);
    if (strcmp(command, "volume") == 0)
        return volume_main(command_argc, command_argv, VOLUME_SHOW);
    if (strcmp(command, "mute") == 0)
        return volume_main(command_argc, command_argv, VOLUME_MUTE);
    if (strcmp(command, "unmute") == 0)
        return volume_main(command_argc, command_argv, VOLUME_UNMUTE);
    if (strcmp(command, "help") == 0) {
        print_main_help(stdout);
        return WAC_EXIT_OK;
    }
    return usage_error(NULL, "unknown command '%s': use 'wac list', 'wac record', 'wac volume', 'wac mute' or 'wac unmute'", command);
}
