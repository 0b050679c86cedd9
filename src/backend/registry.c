/* registry.c — the backends built into this libwac, in "auto" order. */
#include "backend/backend.h"
#include "wac-config.h"

#if WAC_HAVE_PIPEWIRE
extern const struct wac__backend wac__backend_pipewire;
#endif
#if WAC_HAVE_PULSE
extern const struct wac__backend wac__backend_pulse;
#endif
#if WAC_HAVE_WASAPI
extern const struct wac__backend wac__backend_wasapi;
#endif
extern const struct wac__backend wac__backend_dummy;

const struct wac__backend *const wac__backends[] = {
#if WAC_HAVE_PIPEWIRE
    &wac__backend_pipewire,
#endif
#if WAC_HAVE_PULSE
    &wac__backend_pulse,
#endif
#if WAC_HAVE_WASAPI
    &wac__backend_wasapi,
#endif
    &wac__backend_dummy,
    NULL,
};
