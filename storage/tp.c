/*
 * tp.c - base layer: error names, kinds, the system and virtual clocks, UUIDv7, strings, time,
 * byte sizes, NPS, bounded buffers and the bounded file reader.
 */
#include "tp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

/* ---- Errors --------------------------------------------------------------------------------- */

const char *tp_strerror(tp_err rc)
{
    /* No default: the compiler warns (-Wswitch, an error with -Werror) when a code is missing. */
    switch (rc) {
    case TP_OK: return "ok";
    case TP_ERR_NOMEM: return "out of memory";
    case TP_ERR_INVALID: return "invalid value";
    case TP_ERR_IO: return "input/output error";
    case TP_ERR_DISK_FULL: return "disk full";
    case TP_ERR_READONLY: return "read-only or permission denied";
    case TP_ERR_LOCKED: return "database locked by another process";
    case TP_ERR_CORRUPT: return "file is corrupt";
    case TP_ERR_TOO_NEW: return "made by a newer version of this program";
    case TP_ERR_NOT_FOUND: return "not found";
    case TP_ERR_CONFIG: return "invalid configuration";
    case TP_ERR_SURVEY: return "invalid survey definition";
    case TP_ERR_NETWORK: return "network error";
    case TP_ERR_PROTOCOL: return "protocol error";
    case TP_ERR_AUTH: return "authentication failed";
    case TP_ERR_BUSY: return "busy, try again later";
    case TP_ERR_EXISTS: return "already exists";
    case TP_ERR_TOO_LARGE: return "too large";
    case TP_ERR_UNSUPPORTED: return "not supported";
    case TP_ERR_INTERNAL: return "internal error";
    }
    return "unknown error";
}

const char *tp_err_name(tp_err rc)
{
    switch (rc) {
    case TP_OK: return "ok";
    case TP_ERR_NOMEM: return "nomem";
    case TP_ERR_INVALID: return "invalid";
    case TP_ERR_IO: return "io";
    case TP_ERR_DISK_FULL: return "disk_full";
    case TP_ERR_READONLY: return "readonly";
    case TP_ERR_LOCKED: return "locked";
    case TP_ERR_CORRUPT: return "corrupt";
    case TP_ERR_TOO_NEW: return "too_new";
    case TP_ERR_NOT_FOUND: return "not_found";
    case TP_ERR_CONFIG: return "config";
    case TP_ERR_SURVEY: return "survey";
    case TP_ERR_NETWORK: return "network";
    case TP_ERR_PROTOCOL: return "protocol";
    case TP_ERR_AUTH: return "auth";
    case TP_ERR_BUSY: return "busy";
    case TP_ERR_EXISTS: return "exists";
    case TP_ERR_TOO_LARGE: return "too_large";
    case TP_ERR_UNSUPPORTED: return "unsupported";
    case TP_ERR_INTERNAL: return "internal";
    }
    return "unknown";
}

tp_err tp_err_from_errno(int errnum)
{
    switch (errnum) {
    case 0: return TP_OK;
    case ENOMEM: return TP_ERR_NOMEM;
    case ENOSPC:
    case EDQUOT:
    case EFBIG: return TP_ERR_DISK_FULL;
    case EROFS:
    case EACCES:
    case EPERM: return TP_ERR_READONLY;
    case ENOENT:
    case ENOTDIR: return TP_ERR_NOT_FOUND;
    case EEXIST:
    case ELOOP: return TP_ERR_EXISTS;
    case EINVAL:
    case ENAMETOOLONG: return TP_ERR_INVALID;
    case EBUSY:
    case EAGAIN: return TP_ERR_BUSY;
    default: return TP_ERR_IO;
    }
}

tp_err tp_errf(char *err, size_t errlen, tp_err rc, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- Kinds ---------------------------------------------------------------------------------- */

static const char *const kind_names[TP_KIND_COUNT] = {"nps", "csat", "ces", "smiley4", "choice"};

const char *tp_kind_name(tp_kind k)
{
    return ((unsigned)k < TP_KIND_COUNT) ? kind_names[k] : "?";
}

tp_err tp_kind_parse(const char *name, tp_kind *out)
{
    for (int i = 0; name && i < TP_KIND_COUNT; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (tp_kind)i;
            return TP_OK;
        }
    }
    return TP_ERR_INVALID;
}

tp_err tp_kind_range(tp_kind k, int *lo, int *hi)
{
    static const int ranges[TP_KIND_COUNT][2] = {{0, 10}, {1, 5}, {1, 7}, {1, 4}, {0, -1}};
    if ((unsigned)k >= TP_KIND_COUNT || k == TP_KIND_CHOICE)
        return TP_ERR_INVALID;
    *lo = ranges[k][0];
    *hi = ranges[k][1];
    return TP_OK;
}

bool tp_id_valid(const char *s)
{
    size_t n = 0;
    if (!s)
        return false;
    for (; s[n]; n++) {
        char c = s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok || n >= TP_ID_MAX)
            return false;
    }
    return n > 0;
}

bool tp_lang_valid(const char *s)
{
    size_t n = 0;
    if (!s)
        return false;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-') || n >= TP_LANG_MAX)
            return false;
    }
    return n >= 2;
}

bool tp_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t need;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3, min = 0x10000, c &= 0x07;
        } else {
            return false;
        }
        if (len - i <= need)
            return false;
        for (size_t j = 1; j <= need; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            c = (c << 6) | (s[i + j] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return false;
        i += need + 1;
    }
    return true;
}

/* ---- Clocks --------------------------------------------------------------------------------- */

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t sys_wall(void *ctx)
{
    (void)ctx;
    return clock_ms(CLOCK_REALTIME);
}

static int64_t sys_mono(void *ctx)
{
    (void)ctx;
    return clock_ms(CLOCK_BOOTTIME);
}

/* The kernel clears STA_UNSYNC once an NTP client (systemd-timesyncd, chrony) disciplines the
 * clock; this is what `timedatectl` reports as "System clock synchronized". */
static bool sys_synced(void *ctx)
{
    struct timex tx;
    (void)ctx;
    memset(&tx, 0, sizeof tx);
    int state = adjtimex(&tx);
    return state != TIME_ERROR && state != -1 && !(tx.status & STA_UNSYNC);
}

static char sys_boot[TP_UUID_STR];
static pthread_once_t sys_boot_once = PTHREAD_ONCE_INIT;

static void sys_boot_read(void)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    if (f) {
        if (!fgets(sys_boot, sizeof sys_boot, f))
            sys_boot[0] = '\0';
        fclose(f);
    }
    sys_boot[strcspn(sys_boot, "\n")] = '\0';
    if (!tp_uuid_valid(sys_boot))
        tp_strlcpy(sys_boot, "00000000-0000-0000-0000-000000000000", sizeof sys_boot);
}

static const char *sys_boot_id(void *ctx)
{
    (void)ctx;
    pthread_once(&sys_boot_once, sys_boot_read);
    return sys_boot;
}

const tp_clock *tp_clock_system(void)
{
    static const tp_clock sys = {sys_wall, sys_mono, sys_synced, sys_boot_id, NULL};
    return &sys;
}

static int64_t v_wall(void *ctx)
{
    return ((tp_vclock *)ctx)->wall;
}
static int64_t v_mono(void *ctx)
{
    return ((tp_vclock *)ctx)->mono;
}
static bool v_synced(void *ctx)
{
    return ((tp_vclock *)ctx)->is_synced;
}
static const char *v_boot(void *ctx)
{
    return ((tp_vclock *)ctx)->boot;
}

void tp_vclock_init(tp_vclock *vc, int64_t wall_ms)
{
    memset(vc, 0, sizeof *vc);
    vc->clock = (tp_clock){v_wall, v_mono, v_synced, v_boot, vc};
    vc->wall = wall_ms;
    vc->is_synced = true;
    tp_strlcpy(vc->boot, "0b0b0b0b-0000-4000-8000-000000000001", sizeof vc->boot);
}

void tp_vclock_advance(tp_vclock *vc, int64_t ms)
{
    vc->wall += ms;
    vc->mono += ms;
}

/* ---- Ids ------------------------------------------------------------------------------------ */

tp_err tp_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return TP_ERR_IO;
        }
        p += got;
        n -= (size_t)got;
    }
    return TP_OK;
}

static pthread_mutex_t uuid7_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t uuid7_last_ms = -1;
static unsigned uuid7_counter;

tp_err tp_uuid7_new(const tp_clock *clk, char out[TP_UUID_STR])
{
    uuid_t u = {0}; /* filled by tp_random_bytes (cppcheck cannot see it) */
    if (!clk)
        clk = tp_clock_system();
    if (tp_random_bytes(u, sizeof u) != TP_OK)
        return TP_ERR_IO;
    int64_t ms = clk->wall_ms(clk->ctx);
    if (ms < 0)
        ms = 0;

    /* Method 1 of RFC 9562 6.2: rand_a is a 12-bit counter, seeded with 11 random bits (leaving
     * room to count) at each new millisecond. If the clock stands still or steps back, keep the
     * last millisecond and count up; on counter overflow, borrow the next millisecond. */
    pthread_mutex_lock(&uuid7_lock);
    if (ms > uuid7_last_ms) {
        uuid7_last_ms = ms;
        uuid7_counter = ((unsigned)u[6] << 8 | u[7]) & 0x7FF;
    } else if (++uuid7_counter > 0xFFF) {
        uuid7_last_ms++;
        uuid7_counter = 0;
    }
    ms = uuid7_last_ms;
    unsigned counter = uuid7_counter;
    pthread_mutex_unlock(&uuid7_lock);

    for (int i = 0; i < 6; i++)
        u[i] = (unsigned char)((uint64_t)ms >> (40 - 8 * i));
    u[6] = (unsigned char)(0x70 | (counter >> 8)); /* version 7 */
    u[7] = (unsigned char)(counter & 0xFF);
    u[8] = (unsigned char)(0x80 | (u[8] & 0x3F)); /* variant 10 */
    uuid_unparse_lower(u, out);
    return TP_OK;
}

tp_err tp_uuid4_new(char out[TP_UUID_STR])
{
    uuid_t u = {0};
    if (tp_random_bytes(u, sizeof u) != TP_OK)
        return TP_ERR_IO;
    u[6] = (unsigned char)(0x40 | (u[6] & 0x0F));
    u[8] = (unsigned char)(0x80 | (u[8] & 0x3F));
    uuid_unparse_lower(u, out);
    return TP_OK;
}

bool tp_uuid_valid(const char *s)
{
    uuid_t u;
    return s && strlen(s) == 36 && uuid_parse(s, u) == 0;
}

/* ---- Strings and time ----------------------------------------------------------------------- */

uint64_t tp_hash_str(const char *s)
{
    return tp_hash_mem(s, strlen(s));
}

uint64_t tp_hash_mem(const void *p, size_t n)
{
    /* Eight bytes per step (the rollups hash a few 60-100 byte keys per answer), then the
     * finaliser of MurmurHash3 so that the low bits the tables mask with are well mixed. */
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)n, w;
    for (; n >= 8; n -= 8, s += 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 33);
}

tp_err tp_strlcpy(char *dst, const char *src, size_t dstlen)
{
    if (dstlen == 0)
        return TP_ERR_TOO_LARGE;
    size_t n = strlen(src);
    if (n >= dstlen) {
        memcpy(dst, src, dstlen - 1);
        dst[dstlen - 1] = '\0';
        return TP_ERR_TOO_LARGE;
    }
    memcpy(dst, src, n + 1);
    return TP_OK;
}

static void split_ms(int64_t ms, time_t *sec, int *milli)
{
    int64_t s = ms / 1000, m = ms % 1000;
    if (m < 0) {
        m += 1000;
        s--;
    }
    *sec = (time_t)s;
    *milli = (int)m;
}

void tp_format_utc(int64_t ms, char *out, size_t outlen)
{
    time_t sec;
    int milli;
    struct tm tm;
    split_ms(ms, &sec, &milli);
    gmtime_r(&sec, &tm);
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, milli);
}

void tp_format_local(int64_t ms, char *out, size_t outlen)
{
    time_t sec;
    int milli;
    struct tm tm;
    split_ms(ms, &sec, &milli);
    localtime_r(&sec, &tm);
    long off = tm.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02ld:%02ld", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, milli, sign, off / 3600,
             (off % 3600) / 60);
}

tp_err tp_parse_date_local(const char *s, int64_t *out_ms)
{
    int y, m, d;
    char tail;
    if (!s || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || strlen(s) != 10)
        return TP_ERR_INVALID;
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
        return TP_ERR_INVALID;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1};
    time_t t = mktime(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d) /* mktime normalised e.g. Feb 30 */
        return TP_ERR_INVALID;
    *out_ms = (int64_t)t * 1000;
    return TP_OK;
}

int64_t tp_local_day_start(int64_t ms, char day[11])
{
    time_t sec;
    int milli;
    struct tm tm;
    split_ms(ms, &sec, &milli);
    localtime_r(&sec, &tm);
    if (day)
        snprintf(day, 11, "%04u-%02u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
                 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm) * 1000;
}

/* ---- Sizes ---------------------------------------------------------------------------------- */

void tp_format_bytes(int64_t bytes, bool round_up, char *out, size_t outlen)
{
    if (bytes < 0) {
        snprintf(out, outlen, "?");
        return;
    }
    if (bytes < 1000) {
        snprintf(out, outlen, "%" PRId64 " B", bytes);
        return;
    }
    if (bytes < INT64_C(1000) * 1000) {
        int64_t k = round_up ? (bytes + 999) / 1000 : bytes / 1000;
        if (k < 1000) {
            snprintf(out, outlen, "%" PRId64 " kB", k);
            return;
        }
    }
    /* Tenths of the unit, in integers so rounding is exact and the direction is ours. */
    int64_t unit = bytes < INT64_C(1000) * 1000 * 1000 ? INT64_C(100000) : INT64_C(100000000);
    const char *name = unit == INT64_C(100000) ? "MB" : "GB";
    int64_t r = round_up ? bytes / unit + (bytes % unit != 0) : bytes / unit;
    if (unit == INT64_C(100000) && r >= 10000) { /* 999.95 MB rounded up reads as GB */
        unit = INT64_C(100000000);
        name = "GB";
        r = round_up ? bytes / unit + (bytes % unit != 0) : bytes / unit;
    }
    snprintf(out, outlen, "%" PRId64 ".%" PRId64 " %s", r / 10, r % 10, name);
}

/* ---- NPS ------------------------------------------------------------------------------------ */

tp_nps_band tp_nps_band_of(int v)
{
    return v >= 9 ? TP_NPS_PROMOTER : v >= 7 ? TP_NPS_PASSIVE : TP_NPS_DETRACTOR;
}

void tp_nps_compute(const int64_t dist[11], tp_nps *out)
{
    memset(out, 0, sizeof *out);
    for (int v = 0; v <= 10; v++) {
        out->n += dist[v];
        switch (tp_nps_band_of(v)) {
        case TP_NPS_PROMOTER: out->promoters += dist[v]; break;
        case TP_NPS_PASSIVE: out->passives += dist[v]; break;
        case TP_NPS_DETRACTOR: out->detractors += dist[v]; break;
        }
    }
    double np = (double)out->n + 3.0;
    double p = ((double)out->promoters + 0.75) / np;
    double d = ((double)out->detractors + 0.75) / np;
    double var = (p + d - (p - d) * (p - d)) / np;
    out->moe = 100.0 * 1.96 * sqrt(var);
    if (out->n > 0)
        out->score = 100.0 * (double)(out->promoters - out->detractors) / (double)out->n;
}

/* ---- Growable buffers ----------------------------------------------------------------------- */

void tp_buf_init(tp_buf *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

tp_err tp_buf_reserve(tp_buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return TP_ERR_TOO_LARGE;
    size_t need = b->len + n + 1; /* + NUL */
    if (need <= b->cap)
        return TP_OK;
    size_t nc = b->cap ? b->cap : 64;
    while (nc < need)
        nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    if (nc > b->max + 1)
        nc = b->max + 1; /* never more than the maximum needs */
    char *np = realloc(b->p, nc);
    if (!np)
        return TP_ERR_NOMEM;
    b->p = np;
    b->cap = nc;
    b->p[b->len] = '\0';
    return TP_OK;
}

void tp_buf_commit(tp_buf *b, size_t n)
{
    b->len += n;
    b->p[b->len] = '\0';
}

tp_err tp_buf_add(tp_buf *b, const void *data, size_t n)
{
    tp_err rc = tp_buf_reserve(b, n);
    if (rc != TP_OK)
        return rc;
    if (n)
        memcpy(b->p + b->len, data, n);
    tp_buf_commit(b, n);
    return TP_OK;
}

tp_err tp_buf_addf(tp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return TP_ERR_INVALID;
    tp_err rc = tp_buf_reserve(b, (size_t)n);
    if (rc != TP_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    tp_buf_commit(b, (size_t)n);
    return TP_OK;
}

void tp_buf_reset(tp_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

char *tp_buf_take(tp_buf *b)
{
    char *p = b->p ? b->p : strdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void tp_buf_free(tp_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

tp_err tp_array_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t max_items)
{
    if (need <= *cap)
        return TP_OK;
    if (need > max_items || elem == 0 || need > SIZE_MAX / elem)
        return TP_ERR_TOO_LARGE;
    size_t nc = *cap ? *cap : 8;
    while (nc < need)
        nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    if (nc > max_items)
        nc = max_items;
    if (nc > SIZE_MAX / elem)
        nc = need;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return TP_ERR_NOMEM;
    *arr = p;
    *cap = nc;
    return TP_OK;
}

/* ---- Files ---------------------------------------------------------------------------------- */

tp_err tp_read_fd(int fd, const char *name, size_t max, char **out, size_t *out_len, char *err,
                  size_t errlen)
{
    struct stat st;
    tp_buf b;
    tp_err rc;
    *out = NULL;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        return tp_errf(err, errlen, tp_err_from_errno(e), "%s: %s", name, strerror(e));
    }
    if (!S_ISREG(st.st_mode))
        return tp_errf(err, errlen, TP_ERR_INVALID, "%s: not a regular file", name);
    if ((uint64_t)st.st_size > (uint64_t)max)
        return tp_errf(err, errlen, TP_ERR_TOO_LARGE,
                       "%s: %" PRId64 " bytes, more than the %zu allowed", name,
                       (int64_t)st.st_size, max);
    tp_buf_init(&b, max);
    for (;;) { /* the size can change under us: read to EOF, within max */
        rc = tp_buf_reserve(&b, 4096 < max - b.len ? 4096 : max - b.len);
        if (rc == TP_OK && b.len == max) {
            char probe;
            ssize_t n = read(fd, &probe, 1);
            if (n == 0)
                break;
            rc = n > 0 ? TP_ERR_TOO_LARGE : tp_err_from_errno(errno);
        }
        if (rc != TP_OK) {
            tp_buf_free(&b);
            return tp_errf(err, errlen, rc, "%s: %s", name,
                           rc == TP_ERR_TOO_LARGE ? "grew beyond the size allowed"
                                                  : tp_strerror(rc));
        }
        size_t room = b.cap - b.len - 1;
        ssize_t n = read(fd, b.p + b.len, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            tp_buf_free(&b);
            return tp_errf(err, errlen, tp_err_from_errno(e), "%s: %s", name, strerror(e));
        }
        if (n == 0)
            break;
        tp_buf_commit(&b, (size_t)n);
    }
    if (out_len)
        *out_len = b.len;
    *out = tp_buf_take(&b);
    return *out ? TP_OK : tp_errf(err, errlen, TP_ERR_NOMEM, "%s: out of memory", name);
}

tp_err tp_read_file(const char *path, size_t max, char **out, size_t *out_len, char *err,
                    size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        return tp_errf(err, errlen, e == ENOENT ? TP_ERR_NOT_FOUND : tp_err_from_errno(e), "%s: %s",
                       path, strerror(e));
    }
    tp_err rc = tp_read_fd(fd, path, max, out, out_len, err, errlen);
    close(fd);
    return rc;
}
