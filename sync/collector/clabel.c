/*
 * clabel.c - labels of questions and options from the stored survey versions (clabel.h).
 *
 * Only the texts are kept, as a small cJSON tree per version ({"<question>": {"label": {vi, en},
 * "options": {"<choice>": {vi, en}}}}): a parsed survey is about 130 KB of fixed arrays, the texts
 * of a follow-up a few hundred bytes. The document is parsed with survey_parse, the same rules
 * that accepted it at publish, so the labels are exactly what the kiosk drew.
 */
#include "clabel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "survey.h"

typedef struct clabel_entry {
    char survey[TP_ID_MAX + 1];
    int version;
    int64_t published_ms; /* -1: no labels */
    cJSON *texts;         /* NULL: no labels */
} clabel_entry;

struct clabel {
    size_t n;
    clabel_entry v[CLABEL_MAX_VERSIONS];
};

clabel *clabel_new(void)
{
    return calloc(1, sizeof(clabel));
}

void clabel_free(clabel *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        cJSON_Delete(l->v[i].texts);
    free(l);
}

static const clabel_entry *find(const clabel *l, const char *sid, int version)
{
    for (size_t i = 0; l && sid && i < l->n; i++)
        if (l->v[i].version == version && strcmp(l->v[i].survey, sid) == 0)
            return &l->v[i];
    return NULL;
}

/* {"vi", "en"} of t, NULL when out of memory. */
static cJSON *text_json(const survey *s, const survey_text *t)
{
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "vi", survey_text_get(s, t, "vi")) ||
              !cJSON_AddStringToObject(o, "en", survey_text_get(s, t, "en")))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* The texts of every question of s (options of the choice ones); NULL when out of memory. */
static cJSON *texts_of(const survey *s)
{
    cJSON *root = cJSON_CreateObject();
    for (int qi = 0; root && qi < s->n_questions; qi++) {
        const survey_question *q = &s->questions[qi];
        cJSON *qj = cJSON_CreateObject(), *opts = NULL;
        cJSON *label = text_json(s, &q->prompt);
        bool ok = qj && label && cJSON_AddItemToObject(qj, "label", label);
        if (!ok)
            cJSON_Delete(label);
        ok = ok && (opts = cJSON_AddObjectToObject(qj, "options"));
        for (int oi = 0; ok && oi < q->n_options; oi++) {
            cJSON *t = text_json(s, &q->options[oi].label);
            ok = t && cJSON_AddItemToObject(opts, q->options[oi].id, t);
            if (!ok)
                cJSON_Delete(t);
        }
        if (!ok || !cJSON_AddItemToObject(root, q->id, qj)) {
            cJSON_Delete(qj);
            cJSON_Delete(root);
            root = NULL;
        }
    }
    return root;
}

tp_err clabel_load(clabel *l, cstore_tx *tx, const char *survey_id, int version, char *err,
                   size_t errlen)
{
    if (!l || !survey_id || find(l, survey_id, version) || l->n >= CLABEL_MAX_VERSIONS)
        return TP_OK;
    char ver[16], perr[TP_ERRMSG_MAX], name[TP_ID_MAX + 24];
    snprintf(ver, sizeof ver, "%d", version);
    const char *params[2] = {survey_id, ver};
    cstore_rows *rows = NULL;
    tp_err rc = cstore_tx_exec(tx,
                               "SELECT document, published_ms FROM surveys"
                               " WHERE id = $1 AND version = $2",
                               params, 2, &rows, err, errlen);
    if (rc != TP_OK)
        return rc;
    clabel_entry *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    tp_strlcpy(e->survey, survey_id, sizeof e->survey);
    e->version = version;
    e->published_ms = -1;
    const char *doc = cstore_rows_get(rows, 0, 0), *pub = cstore_rows_get(rows, 0, 1);
    survey *s = NULL;
    snprintf(name, sizeof name, "survey %s@%d", survey_id, version);
    /* A stored document that does not parse (a newer format) only costs its labels. */
    if (doc && survey_parse(name, doc, strlen(doc), &s, perr, sizeof perr) == TP_OK &&
        (e->texts = texts_of(s)) != NULL)
        e->published_ms = pub ? strtoll(pub, NULL, 10) : 0;
    survey_free(s);
    cstore_rows_free(rows);
    return TP_OK;
}

bool clabel_known(const clabel *l, const char *sid, int version)
{
    const clabel_entry *e = find(l, sid, version);
    return e && e->texts;
}

int64_t clabel_published_ms(const clabel *l, const char *sid, int version)
{
    const clabel_entry *e = find(l, sid, version);
    return e && e->texts ? e->published_ms : -1;
}

/* The {"vi", "en"} object of a prompt (option NULL) or an option label, borrowed; or NULL. */
static const cJSON *texts(const clabel *l, const char *sid, int version, const char *question,
                          const char *option)
{
    const clabel_entry *e = find(l, sid, version);
    const cJSON *q = e && question ? cJSON_GetObjectItemCaseSensitive(e->texts, question) : NULL;
    return option ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(q, "options"),
                                                     option)
                  : cJSON_GetObjectItemCaseSensitive(q, "label");
}

cJSON *clabel_json(const clabel *l, const char *sid, int version, const char *question,
                   const char *option)
{
    const cJSON *t = texts(l, sid, version, question, option);
    return t ? cJSON_Duplicate(t, true) : cJSON_CreateNull();
}

const char *clabel_text(const clabel *l, const char *sid, int version, const char *question,
                        const char *option, const char *lang)
{
    const cJSON *t = texts(l, sid, version, question, option);
    return lang ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, lang)) : NULL;
}
