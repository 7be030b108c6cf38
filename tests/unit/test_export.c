/*
 * test_export.c - unit tests of the export core (firmware/export.c) against a real store in a temp
 * folder: CSV quoting, BOM and header, JSON lines, FAT-safe names, a good export and --new, and
 * faults injected through the export_fs_ops table (ENOSPC mid-write, EIO at fsync, read-back
 * mismatch, removed medium, read-only, full before start, FAT size limit, blocked temp name,
 * names taken by a file or a symlink, a symlink planted during the rename). After every fault:
 * no file left behind, the export cursor unmoved, a message, and a good export then succeeds.
 */
#include "export_fixture.h"

/* ---- Formatting ----------------------------------------------------------------------------- */

static void csv_quoting(void **state)
{
    (void)state;
    char buf[256];
    size_t used = 0;
    assert_int_equal(export_csv_field("plain_id-1.2", buf, sizeof buf, &used), TP_OK);
    assert_string_equal(buf, "plain_id-1.2");
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"line\r\nbreak", "\"line\r\nbreak\""},
        {"lf\nonly", "\"lf\nonly\""},
        {"\"", "\"\"\"\""},
        {"", ""},
        {"Tiếng Việt", "Tiếng Việt"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        used = 0;
        buf[0] = '\0';
        assert_int_equal(export_csv_field(cases[i].in, buf, sizeof buf, &used), TP_OK);
        assert_string_equal(buf, cases[i].out);
        assert_int_equal(used, strlen(cases[i].out));
    }
    used = 0;
    assert_int_equal(export_csv_field("a,b", buf, 4, &used), TP_ERR_TOO_LARGE);
    used = 0;
    assert_int_equal(export_csv_header(buf, sizeof buf, &used), TP_OK);
    assert_string_equal(buf, "seq,answer_id,session_id,device_id,epoch,survey_id,survey_version,"
                             "question_id,kind,value,choice_id,lang,store_id,touchpoint_id,"
                             "time_utc,time_local,clock_trusted,flags,sync_state\r\n");
    print_message("checked: RFC 4180 quoting (comma, quote doubled, CR, LF), UTF-8 passes "
                  "through, bound respected, header row with CRLF\n");
}

static void rows_csv_and_json(void **state)
{
    (void)state;
    store_answer a;
    memset(&a, 0, sizeof a);
    a.seq = 42;
    tp_strlcpy(a.id, "01a20000-0000-7000-8000-000000000001", sizeof a.id);
    tp_strlcpy(a.session_id, "01a20000-0000-7000-8000-000000000002", sizeof a.session_id);
    tp_strlcpy(a.survey_id, "checkout-nps", sizeof a.survey_id);
    a.survey_version = 3;
    tp_strlcpy(a.question_id, "reason", sizeof a.question_id);
    a.kind = TP_KIND_CHOICE;
    tp_strlcpy(a.choice_id, "wait_time", sizeof a.choice_id);
    tp_strlcpy(a.lang, "vi", sizeof a.lang);
    tp_strlcpy(a.store_id, "hcm-01", sizeof a.store_id);
    tp_strlcpy(a.touchpoint_id, "exit", sizeof a.touchpoint_id);
    a.wall_ms = T0;
    a.clock_trusted = true;
    a.flags = TP_FLAG_RAPID_REPEAT | TP_FLAG_BUTTON;
    a.state = STORE_REJECTED;
    char buf[2048];
    size_t used = 0;
    assert_int_equal(export_format_row(EXPORT_CSV, &a, "kiosk-01", "ep-1", buf, sizeof buf, &used),
                     TP_OK);
    assert_string_equal(buf, "42,01a20000-0000-7000-8000-000000000001,"
                             "01a20000-0000-7000-8000-000000000002,kiosk-01,ep-1,checkout-nps,3,"
                             "reason,choice,,wait_time,vi,hcm-01,exit,2026-11-20T03:00:00.000Z,"
                             "2026-11-20T10:00:00.000+07:00,true,rapid_repeat;button,rejected\r\n");
    used = 0;
    assert_int_equal(
        export_format_row(EXPORT_JSONL, &a, "kiosk-01", "ep-1", buf, sizeof buf, &used), TP_OK);
    assert_int_equal(buf[used - 1], '\n');
    assert_null(strchr(buf, '\n') + 1 == buf + used ? NULL : "more than one line");
    cJSON *o = cJSON_Parse(buf);
    assert_non_null(o);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "value")));
    assert_string_equal(cJSON_GetObjectItem(o, "choice_id")->valuestring, "wait_time");
    assert_int_equal((int)cJSON_GetObjectItem(o, "seq")->valuedouble, 42);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "clock_trusted")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "flags")), 2);
    assert_string_equal(cJSON_GetObjectItem(o, "time_local")->valuestring,
                        "2026-11-20T10:00:00.000+07:00");
    cJSON_Delete(o);
    /* A rating: value set, choice empty / null. */
    a.kind = TP_KIND_NPS;
    a.value = 10;
    a.flags = 0;
    a.state = STORE_PENDING;
    used = 0;
    assert_int_equal(
        export_format_row(EXPORT_JSONL, &a, "kiosk-01", "ep-1", buf, sizeof buf, &used), TP_OK);
    o = cJSON_Parse(buf);
    assert_non_null(o);
    assert_int_equal((int)cJSON_GetObjectItem(o, "value")->valuedouble, 10);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "choice_id")));
    assert_string_equal(cJSON_GetObjectItem(o, "sync_state")->valuestring, "pending");
    cJSON_Delete(o);
    used = 0;
    assert_int_equal(export_format_row(EXPORT_CSV, &a, "kiosk-01", "ep-1", buf, 40, &used),
                     TP_ERR_TOO_LARGE);
    print_message("checked: CSV row columns in order (empty value for choice, flags joined, UTC "
                  "and +07:00 local time), JSON line parses with null value/choice, bounded\n");
}

static void file_names(void **state)
{
    (void)state;
    char name[EXPORT_NAME_MAX];
    /* 2026-11-20 16:59:59Z is still the 20th in HCMC, 17:00Z is the 21st. */
    int64_t a = 1795193999000LL, b = 1795194000000LL;
    assert_int_equal(export_file_name("kiosk-01", a, b, 1, "csv", name, sizeof name), TP_OK);
    assert_string_equal(name, "touchpoint-kiosk-01-2026-11-20-2026-11-21.csv");
    assert_int_equal(export_file_name("kiosk-01", a, a, 3, "jsonl", name, sizeof name), TP_OK);
    assert_string_equal(name, "touchpoint-kiosk-01-2026-11-20-2026-11-20-3.jsonl");
    /* FAT forbids " * / : < > ? \ | and control characters; non-ASCII is replaced too. */
    assert_int_equal(export_file_name("a/b:c*d?\"<>|\\ é", a, a, 1, "csv", name, sizeof name),
                     TP_OK);
    assert_string_equal(name, "touchpoint-a_b_c_d_________-2026-11-20-2026-11-20.csv");
    for (const char *p = name; *p; p++)
        assert_non_null(
            strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p));
    assert_int_equal(export_file_name("kiosk-01", a, a, 1, "csv", name, 20), TP_ERR_TOO_LARGE);
    print_message("checked: name touchpoint-<device>-<from>-<to>[-n].<ext> with local dates, "
                  "FAT-unsafe characters replaced, bound respected\n");
}

/* ---- Good exports --------------------------------------------------------------------------- */

static void good_export_then_new(void **state)
{
    fx *x = *state;
    export_result res;
    char err[1024] = "";
    int64_t hi = highest(x);
    assert_int_equal(cursor(x), 0);
    assert_int_equal(run(x, NULL, false, &res, err, sizeof err), TP_OK);
    assert_int_equal(res.rows, hi);
    assert_int_equal(res.first_seq, 1);
    assert_int_equal(res.last_seq, hi);
    assert_int_equal(res.cursor_before, 0);
    assert_int_equal(res.cursor_after, hi);
    assert_int_equal(cursor(x), hi);
    assert_string_equal(res.name, "touchpoint-kiosk-01-2026-11-20-2026-11-20.csv");
    assert_int_equal(dir_count(x, NULL), 2);

    size_t n = 0, sn = 0;
    char *data = slurp(x->out, res.name, &n);
    assert_int_equal((int64_t)n, res.bytes);
    assert_memory_equal(data,
                        "\xEF\xBB\xBF"
                        "seq,answer_id,",
                        17);
    assert_int_equal(count_lines(data, n), 1 + hi);
    assert_int_equal(data[n - 2], '\r');
    char hex[65], line[256];
    sha256_hex(data, n, hex);
    assert_string_equal(hex, res.sha256_hex);
    char *sum = slurp(x->out, res.sha256_name, &sn);
    snprintf(line, sizeof line, "%s  %s\n", hex, res.name);
    assert_string_equal(sum, line);
    free(data);
    free(sum);

    /* Nothing new: no file, cursor as it was. */
    assert_int_equal(run(x, NULL, false, &res, err, sizeof err), TP_OK);
    assert_int_equal(res.rows, 0);
    assert_int_equal(dir_count(x, NULL), 2);

    /* Three more answers: --new has only them, under the next free name. */
    for (int i = 0; i < 3; i++) {
        store_answer_in a = {.question_id = "recommend", .kind = TP_KIND_NPS, .value = 10};
        store_session_in in = {.survey_id = "checkout-nps",
                               .survey_version = 2,
                               .store_id = "hcm-01",
                               .touchpoint_id = "exit",
                               .lang = "en",
                               .n_answers = 1,
                               .answers = &a};
        assert_int_equal(store_record_session(x->s, &in, NULL, NULL), TP_OK);
    }
    assert_int_equal(run(x, NULL, false, &res, err, sizeof err), TP_OK);
    assert_int_equal(res.rows, 3);
    assert_int_equal(res.first_seq, hi + 1);
    assert_int_equal(res.last_seq, hi + 3);
    assert_string_equal(res.name, "touchpoint-kiosk-01-2026-11-20-2026-11-20-2.csv");
    data = slurp(x->out, res.name, &n);
    assert_int_equal(count_lines(data, n), 1 + 3);
    char first[32];
    snprintf(first, sizeof first, "\r\n%lld,", (long long)(hi + 1));
    assert_non_null(strstr(data, first));
    free(data);
    assert_int_equal(cursor(x), hi + 3);

    /* --all again: everything, cursor stays at the top, JSON lines. */
    export_options o = {
        .out_dir = x->out, .format = EXPORT_JSONL, .all = true, .device_id = "kiosk-01"};
    assert_int_equal(export_run(x->s, &o, &res, err, sizeof err), TP_OK);
    assert_int_equal(res.rows, hi + 3);
    assert_int_equal(cursor(x), hi + 3);
    data = slurp(x->out, res.name, &n);
    assert_int_equal(count_lines(data, n), hi + 3);
    assert_int_not_equal((unsigned char)data[0], 0xEF); /* no BOM in JSON lines */
    free(data);
    print_message("checked: export writes BOM+header+one CRLF row per answer, sha256 file in "
                  "sha256sum format matches, cursor advances; nothing new writes nothing; --new "
                  "has only the 3 new answers as -2; --all jsonl has every answer\n");
}

static void progress_cb(void *ctx, int64_t done, int64_t total)
{
    int64_t *last = ctx;
    assert_true(done <= total);
    *last = done;
}

static void progress_reported(void **state)
{
    fx *x = *state;
    int64_t last = -1;
    export_result res;
    char err[1024];
    export_options o = {
        .out_dir = x->out, .device_id = "kiosk-01", .progress = progress_cb, .progress_ctx = &last};
    assert_int_equal(export_run(x->s, &o, &res, err, sizeof err), TP_OK);
    assert_int_equal(last, res.rows);
    print_message("checked: the progress callback ends at rows done == total\n");
}

/* ---- Faults --------------------------------------------------------------------------------- */

static void enospc_mid_write(void **state)
{
    fx *x = *state;
    fault f;
    fault_init(&f);
    f.write_errno = ENOSPC;
    f.write_limit = 1000;
    export_result res;
    char err[1024] = "";
    assert_int_equal(run(x, &f.ops, false, &res, err, sizeof err), TP_ERR_DISK_FULL);
    assert_non_null(strstr(err, "full"));
    assert_non_null(strstr(err, "needs about"));
    assert_non_null(strstr(err, x->out));
    assert_true(f.written == 1000);
    assert_true(res.free_bytes > 0);
    assert_true(res.bytes_needed >= EXPORT_SLACK_BYTES + 1000);
    after_fault(x, 0, 0);
    print_message("checked: ENOSPC after a short write -> disk full with bytes needed (%s); temp "
                  "removed, cursor unmoved, next export ok\n",
                  err);
}

static void eperm_on_full_fat(void **state)
{
    fx *x = *state;
    fault f;
    fault_init(&f);
    /* fusefat answers EPERM, not ENOSPC, when the image fills up. */
    f.write_errno = EPERM;
    f.write_limit = 700;
    f.full_after_write = true;
    export_result res;
    char err[1024] = "";
    assert_int_equal(run(x, &f.ops, false, &res, err, sizeof err), TP_ERR_DISK_FULL);
    assert_non_null(strstr(err, "full"));
    after_fault(x, 0, 0);
    /* The same EPERM with room left is a permission problem. */
    fault_init(&f);
    f.write_errno = EPERM;
    f.write_limit = 0;
    assert_int_equal(run(x, &f.ops, true, &res, err, sizeof err), TP_ERR_READONLY);
    assert_non_null(strstr(err, "no permission"));
    /* EACCES and EIO from a full drive say "full" too, with the figures in the result. */
    const int errs[] = {EACCES, EIO};
    for (size_t i = 0; i < 2; i++) {
        fault_init(&f);
        f.write_errno = errs[i];
        f.write_limit = 500;
        f.full_after_write = true;
        assert_int_equal(run(x, &f.ops, true, &res, err, sizeof err), TP_ERR_DISK_FULL);
        assert_non_null(strstr(err, "full"));
        assert_true(res.bytes_needed > 0);
        assert_true(res.free_bytes > 0);
    }
    /* An fsync that fails with EPERM once the drive is full (FUSE writes back at fsync). */
    fault_init(&f);
    f.fsync_errno = EPERM;
    f.fsync_nth = 1;
    f.vfs_free = 0;
    f.full_after_write = true;
    assert_int_equal(run(x, &f.ops, true, &res, err, sizeof err), TP_ERR_DISK_FULL);
    assert_non_null(strstr(err, "fsync"));
    int temps = 0;
    assert_int_equal(dir_count(x, &temps), 2); /* the good export of after_fault above */
    assert_int_equal(temps, 0);
    assert_int_equal(cursor(x), highest(x));
    print_message("checked: EPERM, EACCES, EIO on write and EPERM on fsync from a full drive -> "
                  "'full' (free space re-checked) with bytes_needed / free_bytes; EPERM with room "
                  "left -> permission message\n");
}

static void eio_at_fsync(void **state)
{
    fx *x = *state;
    fault f;
    fault_init(&f);
    f.fsync_errno = EIO;
    f.fsync_nth = 1;
    export_result res;
    char err[1024] = "";
    assert_int_equal(run(x, &f.ops, false, &res, err, sizeof err), TP_ERR_IO);
    assert_non_null(strstr(err, "I/O error"));
    assert_non_null(strstr(err, "fsync"));
    after_fault(x, 0, 0);
    print_message("checked: EIO at fsync -> I/O error (%s); temp removed, cursor unmoved\n", err);
}

static void readback_mismatch(void **state)
{
    fx *x = *state;
    fault f;
    fault_init(&f);
    f.flip_read = true;
    export_result res;
    char err[1024] = "";
    assert_int_equal(run(x, &f.ops, false, &res, err, sizeof err), TP_ERR_IO);
    assert_non_null(strstr(err, "read back"));
    after_fault(x, 0, 0);
    print_message("checked: a flipped byte on read-back -> verification error (%s)\n", err);
}

static void removed_medium(void **state)
{
    fx *x = *state;
    fault f;
    fault_init(&f);
    f.write_errno = ENODEV;
    f.write_limit = 0;
    export_result res;
    char err[1024] = "";
    assert_int_equal(run(x, &f.ops, false, &res, err, sizeof err), TP_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "removed"));
    /* A FUSE driver killed with a request in flight answers ECONNABORTED, later ENOTCONN. */
    const int gone[] = {ECONNABORTED, ENOTCONN};
    for (size_t i = 0; i < 2; i++) {
        fault_init(&f);
        f.write_errno = gone[i];
        f.write_limit = 0;
        assert_int_equal(run(x, &f.ops, false, &res, err, sizeof err), TP_ERR_NOT_FOUND);
        assert_non_null(strstr(err, "removed"));
    }
    after_fault(x, 0, 0);
    print_message("checked: ENODEV, ECONNABORTED, ENOTCONN while writing -> 'removed during the "
                  "export' (%s)\n",
                  err);
}

static void readonly_target(void **state)
{
    fx *x = *state;
    fault f;
    fault_init(&f);
    f.vfs_rdonly = true;
    export_result res;
    char err[1024] = "";
    assert_int_equal(run(x, &f.ops, false, &res, err, sizeof err), TP_ERR_READONLY);
    assert_non_null(strstr(err, "read-only"));
    fault_init(&f);
    f.create_errno = EROFS;
    assert_int_equal(run(x, &f.ops, false, &res, err, sizeof err), TP_ERR_READONLY);
    assert_non_null(strstr(err, "read-only"));
    after_fault(x, 0, 0);
    print_message("checked: read-only mount (statvfs flag, EROFS at create) -> read-only (%s)\n",
                  err);
}

static void full_before_start(void **state)
{
    fx *x = *state;
    fault f;
    fault_init(&f);
    f.vfs_free = 4096;
    export_result res;
    char err[1024] = "";
    assert_int_equal(run(x, &f.ops, false, &res, err, sizeof err), TP_ERR_DISK_FULL);
    assert_non_null(strstr(err, "needs about"));
    assert_non_null(strstr(err, "4 kB were free")); /* tp_format_bytes: SI units */
    assert_int_equal(f.written, 0);
    assert_int_equal(res.free_bytes, 4096);
    assert_true(res.bytes_needed > EXPORT_SLACK_BYTES);
    char want[64];
    snprintf(want, sizeof want, "(%lld bytes)", (long long)res.bytes_needed);
    assert_non_null(strstr(err, want));
    after_fault(x, 0, 0);
    print_message("checked: too little free space is reported before writing (%s)\n", err);
}

static void fat_size_limit(void **state)
{
    fx *x = *state;
    export_result res;
    char err[1024] = "";
    export_options o = {.out_dir = x->out, .device_id = "kiosk-01", .max_file_bytes = 2000};
    assert_int_equal(export_run(x->s, &o, &res, err, sizeof err), TP_ERR_TOO_LARGE);
    assert_non_null(strstr(err, "FAT"));
    after_fault(x, 0, 0);
    print_message("checked: an export over the file size limit is refused up front (%s)\n", err);
}

static void temp_name_blocked(void **state)
{
    fx *x = *state;
    fault f;
    fault_init(&f);
    f.create_errno = EEXIST;
    export_result res;
    char err[1024] = "";
    assert_int_equal(run(x, &f.ops, false, &res, err, sizeof err), TP_ERR_EXISTS);
    assert_non_null(strstr(err, "in the way"));
    after_fault(x, 0, 0);
    print_message("checked: temp names always taken (O_EXCL fails) -> error, nothing written\n");
}

static void existing_name_and_symlink(void **state)
{
    fx *x = *state;
    char path[PATH_MAX * 2], victim[PATH_MAX * 2];
    const char *base = "touchpoint-kiosk-01-2026-11-20-2026-11-20";
    /* An existing file with the target name, and a symlink at the -2 name. */
    snprintf(path, sizeof path, "%s/%s.csv", x->out, base);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("keep me\n", fp);
    fclose(fp);
    snprintf(victim, sizeof victim, "%s/victim", x->root);
    snprintf(path, sizeof path, "%s/%s-2.csv", x->out, base);
    assert_int_equal(symlink(victim, path), 0);
    /* A dangling symlink at the -3 checksum name blocks -3 as well. */
    snprintf(path, sizeof path, "%s/%s-3.csv.sha256", x->out, base);
    assert_int_equal(symlink(victim, path), 0);

    export_result res;
    char err[1024] = "";
    assert_int_equal(run(x, NULL, false, &res, err, sizeof err), TP_OK);
    char want[EXPORT_NAME_MAX];
    snprintf(want, sizeof want, "%s-4.csv", base);
    assert_string_equal(res.name, want);
    assert_int_equal(access(victim, F_OK), -1); /* the symlink was never followed */
    size_t n;
    snprintf(want, sizeof want, "%s.csv", base);
    char *kept = slurp(x->out, want, &n);
    assert_string_equal(kept, "keep me\n");
    free(kept);
    assert_int_equal(cursor(x), highest(x));
    assert_int_equal(dir_count(x, NULL), 5);
    print_message("checked: a file, a symlink and a symlinked .sha256 at the candidate names are "
                  "left untouched and the export picks -4\n");
}

static void symlink_planted_at_rename(void **state)
{
    fx *x = *state;
    fault f;
    fault_init(&f);
    f.plant_target = "touchpoint-kiosk-01-2026-11-20-2026-11-20.csv";
    export_result res;
    char err[1024] = "";
    assert_int_equal(run(x, &f.ops, false, &res, err, sizeof err), TP_OK);
    assert_true(f.planted);
    assert_string_equal(res.name, "touchpoint-kiosk-01-2026-11-20-2026-11-20-2.csv");
    char path[PATH_MAX * 2], link[64];
    snprintf(path, sizeof path, "%s/%s", x->out, f.plant_target);
    ssize_t l = readlink(path, link, sizeof link - 1);
    assert_true(l > 0);
    link[l] = '\0';
    assert_string_equal(link, "/nonexistent-victim");
    assert_int_equal(access("/nonexistent-victim", F_OK), -1);
    assert_int_equal(cursor(x), highest(x));
    int temps = 0;
    assert_int_equal(dir_count(x, &temps), 3);
    assert_int_equal(temps, 0);
    print_message("checked: a symlink planted between name check and rename is not replaced "
                  "(RENAME_NOREPLACE); the export moves on to -2\n");
}

static void checksum_name_taken_at_rename(void **state)
{
    fx *x = *state;
    fault f;
    fault_init(&f);
    f.plant_target = "touchpoint-kiosk-01-2026-11-20-2026-11-20.csv.sha256";
    export_result res;
    char err[1024] = "";
    assert_int_equal(run(x, &f.ops, false, &res, err, sizeof err), TP_ERR_EXISTS);
    assert_true(f.planted);
    /* The renamed data file was removed again; only the planted link remains. */
    int temps = 0;
    assert_int_equal(dir_count(x, &temps), 1);
    assert_int_equal(temps, 0);
    assert_int_equal(cursor(x), 0);
    after_fault(x, 0, 1);
    print_message("checked: a link planted at the .sha256 name fails the export, removes its data "
                  "file, keeps the cursor (%s)\n",
                  err);
}

static void missing_folder_and_bad_options(void **state)
{
    fx *x = *state;
    export_result res;
    char err[1024] = "";
    export_options o = {.out_dir = "/nonexistent/usb", .device_id = "kiosk-01"};
    assert_int_equal(export_run(x->s, &o, &res, err, sizeof err), TP_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "/nonexistent/usb"));
    o.out_dir = x->out;
    o.device_id = "bad id";
    assert_int_equal(export_run(x->s, &o, &res, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "device id"));
    o.device_id = NULL;
    assert_int_equal(export_run(x->s, &o, &res, err, sizeof err), TP_ERR_INVALID);
    o.device_id = "kiosk-01";
    o.out_dir = NULL;
    assert_int_equal(export_run(x->s, &o, &res, err, sizeof err), TP_ERR_INVALID);
    assert_int_equal(export_run(NULL, &o, &res, err, sizeof err), TP_ERR_INVALID);
    after_fault(x, 0, 0);
    print_message("checked: missing folder names the folder; bad device id, no folder, no store "
                  "are invalid; cursor unmoved\n");
}

/* ---- Seq ranges and several formats --------------------------------------------------------- */

static void seq_range_and_keep_cursor(void **state)
{
    fx *x = *state;
    export_result res;
    char err[1024] = "";
    int64_t hi = highest(x);
    export_options o = {.out_dir = x->out,
                        .device_id = "kiosk-01",
                        .after_seq = 5,
                        .upto_seq = 9,
                        .keep_cursor = true};
    assert_int_equal(export_run(x->s, &o, &res, err, sizeof err), TP_OK);
    assert_int_equal(res.rows, 4);
    assert_int_equal(res.first_seq, 6);
    assert_int_equal(res.last_seq, 9);
    assert_int_equal(res.cursor_after, 0);
    assert_int_equal(cursor(x), 0);
    size_t n = 0;
    char *data = slurp(x->out, res.name, &n);
    assert_int_equal(count_lines(data, n), 1 + 4);
    assert_non_null(strstr(data, "\r\n6,"));
    assert_non_null(strstr(data, "\r\n9,"));
    free(data);
    /* Without keep_cursor a range above the cursor does not move it (6..9 written, 1..5 not). */
    o.keep_cursor = false;
    assert_int_equal(export_run(x->s, &o, &res, err, sizeof err), TP_OK);
    assert_int_equal(res.rows, 4);
    assert_int_equal(cursor(x), 0);
    /* -1 (and 0) derive the range as before: new since the cursor, up to the highest. */
    o.after_seq = -1;
    o.upto_seq = -1;
    o.keep_cursor = false;
    assert_int_equal(export_run(x->s, &o, &res, err, sizeof err), TP_OK);
    assert_int_equal(res.rows, hi);
    assert_int_equal(cursor(x), hi);
    /* An explicit range below the cursor never moves it back; an empty range writes nothing. */
    o.after_seq = 2;
    o.upto_seq = 3;
    assert_int_equal(export_run(x->s, &o, &res, err, sizeof err), TP_OK);
    assert_int_equal(res.rows, 1);
    assert_int_equal(cursor(x), hi);
    int files = dir_count(x, NULL);
    o.after_seq = 7;
    o.upto_seq = 7;
    assert_int_equal(export_run(x->s, &o, &res, err, sizeof err), TP_OK);
    assert_int_equal(res.rows, 0);
    assert_int_equal(dir_count(x, NULL), files);
    print_message("checked: after_seq/upto_seq export exactly seq 6..9, keep_cursor leaves the "
                  "cursor, so does a range above the cursor without it; -1 derives new..highest "
                  "and moves it; a range below the cursor never "
                  "moves it back; an empty range writes nothing\n");
}

/* Progress of the formats run: records an answer when the first file is complete (it must not
 * reach the second file) and checks the cursor has not moved before the last file ends. */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_quoting),
        cmocka_unit_test(rows_csv_and_json),
        cmocka_unit_test(file_names),
        cmocka_unit_test_setup_teardown(good_export_then_new, setup, teardown),
        cmocka_unit_test_setup_teardown(progress_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(enospc_mid_write, setup, teardown),
        cmocka_unit_test_setup_teardown(eperm_on_full_fat, setup, teardown),
        cmocka_unit_test_setup_teardown(eio_at_fsync, setup, teardown),
        cmocka_unit_test_setup_teardown(readback_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(removed_medium, setup, teardown),
        cmocka_unit_test_setup_teardown(readonly_target, setup, teardown),
        cmocka_unit_test_setup_teardown(full_before_start, setup, teardown),
        cmocka_unit_test_setup_teardown(fat_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(temp_name_blocked, setup, teardown),
        cmocka_unit_test_setup_teardown(existing_name_and_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(symlink_planted_at_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(checksum_name_taken_at_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_folder_and_bad_options, setup, teardown),
        cmocka_unit_test_setup_teardown(seq_range_and_keep_cursor, setup, teardown),
    };
    if (!getenv("TZ"))
        setenv("TZ", "Asia/Ho_Chi_Minh", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
