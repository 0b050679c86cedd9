/* test-api.c — sane arguments accepted, insane ones rejected with the
 * documented error and a detail message; every lifecycle misuse has a defined
 * outcome. The ASan run checks that none of it leaks. */
#include <stdio.h>

#include "helpers.h"

static void version_matches_macros(void)
{
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", WAC_VERSION_MAJOR, WAC_VERSION_MINOR, WAC_VERSION_PATCH);
    ASSERT(strcmp(wac_version(), expect) == 0);
    ASSERT_EQ(wac_version_number(), WAC_VERSION_NUMBER);
}

static void every_error_has_name_and_message(void)
{
#define CHECK(name, value, message)                                  \
    ASSERT(strcmp(wac_error_name(value), #name) == 0);               \
    ASSERT(strcmp(wac_strerror(value), message) == 0);               \
    ASSERT_EQ(WAC_ERR_##name, value);                                \
    ASSERT_CMP(value, <, 0);
    WAC_ERROR_MAP(CHECK)
#undef CHECK
    ASSERT(strcmp(wac_error_name(0), "OK") == 0);
    ASSERT(strcmp(wac_error_name(-9999), "UNKNOWN") == 0);
    ASSERT(strcmp(wac_strerror(12345), "unknown error") == 0);
    ASSERT(strcmp(wac_event_name(WAC_EVENT_OVERRUN), "overrun") == 0);
    ASSERT(strcmp(wac_event_name((wac_event_type)99), "unknown") == 0);
}

static void backends_listed(void)
{
    bool dummy = false;
    for (size_t i = 0; wac_backend_name(i); i++)
        dummy |= strcmp(wac_backend_name(i), "dummy") == 0;
    ASSERT(dummy);
    ASSERT(wac_backend_name(100) == NULL);
}

static void context_open_null_out(void)
{
    char detail[128];
    ASSERT_RC(wac_context_open("dummy", NULL, detail, sizeof detail), WAC_ERR_INVALID_ARGUMENT);
    ASSERT(detail[0] != 0);
}

static void context_unknown_backend(void)
{
    wac_context *ctx = (wac_context *)0x1;
    char detail[256];
    ASSERT_RC(wac_context_open("coreaudio-x", &ctx, detail, sizeof detail), WAC_ERR_UNKNOWN_BACKEND);
    ASSERT(ctx == NULL);
    ASSERT(strstr(detail, "coreaudio-x") != NULL);
    ASSERT(strstr(detail, "dummy") != NULL); /* says what exists */
}

static void context_backend_unavailable(void)
{
    setenv("WAC_DUMMY_UNAVAILABLE", "1", 1);
    wac_context *ctx = NULL;
    char detail[256];
    ASSERT_RC(wac_context_open("dummy", &ctx, detail, sizeof detail), WAC_ERR_BACKEND_UNAVAILABLE);
    ASSERT(strstr(detail, "not running") != NULL);
    ASSERT(ctx == NULL);
    unsetenv("WAC_DUMMY_UNAVAILABLE"); /* tests may share a process (Windows) */
}

static void auto_never_picks_dummy(void)
{
    wac_context *ctx = NULL;
    char detail[512];
    int rc = wac_context_open("auto", &ctx, detail, sizeof detail);
    if (rc == 0) {
        ASSERT(strcmp(wac_context_backend(ctx), "dummy") != 0);
        ASSERT_OK(wac_context_close(ctx));
    } else {
        ASSERT_RC(rc, WAC_ERR_BACKEND_UNAVAILABLE);
        ASSERT(detail[0] != 0);
        printf("# auto: %s\n", detail);
    }
}

static void close_null_is_noop(void)
{
    ASSERT_OK(wac_context_close(NULL));
    ASSERT_OK(wac_capture_close(NULL));
    wac_session_list_free(NULL);
    wac_capture_config_init(NULL);
    ASSERT_EQ(wac_capture_get_state(NULL), WAC_STATE_CLOSED);
}

static void config_defaults(void)
{
    wac_capture_config c;
    memset(&c, 0xab, sizeof c);
    wac_capture_config_init(&c);
    ASSERT_EQ(c.size, sizeof c);
    ASSERT_EQ(c.target.kind, WAC_TARGET_SYSTEM);
    ASSERT(c.target.include_tree);
    ASSERT(!c.target.exclude);
    ASSERT_EQ(c.format.rate, 48000);
    ASSERT_EQ(c.format.channels, 2);
    ASSERT_EQ(c.format.sample, WAC_SAMPLE_F32);
    ASSERT_EQ(c.ring_ms, 2000);
    ASSERT_EQ(c.chunk_frames, 0);
    ASSERT(c.fill_silence);
    ASSERT_EQ(c.latency_ms, 0);
    ASSERT(c.on_audio == NULL && c.on_event == NULL && c.userdata == NULL);
}

/* Open with one field changed; expect `rc` and a detail mentioning `word`. */
static void expect_open(wac_capture_config *c, int rc, const char *word)
{
    wac_context *ctx = open_dummy();
    wac_capture *cap = (wac_capture *)0x1;
    int got = wac_capture_open(ctx, c, &cap);
    if (got != rc)
        FAIL("open returned %s, expected %s (%s)", wac_error_name(got), wac_error_name(rc),
             wac_context_last_error(ctx));
    ASSERT(cap == NULL);
    if (word && !strstr(wac_context_last_error(ctx), word))
        FAIL("detail \"%s\" does not mention \"%s\"", wac_context_last_error(ctx), word);
    ASSERT_OK(wac_context_close(ctx));
}

static void open_null_arguments(void)
{
    wac_capture_config c = speech_config();
    wac_capture *cap;
    ASSERT_RC(wac_capture_open(NULL, &c, &cap), WAC_ERR_INVALID_ARGUMENT);
    wac_context *ctx = open_dummy();
    ASSERT_RC(wac_capture_open(ctx, NULL, &cap), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_capture_open(ctx, &c, NULL), WAC_ERR_INVALID_ARGUMENT);
    ASSERT(strstr(wac_context_last_error(ctx), "NULL"));
    ASSERT_OK(wac_context_close(ctx));
}

static void open_wrong_config_size(void)
{
    wac_capture_config c = speech_config();
    c.size = 8;
    expect_open(&c, WAC_ERR_INVALID_ARGUMENT, "wac_capture_config_init");
    c.size = sizeof c + 64;
    expect_open(&c, WAC_ERR_INVALID_ARGUMENT, "size");
}

static void open_rate_zero(void)
{
    wac_capture_config c = speech_config();
    c.format.rate = 0;
    expect_open(&c, WAC_ERR_FORMAT_UNSUPPORTED, "rate 0");
}

static void open_rate_absurd(void)
{
    wac_capture_config c = speech_config();
    c.format.rate = 1000000;
    expect_open(&c, WAC_ERR_FORMAT_UNSUPPORTED, "1000000");
    c.format.rate = 7999;
    expect_open(&c, WAC_ERR_FORMAT_UNSUPPORTED, "7999");
}

static void open_channels_zero(void)
{
    wac_capture_config c = speech_config();
    c.format.channels = 0;
    expect_open(&c, WAC_ERR_FORMAT_UNSUPPORTED, "0 channels");
}

static void open_channels_nine(void)
{
    wac_capture_config c = speech_config();
    c.format.channels = 9;
    expect_open(&c, WAC_ERR_FORMAT_UNSUPPORTED, "9 channels");
}

static void open_unknown_sample_type(void)
{
    wac_capture_config c = speech_config();
    c.format.sample = (wac_sample_type)7;
    expect_open(&c, WAC_ERR_FORMAT_UNSUPPORTED, "sample type");
}

static void open_ring_smaller_than_chunk(void)
{
    wac_capture_config c = speech_config();
    c.ring_ms = 50; /* 800 frames, chunk 1600 */
    expect_open(&c, WAC_ERR_INVALID_ARGUMENT, "smaller than one chunk");
    c.ring_ms = 0;
    expect_open(&c, WAC_ERR_INVALID_ARGUMENT, "ring");
    c.ring_ms = 600000;
    expect_open(&c, WAC_ERR_INVALID_ARGUMENT, "ring");
}

static void open_bad_targets(void)
{
    wac_capture_config c = speech_config();
    c.target.kind = WAC_TARGET_PID;
    c.target.pid = 0;
    expect_open(&c, WAC_ERR_INVALID_ARGUMENT, "pid 0");
    /* Beyond the kernel's pid_max no process can exist. */
    c.target.pid = 0x7ffffff0u;
    expect_open(&c, WAC_ERR_TARGET_NOT_FOUND, "no such process");
    c.target.kind = WAC_TARGET_NAME;
    c.target.name = NULL;
    expect_open(&c, WAC_ERR_INVALID_ARGUMENT, "empty");
    c.target.name = "";
    expect_open(&c, WAC_ERR_INVALID_ARGUMENT, "empty");
    c.target.name = "/usr/bin/firefox";
    expect_open(&c, WAC_ERR_INVALID_ARGUMENT, "basename");
    c.target.kind = WAC_TARGET_SYSTEM;
    c.target.exclude = true;
    expect_open(&c, WAC_ERR_INVALID_ARGUMENT, "exclude");
    c.target.exclude = false;
    c.target.kind = (wac_target_kind)42;
    expect_open(&c, WAC_ERR_INVALID_ARGUMENT, "target kind");
}

static void on_audio_noop(wac_capture *cap, const void *f, uint32_t n, const wac_chunk_info *i, void *u)
{
}
static void on_event_noop(wac_capture *cap, const wac_event *ev, void *u)
{
}

static void open_event_callback_without_audio(void)
{
    wac_capture_config c = speech_config();
    c.on_event = on_event_noop;
    expect_open(&c, WAC_ERR_INVALID_ARGUMENT, "on_event needs on_audio");
}

static void open_latency_absurd(void)
{
    wac_capture_config c = speech_config();
    c.latency_ms = 100000;
    expect_open(&c, WAC_ERR_INVALID_ARGUMENT, "latency");
}

static void open_valid_variants(void)
{
    /* Edges of every range are accepted. */
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    uint32_t rates[] = {8000, 44100, 192000};
    for (size_t i = 0; i < 3; i++) {
        c.format.rate = rates[i];
        c.format.channels = i == 2 ? 8 : 1;
        c.format.sample = i == 1 ? WAC_SAMPLE_S16 : WAC_SAMPLE_F32;
        wac_capture *cap = open_capture(ctx, &c);
        wac_format f;
        uint32_t chunk;
        ASSERT_OK(wac_capture_get_format(cap, &f, &chunk));
        ASSERT_EQ(f.rate, rates[i]);
        ASSERT_EQ(chunk, rates[i] / 10);
        ASSERT_EQ(wac_capture_get_state(cap), WAC_STATE_OPEN);
        ASSERT_OK(wac_capture_close(cap));
    }
    c = speech_config();
    c.target.kind = WAC_TARGET_PID;
    c.target.pid = (uint32_t)getpid();
    c.target.exclude = true;
    wac_capture *cap = open_capture(ctx, &c);
    wac_capture_stats st;
    ASSERT_OK(wac_capture_get_stats(cap, &st, sizeof st));
    ASSERT_EQ(st.ring_capacity, 32768); /* 2 s of 16 kHz, rounded up to a power of two */
    ASSERT_OK(wac_context_close(ctx)); /* closes the open capture too */
}

static void start_twice(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_capture(ctx, &c);
    ASSERT_OK(wac_capture_start(cap));
    ASSERT_RC(wac_capture_start(cap), WAC_ERR_STATE);
    ASSERT(strstr(wac_capture_last_error(cap), "already started"));
    ASSERT_OK(wac_context_close(ctx));
}

static void stop_before_start(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_capture(ctx, &c);
    ASSERT_RC(wac_capture_stop(cap), WAC_ERR_STATE);
    ASSERT(strstr(wac_capture_last_error(cap), "not started"));
    float buf[16];
    ASSERT_RC(wac_capture_read(cap, buf, 16, 0, NULL), WAC_ERR_STATE);
    ASSERT_OK(wac_context_close(ctx));
}

static void stop_twice_and_restart(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_capture(ctx, &c);
    ASSERT_OK(wac_capture_start(cap));
    ASSERT_OK(wac_capture_stop(cap));
    ASSERT_EQ(wac_capture_get_state(cap), WAC_STATE_ENDED);
    ASSERT_RC(wac_capture_stop(cap), WAC_ERR_STATE);
    ASSERT(strstr(wac_capture_last_error(cap), "already stopped"));
    ASSERT_RC(wac_capture_start(cap), WAC_ERR_STATE);
    ASSERT(strstr(wac_capture_last_error(cap), "open a new one"));
    ASSERT_OK(wac_context_close(ctx));
}

static void read_bad_arguments(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_capture(ctx, &c);
    ASSERT_OK(wac_capture_start(cap));
    float buf[16];
    ASSERT_RC(wac_capture_read(NULL, buf, 16, 0, NULL), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_capture_read(cap, NULL, 16, 0, NULL), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_capture_read(cap, buf, 0, 0, NULL), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_capture_read(cap, buf, 1u << 20, 0, NULL), WAC_ERR_INVALID_ARGUMENT);
    ASSERT(strstr(wac_capture_last_error(cap), "frames"));
    wac_event ev;
    ASSERT_RC(wac_capture_next_event(cap, NULL, sizeof ev), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_capture_next_event(NULL, &ev, sizeof ev), WAC_ERR_INVALID_ARGUMENT);
    wac_capture_stats st;
    ASSERT_RC(wac_capture_get_stats(cap, NULL, sizeof st), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_capture_get_stats(NULL, &st, sizeof st), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_capture_get_format(NULL, NULL, NULL), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_dummy_inject(cap, (wac_dummy_fault)77, 1), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_dummy_inject(NULL, WAC_DUMMY_STALL, 1), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_capture_fd(NULL), WAC_ERR_INVALID_ARGUMENT);
    void *handle;
    ASSERT_RC(wac_capture_event_handle(NULL, &handle), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_capture_event_handle(cap, NULL), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_OK(wac_context_close(ctx));
}

static void read_after_close(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_capture(ctx, &c);
    ASSERT_OK(wac_capture_start(cap));
    ASSERT_OK(wac_capture_close(cap));
    float buf[16];
    wac_event ev;
    wac_capture_stats st;
    ASSERT_RC(wac_capture_read(cap, buf, 16, 100, NULL), WAC_ERR_CLOSED);
    ASSERT_RC(wac_capture_next_event(cap, &ev, sizeof ev), WAC_ERR_CLOSED);
    ASSERT_RC(wac_capture_start(cap), WAC_ERR_CLOSED);
    ASSERT_RC(wac_capture_stop(cap), WAC_ERR_CLOSED);
    ASSERT_RC(wac_capture_fd(cap), WAC_ERR_CLOSED);
    void *handle;
    ASSERT_RC(wac_capture_event_handle(cap, &handle), WAC_ERR_CLOSED);
    ASSERT_RC(wac_capture_get_stats(cap, &st, sizeof st), WAC_ERR_CLOSED);
    ASSERT_RC(wac_capture_get_format(cap, NULL, NULL), WAC_ERR_CLOSED);
    ASSERT_RC(wac_dummy_inject(cap, WAC_DUMMY_STALL, 10), WAC_ERR_CLOSED);
    ASSERT_RC(wac_capture_close(cap), WAC_ERR_CLOSED);
    ASSERT_EQ(wac_capture_get_state(cap), WAC_STATE_CLOSED);
    ASSERT_EQ(wac_capture_available(cap), 0);
    ASSERT_OK(wac_context_close(ctx));
}

static void callback_capture_refuses_pull_styles(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    c.on_audio = on_audio_noop;
    c.on_event = on_event_noop;
    wac_capture *cap = open_capture(ctx, &c);
    ASSERT_OK(wac_capture_start(cap));
    float buf[16];
    wac_event ev;
    ASSERT_RC(wac_capture_read(cap, buf, 16, 0, NULL), WAC_ERR_STATE);
    ASSERT(strstr(wac_capture_last_error(cap), "on_audio"));
    ASSERT_RC(wac_capture_next_event(cap, &ev, sizeof ev), WAC_ERR_STATE);
    void *handle;
#ifdef _WIN32
    ASSERT_RC(wac_capture_fd(cap), WAC_ERR_NOT_SUPPORTED); /* Windows has the event handle instead */
    ASSERT_RC(wac_capture_event_handle(cap, &handle), WAC_ERR_STATE);
#else
    ASSERT_RC(wac_capture_fd(cap), WAC_ERR_STATE);
    ASSERT_RC(wac_capture_event_handle(cap, &handle), WAC_ERR_NOT_SUPPORTED); /* Windows-only */
#endif
    ASSERT_EQ(wac_capture_available(cap), 0);
    ASSERT_OK(wac_context_close(ctx));
}

static void inject_before_start(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_capture(ctx, &c);
    ASSERT_RC(wac_dummy_inject(cap, WAC_DUMMY_STALL, 10), WAC_ERR_STATE);
    ASSERT_OK(wac_context_close(ctx));
}

static void sessions_listed(void)
{
    wac_context *ctx = open_dummy();
    wac_session_list *list = NULL;
    ASSERT_RC(wac_context_list_sessions(ctx, NULL), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_context_list_sessions(NULL, &list), WAC_ERR_INVALID_ARGUMENT);
    wac_capture_config c = speech_config();
    wac_capture *cap = open_capture(ctx, &c);
    ASSERT_OK(wac_capture_start(cap));
    ASSERT_OK(wac_context_list_sessions(ctx, &list));
    ASSERT_EQ(wac_session_list_count(list), 1);
    const wac_session *s = wac_session_list_at(list, 0);
    ASSERT(s != NULL);
    ASSERT_EQ(s->pid, getpid());
    ASSERT(strcmp(s->executable, "wac-dummy-player") == 0);
    ASSERT_EQ(s->streams, 1);
    ASSERT(s->playing);
    ASSERT(s->volume == 1.0f && !s->muted);
    ASSERT(wac_session_list_at(list, 1) == NULL);
    wac_session_list_free(list);
    ASSERT_OK(wac_context_close(ctx));
}

/* Volume: every bad argument is refused with a detail; on the dummy the
 * level and flag round-trip, muting keeps the level, and what the player
 * plays is scaled by it (the capture shows it). */
static void volume_arguments_and_dummy(void)
{
    wac_context *ctx = open_dummy();
    wac_target player = {.kind = WAC_TARGET_PID, .pid = (uint32_t)getpid(), .include_tree = true};
    wac_volume v;
    ASSERT_RC(wac_context_get_volume(NULL, &player, &v), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_context_get_volume(ctx, NULL, &v), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_context_get_volume(ctx, &player, NULL), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_context_set_volume(NULL, &player, 0.5f), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_context_set_mute(ctx, NULL, true), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_context_set_volume(ctx, &player, 1.5f), WAC_ERR_INVALID_ARGUMENT);
    ASSERT(strstr(wac_context_last_error(ctx), "outside 0...1"));
    ASSERT_RC(wac_context_set_volume(ctx, &player, -0.01f), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_context_set_volume(ctx, &player, NAN), WAC_ERR_INVALID_ARGUMENT);
    wac_target system = {.kind = WAC_TARGET_SYSTEM};
    ASSERT_RC(wac_context_get_volume(ctx, &system, &v), WAC_ERR_INVALID_ARGUMENT);
    ASSERT(strstr(wac_context_last_error(ctx), "give a pid or a name"));
    wac_target excluded = player;
    excluded.exclude = true;
    ASSERT_RC(wac_context_set_mute(ctx, &excluded, true), WAC_ERR_INVALID_ARGUMENT);
    wac_target pid0 = {.kind = WAC_TARGET_PID, .pid = 0};
    ASSERT_RC(wac_context_get_volume(ctx, &pid0, &v), WAC_ERR_INVALID_ARGUMENT);
    wac_target empty = {.kind = WAC_TARGET_NAME, .name = ""};
    ASSERT_RC(wac_context_get_volume(ctx, &empty, &v), WAC_ERR_INVALID_ARGUMENT);
    wac_target unknown = {.kind = (wac_target_kind)42};
    ASSERT_RC(wac_context_get_volume(ctx, &unknown, &v), WAC_ERR_INVALID_ARGUMENT);
    wac_target other = {.kind = WAC_TARGET_NAME, .name = "no-such-player"};
    ASSERT_RC(wac_context_set_volume(ctx, &other, 0.5f), WAC_ERR_TARGET_NOT_FOUND);
    ASSERT(strstr(wac_context_last_error(ctx), "no-such-player"));

    ASSERT_OK(wac_context_get_volume(ctx, &player, &v));
    ASSERT(v.level == 1.0f && !v.muted && v.streams == 1);
    wac_capture_config c = speech_config();
    wac_capture *cap = open_started(ctx, &c);
    float before[1600], after[1600];
    ASSERT_EQ(wac_capture_read(cap, before, 1600, 2000, NULL), 1600);
    ASSERT_OK(wac_context_set_volume(ctx, &player, 0.5f));
    ASSERT_OK(wac_context_get_volume(ctx, &player, &v));
    ASSERT(v.level == 0.5f && !v.muted);
    /* The ring holds what was played before the change: skip it. */
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(wac_capture_read(cap, after, 1600, 2000, NULL), 1600);
    ASSERT_EQ(wac_capture_read(cap, after, 1600, 2000, NULL), 1600);
    /* Half the counter's value at the same counter position. */
    long long expected = counter_of(before[1599]) + 1 + 4 * 1600 - 1;
    double ratio = (double)after[1599] / ((double)(expected % ((1 << 24) - 1) + 1) / (double)(1 << 24));
    ASSERT(fabs(ratio - 0.5) < 1e-3);

    ASSERT_OK(wac_context_set_mute(ctx, &player, true));
    ASSERT_OK(wac_context_get_volume(ctx, &player, &v));
    ASSERT(v.muted && v.level == 0.5f);
    wac_session_list *list = NULL;
    ASSERT_OK(wac_context_list_sessions(ctx, &list));
    ASSERT(wac_session_list_at(list, 0)->muted && wac_session_list_at(list, 0)->volume == 0.5f);
    wac_session_list_free(list);
    wac_target by_name = {.kind = WAC_TARGET_NAME, .name = "wac-dummy-player"};
    ASSERT_OK(wac_context_set_mute(ctx, &by_name, false));
    ASSERT_OK(wac_context_get_volume(ctx, &by_name, &v));
    ASSERT(!v.muted && v.level == 0.5f);
    ASSERT_OK(wac_capture_close(cap));
    ASSERT_OK(wac_context_close(ctx));
}

int main(void)
{
    RUN(version_matches_macros);
    RUN(every_error_has_name_and_message);
    RUN(backends_listed);
    RUN(context_open_null_out);
    RUN(context_unknown_backend);
    RUN(context_backend_unavailable);
    RUN(auto_never_picks_dummy);
    RUN(close_null_is_noop);
    RUN(config_defaults);
    RUN(open_null_arguments);
    RUN(open_wrong_config_size);
    RUN(open_rate_zero);
    RUN(open_rate_absurd);
    RUN(open_channels_zero);
    RUN(open_channels_nine);
    RUN(open_unknown_sample_type);
    RUN(open_ring_smaller_than_chunk);
    RUN(open_bad_targets);
    RUN(open_event_callback_without_audio);
    RUN(open_latency_absurd);
    RUN(open_valid_variants);
    RUN(start_twice);
    RUN(stop_before_start);
    RUN(stop_twice_and_restart);
    RUN(read_bad_arguments);
    RUN(read_after_close);
    RUN(callback_capture_refuses_pull_styles);
    RUN(inject_before_start);
    RUN(sessions_listed);
    RUN(volume_arguments_and_dummy);
    return tap_done();
}
