/*
 * store_fixture.c - the store tests' shared helpers and the unit tests' fixture
 * (store_fixture.h).
 */
#include "store_fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_int.h"

/* ---- For every store test ------------------------------------------------------------------- */

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void sfx_rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void sfx_temp_dir(char *dir, size_t len, const char *name)
{
    snprintf(dir, len, "/tmp/tp-%s-XXXXXX", name);
    assert_non_null(mkdtemp(dir));
}

store *sfx_open(const char *path, const store_options *o)
{
    char err[TP_ERRMSG_MAX] = "";
    store *s = NULL;
    tp_err rc = store_open(path, o, &s, err, sizeof err);
    if (rc != TP_OK)
        fail_msg("store_open(%s): %s", path, err);
    return s;
}

store_session_in sfx_session(const store_answer_in *a, size_t n)
{
    return (store_session_in){.survey_id = "checkout-nps",
                              .survey_version = 2,
                              .store_id = "hcm-01",
                              .touchpoint_id = "exit",
                              .lang = "vi",
                              .n_answers = n,
                              .answers = a};
}

tp_err sfx_record(store *s, int value, size_t n_answers, store_receipt *r)
{
    store_answer_in a[2] = {{"recommend", TP_KIND_NPS, value % 11, NULL},
                            {"why", TP_KIND_CHOICE, 0, value % 2 ? "staff" : "price"}};
    assert_true(n_answers >= 1 && n_answers <= 2);
    store_session_in in = sfx_session(a, n_answers);
    return store_record_session(s, &in, NULL, r);
}

tp_err sfx_walk_cb(const store_answer *a, void *ctx)
{
    struct sfx_walk *w = ctx;
    if (a->seq <= w->prev)
        w->dup_or_order = true;
    w->prev = a->seq;
    w->count++;
    if (a->seq < w->cap)
        memcpy(w->ids[a->seq], a->id, TP_UUID_STR);
    return TP_OK;
}

/* ---- The unit tests' fixture ---------------------------------------------------------------- */

store *sfx_open_at(struct sfx *f, const char *device)
{
    store_options o = {.clock = &f->vc.clock, .device_id = device};
    return sfx_open(f->path, &o);
}

int sfx_setup(void **state)
{
    struct sfx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    sfx_temp_dir(f->dir, sizeof f->dir, "store");
    snprintf(f->path, sizeof f->path, "%s/answers.db", f->dir);
    tp_vclock_init(&f->vc, T0);
    f->vc.mono = 5000;
    f->s = sfx_open_at(f, "kiosk-01");
    *state = f;
    return 0;
}

int sfx_teardown(void **state)
{
    struct sfx *f = *state;
    store_close(f->s);
    sfx_rm_tree(f->dir);
    free(f);
    store_schema_target = STORE_SCHEMA_LATEST;
    return 0;
}

int64_t sfx_rec(store *s, const char *tp, const char *q, tp_kind kind, const int *vals, size_t n,
                unsigned flags)
{
    store_answer_in a[STORE_SESSION_MAX_ANSWERS];
    for (size_t i = 0; i < n; i++)
        a[i] =
            (store_answer_in){q, kind, kind == TP_KIND_CHOICE ? 0 : vals[i],
                              kind == TP_KIND_CHOICE ? (vals[i] == 1 ? "staff" : "price") : NULL};
    store_session_in in = sfx_session(a, n);
    in.touchpoint_id = tp;
    in.flags = flags;
    store_receipt r[STORE_SESSION_MAX_ANSWERS];
    tp_err rc = store_record_session(s, &in, NULL, r);
    if (rc != TP_OK)
        print_message("record: %s\n", store_errmsg(s));
    assert_int_equal(rc, TP_OK);
    return r[0].seq;
}

void sfx_rec1(store *s, const char *tp, const char *q, tp_kind kind, int v, unsigned flags)
{
    sfx_rec(s, tp, q, kind, &v, 1, flags);
}

store_info sfx_info(store *s)
{
    store_info i;
    assert_int_equal(store_get_info(s, &i), TP_OK);
    return i;
}

tp_err sfx_collect_cb(const store_answer *a, void *ctx)
{
    struct sfx_collect *c = ctx;
    if (c->n < 64)
        c->seqs[c->n] = a->seq;
    c->last = *a;
    c->n++;
    if (c->other && c->n == 1)
        sfx_rec1(c->other, "exit", "recommend", TP_KIND_NPS, 10, 0);
    if (c->stop_after && c->n == c->stop_after)
        return TP_ERR_EXISTS;
    return TP_OK;
}
