/* proctree.c — src/os/proctree.h for Linux, from /proc. */
#include "proctree.h"
#include "alloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os.h"
#include "wac.h"

int wac__proctree_init(struct wac__proctree *t, uint32_t root)
{
    memset(t, 0, sizeof *t);
    t->root = root;
    t->capacity = 16;
    t->pids = wac__malloc(t->capacity * sizeof *t->pids);
    if (!t->pids)
        return WAC_ERR_NO_MEMORY;
    t->pids[0] = root;
    t->count = 1;
    return 0;
}

void wac__proctree_free(struct wac__proctree *t)
{
    wac__free(t->pids);
    memset(t, 0, sizeof *t);
}

bool wac__proctree_contains(const struct wac__proctree *t, uint32_t pid)
{
    for (size_t i = 0; i < t->count; i++)
        if (t->pids[i] == pid)
            return true;
    return false;
}

/* 1 added, 0 already there, or WAC_ERR_NO_MEMORY. */
static int add(struct wac__proctree *t, uint32_t pid)
{
    if (pid == 0 || wac__proctree_contains(t, pid))
        return 0;
    if (t->count == t->capacity) {
        size_t capacity = t->capacity * 2;
        uint32_t *grown = wac__realloc(t->pids, capacity * sizeof *grown);
        if (!grown)
            return WAC_ERR_NO_MEMORY;
        t->pids = grown;
        t->capacity = capacity;
    }
    t->pids[t->count++] = pid;
    return 1;
}

static bool is_number(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* Children of every thread of pid: 0 and *added, -ENOENT when the kernel has no
 * children files (CONFIG_PROC_CHILDREN), another negative errno otherwise. */
static int add_children(struct wac__proctree *t, uint32_t pid, int *added)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%u/task", pid);
    DIR *dir = opendir(path);
    if (!dir)
        return 0; /* exited: no children to add */
    int rc = 0;
    bool any_file = false;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (!is_number(de->d_name))
            continue;
        char file[320];
        snprintf(file, sizeof file, "/proc/%u/task/%s/children", pid, de->d_name);
        FILE *f = fopen(file, "re");
        if (!f)
            continue;
        any_file = true;
        unsigned long child;
        while (fscanf(f, "%lu", &child) == 1) {
            int r = add(t, (uint32_t)child);
            if (r < 0) {
                rc = r;
                break;
            }
            *added += r;
        }
        fclose(f);
        if (rc)
            break;
    }
    closedir(dir);
    if (rc == 0 && !any_file) {
        /* Tell "no children file in this kernel" from "the process just exited". */
        snprintf(path, sizeof path, "/proc/%u/task/%u/children", pid, pid);
        if (access(path, F_OK) != 0 && errno == ENOENT && wac__process_exists(pid))
            rc = -ENOENT;
    }
    return rc;
}

uint32_t wac__proc_parent(uint32_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%u/stat", pid);
    /* Plain read(2), not stdio: this runs for every ancestor of every stream
     * judged, and stdio's buffer allocation and fstat doubled its cost. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    /* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
    char *close_paren = strrchr(buf, ')');
    if (!close_paren)
        return 0;
    char state;
    unsigned long ppid;
    if (sscanf(close_paren + 1, " %c %lu", &state, &ppid) != 2)
        return 0;
    return (uint32_t)ppid;
}

/* Fallback: one scan of every /proc/<pid>/stat, then grow the tree to a fixed point. */
static int refresh_by_scan(struct wac__proctree *t)
{
    DIR *dir = opendir("/proc");
    if (!dir)
        return WAC_ERR_SYSTEM;
    size_t n = 0, cap = 256;
    uint32_t(*pairs)[2] = wac__malloc(cap * sizeof *pairs);
    if (!pairs) {
        closedir(dir);
        return WAC_ERR_NO_MEMORY;
    }
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (!is_number(de->d_name))
            continue;
        uint32_t pid = (uint32_t)strtoul(de->d_name, NULL, 10);
        uint32_t ppid = wac__proc_parent(pid);
        if (!ppid)
            continue;
        if (n == cap) {
            uint32_t(*grown)[2] = wac__realloc(pairs, cap * 2 * sizeof *pairs);
            if (!grown) {
                wac__free(pairs);
                closedir(dir);
                return WAC_ERR_NO_MEMORY;
            }
            pairs = grown;
            cap *= 2;
        }
        pairs[n][0] = pid;
        pairs[n][1] = ppid;
        n++;
    }
    closedir(dir);
    int added = 0;
    bool grew = true;
    while (grew) {
        grew = false;
        for (size_t i = 0; i < n; i++) {
            if (!wac__proctree_contains(t, pairs[i][0]) && wac__proctree_contains(t, pairs[i][1])) {
                int r = add(t, pairs[i][0]);
                if (r < 0) {
                    wac__free(pairs);
                    return r;
                }
                added += r;
                grew = true;
            }
        }
    }
    wac__free(pairs);
    return added;
}

int wac__proctree_refresh(struct wac__proctree *t)
{
    int added = 0;
    /* t->count grows while we walk: new pids get their children read too. */
    for (size_t i = 0; i < t->count; i++) {
        int rc = add_children(t, t->pids[i], &added);
        if (rc == -ENOENT)
            return refresh_by_scan(t);
        if (rc < 0)
            return rc;
    }
    return added;
}

bool wac__proctree_match(struct wac__proctree *t, uint32_t pid)
{
    if (pid == 0)
        return false;
    if (wac__proctree_contains(t, pid))
        return true;
    uint32_t chain[64];
    size_t depth = 0;
    uint32_t p = pid;
    while (p > 1 && depth < 64) {
        chain[depth++] = p;
        p = wac__proc_parent(p);
        if (p && wac__proctree_contains(t, p)) {
            for (size_t i = 0; i < depth; i++)
                if (add(t, chain[i]) < 0)
                    break;
            return true;
        }
    }
    return false;
}

bool wac__proc_alive(uint32_t pid)
{
    if (!wac__process_exists(pid))
        return false;
    /* A zombie has exited; only its parent's wait() is missing. */
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%u/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return true; /* exists, but /proc is not ours to read: assume running */
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *close_paren = strrchr(buf, ')');
    return !(close_paren && close_paren[1] == ' ' && (close_paren[2] == 'Z' || close_paren[2] == 'X'));
}

bool wac__proctree_any_alive(const struct wac__proctree *t)
{
    for (size_t i = 0; i < t->count; i++)
        if (wac__proc_alive(t->pids[i]))
            return true;
    return false;
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool read_exe(uint32_t pid, char *buf, size_t size)
{
    char path[64], target[4096];
    snprintf(path, sizeof path, "/proc/%u/exe", pid);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0)
        return false;
    target[n] = 0;
    /* An executable replaced on disk shows as "/usr/bin/x (deleted)". */
    char *deleted = strstr(target, " (deleted)");
    if (deleted && deleted[10] == 0)
        *deleted = 0;
    snprintf(buf, size, "%s", base_of(target));
    return buf[0] != 0;
}

static bool read_argv0(uint32_t pid, char *buf, size_t size)
{
    char path[64], line[4096];
    snprintf(path, sizeof path, "/proc/%u/cmdline", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = 0; /* argv[0] ends at the first NUL */
    snprintf(buf, size, "%s", base_of(line));
    return buf[0] != 0;
}

static bool read_comm(uint32_t pid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%u/comm", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    if (!fgets(buf, (int)size, f)) {
        fclose(f);
        return false;
    }
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
    return buf[0] != 0;
}

char *wac__proc_exe_name(uint32_t pid, char *buf, size_t size)
{
    if (!size)
        return buf;
    buf[0] = 0;
    if (!read_exe(pid, buf, size) && !read_argv0(pid, buf, size) && !read_comm(pid, buf, size))
        buf[0] = 0;
    return buf;
}

bool wac__proc_has_name(uint32_t pid, const char *name)
{
    char buf[256];
    if (read_exe(pid, buf, sizeof buf) && strcmp(buf, name) == 0)
        return true;
    if (read_argv0(pid, buf, sizeof buf) && strcmp(buf, name) == 0)
        return true;
    if (read_comm(pid, buf, sizeof buf)) {
        if (strcmp(buf, name) == 0)
            return true;
        if (strlen(buf) == 15 && strncmp(buf, name, 15) == 0)
            return true;
    }
    return false;
}
