/* test-volume.c — application volume and mute against a real, private
 * server (the same cases on PipeWire, PulseAudio and pipewire-pulse; see
 * meson.build), checked from the audio itself: two players play two tones,
 * one of them is turned down, muted and unmuted, and captures of the whole
 * system and of the application measure each tone. TAP output. */
#include "integration/backend-harness.h"

#define ASSERT_NEAR(a, b, tolerance)                                                                  \
    do {                                                                                              \
        double near__a = (a), near__b = (b);                                                          \
        if (!(fabs(near__a - near__b) <= (tolerance)))                                                \
            FAIL("%s = %.3f, expected %s = %.3f within %.3f", #a, near__a, #b, near__b, (double)(tolerance)); \
    } while (0)

static wac_target pid_target(uint32_t pid)
{
    return (wac_target){.kind = WAC_TARGET_PID, .pid = pid, .include_tree = true};
}

/* The level of tones a and b (dBFS) in `secs` s of a capture opened now. */
static void measure(wac_context *ctx, const wac_capture_config *c, int a, int b, double *a_db, double *b_db)
{
    struct rec r;
    record(ctx, c, 1.5, &r);
    LEVELS(&r, a, b);
    *a_db = db(tone_amp(&r, a, 0.4));
    *b_db = b ? db(tone_amp(&r, b, 0.4)) : 0;
    free(r.x);
}

/* The session of pid as the listing shows it. */
static wac_session session_of(wac_context *ctx, uint32_t pid)
{
    wac_session_list *list = NULL;
    ASSERT_OK(wac_context_list_sessions(ctx, &list));
    wac_session found = {0};
    bool seen = false;
    for (size_t i = 0; i < wac_session_list_count(list); i++) {
        const wac_session *s = wac_session_list_at(list, i);
        if (s->pid == pid) {
            found = *s;
            seen = true;
        }
    }
    wac_session_list_free(list);
    if (!seen)
        FAIL("pid %u is not in the session list", pid);
    found.executable = found.app_name = ""; /* freed with the list */
    return found;
}

/* What the server applies lands within a graph cycle or two. */
static void settle(void)
{
    sleep_ms(300);
}

static void volume_changes_what_is_heard(void)
{
    wac_context *ctx = open_pw();
    pid_t a = play_tone(440, 30), b = play_tone(1000, 30);
    wait_playing(ctx, (uint32_t)a, 0);
    wait_playing(ctx, (uint32_t)b, 0);
    wac_target ta = pid_target((uint32_t)a);
    wac_capture_config system = speech_config();
    wac_capture_config app = pid_config((uint32_t)a, true, false);

    wac_volume v;
    ASSERT_OK(wac_context_get_volume(ctx, &ta, &v));
    printf("# before: level %.4f muted %d streams %u\n", (double)v.level, v.muted, v.streams);
    ASSERT_NEAR(v.level, 1.0, 0.01);
    ASSERT(!v.muted);
    ASSERT_EQ(v.streams, 1);
    double a0, b0, app0, unused;
    measure(ctx, &system, 440, 1000, &a0, &b0);
    measure(ctx, &app, 440, 0, &app0, &unused);

    /* 0.5: 6.02 dB down in the system capture and in the application's own;
     * the other application is unchanged. */
    ASSERT_OK(wac_context_set_volume(ctx, &ta, 0.5f));
    ASSERT_OK(wac_context_get_volume(ctx, &ta, &v));
    ASSERT_NEAR(v.level, 0.5, 0.01);
    ASSERT(!v.muted);
    settle();
    double a1, b1, app1;
    measure(ctx, &system, 440, 1000, &a1, &b1);
    measure(ctx, &app, 440, 0, &app1, &unused);
    printf("# at 0.5: system %.2f dB (other %.2f dB), application %.2f dB\n", a1 - a0, b1 - b0, app1 - app0);
    ASSERT_NEAR(a1 - a0, -6.02, 0.5);
    ASSERT_NEAR(b1 - b0, 0.0, 0.5);
    ASSERT_NEAR(app1 - app0, -6.02, 0.5);
    wac_session s = session_of(ctx, (uint32_t)a);
    ASSERT_NEAR(s.volume, 0.5, 0.01);
    ASSERT(!s.muted);

    /* Muted: silent everywhere, the level kept. */
    ASSERT_OK(wac_context_set_mute(ctx, &ta, true));
    ASSERT_OK(wac_context_get_volume(ctx, &ta, &v));
    ASSERT(v.muted);
    ASSERT_NEAR(v.level, 0.5, 0.01);
    ASSERT(session_of(ctx, (uint32_t)a).muted);
    settle();
    double a2, b2, app2;
    measure(ctx, &system, 440, 1000, &a2, &b2);
    measure(ctx, &app, 440, 0, &app2, &unused);
    printf("# muted: system %.1f dBFS (other %.2f dB), application %.1f dBFS\n", a2, b2 - b0, app2);
    ASSERT_CMP(a2, <, -90);
    ASSERT_CMP(app2, <, -90);
    ASSERT_NEAR(b2 - b0, 0.0, 0.5);

    /* Unmuted: back at 0.5. */
    ASSERT_OK(wac_context_set_mute(ctx, &ta, false));
    ASSERT_OK(wac_context_get_volume(ctx, &ta, &v));
    ASSERT(!v.muted);
    settle();
    double a3, b3;
    measure(ctx, &system, 440, 1000, &a3, &b3);
    printf("# unmuted: system %.2f dB\n", a3 - a0);
    ASSERT_NEAR(a3 - a0, -6.02, 0.5);
    ASSERT_NEAR(b3 - b0, 0.0, 0.5);

    /* The session manager restores an application's last volume for its next
     * stream (by application name): leave the players' at unity. */
    ASSERT_OK(wac_context_set_volume(ctx, &ta, 1.0f));
    kill_player(a);
    kill_player(b);
    ASSERT_OK(wac_context_close(ctx));
}

/* A name reaches the player by its executable; a tree reaches a child; a
 * process without audio, or a gone one, is a clear TARGET_NOT_FOUND. */
static void targets_and_errors(void)
{
    wac_context *ctx = open_pw();
    pid_t shell_pid = play_tone_in_tree(440, 30);
    ASSERT(shell_pid > 0);
    wac_target tree = pid_target((uint32_t)shell_pid);
    int64_t deadline = now_ms() + 8000;
    wac_volume v;
    int rc;
    while ((rc = wac_context_get_volume(ctx, &tree, &v)) == WAC_ERR_TARGET_NOT_FOUND && now_ms() < deadline)
        sleep_ms(50);
    ASSERT_OK(rc);
    ASSERT_EQ(v.streams, 1);

    ASSERT_OK(wac_context_set_volume(ctx, &tree, 0.25f));
    wac_target by_name = {.kind = WAC_TARGET_NAME, .name = player_name(), .include_tree = true};
    /* pw-play is a link to pw-cat: the executable is pw-cat there. */
    if (strcmp(player_name(), "pw-play") == 0)
        by_name.name = "pw-cat";
    ASSERT_OK(wac_context_get_volume(ctx, &by_name, &v));
    ASSERT_NEAR(v.level, 0.25, 0.01);
    ASSERT_OK(wac_context_set_volume(ctx, &by_name, 1.0f));
    ASSERT_OK(wac_context_get_volume(ctx, &tree, &v));
    ASSERT_NEAR(v.level, 1.0, 0.01);

    /* The shell itself plays nothing. */
    tree.include_tree = false;
    ASSERT_RC(wac_context_get_volume(ctx, &tree, &v), WAC_ERR_TARGET_NOT_FOUND);
    printf("# shell alone: %s\n", wac_context_last_error(ctx));
    ASSERT(strstr(wac_context_last_error(ctx), "plays no audio"));
    ASSERT_RC(wac_context_set_mute(ctx, &tree, true), WAC_ERR_TARGET_NOT_FOUND);

    kill_player(shell_pid);
    wac_target gone = pid_target((uint32_t)shell_pid);
    ASSERT_RC(wac_context_set_volume(ctx, &gone, 0.5f), WAC_ERR_TARGET_NOT_FOUND);
    printf("# gone: %s\n", wac_context_last_error(ctx));
    ASSERT(strstr(wac_context_last_error(ctx), "no such process"));
    wac_target nobody = {.kind = WAC_TARGET_NAME, .name = "no-such-player", .include_tree = true};
    ASSERT_RC(wac_context_get_volume(ctx, &nobody, &v), WAC_ERR_TARGET_NOT_FOUND);
    ASSERT(strstr(wac_context_last_error(ctx), "no-such-player"));
    ASSERT_OK(wac_context_close(ctx));
}

int main(void)
{
    if (!harness_begin())
        return 0;
    RUN_T(volume_changes_what_is_heard, 90);
    RUN_T(targets_and_errors, 60);
    return tap_done();
}
