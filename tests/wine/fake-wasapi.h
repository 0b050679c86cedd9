/* fake-wasapi.h — fake COM objects and OS calls for the WASAPI backend's
 * logic tests under Wine (fake-wasapi.c, used by test-wasapi-fakes.c). They
 * behave as Microsoft documents process loopback; they are not Windows, and
 * a test on them is not a verification of Windows.
 *
 * A case sets `script` (what the fakes are to do), points the backend at
 * `fake_system`, and reads `seen` and the counters (what the backend did). */
#ifndef WAC_TESTS_FAKE_WASAPI_H
#define WAC_TESTS_FAKE_WASAPI_H

#include "backend/wasapi/wasapi.h"

/* What a case asks of the fakes. */
struct fake_script {
    bool null_interface;   /* activation succeeds without an interface */
    int complete_after_ms; /* 0: completes inside ActivateAudioInterfaceAsync */
    DWORD refuse_flags;    /* Initialize fails when any of these flags is passed */
    int packets_after_ms;  /* the client delivers nothing until then */
    bool target_playing;   /* the target's audio session is active */
    int fail_after_ms;     /* the first client fails then, with fail_hr */
    HRESULT fail_hr;
    int failing_clients;   /* how many clients fail so (0: the first only) */
    int service_down_ms;   /* from the first such failure, for this long the service is away:
                              ActivateAudioInterfaceAsync returns AUDCLNT_E_SERVICE_NOT_RUNNING */
    /* A packet script (packet numbers from 1; 0: none): */
    int gap_at;            /* the device loses gap_frames before this packet (DATA_DISCONTINUITY) */
    UINT64 gap_frames;
    int silent_from, silent_to; /* SILENT packets; their data is a loud 3 kHz tone */
    int stamp_error_at;    /* TIMESTAMP_ERROR, no QPC */
    int stamp_ahead_at;    /* a QPC position an hour from now, no flag */
    int stamp_overflow_at; /* a QPC position past what 64 bits of ns hold, no flag */
};
extern struct fake_script script;

/* What the fakes saw. */
#define MAX_INITS 8
struct fake_seen {
    LONG activations;
    DWORD type, pid, mode; /* the activation parameters, read when the fake completes */
    _Atomic int params_intact; /* 1: still the caller's at a late completion; -1: not */
    int n_init;
    DWORD init_flags[MAX_INITS];
    WAVEFORMATEX init_format[MAX_INITS];
};
extern struct fake_seen seen;
extern LONG clients_made, endpoint_activations;
extern volatile LONG outage_began, refused_activations; /* tick of the first failure (0: none) */

/* The backend's default-device event while it watches (a case sets it to
 * play the user switching the default output); NULL otherwise. */
extern HANDLE device_changed;

/* Audio sessions with a volume control each, as ISimpleAudioVolume behaves:
 * SetMasterVolume refuses a level outside 0...1 with E_INVALIDARG; a session
 * whose device went away answers AUDCLNT_E_DEVICE_INVALIDATED. */
#define MAX_SESSIONS 8
struct fake_session {
    ISimpleAudioVolume iface;
    DWORD pid; /* 0: unused slot */
    float level;
    BOOL muted;
    HRESULT refuse; /* the setters fail with this when set */
};
extern struct fake_session sessions[MAX_SESSIONS];

/* The OS calls, for wac__wasapi_system. */
extern const struct wac__wasapi_system fake_system;

/* Once, before the first case. */
void fakes_init(void);
/* Between cases: the script, what was seen, the process table. */
void reset_fakes(void);
void reset_processes(void);
/* The process table (fake_system's processes): a process's handle is an
 * event, set when it exits. */
void start_process(DWORD pid, DWORD parent, DWORD session, const wchar_t *exe);
void exit_process(DWORD pid);
void add_session(DWORD pid, float level);

#endif
