/*
 * trace.c - the kiosk's event trace (trace.h). The line is built with cJSON so numbers print the
 * way they always have (tests compare them): integers without a fraction, others with up to 17
 * significant digits.
 */
#include "trace.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>

struct trace {
    FILE *out;
    const tp_clock *clk;
    const char *screen;
};

trace *trace_new(FILE *out, const tp_clock *clock)
{
    if (!out)
        return NULL;
    trace *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->out = out;
    t->clk = clock ? clock : tp_clock_system();
    t->screen = "";
    return t;
}

void trace_free(trace *t)
{
    free(t);
}

void trace_set_screen(trace *t, const char *screen)
{
    if (t)
        t->screen = screen ? screen : "";
}

bool trace_on(const trace *t)
{
    return t != NULL;
}

/* Adds it under key to o, replacing a field of that name (the head's "screen", say). */
static void put(cJSON *o, const char *key, cJSON *it)
{
    if (!it)
        return;
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    cJSON_AddItemToObject(o, key, it);
}

void trace_event(trace *t, const char *event, ...)
{
    if (!t)
        return;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "event", event);
    cJSON_AddNumberToObject(o, "t", (double)t->clk->mono_ms(t->clk->ctx));
    cJSON_AddStringToObject(o, "screen", t->screen);
    va_list ap;
    va_start(ap, event);
    for (int kind = va_arg(ap, int); kind != TRACE_K_END; kind = va_arg(ap, int)) {
        const char *key = va_arg(ap, const char *);
        switch (kind) {
        case TRACE_K_STR: {
            const char *v = va_arg(ap, const char *);
            put(o, key, v ? cJSON_CreateString(v) : cJSON_CreateNull());
            break;
        }
        case TRACE_K_NUM: put(o, key, cJSON_CreateNumber(va_arg(ap, double))); break;
        case TRACE_K_BOOL: put(o, key, cJSON_CreateBool(va_arg(ap, int))); break;
        case TRACE_K_NULL: put(o, key, cJSON_CreateNull()); break;
        case TRACE_K_STRS: {
            const char *const *a = va_arg(ap, const char *const *);
            size_t n = va_arg(ap, size_t);
            cJSON *arr = cJSON_CreateArray();
            for (size_t i = 0; arr && i < n; i++)
                cJSON_AddItemToArray(arr, cJSON_CreateString(a[i]));
            put(o, key, arr);
            break;
        }
        case TRACE_K_SKIP_STR: (void)va_arg(ap, const char *); break;
        case TRACE_K_SKIP_NUM: (void)va_arg(ap, double); break;
        case TRACE_K_NULL_NUM:
            (void)va_arg(ap, double);
            put(o, key, cJSON_CreateNull());
            break;
        default: kind = TRACE_K_END; break; /* a malformed list: stop reading it */
        }
        if (kind == TRACE_K_END)
            break;
    }
    va_end(ap);
    char *s = cJSON_PrintUnformatted(o);
    if (s) {
        fprintf(t->out, "%s\n", s);
        fflush(t->out);
        cJSON_free(s);
    }
    cJSON_Delete(o);
}
