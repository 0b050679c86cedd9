/* backend.h — which audio backend the tool uses, and opening it. */
#ifndef WAC_TOOL_BACKEND_H
#define WAC_TOOL_BACKEND_H

#include <wac.h>

/* The backend to use: the --backend option if given, else $WAC_BACKEND if set
 * and not empty, else "auto". */
const char *backend_choose(const char *option);

/* Open a context on the chosen backend. On failure, prints the error and
 * returns the exit code (never 0); on success returns 0. */
int backend_open(const char *option, wac_context **out);

#endif
