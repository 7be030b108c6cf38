/*
 * canalytics_http.c - the read side's HTTP glue: collector.c routes each read endpoint of
 * canalytics.h here with the reader's scope; this sends the reply (JSON, or CSV as a download).
 */
#include "collector_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canalytics.h"

static const char *query_arg(void *cls, const char *key)
{
    return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, key);
}

static bool safe(const char *s)
{
    for (; s && *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || *s == '-'))
            return false;
    return true;
}

capi_reply analytics_reply(collector *c, struct MHD_Connection *conn, const char *url,
                           const char *scope)
{
    int64_t now = c->clock->wall_ms(c->clock->ctx);
    capi_reply rep = canalytics_get(c->store, url, scope, query_arg, conn, now, c->silent_after_s);
    if (rep.status == 503)
        rep.retry_after = c->retry_after_s;
    return rep;
}

enum MHD_Result handle_analytics(collector *c, struct MHD_Connection *conn, const char *url,
                                 const char *scope)
{
    return send_analytics(c, conn, url, analytics_reply(c, conn, url, scope));
}

enum MHD_Result send_analytics(collector *c, struct MHD_Connection *conn, const char *url,
                               capi_reply rep)
{
    if (rep.status != 200 || strcmp(url, "/v1/export.csv") != 0)
        return send_json(c, conn, rep.status, rep.body, rep.retry_after);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(rep.body), rep.body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(rep.body);
        return MHD_NO;
    }
    const char *view = query_arg(conn, "view"), *from = query_arg(conn, "from");
    const char *to = query_arg(conn, "to");
    char disp[160];
    if (from && to && safe(from) && safe(to) && strlen(from) <= 10 && strlen(to) <= 10)
        snprintf(disp, sizeof disp, "attachment; filename=\"touchpoint-%s-%s-%s.csv\"",
                 view && safe(view) && strlen(view) < 16 ? view : "report", from, to);
    else
        snprintf(disp, sizeof disp, "attachment; filename=\"touchpoint-%s.csv\"",
                 view && safe(view) && strlen(view) < 16 ? view : "report");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/csv; charset=utf-8");
    MHD_add_response_header(r, "Content-Disposition", disp);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    cmetrics_status(c->metrics, 200);
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}
