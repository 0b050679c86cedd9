/* test-hooks.c — see test-hooks.h. */
#include "backend/test-hooks.h"

#include <stdlib.h>
#include <string.h>

static bool set_to(const char *name, const char *value)
{
    const char *v = getenv(name);
    return v && strcmp(v, value) == 0;
}

struct wac__test_hooks wac__test_hooks(void)
{
    struct wac__test_hooks h = {0};
    const char *v = getenv("WAC_DUMMY_UNAVAILABLE");
    h.dummy_unavailable = v && v[0];
    v = getenv("WAC_DUMMY_PERIOD_MS");
    int period = v ? atoi(v) : 0;
    h.dummy_period_ms = period > 0 && period <= 1000 ? (uint32_t)period : 0;
    h.pulse_format_mismatch = set_to("WAC_PULSE_TEST_FORMAT_MISMATCH", "1");
    h.wasapi_system_capture = set_to("WAC_WASAPI_SYSTEM_DEVICE", "capture");
    v = getenv("WAC_WASAPI_CONVERT");
    h.wasapi_force_convert = v && v[0] == '1';
    return h;
}
