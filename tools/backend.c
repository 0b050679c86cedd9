/* backend.c — choosing the backend (option, then environment, then "auto")
 * and opening a context on it with a clear error when that fails. */
#include "backend.h"

#include <stdlib.h>

#include "report.h"

const char *backend_choose(const char *option)
{
    if (option)
        return option;
    const char *from_env = getenv("WAC_BACKEND");
    if (from_env && from_env[0])
        return from_env;
    return "auto";
}

int backend_open(const char *option, wac_context **out)
{
    const char *name = backend_choose(option);
    char detail[512];
    int rc = wac_context_open(name, out, detail, sizeof detail);
    if (rc < 0) {
        report_wac_error(rc, detail, "backend \"%s\"", name);
        return report_exit_code_for(rc);
    }
    /* A recording should not stop because the audio server restarted: the
     * capture fills the gap with silence and goes on (wac.h). A backend that
     * cannot reconnect says so and ends its captures as before. */
    (void)wac_context_set_reconnect(*out, true);
    return WAC_EXIT_OK;
}
