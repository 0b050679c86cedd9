/* wasapi.h — what the WASAPI backend's files share: Windows headers for plain
 * C COM (vtables through COBJMACROS), the interface ids (defined here so no
 * toolchain's uuid library matters), the process-loopback activation structs
 * that older SDKs and mingw-w64 10 lack, and helpers. */
#ifndef WAC_WASAPI_H
#define WAC_WASAPI_H

#define COBJMACROS
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <audioclient.h>
#include <audiopolicy.h>
#include <mmdeviceapi.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"

/* ---- process loopback activation (audioclientactivationparams.h) ---------
 * Windows SDK 10.0.20348+ has the header; mingw-w64 10 does not. WAC uses its
 * own names with the documented layout, checked against the SDK's where the
 * header exists. */
typedef struct wac__loopback_params {
    DWORD target_pid;
    DWORD mode; /* PROCESS_LOOPBACK_MODE */
} wac__loopback_params;

typedef struct wac__activation_params {
    DWORD activation_type; /* AUDIOCLIENT_ACTIVATION_TYPE */
    wac__loopback_params loopback;
} wac__activation_params;

#define WAC__ACTIVATION_TYPE_PROCESS_LOOPBACK 1
#define WAC__LOOPBACK_INCLUDE_TREE 0
#define WAC__LOOPBACK_EXCLUDE_TREE 1
#define WAC__VAD_PROCESS_LOOPBACK L"VAD\\Process_Loopback"

_Static_assert(sizeof(wac__activation_params) == 12, "AUDIOCLIENT_ACTIVATION_PARAMS is 12 bytes");
#if defined(__has_include)
#if __has_include(<audioclientactivationparams.h>)
#include <audioclientactivationparams.h>
_Static_assert(sizeof(AUDIOCLIENT_ACTIVATION_PARAMS) == sizeof(wac__activation_params), "SDK layout");
_Static_assert(PROCESS_LOOPBACK_MODE_EXCLUDE_TARGET_PROCESS_TREE == WAC__LOOPBACK_EXCLUDE_TREE, "SDK values");
#endif
#endif

/* Build numbers: process loopback is documented from 20348 (Windows 11, Server
 * 2022) and works from 19041 (Windows 10 2004), which WAC accepts. */
#define WAC__WASAPI_MIN_BUILD 19041
#define WAC__WASAPI_DOC_BUILD 20348

/* ---- interface and format ids ---------------------------------------------- */
static const GUID wac__iid_unknown = {0x00000000, 0x0000, 0x0000, {0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};
static const GUID wac__iid_agile = {0x94ea2b94, 0xe9cc, 0x49e0, {0xc0, 0xff, 0xee, 0x64, 0xca, 0x8f, 0x5b, 0x90}};
static const GUID wac__iid_audio_client = {0x1cb9ad4c, 0xdbfa, 0x4c32, {0xb1, 0x78, 0xc2, 0xf5, 0x68, 0xa7, 0x03, 0xb2}};
static const GUID wac__iid_capture_client = {0xc8adbd64, 0xe71e, 0x48a0, {0xa4, 0xde, 0x18, 0x5c, 0x39, 0x5c, 0xd3, 0x17}};
static const GUID wac__clsid_device_enumerator = {
    0xbcde0395, 0xe52f, 0x467c, {0x8e, 0x3d, 0xc4, 0x57, 0x92, 0x91, 0x69, 0x2e}};
static const GUID wac__iid_device_enumerator = {
    0xa95664d2, 0x9614, 0x4f35, {0xa7, 0x46, 0xde, 0x8d, 0xb6, 0x36, 0x17, 0xe6}};
static const GUID wac__iid_activate_handler = {
    0x41d949ab, 0x9862, 0x444a, {0x80, 0xf6, 0xc2, 0x61, 0x33, 0x4d, 0xa5, 0xeb}};
static const GUID wac__iid_session_manager2 = {
    0x77aa99a0, 0x1bd6, 0x484f, {0x8b, 0xc7, 0x2c, 0x65, 0x4c, 0x9a, 0x9b, 0x6f}};
static const GUID wac__iid_session_control2 = {
    0xbfb7ff88, 0x7239, 0x4fc9, {0x8f, 0xa2, 0x07, 0xc9, 0x50, 0xbe, 0x9c, 0x6d}};
static const GUID wac__iid_session_notification = {
    0x641dd20b, 0x4d41, 0x49cc, {0xab, 0xa3, 0x17, 0x4b, 0x94, 0x77, 0xbb, 0x08}};
static const GUID wac__iid_simple_volume = {
    0x87ce5498, 0x68d6, 0x44e5, {0x92, 0x15, 0x6d, 0xa4, 0x7e, 0xf8, 0x83, 0xd8}};
static const GUID wac__subtype_float = {0x00000003, 0x0000, 0x0010, {0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71}};
static const GUID wac__subtype_pcm = {0x00000001, 0x0000, 0x0010, {0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71}};

/* ---- the operating system as the backend calls it ---------------------------
 * A seam for tests: tests/wine/test-wasapi-fakes.c swaps in fake COM objects
 * that behave as Microsoft documents process loopback (a logic test under
 * Wine, which has no process loopback; not a verification of Windows). Set it
 * before a context opens; the library itself never changes it. */
struct wac__wasapi_process {
    DWORD pid, parent;
    const wchar_t *exe; /* the executable's basename */
};
struct wac__session_watch;
struct wac__device_watch;
struct wac__wasapi_system {
    HRESULT (*activate_async)(LPCWSTR path, REFIID iid, PROPVARIANT *params,
                              IActivateAudioInterfaceCompletionHandler *handler,
                              IActivateAudioInterfaceAsyncOperation **op);
    DWORD (*windows_build)(void); /* 0 when unknown */
    /* Call fn for every running process until it returns false; false when
     * the processes cannot be listed. */
    bool (*each_process)(bool (*fn)(void *user, const struct wac__wasapi_process *p), void *user);
    /* A handle that is signalled when pid exits (SYNCHRONIZE), or NULL. */
    HANDLE (*open_process)(DWORD pid);
    /* The login session (Terminal Services) pid runs in; (DWORD)-1 if unknown. */
    DWORD (*session_of)(DWORD pid);
    /* Does pid have an active audio session (it is playing) on a render
     * endpoint? False when unknown. */
    bool (*session_active)(DWORD pid);
    /* Audio-session notifications: event is set when a session appears. */
    struct wac__session_watch *(*watch_sessions)(HANDLE event);
    void (*unwatch_sessions)(struct wac__session_watch *watch);
    /* The default endpoint of flow (eRender: for loopback; eCapture). */
    HRESULT (*activate_endpoint)(EDataFlow flow, IAudioClient **out);
    /* event is set when the default endpoint of flow changes (console role). */
    struct wac__device_watch *(*watch_default_device)(EDataFlow flow, HANDLE event);
    void (*unwatch_default_device)(struct wac__device_watch *watch);
    /* Call fn with every audio session of every active render endpoint (not
     * the system-sounds session, not expired ones) and its volume control,
     * until fn returns false; false when the sessions cannot be listed. The
     * volume is valid during the call only. */
    bool (*each_session)(bool (*fn)(void *user, DWORD pid, ISimpleAudioVolume *volume), void *user);
    /* One endpoint by its id (IMMDevice::GetId); NULL: none but the defaults. */
    HRESULT (*activate_endpoint_id)(const wchar_t *id, IAudioClient **out);
};
extern const struct wac__wasapi_system *wac__wasapi_system;

/* ---- helpers (sessions.c) ------------------------------------------- */

/* "HRESULT 0x80070002 (The system cannot find the file specified.)" */
void wac__wasapi_hresult_text(HRESULT hr, char *buf, size_t size);

/* ---- activation (activate.c) ------------------------------------------------ */

/* The WAC error for an audio engine's HRESULT. */
int wac__wasapi_error_for(HRESULT hr);
/* A process-loopback client for pid's tree (exclude: everything but it), not
 * initialised; on failure a WAC error and, in detail, what failed with the
 * HRESULT's text. Waits up to 5 s for the activation. */
int wac__wasapi_activate_loopback(DWORD pid, bool exclude, IAudioClient **out, char *detail, size_t detail_size);
/* UTF-8 copy of a wide string into buf (truncated, always terminated). */
void wac__wasapi_utf8(const wchar_t *w, char *buf, size_t size);
/* The executable basename of a process ("firefox.exe"), or "" if unknown. */
void wac__wasapi_process_name(DWORD pid, char *buf, size_t size);
/* Find a running process by executable basename (case-insensitive; "firefox"
 * also matches "firefox.exe") in the caller's login session (another user's
 * instance is not theirs to record): the root of the first matching tree (a
 * match whose parent does not match). 0 if none. Two independent instances:
 * the first one listed; the other is taken when the first exits. */
DWORD wac__wasapi_find_process(const char *name);
/* Does an executable basename match a name ("firefox" also matches
 * "firefox.exe"; case-insensitive)? */
bool wac__wasapi_name_matches(const wchar_t *exe, const wchar_t *want);
/* The real system calls behind wac__wasapi_system (sessions.c). */
bool wac__wasapi_each_process(bool (*fn)(void *user, const struct wac__wasapi_process *p), void *user);
HANDLE wac__wasapi_open_process(DWORD pid);
bool wac__wasapi_session_active(DWORD pid);
/* devices.c */
HRESULT wac__wasapi_activate_endpoint(EDataFlow flow, IAudioClient **out);
HRESULT wac__wasapi_activate_endpoint_id(const wchar_t *id, IAudioClient **out);
/* The active capture endpoints (by id), then the default output's monitor;
 * on an MTA thread of its own. */
int wac__wasapi_list_devices(void *data, struct wac__device_list_builder *list);
struct wac__device_watch *wac__wasapi_watch_default_device(EDataFlow flow, HANDLE event);
void wac__wasapi_unwatch_default_device(struct wac__device_watch *watch);
DWORD wac__wasapi_session_of(DWORD pid);
/* volume.c: the real each_session, and the backend table's volume calls. */
bool wac__wasapi_each_session(bool (*fn)(void *user, DWORD pid, ISimpleAudioVolume *volume), void *user);
int wac__wasapi_get_volume(void *data, const wac_target *target, wac_volume *out, char *detail, size_t detail_size);
int wac__wasapi_set_volume(void *data, const wac_target *target, const float *level, const bool *muted, char *detail,
                           size_t detail_size);
/* The session listing, run on its own MTA thread. */
int wac__wasapi_list_sessions(struct wac__session_list_builder *list);

/* Audio-session notifications of the default render device: `event` is set
 * whenever a new session (an application opening an output stream) appears.
 * Call on an MTA thread. NULL when unavailable. */
struct wac__session_watch;
struct wac__session_watch *wac__wasapi_watch_sessions(HANDLE event);
void wac__wasapi_unwatch_sessions(struct wac__session_watch *watch);

#endif
