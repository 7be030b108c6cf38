/*
 * tp.h - the project's base layer: one error enum, answer kinds, the clock ops table, UUIDv7 ids,
 * small string/time helpers, byte sizes, NPS arithmetic, bounded buffers and a bounded file reader.
 *
 * Every other module (storage, ui, sync, firmware) includes this header; it includes nothing of
 * theirs. It lives in storage/ because storage is the bottom of the call graph ("calls go down
 * only"); it has no SQLite in it.
 *
 * Thread-safety: every function here is safe to call from several threads, except that a
 * tp_vclock must not be changed while another thread reads it.
 */
#ifndef TP_H
#define TP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Errors ------------------------------------------------------------------------------- */

/* One error enum for the whole project. 0 is success. Numbers are never reused or renumbered:
 * new codes go at the end. tp_strerror() has a case for every code. */
typedef enum tp_err {
    TP_OK = 0,
    TP_ERR_NOMEM = 1,        /* an allocation failed */
    TP_ERR_INVALID = 2,      /* an argument or value is out of range or malformed */
    TP_ERR_IO = 3,           /* read/write/fsync failed (EIO, removed medium, ...) */
    TP_ERR_DISK_FULL = 4,    /* no space left (or below the configured reserve) */
    TP_ERR_READONLY = 5,     /* file or directory cannot be written */
    TP_ERR_LOCKED = 6,       /* another process holds the database longer than the timeout */
    TP_ERR_CORRUPT = 7,      /* a database or file failed its integrity check */
    TP_ERR_TOO_NEW = 8,      /* a database made by a newer version of this program */
    TP_ERR_NOT_FOUND = 9,    /* no such file, row, session or key */
    TP_ERR_CONFIG = 10,      /* a configuration file is invalid */
    TP_ERR_SURVEY = 11,      /* a survey definition is invalid */
    TP_ERR_NETWORK = 12,     /* connection failed, timed out or was cut */
    TP_ERR_PROTOCOL = 13,    /* the peer's reply is not what the protocol says */
    TP_ERR_AUTH = 14,        /* authentication failed (bad token, PIN, certificate) */
    TP_ERR_BUSY = 15,        /* try again later (rate limited, server unavailable) */
    TP_ERR_EXISTS = 16,      /* the target already exists and must not be overwritten */
    TP_ERR_TOO_LARGE = 17,   /* a bound was exceeded (body, batch, string, file size) */
    TP_ERR_UNSUPPORTED = 18, /* the request is valid but not supported here */
    TP_ERR_INTERNAL = 19,    /* a bug: an invariant did not hold */
} tp_err;

/* Returns a static, human-readable description of rc. Never NULL. */
const char *tp_strerror(tp_err rc);

/* Returns a stable, machine-readable name for rc ("disk_full", ...). Never NULL. */
const char *tp_err_name(tp_err rc);

/* Maps an errno value to the closest tp_err (ENOSPC -> DISK_FULL, EROFS/EACCES -> READONLY, ...).
 */
tp_err tp_err_from_errno(int errnum);

/* Largest message a module stores for its last error. */
#define TP_ERRMSG_MAX 512

/* Formats into err (size errlen) like snprintf; a NULL err or zero errlen is allowed (no-op).
 * Returns rc so callers can write `return tp_errf(err, n, TP_ERR_INVALID, "...")`. */
tp_err tp_errf(char *err, size_t errlen, tp_err rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- Answer kinds --------------------------------------------------------------------------- */

typedef enum tp_kind {
    TP_KIND_NPS = 0,     /* 0..10 */
    TP_KIND_CSAT = 1,    /* 1..5 */
    TP_KIND_CES = 2,     /* 1..7 */
    TP_KIND_SMILEY4 = 3, /* 1..4 (1 = very unhappy, 4 = very happy) */
    TP_KIND_CHOICE = 4,  /* a choice id (string), no numeric value */
} tp_kind;
#define TP_KIND_COUNT 5

/* Returns "nps", "csat", "ces", "smiley4" or "choice"; "?" for an invalid value. */
const char *tp_kind_name(tp_kind k);

/* Parses a kind name. Returns TP_OK or TP_ERR_INVALID. */
tp_err tp_kind_parse(const char *name, tp_kind *out);

/* Smallest and largest valid numeric value of a rating kind. Returns TP_ERR_INVALID for choice. */
tp_err tp_kind_range(tp_kind k, int *lo, int *hi);

/* Answer flags (bit set, stored as given). */
#define TP_FLAG_RAPID_REPEAT 0x1u /* a new rating soon after the previous thank-you */
#define TP_FLAG_BUTTON 0x2u       /* came from a physical button, not the touchscreen */
#define TP_FLAGS_KNOWN 0x3u

/* Bounds on identifiers and names everywhere (survey, question, choice, store, touchpoint ids). */
#define TP_ID_MAX 64   /* bytes, excluding NUL */
#define TP_LANG_MAX 8  /* "vi", "en", "pt-BR" */
#define TP_UUID_STR 37 /* 36 characters + NUL */

/* Returns true when s is a valid id: 1..TP_ID_MAX bytes of [A-Za-z0-9._-]. */
bool tp_id_valid(const char *s);

/* Returns true when s is a valid language tag: 2..TP_LANG_MAX bytes of [a-zA-Z-]. */
bool tp_lang_valid(const char *s);

/* Returns true when the len bytes at s are well-formed UTF-8 (no overlongs, no surrogates). */
bool tp_utf8_valid(const char *s, size_t len);

/* ---- Clock ---------------------------------------------------------------------------------- */

/* The outside world's time behind an ops table, so tests and the kiosk's scripted mode run on a
 * virtual clock. */
typedef struct tp_clock {
    int64_t (*wall_ms)(void *ctx);     /* UTC milliseconds since the Unix epoch */
    int64_t (*mono_ms)(void *ctx);     /* milliseconds since boot (CLOCK_BOOTTIME) */
    bool (*synced)(void *ctx);         /* true when the wall clock is NTP-synchronised */
    const char *(*boot_id)(void *ctx); /* this boot's id (36-char UUID string) */
    void *ctx;
} tp_clock;

/* Returns the process-wide system clock: CLOCK_REALTIME, CLOCK_BOOTTIME, adjtimex() for the sync
 * state and /proc/sys/kernel/random/boot_id. Static storage; never freed. */
const tp_clock *tp_clock_system(void);

/* A virtual clock for tests and scripts: set the fields, then use &vc->clock. */
typedef struct tp_vclock {
    tp_clock clock;
    int64_t wall;
    int64_t mono;
    bool is_synced;
    char boot[TP_UUID_STR];
} tp_vclock;

/* Initialises vc at the given wall time with mono = 0, synced = true and a fixed boot id. */
void tp_vclock_init(tp_vclock *vc, int64_t wall_ms);

/* Moves both clocks of vc forward by ms. */
void tp_vclock_advance(tp_vclock *vc, int64_t ms);

/* ---- Ids ------------------------------------------------------------------------------------ */

/* Writes a new UUIDv7 (RFC 9562 section 5.7) as 36 lowercase characters + NUL into out, using
 * clk->wall_ms (or the system clock when clk is NULL) and getrandom(). Ids made by one process are
 * strictly increasing even when the clock stands still or steps back (RFC 9562 6.2, method 1: the
 * 12-bit rand_a field is a counter seeded randomly each millisecond). Returns TP_OK or TP_ERR_IO.
 */
tp_err tp_uuid7_new(const tp_clock *clk, char out[TP_UUID_STR]);

/* Writes a new random UUIDv4 into out. Returns TP_OK or TP_ERR_IO. */
tp_err tp_uuid4_new(char out[TP_UUID_STR]);

/* Returns true when s is a UUID string of any version (parsed with libuuid). */
bool tp_uuid_valid(const char *s);

/* Fills buf with n cryptographically random bytes (getrandom). Returns TP_OK or TP_ERR_IO. */
tp_err tp_random_bytes(void *buf, size_t n);

/* ---- Strings and time ----------------------------------------------------------------------- */

/* Copies src into dst (size dstlen) always NUL-terminating. Returns TP_ERR_TOO_LARGE (and a
 * truncated copy) when src does not fit, else TP_OK. */
tp_err tp_strlcpy(char *dst, const char *src, size_t dstlen);

/* A 64-bit hash of the string s, for in-memory hash tables (not stable across versions, never
 * stored). */
uint64_t tp_hash_str(const char *s);

/* The same hash of the n bytes at p (tp_hash_str(s) == tp_hash_mem(s, strlen(s))), for callers
 * that know the length already. */
uint64_t tp_hash_mem(const void *p, size_t n);

/* Formats UTC ms as "2026-11-23T18:04:16.123Z" into out (at least 25 bytes). */
void tp_format_utc(int64_t ms, char *out, size_t outlen);

/* Formats ms in the process's local time zone (TZ) as "2026-11-24T01:04:16.123+07:00". */
void tp_format_local(int64_t ms, char *out, size_t outlen);

/* Parses "YYYY-MM-DD" as local midnight (TZ) into ms. Returns TP_OK or TP_ERR_INVALID. */
tp_err tp_parse_date_local(const char *s, int64_t *out_ms);

/* Returns local midnight (TZ) of the day containing ms, and writes that day as "YYYY-MM-DD"
 * into day (11 bytes) when day is not NULL. */
int64_t tp_local_day_start(int64_t ms, char day[11]);

/* ---- Sizes ---------------------------------------------------------------------------------- */

/* Formats a byte count for people, in decimal SI units as USB sticks and disks are labelled
 * (1 kB = 1000 B): "512 B", "12 kB", "3.4 MB", "15.9 GB". Above 1 kB the figure is rounded to
 * the unit shown: down when round_up is false (free space is never overstated), up when true (a
 * size needed is never understated). A negative count is written as "?". One convention for every
 * message, so the staff screen, the CLI and the USB messages describe the same stick alike. */
void tp_format_bytes(int64_t bytes, bool round_up, char *out, size_t outlen);

/* ---- NPS ------------------------------------------------------------------------------------ */

/* The three NPS bands of a 0..10 rating. */
typedef enum tp_nps_band {
    TP_NPS_DETRACTOR = 0, /* 0..6 */
    TP_NPS_PASSIVE = 1,   /* 7..8 */
    TP_NPS_PROMOTER = 2,  /* 9..10 */
} tp_nps_band;

/* Returns the band of rating v (values outside 0..10 are clamped). */
tp_nps_band tp_nps_band_of(int v);

/* NPS of a distribution of 0..10 ratings. */
typedef struct tp_nps {
    int64_t n, promoters, passives, detractors;
    double score; /* 100 * (promoters - detractors) / n, from the raw counts; 0 when n == 0 */
    double moe;   /* 95% margin of error in NPS points, adjusted-Wald (MeasuringU / Rocks) */
} tp_nps;

/* Computes NPS from dist[0..10] (dist[v] = how many ratings of v). Adjusted Wald: n' = n + 3,
 * p' = (P + 0.75) / n', d' = (D + 0.75) / n', var = (p' + d' - (p' - d')^2) / n',
 * moe = 100 * 1.96 * sqrt(var); the margin is defined (and wide) even for n == 0. */
void tp_nps_compute(const int64_t dist[11], tp_nps *out);

/* ---- Growable buffers with a maximum (after curl's dynbuf) ---------------------------------- */

/* A byte buffer that grows by doubling up to max bytes (content, excluding the NUL it always
 * keeps after the content). Zero-initialise with tp_buf_init; the buffer owns p until
 * tp_buf_take or tp_buf_free. */
typedef struct tp_buf {
    char *p;    /* the content, NUL-terminated; NULL until the first add */
    size_t len; /* bytes of content */
    size_t cap; /* bytes allocated */
    size_t max; /* largest len allowed */
} tp_buf;

/* Sets b empty with the given maximum length. Allocates nothing. */
void tp_buf_init(tp_buf *b, size_t max);

/* Appends n bytes. Returns TP_OK, TP_ERR_TOO_LARGE (len + n > max; b unchanged) or
 * TP_ERR_NOMEM (b unchanged). */
tp_err tp_buf_add(tp_buf *b, const void *data, size_t n);

/* Appends a formatted string; same returns as tp_buf_add. */
tp_err tp_buf_addf(tp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Makes room for n more bytes without changing the content; same returns as tp_buf_add. The
 * caller may then write up to n bytes at p + len and call tp_buf_commit. */
tp_err tp_buf_reserve(tp_buf *b, size_t n);

/* Adds n bytes written after tp_buf_reserve(b, >= n) to the content and re-terminates it. */
void tp_buf_commit(tp_buf *b, size_t n);

/* Empties b, keeping its allocation. */
void tp_buf_reset(tp_buf *b);

/* Returns the content (caller frees with free(); never NULL on TP_OK: an empty buffer gives an
 * allocated ""), or NULL when out of memory; b is left empty. */
char *tp_buf_take(tp_buf *b);

/* Frees b's allocation and leaves it empty (max kept). */
void tp_buf_free(tp_buf *b);

/* Grows the array *arr of elem-sized items so that it holds at least need items, doubling its
 * capacity *cap (from 8). Returns TP_OK, TP_ERR_TOO_LARGE when need > max_items, or TP_ERR_NOMEM;
 * on error *arr and *cap are unchanged. Free *arr with free(). */
tp_err tp_array_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t max_items);

/* ---- Files ---------------------------------------------------------------------------------- */

/* Reads the whole regular file at path into a new NUL-terminated buffer (*out, caller frees; the
 * length without the NUL in *out_len when out_len is not NULL). Refuses a file larger than max
 * bytes (TP_ERR_TOO_LARGE) and anything that is not a regular file, such as a folder or a FIFO
 * (TP_ERR_INVALID); TP_ERR_NOT_FOUND when it does not exist, or the tp_err of the errno. The file
 * is opened O_NONBLOCK and checked with fstat before reading, so a FIFO cannot hang the caller.
 * err (may be NULL) gets a message naming the file and the cause. */
tp_err tp_read_file(const char *path, size_t max, char **out, size_t *out_len, char *err,
                    size_t errlen);

/* The same read from an open file descriptor (not closed here), for callers that open the file
 * their own way (openat with O_NOFOLLOW below an untrusted folder, such as a USB stick); name is
 * the file's name in err. Returns as tp_read_file, without TP_ERR_NOT_FOUND. */
tp_err tp_read_fd(int fd, const char *name, size_t max, char **out, size_t *out_len, char *err,
                  size_t errlen);

#endif /* TP_H */
