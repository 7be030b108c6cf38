/*
 * test_export_multi.c - unit tests of export_run_formats() (firmware/export.c): CSV and JSON Lines
 * over exactly the same answers with the cursor moved once, a second file that fails removes the
 * first, and cancelling mid-write, before the rename and between the files. Fixture:
 * export_fixture.h.
 */
#include "export_fixture.h"

typedef struct multi_watch {
    fx *x;
    int64_t cursor0, last_done, last_total;
    bool recorded;
    int calls;
} multi_watch;

static void multi_progress(void *ctx, int64_t done, int64_t total)
{
    multi_watch *m = ctx;
    m->calls++;
    assert_true(done <= total);
    assert_true(done >= m->last_done);
    m->last_done = done;
    m->last_total = total;
    if (done < total)
        assert_int_equal(cursor(m->x), m->cursor0);
    if (!m->recorded && done * 2 == total) {
        record(m->x, 1); /* between the CSV and the JSON Lines file */
        m->recorded = true;
    }
}

static int64_t jsonl_seq(const char *line)
{
    cJSON *o = cJSON_Parse(line);
    assert_non_null(o);
    int64_t v = (int64_t)cJSON_GetObjectItem(o, "seq")->valuedouble;
    cJSON_Delete(o);
    return v;
}

static void formats_same_range_cursor_once(void **state)
{
    fx *x = *state;
    export_result res[2];
    char err[1024] = "";
    int64_t hi = highest(x);
    /* A first export moves the cursor, so "new" starts in the middle. */
    export_options o = {.out_dir = x->out, .device_id = "kiosk-01", .upto_seq = 10};
    assert_int_equal(export_run(x->s, &o, &res[0], err, sizeof err), TP_OK);
    assert_int_equal(cursor(x), 10);
    const export_format fmts[2] = {EXPORT_CSV, EXPORT_JSONL};
    multi_watch m = {.x = x, .cursor0 = 10};
    export_options mo = {.out_dir = x->out,
                         .device_id = "kiosk-01",
                         .format = EXPORT_JSONL, /* ignored */
                         .progress = multi_progress,
                         .progress_ctx = &m};
    assert_int_equal(export_run_formats(x->s, &mo, fmts, 2, res, err, sizeof err), TP_OK);
    assert_true(m.recorded);
    assert_int_equal(m.last_done, m.last_total);
    assert_int_equal(m.last_total, 2 * (hi - 10));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(res[i].rows, hi - 10);
        assert_int_equal(res[i].first_seq, 11);
        assert_int_equal(res[i].last_seq, hi);
        assert_int_equal(res[i].cursor_before, 10);
        assert_int_equal(res[i].cursor_after, hi);
    }
    assert_non_null(strstr(res[0].name, ".csv"));
    assert_non_null(strstr(res[1].name, ".jsonl"));
    assert_int_equal(cursor(x), hi); /* not the answer recorded meanwhile */
    assert_true(highest(x) > hi);
    /* The same answers, in the same order, in both files. */
    size_t cn = 0, jn = 0;
    char *csvd = slurp(x->out, res[0].name, &cn);
    char *jsd = slurp(x->out, res[1].name, &jn);
    assert_int_equal(count_lines(csvd, cn), 1 + (hi - 10));
    assert_int_equal(count_lines(jsd, jn), hi - 10);
    char *cl = strstr(csvd, "\r\n") + 2, *jl = jsd;
    for (int64_t seq = 11; seq <= hi; seq++) {
        assert_int_equal(strtoll(cl, NULL, 10), seq);
        assert_int_equal(jsonl_seq(jl), seq);
        cl = strstr(cl, "\r\n") + 2;
        jl = strchr(jl, '\n') + 1;
    }
    free(csvd);
    free(jsd);
    /* Nothing new but the one answer: and a repeated format is refused. */
    const export_format twice[2] = {EXPORT_CSV, EXPORT_CSV};
    assert_int_equal(export_run_formats(x->s, &mo, twice, 2, res, err, sizeof err), TP_ERR_INVALID);
    assert_int_equal(export_run_formats(x->s, &mo, fmts, 0, res, err, sizeof err), TP_ERR_INVALID);
    mo.progress = NULL;
    assert_int_equal(export_run_formats(x->s, &mo, fmts, 2, res, err, sizeof err), TP_OK);
    assert_int_equal(res[0].rows, highest(x) - hi);
    assert_int_equal(res[1].rows, highest(x) - hi);
    assert_int_equal(cursor(x), highest(x));
    assert_int_equal(export_run_formats(x->s, &mo, fmts, 2, res, err, sizeof err), TP_OK);
    assert_int_equal(res[0].rows, 0);
    print_message("checked: CSV + JSON Lines in 'new' mode hold exactly seq 11..%lld in the same "
                  "order; an answer recorded between the files is in neither; the cursor stays "
                  "at 10 until both are done, then moves once to %lld; progress runs 0..2N as "
                  "one bar; a repeated or empty format list is refused\n",
                  (long long)hi, (long long)hi);
}

static void formats_second_file_fails(void **state)
{
    fx *x = *state;
    export_result res[2];
    char err[1024] = "";
    const export_format fmts[2] = {EXPORT_CSV, EXPORT_JSONL};
    fault f;
    /* I/O error writing the JSON Lines file: the verified CSV is removed again. */
    fault_init(&f);
    f.fsync_errno = EIO;
    f.fsync_nth = 4; /* 1 CSV temp, 2 its .sha256 temp, 3 the folder, 4 the JSON Lines temp */
    export_options o = {.out_dir = x->out, .device_id = "kiosk-01", .fs = &f.ops};
    tp_err rc = export_run_formats(x->s, &o, fmts, 2, res, err, sizeof err);
    assert_int_equal(rc, TP_ERR_IO);
    assert_non_null(strstr(err, "fsync")); /* the JSON Lines temp was the one failing */
    assert_true(f.fsyncs >= 4);            /* + the folder flushes of the clean-up */
    assert_true(res[0].rows > 0);          /* the CSV had been written ... */
    assert_int_equal(res[0].cursor_after, 0);
    int temps = 0;
    assert_int_equal(dir_count(x, &temps), 0); /* ... and is gone again */
    assert_int_equal(cursor(x), 0);

    /* The drive fills up at the JSON Lines file: "full" with the space of both files. */
    fault_init(&f);
    f.write_errno = ENOSPC;
    f.write_limit = 0;
    export_result one;
    export_options co = {.out_dir = x->out, .device_id = "kiosk-01", .keep_cursor = true};
    assert_int_equal(export_run(x->s, &co, &one, err, sizeof err), TP_OK); /* the CSV's size */
    assert_int_equal(cursor(x), 0);
    int before = dir_count(x, NULL);
    f.write_limit = one.bytes + 200; /* room for the CSV and its .sha256, not for more */
    rc = export_run_formats(x->s, &o, fmts, 2, res, err, sizeof err);
    assert_int_equal(rc, TP_ERR_DISK_FULL);
    assert_non_null(strstr(err, "the CSV and JSON Lines files need about"));
    assert_true(res[1].bytes_needed > one.bytes_needed);
    assert_true(res[1].bytes_needed >= one.bytes_needed + EXPORT_SLACK_BYTES + one.bytes);
    assert_int_equal(res[1].free_bytes, res[0].free_bytes);
    assert_int_equal(dir_count(x, &temps), before);
    assert_int_equal(temps, 0);
    assert_int_equal(cursor(x), 0);
    print_message("checked: when the JSON Lines file fails (EIO at fsync, or the drive fills) the "
                  "CSV already written is removed, the cursor stays, and 'full' counts both "
                  "files (%s)\n",
                  err);
}

/* Cancel callback: says stop at its stop_at-th call (1-based). */
typedef struct canceller {
    int calls, stop_at;
} canceller;

static bool cancel_cb(void *ctx)
{
    canceller *c = ctx;
    return ++c->calls >= c->stop_at;
}

static void cancel_mid_write_before_rename_and_between_files(void **state)
{
    fx *x = *state;
    export_result res[2];
    char err[1024] = "";
    for (int i = 0; i < 100; i++)
        record(x, i); /* well over 64 rows, so the writer asks while writing */
    int64_t hi = highest(x);
    assert_true(hi > 128);
    /* 1: while writing (the check at row 64). */
    canceller c = {.stop_at = 1};
    fault f;
    fault_init(&f);
    export_options o = {.out_dir = x->out,
                        .device_id = "kiosk-01",
                        .fs = &f.ops,
                        .cancel = cancel_cb,
                        .cancel_ctx = &c};
    assert_int_equal(export_run(x->s, &o, &res[0], err, sizeof err), TP_OK);
    assert_true(res[0].cancelled);
    assert_int_equal(res[0].rows, 0);
    assert_int_equal(c.calls, 1);
    assert_non_null(strstr(err, "cancelled after 64 of"));
    int temps = 0;
    assert_int_equal(dir_count(x, &temps), 0);
    assert_int_equal(cursor(x), 0);
    /* 2: the file is written and verified, the check before its rename says stop. */
    c = (canceller){.stop_at = (int)(hi / 64) + 1};
    assert_int_equal(export_run(x->s, &o, &res[0], err, sizeof err), TP_OK);
    assert_true(res[0].cancelled);
    assert_int_equal(c.calls, (int)(hi / 64) + 1);
    assert_non_null(strstr(err, "partial file was removed"));
    assert_int_equal(dir_count(x, &temps), 0);
    assert_int_equal(cursor(x), 0);
    /* 3: between the CSV and the JSON Lines file: the finished CSV is removed again. */
    const export_format fmts[2] = {EXPORT_CSV, EXPORT_JSONL};
    c = (canceller){.stop_at = (int)(hi / 64) + 2};
    assert_int_equal(export_run_formats(x->s, &o, fmts, 2, res, err, sizeof err), TP_OK);
    assert_true(res[0].cancelled && res[1].cancelled);
    assert_int_equal(res[0].rows, 0);
    assert_int_equal(res[0].cursor_after, 0);
    assert_non_null(strstr(err, "before the JSON Lines file"));
    assert_int_equal(dir_count(x, &temps), 0);
    assert_int_equal(cursor(x), 0);
    after_fault(x, 0, 0);
    print_message("checked: a cancel request while writing (row 64), before the rename, and "
                  "between the CSV and JSON Lines files returns ok+cancelled, leaves no file or "
                  "temp, keeps the cursor at 0; the next export works\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(formats_same_range_cursor_once, setup, teardown),
        cmocka_unit_test_setup_teardown(formats_second_file_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(cancel_mid_write_before_rename_and_between_files, setup,
                                        teardown),
    };
    if (!getenv("TZ"))
        setenv("TZ", "Asia/Ho_Chi_Minh", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
