/* sandbox.h — the pid, in our namespace, of a process that gave its pid as
 * seen from a pid namespace of its own (Linux).
 *
 * A PulseAudio-protocol client names itself by application.process.id, its
 * pid in its own namespace: 1 or another small number for an application in a
 * Flatpak or `unshare --pid` sandbox, which here is another process or none.
 * Neither the PulseAudio daemon nor pipewire-pulse passes the socket's
 * credentials on (pipewire-pulse's PipeWire clients carry its own pid). The
 * kernel lists each process's pid in every namespace it is in (/proc/PID/status,
 * NSpid), so the claim is checked, and mapped when it does not hold. */
#ifndef WAC_OS_SANDBOX_H
#define WAC_OS_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Who `claimed` is, for a client whose executable is `binary` (a basename;
 * NULL or "": unchecked, `claimed` is taken as it is):
 * - `claimed` itself when that process here runs `binary`;
 * - else the one process in a nested pid namespace whose pid there is
 *   `claimed` and which runs `binary`;
 * - 0 when several do (two sandboxes, each with its pid 1 running the same
 *   program): the owner cannot be known, and is not guessed;
 * - `claimed` when none does (a client may name its binary otherwise).
 * *sandboxed (may be NULL) tells whether the answer came from a namespace. */
uint32_t wac__sandbox_host_pid(uint32_t claimed, const char *binary, bool *sandboxed);

/* The pids of process `pid` in each namespace it is in, outermost first
 * (NSpid); returns how many (0: unknown). */
int wac__sandbox_nspids(uint32_t pid, uint32_t *pids, int max);

/* The Flatpak application id of process `pid` (e.g. "org.mozilla.firefox")
 * into buf: the `name` of the [Application] group of /.flatpak-info as the
 * process sees its root (/proc/PID/root), the file Flatpak puts into every
 * sandbox and PipeWire's access module reads too. Returns false, buf empty,
 * when the process is not in a Flatpak sandbox or its root cannot be read
 * (another user's process). */
bool wac__sandbox_app_id(uint32_t pid, char *buf, size_t size);

#endif
