/*
 * kiosk_usb.c - the kiosk program's USB side (kiosk_app.h): sticks coming and going (usb.h), the
 * staff key stick, and the "Export to USB" job (usb_export.h): on a worker thread live, its wake
 * fd watched by the loop's watcher thread; inline in script mode, so scripts stay deterministic
 * on the virtual clock.
 */
#include <stdio.h>
#include <string.h>

#include "kiosk_app.h"

/* [usb] staff_key: when the stick at mount_point holds the staff key, opens staff mode
 * (kiosk_staff_key) and returns true; a key file that cannot be read is traced. */
static bool open_by_staff_key(app *a, const char *mount_point)
{
    char err[TP_ERRMSG_MAX];
    tp_err rc = usb_check_staff_key(mount_point, a->cfg.pin_hash, err, sizeof err);
    if (rc == TP_OK) {
        kiosk_staff_key(a->k);
        return true;
    }
    if (rc != TP_ERR_NOT_FOUND)
        trace_error(a, tp_err_name(rc), err);
    return false;
}

/* Re-reads the mount table, tells the kiosk which sticks are there, and re-arms the watcher. */
void usb_refresh(app *a)
{
    usb_event ev[USB_MAX_STICKS];
    size_t n = 0;
    if (!a->usb)
        return;
    if (usb_poll(a->usb, ev, USB_MAX_STICKS, &n) != TP_OK)
        trace_error(a, "usb", usb_errmsg(a->usb));
    if (n > 0) {
        usb_stick sticks[USB_MAX_STICKS];
        size_t ns = usb_list(a->usb, sticks, USB_MAX_STICKS);
        kiosk_set_sticks(a->k, sticks, ns);
        a->key_checked = false;
        /* [usb] staff_key: a key stick plugged in (not one left in at start) on a customer
         * screen opens the staff export screen directly. */
        for (size_t i = 0; i < n && a->usb_scanned && a->cfg.usb.staff_key; i++)
            if (ev[i].kind == USB_EV_ADDED && open_by_staff_key(a, ev[i].stick.mount_point))
                break;
        for (size_t i = 0; i < n; i++)
            trace_event(a->tr, "usb",
                        TRACE_STR("change", ev[i].kind == USB_EV_ADDED ? "added" : "removed"),
                        TRACE_STR("name", ev[i].stick.name),
                        TRACE_STR("mount_point", ev[i].stick.mount_point),
                        TRACE_BOOL("readonly", ev[i].stick.readonly), TRACE_END);
    }
    a->usb_scanned = true;
    rearm_watcher(a, "usb");
}

/* [usb] staff_key: on the PIN pad, a stick with the staff key opens staff mode. Checked once
 * per visit of the pad and again when a stick arrives. */
void staff_key_check(app *a)
{
    kiosk_status st;
    kiosk_status_get(a->k, &st);
    if (!st.pin_pad) {
        a->key_checked = false;
        return;
    }
    if (!a->cfg.usb.staff_key || !a->usb || a->key_checked)
        return;
    a->key_checked = true;
    usb_stick sticks[USB_MAX_STICKS];
    size_t n = usb_list(a->usb, sticks, USB_MAX_STICKS);
    for (size_t i = 0; i < n; i++)
        if (open_by_staff_key(a, sticks[i].mount_point))
            return;
}

/* Passes the kiosk's "cancel pressed" to the running job. */
void export_cancel_sync(app *a)
{
    if (a->job && kiosk_export_cancelled(a->k))
        usb_export_job_cancel(a->job);
}

/* Hands progress and, at the end, the outcome to the kiosk (main thread). */
void export_collect(app *a)
{
    int64_t done = 0, total = 0;
    usb_export_report report;
    if (!a->job)
        return;
    bool finished = usb_export_job_poll(a->job, &done, &total, &report);
    kiosk_export_progress(a->k, done, total);
    if (!finished) {
        rearm_watcher(a, "export");
        return;
    }
    a->sw.exportfd = -1;
    usb_export_job_free(a->job);
    a->job = NULL;
    rearm_watcher(a, "export");
    const usb_export_report *rep = &report;
    kiosk_status st;
    kiosk_status_get(a->k, &st);
    /* Cancelled is what staff asked for: its own message, not a failure. */
    bool ok = rep->outcome == USB_EXPORT_DONE || rep->outcome == USB_EXPORT_NOTHING ||
              rep->outcome == USB_EXPORT_CANCELLED;
    /* The staff screen's language; the log line and the trace's "message" stay English. */
    char shown[sizeof rep->message * 2];
    if (rep->outcome == USB_EXPORT_FAILED && rep->rc == TP_OK)
        tp_strlcpy(shown, rep->message, sizeof shown);
    else
        usb_export_message(rep, st.staff_lang, shown, sizeof shown);
    kiosk_export_done(a->k, ok, shown);
    fprintf(stderr, "touchpoint-kiosk: %s\n", rep->log);
    const char *files[USB_EXPORT_MAX_FILES];
    for (size_t i = 0; i < rep->n_files; i++)
        files[i] = rep->files[i];
    trace_event(a->tr, "usb_export", TRACE_STR("outcome", usb_export_outcome_name(rep->outcome)),
                TRACE_NUM("rows", rep->rows), TRACE_STR("message", rep->message),
                TRACE_STR("shown", shown), TRACE_STR("lang", st.staff_lang),
                TRACE_STRS("files", files, rep->n_files), TRACE_END);
}

/* Starts the job staff asked for. */
void export_start(app *a)
{
    char err[TP_ERRMSG_MAX];
    if (a->job || !kiosk_take_export(a->k, &a->export_req))
        return;
    usb_export_job_options o = {0};
    o.database = a->cfg.database;
    o.device_id = a->cfg.device_id;
    o.clock = a->scripted ? &a->vc.clock : NULL;
    o.mount_point = a->export_req.mount_point;
    o.mount_id = a->export_req.mount_id;
    o.all = a->export_req.all;
    o.formats = a->cfg.usb.formats;
    if (a->scripted) {
        script_export_hooks(a);
        o.progress = script_export_progress;
        o.progress_ctx = a;
    }
    if (usb_export_job_new(&o, &a->job, err, sizeof err) != TP_OK) {
        /* No job: the generic failure sentence, in the staff screen's language. */
        usb_export_report rep;
        memset(&rep, 0, sizeof rep);
        rep.outcome = USB_EXPORT_FAILED;
        rep.rc = TP_ERR_NOMEM;
        char shown[sizeof rep.message * 2];
        kiosk_status st;
        kiosk_status_get(a->k, &st);
        usb_export_message(&rep, st.staff_lang, shown, sizeof shown);
        fprintf(stderr, "touchpoint-kiosk: usb export: outcome=failed cause=%s\n", err);
        kiosk_export_done(a->k, false, shown);
        return;
    }
    if (a->scripted) {
        usb_export_job_run(a->job);
        export_collect(a);
        return;
    }
    usb_export_job_start(a->job); /* on failure the job reports FAILED through the fd */
    a->sw.exportfd = usb_export_job_fd(a->job);
    rearm_watcher(a, "export");
}
