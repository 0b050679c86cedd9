/* volume.c — application volume on Windows: ISimpleAudioVolume of the
 * target's audio sessions on every active render endpoint (what the volume
 * mixer shows per application). The target's processes are found as a
 * capture finds them: a pid and, with include_tree, its descendants; a name
 * (case-insensitive, ".exe" optional) in the caller's login session, with
 * descendants under include_tree. The session enumeration and the volume
 * objects go through wac__wasapi_system, so the fake-COM tests can run this
 * logic under Wine (which is not a verification of Windows).
 *
 * COM runs on a thread of WAC's own (MTA), as for the session listing: the
 * caller's thread may be in a single-threaded apartment or in none. */
#include <stdio.h>
#include <stdlib.h>

#include "backend/wasapi/wasapi.h"
#include "alloc.h"
#include "os/os.h"

#define MAX_PROCESSES 4096

struct volume_job {
    const wac_target *target;
    const float *level; /* set: the new level, or NULL */
    const bool *muted;  /* set: the new flag, or NULL */
    bool set;
    /* The target's processes. */
    DWORD pids[MAX_PROCESSES], parents[MAX_PROCESSES];
    bool member[MAX_PROCESSES];
    size_t n;
    wchar_t want[MAX_PATH];
    DWORD login_session;
    /* Results. */
    wac_volume total;
    HRESULT failure;
    DWORD failed_pid;
    int rc;
    char *detail;
    size_t detail_size;
};

static bool collect_process(void *user, const struct wac__wasapi_process *p)
{
    struct volume_job *j = user;
    bool match;
    if (j->target->kind == WAC_TARGET_PID)
        match = p->pid == j->target->pid;
    else
        match = wac__wasapi_name_matches(p->exe, j->want) &&
                wac__wasapi_system->session_of(p->pid) == j->login_session;
    j->pids[j->n] = p->pid;
    j->parents[j->n] = p->parent;
    j->member[j->n] = match;
    j->n++;
    return j->n < MAX_PROCESSES;
}

/* Add the descendants of members, as far as the parent links go. */
static void close_tree(struct volume_job *j)
{
    for (bool grew = true; grew;) {
        grew = false;
        for (size_t i = 0; i < j->n; i++) {
            if (j->member[i] || j->parents[i] == 0 || j->parents[i] == j->pids[i])
                continue;
            for (size_t k = 0; k < j->n; k++)
                if (j->member[k] && j->pids[k] == j->parents[i]) {
                    j->member[i] = grew = true;
                    break;
                }
        }
    }
}

static bool is_member(const struct volume_job *j, DWORD pid)
{
    for (size_t i = 0; i < j->n; i++)
        if (j->member[i] && j->pids[i] == pid)
            return true;
    return false;
}

static bool visit_session(void *user, DWORD pid, ISimpleAudioVolume *volume)
{
    struct volume_job *j = user;
    if (!is_member(j, pid))
        return true;
    HRESULT hr = S_OK;
    if (j->set && j->level)
        hr = ISimpleAudioVolume_SetMasterVolume(volume, *j->level, NULL);
    if (SUCCEEDED(hr) && j->set && j->muted)
        hr = ISimpleAudioVolume_SetMute(volume, *j->muted ? TRUE : FALSE, NULL);
    float level = 0.0f;
    BOOL muted = FALSE;
    if (SUCCEEDED(hr))
        hr = ISimpleAudioVolume_GetMasterVolume(volume, &level);
    if (SUCCEEDED(hr))
        hr = ISimpleAudioVolume_GetMute(volume, &muted);
    if (FAILED(hr)) {
        if (SUCCEEDED(j->failure)) {
            j->failure = hr;
            j->failed_pid = pid;
        }
        return true; /* the other sessions are still set */
    }
    if (j->total.streams == 0)
        j->total.muted = true;
    j->total.streams++;
    if (level > j->total.level)
        j->total.level = level;
    j->total.muted = j->total.muted && muted;
    return true;
}

static void *volume_main(void *arg)
{
    struct volume_job *j = arg;
    HRESULT init = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (!wac__wasapi_system->each_session(visit_session, j)) {
        j->rc = WAC_ERR_BACKEND;
        snprintf(j->detail, j->detail_size, "the audio sessions could not be listed");
    }
    if (SUCCEEDED(init))
        CoUninitialize();
    return NULL;
}

static int run(void *data, const wac_target *target, const float *level, const bool *muted, wac_volume *out,
               char *detail, size_t detail_size)
{
    (void)data;
    struct volume_job *j = wac__calloc(1, sizeof *j);
    if (!j) {
        snprintf(detail, detail_size, "no memory");
        return WAC_ERR_NO_MEMORY;
    }
    j->target = target;
    j->level = level;
    j->muted = muted;
    j->set = level || muted;
    j->detail = detail;
    j->detail_size = detail_size;
    j->failure = S_OK;
    j->login_session = wac__wasapi_system->session_of(GetCurrentProcessId());
    if (target->kind == WAC_TARGET_NAME && !MultiByteToWideChar(CP_UTF8, 0, target->name, -1, j->want, MAX_PATH)) {
        wac__free(j);
        snprintf(detail, detail_size, "name \"%s\" is not valid UTF-8 or too long", target->name);
        return WAC_ERR_INVALID_ARGUMENT;
    }
    int rc = 0;
    if (!wac__wasapi_system->each_process(collect_process, j)) {
        rc = WAC_ERR_SYSTEM;
        snprintf(detail, detail_size, "the running processes could not be listed");
    } else {
        if (target->include_tree)
            close_tree(j);
        wac__thread t;
        rc = wac__thread_start(&t, volume_main, j);
        if (rc == 0) {
            wac__thread_join(t);
            rc = j->rc;
        }
    }
    if (rc == 0 && j->total.streams == 0 && FAILED(j->failure)) {
        char hr[160];
        wac__wasapi_hresult_text(j->failure, hr, sizeof hr);
        snprintf(detail, detail_size, "the audio session of pid %lu refused: %s", (unsigned long)j->failed_pid, hr);
        rc = WAC_ERR_BACKEND;
    } else if (rc == 0 && j->total.streams == 0) {
        if (target->kind == WAC_TARGET_NAME)
            snprintf(detail, detail_size, "no process named \"%s\" has an audio session now", target->name);
        else if (!is_member(j, target->pid))
            snprintf(detail, detail_size, "pid %u: no such process", (unsigned)target->pid);
        else
            snprintf(detail, detail_size, "pid %u%s has no audio session now", (unsigned)target->pid,
                     target->include_tree ? " (with its process tree)" : "");
        rc = WAC_ERR_TARGET_NOT_FOUND;
    } else if (rc == 0 && FAILED(j->failure)) {
        /* Some sessions were set, one refused: say so, the others stay set. */
        char hr[160];
        wac__wasapi_hresult_text(j->failure, hr, sizeof hr);
        snprintf(detail, detail_size, "the audio session of pid %lu refused: %s", (unsigned long)j->failed_pid, hr);
        rc = WAC_ERR_BACKEND;
    }
    if (rc == 0 && out)
        *out = j->total;
    wac__free(j);
    return rc;
}

int wac__wasapi_get_volume(void *data, const wac_target *target, wac_volume *out, char *detail, size_t detail_size)
{
    return run(data, target, NULL, NULL, out, detail, detail_size);
}

int wac__wasapi_set_volume(void *data, const wac_target *target, const float *level, const bool *muted, char *detail,
                           size_t detail_size)
{
    return run(data, target, level, muted, NULL, detail, detail_size);
}

/* ---- the real session enumeration ---------------------------------------- */

static bool each_device_session(IMMDevice *dev, bool (*fn)(void *user, DWORD pid, ISimpleAudioVolume *volume),
                                void *user)
{
    IAudioSessionManager2 *mgr = NULL;
    IAudioSessionEnumerator *en = NULL;
    int count = 0;
    bool go_on = true;
    if (SUCCEEDED(IMMDevice_Activate(dev, &wac__iid_session_manager2, CLSCTX_ALL, NULL, (void **)&mgr)) &&
        SUCCEEDED(IAudioSessionManager2_GetSessionEnumerator(mgr, &en)) &&
        SUCCEEDED(IAudioSessionEnumerator_GetCount(en, &count))) {
        for (int i = 0; i < count && go_on; i++) {
            IAudioSessionControl *ctl = NULL;
            IAudioSessionControl2 *c2 = NULL;
            ISimpleAudioVolume *volume = NULL;
            DWORD pid = 0;
            AudioSessionState state = AudioSessionStateExpired;
            if (SUCCEEDED(IAudioSessionEnumerator_GetSession(en, i, &ctl)) && ctl &&
                SUCCEEDED(IAudioSessionControl_QueryInterface(ctl, &wac__iid_session_control2, (void **)&c2)) &&
                IAudioSessionControl2_IsSystemSoundsSession(c2) != S_OK &&
                SUCCEEDED(IAudioSessionControl2_GetProcessId(c2, &pid)) && pid != 0 &&
                SUCCEEDED(IAudioSessionControl2_GetState(c2, &state)) && state != AudioSessionStateExpired &&
                SUCCEEDED(IAudioSessionControl_QueryInterface(ctl, &wac__iid_simple_volume, (void **)&volume)))
                go_on = fn(user, pid, volume);
            if (volume)
                ISimpleAudioVolume_Release(volume);
            if (c2)
                IAudioSessionControl2_Release(c2);
            if (ctl)
                IAudioSessionControl_Release(ctl);
        }
    }
    if (en)
        IAudioSessionEnumerator_Release(en);
    if (mgr)
        IAudioSessionManager2_Release(mgr);
    return go_on;
}

bool wac__wasapi_each_session(bool (*fn)(void *user, DWORD pid, ISimpleAudioVolume *volume), void *user)
{
    IMMDeviceEnumerator *en = NULL;
    IMMDeviceCollection *devs = NULL;
    if (FAILED(CoCreateInstance(&wac__clsid_device_enumerator, NULL, CLSCTX_ALL, &wac__iid_device_enumerator,
                                (void **)&en)))
        return false;
    bool ok = SUCCEEDED(IMMDeviceEnumerator_EnumAudioEndpoints(en, eRender, DEVICE_STATE_ACTIVE, &devs));
    UINT n = 0;
    if (ok)
        IMMDeviceCollection_GetCount(devs, &n);
    bool go_on = true;
    for (UINT d = 0; ok && d < n && go_on; d++) {
        IMMDevice *dev = NULL;
        if (SUCCEEDED(IMMDeviceCollection_Item(devs, d, &dev))) {
            go_on = each_device_session(dev, fn, user);
            IMMDevice_Release(dev);
        }
    }
    if (devs)
        IMMDeviceCollection_Release(devs);
    IMMDeviceEnumerator_Release(en);
    return ok;
}
