/*
 * settings.c - parses and validates the settings object (settings.h) with cJSON, and holds the
 * value checks the INI config shares (ranges, opening hours, language lists), so the kiosk's file
 * and the center's JSON accept exactly the same values.
 */
#include "settings.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define JPATH_MAX 160

/* ---- Shared value checks ------------------------------------------------------------------ */

const char *settings_check_int_text(const char *v, long lo, long hi, long *out)
{
    if (*v == '\0')
        return "empty value, expected a whole number";
    errno = 0;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0')
        return "not a whole number";
    if (n < lo || n > hi)
        return "out of range";
    *out = n;
    return NULL;
}

const char *settings_check_hours(const char *v, bool allow_closed, settings_hours *out)
{
    memset(out, 0, sizeof *out);
    if (strcmp(v, "always") == 0) {
        out->always = true;
        return NULL;
    }
    if (allow_closed && strcmp(v, "closed") == 0) {
        out->closed = true;
        return NULL;
    }
    int h1, m1, h2, m2;
    char extra;
    if (strlen(v) != 11 || sscanf(v, "%2d:%2d-%2d:%2d%c", &h1, &m1, &h2, &m2, &extra) != 4 ||
        v[2] != ':' || v[5] != '-' || v[8] != ':')
        return allow_closed ? "expected HH:MM-HH:MM or \"closed\""
                            : "expected always or HH:MM-HH:MM (like 08:00-22:00)";
    if (h1 < 0 || h1 > 24 || h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 ||
        (h1 == 24 && m1) || (h2 == 24 && m2))
        return "hours 00..24 and minutes 00..59";
    out->open_min = h1 * 60 + m1;
    out->close_min = h2 * 60 + m2;
    if (out->open_min == out->close_min)
        return "opening and closing times are equal (use always)";
    return NULL;
}

bool settings_hours_open(const settings_hours *h, int m)
{
    if (h->always)
        return true;
    if (h->closed)
        return false;
    if (h->open_min < h->close_min)
        return m >= h->open_min && m < h->close_min;
    return m >= h->open_min || m < h->close_min; /* over midnight */
}

const char *settings_add_lang(char (*langs)[TP_LANG_MAX + 1], int *n, const char *s, size_t len)
{
    char tok[TP_LANG_MAX + 2];
    if (len > TP_LANG_MAX)
        return "not a language tag (like vi or en)";
    memcpy(tok, s, len);
    tok[len] = '\0';
    if (!tp_lang_valid(tok))
        return "not a language tag (like vi or en)";
    if (*n == SETTINGS_MAX_LANGS)
        return "too many languages (at most 4)";
    for (int i = 0; i < *n; i++)
        if (strcmp(langs[i], tok) == 0)
            return "language listed twice";
    tp_strlcpy(langs[(*n)++], tok, TP_LANG_MAX + 1);
    return NULL;
}

const char *settings_check_timezone(const char *v)
{
    size_t len = strlen(v);
    if (len == 0 || len > SETTINGS_TZ_MAX)
        return "expected an IANA time zone name (like Asia/Ho_Chi_Minh)";
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '/' || c == '_' || c == '-' || c == '+';
        if (!ok)
            return "expected an IANA time zone name (like Asia/Ho_Chi_Minh)";
    }
    if (v[0] == '/' || strstr(v, "..") || strstr(v, "//"))
        return "expected an IANA time zone name (like Asia/Ho_Chi_Minh)";
    const char *dir = getenv("TZDIR");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", v);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return "unknown time zone (not in the zoneinfo database)";
    return NULL;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

typedef struct sctx {
    char *err;
    size_t errlen;
} sctx;

static tp_err bad(sctx *c, const char *jpath, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records "$.json.path: cause" and returns TP_ERR_CONFIG. */
static tp_err bad(sctx *c, const char *jpath, const char *fmt, ...)
{
    char cause[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cause, sizeof cause, fmt, ap);
    va_end(ap);
    if (n < 0)
        cause[0] = '\0';
    return tp_errf(c->err, c->errlen, TP_ERR_CONFIG, "%s: %s", jpath, cause);
}

/* out = base.key, cut short (never overflowing) when the path is very long. */
static void sub(char *out, const char *base, const char *key)
{
    int n = snprintf(out, JPATH_MAX, "%s.%s", base, key);
    if (n < 0)
        out[0] = '\0';
}

/* Checks that obj's keys are all in allowed (NULL-terminated). */
static tp_err only_keys(sctx *c, const cJSON *obj, const char *jpath, const char *const *allowed)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = it->string && strcmp(it->string, allowed[i]) == 0;
        if (!ok) {
            char p[JPATH_MAX];
            sub(p, jpath, it->string ? it->string : "?");
            return bad(c, p, "unknown key");
        }
    }
    return TP_OK;
}

static tp_err get_int(sctx *c, const cJSON *obj, const char *jpath, const char *key, long lo,
                      long hi, int *out, unsigned *has, unsigned bit)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return TP_OK;
    char p[JPATH_MAX];
    sub(p, jpath, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long)v->valuedouble)
        return bad(c, p, "expected a whole number");
    long n = (long)v->valuedouble;
    if (n < lo || n > hi)
        return bad(c, p, "%ld: out of range %ld..%ld", n, lo, hi);
    *out = (int)n;
    *has |= bit;
    return TP_OK;
}

static tp_err get_obj(sctx *c, const cJSON *parent, const char *jpath, const char *key,
                      const cJSON **out, char p[JPATH_MAX])
{
    *out = cJSON_GetObjectItemCaseSensitive(parent, key);
    sub(p, jpath, key);
    if (*out && !cJSON_IsObject(*out))
        return bad(c, p, "expected an object");
    return TP_OK;
}

static const char *const DAYS[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static tp_err parse_hours(sctx *c, const cJSON *v, const char *p, settings *s)
{
    if (cJSON_IsString(v)) {
        if (strcmp(v->valuestring, "always") != 0)
            return bad(c, p, "expected \"always\" or an object of weekdays");
        for (int d = 0; d < 7; d++)
            s->hours[d].always = true;
        s->has |= SETTINGS_HAS_HOURS;
        return TP_OK;
    }
    if (!cJSON_IsObject(v))
        return bad(c, p, "expected \"always\" or an object of weekdays");
    static const char *const keys[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL};
    tp_err rc = only_keys(c, v, p, keys);
    if (rc != TP_OK)
        return rc;
    for (int d = 0; d < 7; d++) {
        char dp[JPATH_MAX];
        sub(dp, p, DAYS[d]);
        const cJSON *day = cJSON_GetObjectItemCaseSensitive(v, DAYS[d]);
        if (!day)
            return bad(c, dp, "missing (give every weekday, or \"always\")");
        if (!cJSON_IsString(day))
            return bad(c, dp, "expected HH:MM-HH:MM or \"closed\"");
        const char *cause = settings_check_hours(day->valuestring, true, &s->hours[d]);
        if (cause)
            return bad(c, dp, "%s", cause);
    }
    s->has |= SETTINGS_HAS_HOURS;
    return TP_OK;
}

static tp_err parse_langs(sctx *c, const cJSON *v, const char *p, settings *s)
{
    if (!cJSON_IsArray(v))
        return bad(c, p, "expected an array of language tags");
    int i = 0;
    for (const cJSON *it = v->child; it; it = it->next, i++) {
        char ip[JPATH_MAX];
        if (snprintf(ip, sizeof ip, "%s[%d]", p, i) < 0)
            ip[0] = '\0';
        if (!cJSON_IsString(it))
            return bad(c, ip, "expected a language tag (like vi or en)");
        const char *cause =
            settings_add_lang(s->langs, &s->n_langs, it->valuestring, strlen(it->valuestring));
        if (cause)
            return bad(c, ip, "%s", cause);
    }
    if (s->n_langs == 0)
        return bad(c, p, "no language listed");
    s->has |= SETTINGS_HAS_LANGUAGES;
    return TP_OK;
}

static int b64_val(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+' || ch == '-')
        return 62;
    if (ch == '/' || ch == '_')
        return 63;
    return -1;
}

/* Decodes base64 (standard or url alphabet, padding optional) into a new buffer of at most max
 * bytes. Returns NULL with *cause set on error. */
static unsigned char *b64_decode(const char *in, size_t max, size_t *out_len, const char **cause)
{
    size_t n = strlen(in);
    while (n > 0 && in[n - 1] == '=')
        n--;
    if (n % 4 == 1) {
        *cause = "not base64";
        return NULL;
    }
    size_t dec = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (dec > max) {
        *cause = "logo over 256 KiB";
        return NULL;
    }
    unsigned char *out = malloc(dec ? dec : 1);
    if (!out) {
        *cause = "out of memory";
        return NULL;
    }
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val((unsigned char)in[i]);
        if (v < 0) {
            free(out);
            *cause = "not base64";
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    *out_len = o;
    return out;
}

static tp_err parse_brand(sctx *c, const cJSON *b, const char *p, settings *s)
{
    static const char *const keys[] = {"name", "accent", "logo_png", NULL};
    tp_err rc = only_keys(c, b, p, keys);
    if (rc != TP_OK)
        return rc;
    char kp[JPATH_MAX];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "name");
    if (v) {
        sub(kp, p, "name");
        if (!cJSON_IsString(v) || !tp_utf8_valid(v->valuestring, strlen(v->valuestring)))
            return bad(c, kp, "expected a UTF-8 string");
        if (tp_strlcpy(s->brand_name, v->valuestring, sizeof s->brand_name) != TP_OK)
            return bad(c, kp, "too long (at most %d bytes)", SETTINGS_BRAND_NAME_MAX);
        s->has |= SETTINGS_HAS_BRAND_NAME;
    }
    v = cJSON_GetObjectItemCaseSensitive(b, "accent");
    if (v) {
        sub(kp, p, "accent");
        const char *a = cJSON_IsString(v) ? v->valuestring : "";
        bool ok = strlen(a) == 7 && a[0] == '#';
        for (int i = 1; ok && i < 7; i++)
            ok = (a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f') ||
                 (a[i] >= 'A' && a[i] <= 'F');
        if (!ok)
            return bad(c, kp, "expected a colour #RRGGBB");
        s->accent_rgb = (unsigned)strtoul(a + 1, NULL, 16);
        s->has |= SETTINGS_HAS_BRAND_ACCENT;
    }
    v = cJSON_GetObjectItemCaseSensitive(b, "logo_png");
    if (v) {
        sub(kp, p, "logo_png");
        if (!cJSON_IsString(v))
            return bad(c, kp, "expected base64 text");
        const char *cause = NULL;
        size_t len = 0;
        unsigned char *png = b64_decode(v->valuestring, SETTINGS_LOGO_MAX, &len, &cause);
        if (!png)
            return bad(c, kp, "%s", cause);
        static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        if (len < 8 || memcmp(png, sig, 8) != 0) {
            free(png);
            return bad(c, kp, "not a PNG image");
        }
        s->logo_png = png;
        s->logo_len = len;
        s->has |= SETTINGS_HAS_BRAND_LOGO;
    }
    return TP_OK;
}

static tp_err parse_obj(sctx *c, const cJSON *o, const char *jp, settings *s)
{
    static const char *const keys[] = {
        "timezone", "opening_hours", "languages", "default_language", "survey", "timing", "screen",
        "brand",    "stage",         NULL};
    tp_err rc = only_keys(c, o, jp, keys);
    if (rc != TP_OK)
        return rc;
    char p[JPATH_MAX];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "timezone");
    if (v) {
        sub(p, jp, "timezone");
        if (!cJSON_IsString(v))
            return bad(c, p, "expected an IANA time zone name (like Asia/Ho_Chi_Minh)");
        const char *cause = settings_check_timezone(v->valuestring);
        if (cause)
            return bad(c, p, "%s", cause);
        tp_strlcpy(s->timezone, v->valuestring, sizeof s->timezone);
        s->has |= SETTINGS_HAS_TIMEZONE;
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "opening_hours");
    if (v) {
        sub(p, jp, "opening_hours");
        if ((rc = parse_hours(c, v, p, s)) != TP_OK)
            return rc;
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "languages");
    if (v) {
        sub(p, jp, "languages");
        if ((rc = parse_langs(c, v, p, s)) != TP_OK)
            return rc;
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "default_language");
    if (v) {
        sub(p, jp, "default_language");
        if (!cJSON_IsString(v) || !tp_lang_valid(v->valuestring))
            return bad(c, p, "not a language tag (like vi or en)");
        tp_strlcpy(s->default_lang, v->valuestring, sizeof s->default_lang);
        s->has |= SETTINGS_HAS_DEFAULT_LANGUAGE;
        bool found = !(s->has & SETTINGS_HAS_LANGUAGES);
        for (int i = 0; i < s->n_langs && !found; i++)
            found = strcmp(s->langs[i], s->default_lang) == 0;
        if (!found)
            return bad(c, p, "'%s' is not one of $.languages", s->default_lang);
    }
    const cJSON *g = NULL;
    if ((rc = get_obj(c, o, jp, "survey", &g, p)) != TP_OK)
        return rc;
    if (g) {
        static const char *const sk[] = {"id", "version", NULL};
        if ((rc = only_keys(c, g, p, sk)) != TP_OK)
            return rc;
        char kp[JPATH_MAX];
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(g, "id");
        sub(kp, p, "id");
        if (!cJSON_IsString(id) || !tp_id_valid(id->valuestring))
            return bad(c, kp, "expected a survey id (1-64 characters of A-Z a-z 0-9 . _ -)");
        tp_strlcpy(s->survey_id, id->valuestring, sizeof s->survey_id);
        unsigned dummy = 0;
        if (!cJSON_GetObjectItemCaseSensitive(g, "version")) {
            sub(kp, p, "version");
            return bad(c, kp, "missing");
        }
        if ((rc = get_int(c, g, p, "version", 1, INT_MAX, &s->survey_version, &dummy, 1)) != TP_OK)
            return rc;
        s->has |= SETTINGS_HAS_SURVEY;
    }
    if ((rc = get_obj(c, o, jp, "timing", &g, p)) != TP_OK)
        return rc;
    if (g) {
        static const char *const tk[] = {"thankyou_s", "idle_timeout_s", "repeat_window_s", NULL};
        if ((rc = only_keys(c, g, p, tk)) != TP_OK ||
            (rc = get_int(c, g, p, "thankyou_s", SETTINGS_THANKYOU_MIN, SETTINGS_THANKYOU_MAX,
                          &s->thankyou_s, &s->has, SETTINGS_HAS_THANKYOU)) != TP_OK ||
            (rc = get_int(c, g, p, "idle_timeout_s", SETTINGS_IDLE_TIMEOUT_MIN,
                          SETTINGS_IDLE_TIMEOUT_MAX, &s->idle_timeout_s, &s->has,
                          SETTINGS_HAS_IDLE_TIMEOUT)) != TP_OK ||
            (rc = get_int(c, g, p, "repeat_window_s", SETTINGS_REPEAT_MIN, SETTINGS_REPEAT_MAX,
                          &s->repeat_window_s, &s->has, SETTINGS_HAS_REPEAT_WINDOW)) != TP_OK)
            return rc;
    }
    if ((rc = get_obj(c, o, jp, "screen", &g, p)) != TP_OK)
        return rc;
    if (g) {
        static const char *const sk[] = {"dim_after_s", "dim_level", NULL};
        if ((rc = only_keys(c, g, p, sk)) != TP_OK ||
            (rc = get_int(c, g, p, "dim_after_s", SETTINGS_DIM_AFTER_MIN, SETTINGS_DIM_AFTER_MAX,
                          &s->dim_after_s, &s->has, SETTINGS_HAS_DIM_AFTER)) != TP_OK ||
            (rc = get_int(c, g, p, "dim_level", SETTINGS_DIM_LEVEL_MIN, SETTINGS_DIM_LEVEL_MAX,
                          &s->dim_level, &s->has, SETTINGS_HAS_DIM_LEVEL)) != TP_OK)
            return rc;
    }
    if ((rc = get_obj(c, o, jp, "brand", &g, p)) != TP_OK)
        return rc;
    if (g && (rc = parse_brand(c, g, p, s)) != TP_OK)
        return rc;
    v = cJSON_GetObjectItemCaseSensitive(o, "stage");
    if (v) {
        sub(p, jp, "stage");
        const char *t = cJSON_IsString(v) ? v->valuestring : "";
        if (strcmp(t, "before") == 0)
            s->stage = SETTINGS_STAGE_BEFORE;
        else if (strcmp(t, "during") == 0)
            s->stage = SETTINGS_STAGE_DURING;
        else if (strcmp(t, "after") == 0)
            s->stage = SETTINGS_STAGE_AFTER;
        else
            return bad(c, p, "expected before, during or after");
        s->has |= SETTINGS_HAS_STAGE;
    }
    return TP_OK;
}

tp_err settings_parse_cjson(const cJSON *obj, const char *jpath, settings *out, char *err,
                            size_t errlen)
{
    sctx c = {err, errlen};
    memset(out, 0, sizeof *out);
    if (!jpath)
        jpath = "$.settings";
    if (!obj || cJSON_IsNull(obj))
        return TP_OK;
    if (!cJSON_IsObject(obj))
        return bad(&c, jpath, "expected an object");
    tp_err rc = parse_obj(&c, obj, jpath, out);
    if (rc != TP_OK)
        settings_release(out);
    return rc;
}

tp_err settings_parse(const char *json, size_t len, settings *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len > SETTINGS_JSON_MAX)
        return tp_errf(err, errlen, TP_ERR_TOO_LARGE, "$.settings: over %d bytes",
                       SETTINGS_JSON_MAX);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return tp_errf(err, errlen, TP_ERR_CONFIG, "$.settings: not valid JSON");
    tp_err rc = settings_parse_cjson(root, "$.settings", out, err, errlen);
    cJSON_Delete(root);
    return rc;
}

void settings_release(settings *s)
{
    if (!s)
        return;
    free(s->logo_png);
    memset(s, 0, sizeof *s);
}
