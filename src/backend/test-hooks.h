/* test-hooks.h — every switch the test suites turn inside the library, in
 * one place. Each is read from the environment when a context or capture
 * opens (never on a real-time path); none is set in normal use, and none
 * widens what a capture may record.
 *
 *   WAC_DUMMY_UNAVAILABLE=1          the dummy backend's "server" is not running
 *   WAC_DUMMY_PERIOD_MS=N            the dummy engine's period (1..1000, default 10)
 *   WAC_PULSE_TEST_FORMAT_MISMATCH=1 the PulseAudio backend asks the server for
 *                                    s16 while expecting float, so the check of
 *                                    what the server set up runs for real
 *   WAC_WASAPI_SYSTEM_DEVICE=capture a WASAPI system capture records the default
 *                                    capture endpoint (Wine has no render loopback)
 *   WAC_WASAPI_CONVERT=1             WASAPI skips the engine's conversion and
 *                                    uses WAC's converter */
#ifndef WAC_TEST_HOOKS_H
#define WAC_TEST_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

struct wac__test_hooks {
    bool dummy_unavailable;
    uint32_t dummy_period_ms; /* 0: the default */
    bool pulse_format_mismatch;
    bool wasapi_system_capture;
    bool wasapi_force_convert;
};

/* The hooks as the environment sets them now. */
struct wac__test_hooks wac__test_hooks(void);

#endif
