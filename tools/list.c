/* list.c — `wac list`: the processes that play audio now, as a table or JSON. */
#include <stdio.h>

#include "backend.h"
#include "commands.h"
#include "report.h"

/* A JSON string literal: quotes, backslashes and control characters escaped;
 * everything else (UTF-8 included) passes through as it is. */
static void print_json_string(const char *text)
{
    putchar('"');
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        switch (*c) {
        case '"': fputs("\\\"", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        case '\b': fputs("\\b", stdout); break;
        case '\f': fputs("\\f", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        default:
            if (*c < 0x20 || *c == 0x7f)
                printf("\\u%04x", *c);
            else
                putchar(*c);
        }
    }
    putchar('"');
}

static void print_json(const char *backend, const wac_session_list *sessions)
{
    fputs("{\"backend\": ", stdout);
    print_json_string(backend);
    fputs(", \"sessions\": [", stdout);
    size_t count = wac_session_list_count(sessions);
    for (size_t i = 0; i < count; i++) {
        const wac_session *session = wac_session_list_at(sessions, i);
        printf("%s\n  {\"pid\": %u, \"executable\": ", i ? "," : "", session->pid);
        print_json_string(session->executable);
        fputs(", \"app_name\": ", stdout);
        print_json_string(session->app_name);
        printf(", \"streams\": %u, \"playing\": %s, \"volume\": ", session->streams,
               session->playing ? "true" : "false");
        if (session->volume >= 0.0f)
            printf("%.4f", (double)session->volume);
        else
            fputs("null", stdout);
        printf(", \"muted\": %s, \"app_id\": ", session->muted ? "true" : "false");
        print_json_string(session->app_id);
        putchar('}');
    }
    fputs(count ? "\n]}\n" : "]}\n", stdout);
}

static void print_table(const char *backend, const wac_session_list *sessions)
{
    printf("backend: %s\n", backend);
    printf("%8s  %-20s %-28s %7s  %-7s  %s\n", "PID", "EXECUTABLE", "APP", "STREAMS", "PLAYING", "VOLUME");
    size_t count = wac_session_list_count(sessions);
    for (size_t i = 0; i < count; i++) {
        const wac_session *session = wac_session_list_at(sessions, i);
        char volume[32] = "-";
        if (session->volume >= 0.0f)
            snprintf(volume, sizeof volume, "%.2f%s", (double)session->volume, session->muted ? " muted" : "");
        /* A sandboxed application's id goes with its executable: it is the
         * other name a --name target takes. */
        char exe[300];
        snprintf(exe, sizeof exe, "%s%s%s%s", session->executable[0] ? session->executable : "-",
                 session->app_id[0] ? " (" : "", session->app_id, session->app_id[0] ? ")" : "");
        printf("%8u  %-20s %-28s %7u  %-7s  %s\n", session->pid, exe, session->app_name[0] ? session->app_name : "-",
               session->streams, session->playing ? "yes" : "no", volume);
    }
    if (count == 0)
        printf("(no process plays audio now)\n");
}

static void print_devices_json(const char *backend, const wac_device_list *devices)
{
    fputs("{\"backend\": ", stdout);
    print_json_string(backend);
    fputs(", \"devices\": [", stdout);
    size_t count = wac_device_list_count(devices);
    for (size_t i = 0; i < count; i++) {
        const wac_device *d = wac_device_list_at(devices, i);
        printf("%s\n  {\"name\": ", i ? "," : "");
        print_json_string(d->name);
        fputs(", \"description\": ", stdout);
        print_json_string(d->description);
        printf(", \"monitor\": %s, \"default\": %s, \"rate\": %u, \"channels\": %u}", d->monitor ? "true" : "false",
               d->is_default ? "true" : "false", d->rate, d->channels);
    }
    fputs(count ? "\n]}\n" : "]}\n", stdout);
}

static void print_devices_table(const char *backend, const wac_device_list *devices)
{
    printf("backend: %s\n", backend);
    printf("%-7s %-7s %6s %3s  %-44s %s\n", "KIND", "DEFAULT", "RATE", "CH", "NAME", "DESCRIPTION");
    size_t count = wac_device_list_count(devices);
    for (size_t i = 0; i < count; i++) {
        const wac_device *d = wac_device_list_at(devices, i);
        char rate[16] = "-", channels[16] = "-";
        if (d->rate)
            snprintf(rate, sizeof rate, "%u", d->rate);
        if (d->channels)
            snprintf(channels, sizeof channels, "%u", d->channels);
        printf("%-7s %-7s %6s %3s  %-44s %s\n", d->monitor ? "monitor" : "input", d->is_default ? "yes" : "no", rate,
               channels, d->name, d->description[0] ? d->description : "-");
    }
    if (count == 0)
        printf("(no input device or monitor)\n");
}

static int list_devices(wac_context *ctx, const list_options *options)
{
    wac_device_list *devices = NULL;
    int rc = wac_context_list_devices(ctx, &devices);
    if (rc < 0) {
        report_wac_error(rc, wac_context_last_error(ctx), "listing the devices");
        return report_exit_code_for(rc);
    }
    if (options->json)
        print_devices_json(wac_context_backend(ctx), devices);
    else
        print_devices_table(wac_context_backend(ctx), devices);
    wac_device_list_free(devices);
    return 0;
}

int list_run(const list_options *options)
{
    wac_context *ctx = NULL;
    wac_session_list *sessions = NULL;
    int exit_code = backend_open(options->backend, &ctx);
    if (exit_code)
        goto out;
    if (options->devices) {
        exit_code = list_devices(ctx, options);
        if (exit_code == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
            report_error("writing the list to stdout failed");
            exit_code = WAC_EXIT_OUTPUT;
        }
        goto out;
    }
    int rc = wac_context_list_sessions(ctx, &sessions);
    if (rc < 0) {
        report_wac_error(rc, wac_context_last_error(ctx), "listing the sessions");
        exit_code = report_exit_code_for(rc);
        goto out;
    }
    if (options->json)
        print_json(wac_context_backend(ctx), sessions);
    else
        print_table(wac_context_backend(ctx), sessions);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        report_error("writing the list to stdout failed");
        exit_code = WAC_EXIT_OUTPUT;
    }
out:
    wac_session_list_free(sessions);
    wac_context_close(ctx);
    return exit_code;
}
