/* sandbox.c — src/os/sandbox.h, from /proc. */
#include "sandbox.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os.h"
#include "proctree.h"

#define MAX_LEVELS 32 /* the kernel nests pid namespaces 32 deep at most */

int wac__sandbox_nspids(uint32_t pid, uint32_t *pids, int max)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%u/status", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "NSpid:", 6) != 0)
            continue;
        char *p = line + 6, *end;
        for (unsigned long v; n < max && (v = strtoul(p, &end, 10), end != p); p = end)
            pids[n++] = (uint32_t)v;
        break;
    }
    fclose(f);
    return n;
}

uint32_t wac__sandbox_host_pid(uint32_t claimed, const char *binary, bool *sandboxed)
{
    if (sandboxed)
        *sandboxed = false;
    if (claimed == 0 || !binary || !*binary || wac__proc_has_name(claimed, binary))
        return claimed;
    uint32_t self[MAX_LEVELS], levels[MAX_LEVELS];
    int depth = wac__sandbox_nspids(wac__process_self(), self, MAX_LEVELS);
    DIR *dir = depth > 0 ? opendir("/proc") : NULL;
    if (!dir)
        return claimed;
    uint32_t found = 0;
    unsigned matches = 0;
    for (struct dirent *de; (de = readdir(dir)) != NULL;) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        uint32_t pid = (uint32_t)strtoul(de->d_name, NULL, 10);
        int n = wac__sandbox_nspids(pid, levels, MAX_LEVELS);
        /* Deeper than us, and `claimed` in its innermost namespace. */
        if (n <= depth || levels[n - 1] != claimed || !wac__proc_has_name(pid, binary))
            continue;
        found = pid;
        matches++;
    }
    closedir(dir);
    /* No sandboxed process fits: the claim stands as it is (a client may name
     * its binary otherwise than its executable). */
    if (matches == 0)
        return claimed;
    if (matches > 1)
        return 0;
    if (sandboxed)
        *sandboxed = true;
    return found;
}

bool wac__sandbox_app_id(uint32_t pid, char *buf, size_t size)
{
    if (size)
        buf[0] = 0;
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%u/root/.flatpak-info", pid);
    FILE *f = pid ? fopen(path, "r") : NULL;
    if (!f)
        return false;
    bool in_application = false, found = false;
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '[')
            in_application = strcmp(line, "[Application]") == 0;
        else if (in_application && strncmp(line, "name=", 5) == 0 && line[5] && size > strlen(line + 5)) {
            snprintf(buf, size, "%s", line + 5);
            found = true;
        }
    }
    fclose(f);
    return found;
}
