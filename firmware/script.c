/*
 * script.c - parser of the kiosk's scripted input harness (script.h).
 */
#include "script.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const KEYS[] = {"escape", "alt+f4", "ctrl+q", "quit", "close"};

typedef struct op_def {
    const char *name;
    script_op op;
    const char *usage;
} op_def;

static const op_def OPS[] = {
    {"tap", SCRIPT_TAP, "tap WIDGET_ID"},
    {"tap-at", SCRIPT_TAP_AT, "tap-at X Y"},
    {"hold", SCRIPT_HOLD, "hold X Y MS"},
    {"advance", SCRIPT_ADVANCE, "advance MS"},
    {"key", SCRIPT_KEY, "key NAME"},
    {"screenshot", SCRIPT_SCREENSHOT, "screenshot PATH"},
    {"expect-screen", SCRIPT_EXPECT_SCREEN, "expect-screen NAME"},
    {"stall", SCRIPT_STALL, "stall MS"},
    {"press", SCRIPT_PRESS, "press NAME"},
    {"release", SCRIPT_RELEASE, "release NAME"},
};
#define N_OPS (sizeof OPS / sizeof OPS[0])

const char *script_op_name(script_op op)
{
    for (size_t i = 0; i < N_OPS; i++)
        if (OPS[i].op == op)
            return OPS[i].name;
    return "?";
}

bool script_key_known(const char *name)
{
    for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++)
        if (strcmp(KEYS[i], name) == 0)
            return true;
    return false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Splits s into at most max whitespace-separated tokens (start, length). Returns the count, or
 * max + 1 when there are more. */
static int split(const char *s, const char **tok, size_t *len, int max)
{
    int n = 0;
    for (;;) {
        while (is_space(*s))
            s++;
        if (!*s)
            return n;
        if (n == max)
            return max + 1;
        tok[n] = s;
        while (*s && !is_space(*s))
            s++;
        len[n] = (size_t)(s - tok[n]);
        n++;
    }
}

static bool parse_num(const char *s, size_t len, long lo, long hi, int *out)
{
    char buf[24];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return false;
    errno = 0;
    long v = strtol(buf, NULL, 10);
    if (errno || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

tp_err script_parse_line(const char *file, int lineno, const char *line, script_cmd *out,
                         bool *is_cmd, char *err, size_t errlen)
{
    const char *tok[5];
    size_t len[5];

    *is_cmd = false;
    if (strlen(line) > SCRIPT_LINE_MAX)
        return tp_errf(err, errlen, TP_ERR_INVALID, "%s:%d: line too long (at most %d bytes)", file,
                       lineno, SCRIPT_LINE_MAX);
    const char *p = line;
    while (is_space(*p))
        p++;
    if (*p == '\0' || *p == '#')
        return TP_OK;
    int n = split(p, tok, len, 4);
    const op_def *d = NULL;
    for (size_t i = 0; i < N_OPS; i++)
        if (strlen(OPS[i].name) == len[0] && memcmp(OPS[i].name, tok[0], len[0]) == 0)
            d = &OPS[i];
    if (!d)
        return tp_errf(err, errlen, TP_ERR_INVALID, "%s:%d: unknown command '%.*s'", file, lineno,
                       (int)(len[0] > 40 ? 40 : len[0]), tok[0]);
    memset(out, 0, sizeof *out);
    out->op = d->op;
    out->line = lineno;

    int want = 0;
    switch (d->op) {
    case SCRIPT_TAP:
    case SCRIPT_KEY:
    case SCRIPT_EXPECT_SCREEN:
    case SCRIPT_PRESS:
    case SCRIPT_RELEASE: want = 1; break;
    case SCRIPT_ADVANCE:
    case SCRIPT_STALL: want = 1; break;
    case SCRIPT_TAP_AT: want = 2; break;
    case SCRIPT_HOLD: want = 3; break;
    case SCRIPT_SCREENSHOT: want = -1; break; /* the rest of the line */
    }
    if (want >= 0 && n - 1 != want)
        return tp_errf(err, errlen, TP_ERR_INVALID, "%s:%d: %s: expected `%s`", file, lineno,
                       d->name, d->usage);

    switch (d->op) {
    case SCRIPT_TAP:
    case SCRIPT_KEY:
    case SCRIPT_EXPECT_SCREEN:
    case SCRIPT_PRESS:
    case SCRIPT_RELEASE:
        if (len[1] > 64)
            return tp_errf(err, errlen, TP_ERR_INVALID, "%s:%d: %s: argument too long", file,
                           lineno, d->name);
        memcpy(out->arg, tok[1], len[1]);
        out->arg[len[1]] = '\0';
        if (d->op == SCRIPT_KEY && !script_key_known(out->arg))
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "%s:%d: key: unknown key '%s' (escape, alt+f4, ctrl+q, quit, close)",
                           file, lineno, out->arg);
        if ((d->op == SCRIPT_PRESS || d->op == SCRIPT_RELEASE) && !tp_id_valid(out->arg))
            return tp_errf(err, errlen, TP_ERR_INVALID, "%s:%d: %s: '%s' is not an input name",
                           file, lineno, d->name, out->arg);
        if (d->op == SCRIPT_TAP && !tp_id_valid(out->arg))
            return tp_errf(err, errlen, TP_ERR_INVALID, "%s:%d: tap: '%s' is not a widget id", file,
                           lineno, out->arg);
        break;
    case SCRIPT_ADVANCE:
        if (!parse_num(tok[1], len[1], 0, SCRIPT_MAX_MS, &out->ms))
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "%s:%d: advance: MS must be a whole number 0..%d", file, lineno,
                           SCRIPT_MAX_MS);
        break;
    case SCRIPT_STALL:
        if (!parse_num(tok[1], len[1], 0, SCRIPT_MAX_STALL_MS, &out->ms))
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "%s:%d: stall: MS must be a whole number 0..%d", file, lineno,
                           SCRIPT_MAX_STALL_MS);
        break;
    case SCRIPT_TAP_AT:
    case SCRIPT_HOLD:
        if (!parse_num(tok[1], len[1], 0, 65535, &out->x) ||
            !parse_num(tok[2], len[2], 0, 65535, &out->y))
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "%s:%d: %s: X and Y must be whole numbers 0..65535", file, lineno,
                           d->name);
        if (d->op == SCRIPT_HOLD && !parse_num(tok[3], len[3], 0, SCRIPT_MAX_MS, &out->ms))
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "%s:%d: hold: MS must be a whole number 0..%d", file, lineno,
                           SCRIPT_MAX_MS);
        break;
    case SCRIPT_SCREENSHOT: {
        if (n < 2)
            return tp_errf(err, errlen, TP_ERR_INVALID, "%s:%d: screenshot: expected `%s`", file,
                           lineno, d->usage);
        const char *a = tok[1];
        size_t l = strlen(a);
        while (l > 0 && is_space(a[l - 1]))
            l--;
        if (l > SCRIPT_ARG_MAX)
            return tp_errf(err, errlen, TP_ERR_INVALID, "%s:%d: screenshot: path too long", file,
                           lineno);
        memcpy(out->arg, a, l);
        out->arg[l] = '\0';
        break;
    }
    }
    *is_cmd = true;
    return TP_OK;
}

tp_err script_parse(const char *file, const char *text, size_t len, script **out, char *err,
                    size_t errlen)
{
    script *s = NULL;
    char *line = NULL;
    tp_err rc = TP_OK;
    size_t cap = 0;

    *out = NULL;
    s = calloc(1, sizeof *s);
    line = malloc(SCRIPT_LINE_MAX + 2);
    if (!s || !line) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "%s: out of memory", file);
        goto out;
    }
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        lineno++;
        size_t l = end - pos;
        if (l > SCRIPT_LINE_MAX) {
            rc = tp_errf(err, errlen, TP_ERR_INVALID, "%s:%d: line too long (at most %d bytes)",
                         file, lineno, SCRIPT_LINE_MAX);
            goto out;
        }
        if (memchr(text + pos, '\0', l)) {
            rc = tp_errf(err, errlen, TP_ERR_INVALID, "%s:%d: NUL byte in line", file, lineno);
            goto out;
        }
        memcpy(line, text + pos, l);
        line[l] = '\0';
        pos = end + 1;

        script_cmd cmd;
        bool is_cmd = false;
        rc = script_parse_line(file, lineno, line, &cmd, &is_cmd, err, errlen);
        if (rc != TP_OK)
            goto out;
        if (!is_cmd)
            continue;
        if (s->n == SCRIPT_MAX_CMDS) {
            rc = tp_errf(err, errlen, TP_ERR_TOO_LARGE, "%s:%d: more than %d commands", file,
                         lineno, SCRIPT_MAX_CMDS);
            goto out;
        }
        if (tp_array_grow((void **)&s->cmds, &cap, s->n + 1, sizeof *s->cmds, SCRIPT_MAX_CMDS) !=
            TP_OK) {
            rc = tp_errf(err, errlen, TP_ERR_NOMEM, "%s: out of memory", file);
            goto out;
        }
        s->cmds[s->n++] = cmd;
    }
    *out = s;
    s = NULL;
out:
    free(line);
    script_free(s);
    return rc;
}

tp_err script_load(const char *path, script **out, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t n = 0;
    *out = NULL;
    /* Bounded: a script never needs more than about 64 bytes per command. */
    tp_err rc = tp_read_file(path, (size_t)SCRIPT_MAX_CMDS * 64, &buf, &n, err, errlen);
    if (rc == TP_OK)
        rc = script_parse(path, buf, n, out, err, errlen);
    free(buf);
    return rc;
}

void script_free(script *s)
{
    if (!s)
        return;
    free(s->cmds);
    free(s);
}
