/*
 * canalytics_int.h - internals shared by the read side's files: the request (filters resolved
 * against the tree and the scope), the period ranges over the rollups, query helpers.
 *
 *   canalytics.c        filters, scope, tree, the report, routing
 *   canalytics_views.c  reasons, journey, rankings, heat map, nodes
 *   canalytics_dev.c    devices
 *   canalytics_csv.c    the CSV export of a view
 *   canalytics_comments.c  the comments of the report's groups
 *   canalytics_labels.c  the survey's words beside question and option ids (clabel.h)
 */
#ifndef TP_CANALYTICS_INT_H
#define TP_CANALYTICS_INT_H

#include <cjson/cJSON.h>

#include "canalytics.h"
#include "clabel.h"
#include "cstat.h"

#define AN_MAX_STORES 5000
#define AN_PARAMS_MAX 5200

/* Every node of the tree with its own settings. */
typedef struct an_tree {
    size_t n;
    char **path;
    cJSON **settings;
} an_tree;

typedef struct an_filter {
    int from_day, to_day; /* YYYYMMDD, inclusive */
    char from_s[11], to_s[11];
    const char *survey, *node, *store, *touchpoint;
    int version;
    /* Resolved: stores allowed (has_stores), a touchpoint (tp[0]) of a store (tp_store[0]). */
    bool has_stores;
    char (*stores)[TP_ID_MAX + 1];
    size_t n_stores;
    char tp_store[TP_ID_MAX + 1], tp[TP_ID_MAX + 1];
} an_filter;

typedef struct an_req {
    cstore *s;
    cstore_tx *tx;
    const char *scope;
    canalytics_arg_fn arg;
    void *cls;
    int64_t now_ms;
    an_tree tree;
    an_filter f;
    clabel *labels; /* the survey versions read for labels (canalytics_labels.c); NULL: none */
    char err[TP_ERRMSG_MAX];
} an_req;

/* Statement parameters (text). */
typedef struct an_params {
    const char *p[AN_PARAMS_MAX];
    char num[16][24];
    int n, nnum;
} an_params;

/* A query argument, "" treated as absent. */
const char *an_arg(an_req *r, const char *key);

/* Appends " WHERE <period ranges of [from, to]> AND <filters>" to sql with its parameters.
 * days_only: day rows only (by=day, by=week), else month rows for whole months. */
tp_err an_where(an_req *r, tp_buf *sql, an_params *p, int from_day, int to_day, bool days_only);

/* Runs sql; *rows to free with cstore_rows_free. */
tp_err an_query(an_req *r, const char *sql, an_params *p, cstore_rows **rows);

/* The previous period of the same length: [*from, *to] days before r->f.from_day. */
void an_previous(const an_req *r, int *from, int *to);
void an_day_string(int day, char out[11]);

/* Nearest setting key on path's ancestors (path itself first); NULL when none. Borrowed. */
const cJSON *an_tree_setting(const an_tree *t, const char *path, const char *key);
/* The region path ("vn/hcm") of a store id: "" when the store is in no node. */
void an_tree_region(const an_tree *t, const char *store, char *out, size_t outlen);
/* The touchpoint node's path of (store, touchpoint), or NULL. Borrowed. */
const char *an_tree_touchpoint(const an_tree *t, const char *store, const char *tp);
/* True when the store passes the resolved filter (for rows read without the SQL filter). */
bool an_store_visible(const an_req *r, const char *store);

/* Adds "from","to","scope","filters" to o. */
bool an_add_common(an_req *r, cJSON *o);
/* {"score","moe","low","high","n"} of ci (nulls when not valid). */
cJSON *an_ci_json(const cstat_ci *ci);
double an_r2(double x);

/* The report's groupings (13.2). */
enum { BY_DAY, BY_WEEK, BY_MONTH, BY_HOUR, BY_STORE, BY_TOUCHPOINT, BY_REGION, BY_DEVICE, BY_N };
/* The group key of a grouping cell raw (a period YYYYMMDD or YYYYMM, an hour, a store, ...). */
void an_group_key(an_req *r, int by, const char *raw, char *out, size_t outlen);
/* Adds "comments" to each group of report (and its total), grouped by by; frees report and
 * returns NULL with *status 503 on a store error. report NULL passes through. */
cJSON *an_report_comments(an_req *r, int by, cJSON *report, int *status);

/* The views (JSON objects; NULL with a message in r->err on a store error). */
cJSON *an_report(an_req *r, int *status);
cJSON *an_reasons(an_req *r, int *status);
cJSON *an_journey(an_req *r, int *status);
cJSON *an_rankings(an_req *r, int *status);
cJSON *an_heatmap(an_req *r, int *status);
cJSON *an_nodes(an_req *r, int *status);
cJSON *an_devices(an_req *r, int silent_after_s, int *status);

/* Labels (canalytics_labels.c). Each returns TP_OK or the store's error (message in r->err); a
 * survey version not on the collector is not an error (label null). */
/* Adds "question_label", "labelled" to each question and "label" to each option of a reasons
 * view. */
tp_err an_label_reasons(an_req *r, cJSON *view);
/* Notes that the merged count key (a choice id, or any key naming one) has answers of question
 * in survey@version; the newest published version with labels wins. picks is a cJSON object. */
tp_err an_label_pick(an_req *r, cJSON *picks, const char *key, const char *survey, int version,
                     const char *question);
/* The label of key's option (option NULL: of its question) from its pick, or a JSON null. New
 * item. */
cJSON *an_label_picked(an_req *r, const cJSON *picks, const char *key, const char *option);
/* {"survey", "version"} the label of key came from, or a JSON null. New item. */
cJSON *an_label_source(const cJSON *picks, const char *key);

/* The CSV of view (a JSON of the views above) named name. Returns a string to free() or NULL. */
char *an_csv(const char *name, const cJSON *view);

#endif /* TP_CANALYTICS_INT_H */
