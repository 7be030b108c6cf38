/*
 * canalytics_labels.c - the words beside the ids (sync/PROTOCOL.md 13.3, 13.4, 13.2): the read
 * side's replies name follow-up questions and options by id ("reason", "wait"); a CX manager
 * reads "Phải chờ lâu". Labels come from the survey version the answers came from (clabel.h,
 * each version read once per request).
 *
 * Counts merged across versions (the journey's top reason, the report's choice counts) keep
 * counting by id; their label is the newest published version's among those with answers in the
 * view (a version relabelling an option relabels the whole merged count). A version the collector
 * does not hold gives "label": null and the id, never an error.
 */
#include "canalytics_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tp_err load(an_req *r, const char *survey, int version)
{
    if (!r->labels && !(r->labels = clabel_new()))
        return TP_ERR_NOMEM;
    return clabel_load(r->labels, r->tx, survey, version, r->err, sizeof r->err);
}

static int version_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int)v->valuedouble : 0;
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

tp_err an_label_reasons(an_req *r, cJSON *view)
{
    const cJSON *g, *b;
    cJSON *q, *o;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(view, "groups"))
    {
        cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(g, "questions"))
        {
            const char *sv = str_of(q, "survey"), *qid = str_of(q, "question");
            int ver = version_of(q, "version");
            tp_err rc = load(r, sv, ver);
            if (rc != TP_OK)
                return rc;
            cJSON_AddItemToObject(q, "question_label", clabel_json(r->labels, sv, ver, qid, NULL));
            cJSON_AddBoolToObject(q, "labelled", clabel_known(r->labels, sv, ver));
            cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(q, "bands"))
            {
                cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(b, "options"))
                {
                    cJSON_AddItemToObject(
                        o, "label", clabel_json(r->labels, sv, ver, qid, str_of(o, "choice")));
                }
            }
        }
    }
    return TP_OK;
}

/* picks: key -> [survey, version, question, published_ms] of the newest labelled version seen. */
tp_err an_label_pick(an_req *r, cJSON *picks, const char *key, const char *survey, int version,
                     const char *question)
{
    survey = survey ? survey : "";
    question = question ? question : "";
    tp_err rc = load(r, survey, version);
    if (rc != TP_OK)
        return rc;
    int64_t pub = clabel_published_ms(r->labels, survey, version);
    cJSON *old = cJSON_GetObjectItemCaseSensitive(picks, key);
    if (old) {
        int64_t opub = (int64_t)cJSON_GetArrayItem(old, 3)->valuedouble;
        int oversion = (int)cJSON_GetArrayItem(old, 1)->valuedouble;
        /* Newest publication first; equal times (a bulk import): the higher version. */
        if (pub < opub || (pub == opub && version <= oversion))
            return TP_OK;
    }
    cJSON *a = cJSON_CreateArray();
    if (!a || !cJSON_AddItemToArray(a, cJSON_CreateString(survey)) ||
        !cJSON_AddItemToArray(a, cJSON_CreateNumber(version)) ||
        !cJSON_AddItemToArray(a, cJSON_CreateString(question)) ||
        !cJSON_AddItemToArray(a, cJSON_CreateNumber((double)pub))) {
        cJSON_Delete(a);
        return TP_ERR_NOMEM;
    }
    if (!(old ? cJSON_ReplaceItemInObjectCaseSensitive(picks, key, a)
              : cJSON_AddItemToObject(picks, key, a))) {
        cJSON_Delete(a);
        return TP_ERR_NOMEM;
    }
    return TP_OK;
}

cJSON *an_label_picked(an_req *r, const cJSON *picks, const char *key, const char *option)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(picks, key);
    if (!p || cJSON_GetArrayItem(p, 3)->valuedouble < 0)
        return cJSON_CreateNull();
    return clabel_json(r->labels, cJSON_GetArrayItem(p, 0)->valuestring,
                       (int)cJSON_GetArrayItem(p, 1)->valuedouble,
                       cJSON_GetArrayItem(p, 2)->valuestring, option);
}

cJSON *an_label_source(const cJSON *picks, const char *key)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(picks, key);
    if (!p || cJSON_GetArrayItem(p, 3)->valuedouble < 0)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "survey", cJSON_GetArrayItem(p, 0)->valuestring) ||
              !cJSON_AddNumberToObject(o, "version", cJSON_GetArrayItem(p, 1)->valuedouble))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
