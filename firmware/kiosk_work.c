/*
 * kiosk_work.c - what the state machine asks of the kiosk program (kiosk_take_work, and the
 * "Sync now" action), done here so the state machine does no I/O of its own: the database quick
 * check, the sync daemon's state and wake-up, the survey folder scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk_app.h"
#include "pidfile.h"

/* The sync daemon's state through its pid file (sync/pidfile.h: the lock, not the number, says
 * whether it runs), sending it SIGUSR1 when wake is set. Returns the daemon's pid, 0 when sync is
 * not running (no file, or nobody holds it), or -1 with why in err. */
static long sync_state(const char *pid_file, bool wake, char *err, size_t errlen)
{
    pid_t pid = 0;
    tp_err rc = pidfile_holder(pid_file, &pid, err, errlen);
    if (rc == TP_OK && wake)
        rc = sync_wake(pid_file, err, errlen);
    if (rc == TP_ERR_NOT_FOUND)
        return 0;
    return rc == TP_OK ? (long)pid : -1;
}

/* The surveys of folder dir that load (a broken file must not take the kiosk down), labelled
 * "Title (v1)" in lang (staff know a survey by its title, not its file id), into out
 * (KIOSK_MAX_SURVEYS entries). Returns how many. */
static int survey_scan(const char *dir, const char *lang, kiosk_survey_entry *out)
{
    char(*names)[SURVEY_PATH_MAX] = calloc(KIOSK_MAX_SURVEYS, SURVEY_PATH_MAX);
    size_t n = 0;
    int got = 0;
    if (!names || survey_list_dir(dir, names, KIOSK_MAX_SURVEYS, &n) != TP_OK)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        survey *sv = NULL;
        kiosk_survey_entry *e = &out[got];
        if (survey_load(names[i], &sv, NULL, 0) != TP_OK)
            continue;
        tp_strlcpy(e->path, names[i], sizeof e->path);
        int w = snprintf(e->label, sizeof e->label, "%.90s (v%d)",
                         survey_text_get(sv, &sv->title, lang), sv->version);
        if (w < 0)
            tp_strlcpy(e->label, sv->id, sizeof e->label);
        got++;
        survey_free(sv);
    }
    free(names);
    return got;
}

/* The staff screens' outside work, done here so the state machine does no I/O of its own: the
 * database quick check, the sync daemon's state, the survey folder. */
void do_work(app *a)
{
    unsigned w = kiosk_take_work(a->k);
    if (!w)
        return;
    kiosk_work *r = &a->work;
    r->done = w;
    if (w & KIOSK_WORK_DB_CHECK)
        r->db_rc = store_check(kiosk_store(a->k), false);
    if (w & KIOSK_WORK_SYNC_STATE) {
        r->sync_err[0] = '\0';
        r->sync_pid = a->cfg.sync.pid_file[0]
                          ? sync_state(a->cfg.sync.pid_file, false, r->sync_err, sizeof r->sync_err)
                          : 1;
    }
    if (w & KIOSK_WORK_SURVEYS) {
        kiosk_status st;
        kiosk_status_get(a->k, &st);
        r->n_surveys = survey_scan(a->cfg.survey_dir, st.default_lang, r->surveys);
    }
    kiosk_work_done(a->k, r);
}

/* Staff "Sync now": SIGUSR1 starts a sync round at once; the outcome goes to the staff screen. */
void sync_now(app *a)
{
    char err[TP_ERRMSG_MAX] = "";
    long pid = sync_state(a->cfg.sync.pid_file, true, err, sizeof err);
    kiosk_sync_woken(a->k, pid, err);
}
