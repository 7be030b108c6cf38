/*
 * export_fixture.c - the export tests' fixture (export_fixture.h): fault-injecting file system
 * ops, the temp store and out folder, and helpers.
 */
#include "export_fixture.h"

/* ---- Fault-injecting file system ops -------------------------------------------------------- */

static fault *F(void *ctx)
{
    return ctx;
}

static int f_open_dir(void *ctx, const char *path)
{
    return F(ctx)->base->open_dir(NULL, path);
}

static int f_openat(void *ctx, int dirfd, const char *name, int flags, mode_t mode)
{
    if ((flags & O_CREAT) && F(ctx)->create_errno) {
        errno = F(ctx)->create_errno;
        return -1;
    }
    return F(ctx)->base->openat(NULL, dirfd, name, flags, mode);
}

static ssize_t f_write(void *ctx, int fd, const void *buf, size_t n)
{
    fault *f = F(ctx);
    if (f->write_errno) {
        if (f->written >= f->write_limit) {
            errno = f->write_errno;
            return -1;
        }
        if ((int64_t)n > f->write_limit - f->written)
            n = (size_t)(f->write_limit - f->written); /* a short write, then the error */
    }
    ssize_t w = f->base->write(NULL, fd, buf, n);
    if (w > 0)
        f->written += w;
    return w;
}

static ssize_t f_read(void *ctx, int fd, void *buf, size_t n)
{
    ssize_t r = F(ctx)->base->read(NULL, fd, buf, n);
    if (r > 0 && F(ctx)->flip_read)
        ((unsigned char *)buf)[r / 2] ^= 0x20;
    return r;
}

static int f_fsync(void *ctx, int fd)
{
    fault *f = F(ctx);
    if (f->fsync_errno && ++f->fsyncs == f->fsync_nth) {
        errno = f->fsync_errno;
        return -1;
    }
    return f->base->fsync(NULL, fd);
}

static int f_drop_cache(void *ctx, int fd)
{
    return F(ctx)->base->drop_cache(NULL, fd);
}

static int f_close(void *ctx, int fd)
{
    return F(ctx)->base->close(NULL, fd);
}

static int f_fstatat(void *ctx, int dirfd, const char *name, struct stat *st)
{
    return F(ctx)->base->fstatat(NULL, dirfd, name, st);
}

static int f_fstatvfs(void *ctx, int fd, struct statvfs *st)
{
    fault *f = F(ctx);
    int rc = f->base->fstatvfs(NULL, fd, st);
    if (rc == 0 && f->vfs_rdonly)
        st->f_flag |= ST_RDONLY;
    if (rc == 0 && f->vfs_free > 0)
        st->f_bavail = (fsblkcnt_t)(f->vfs_free / (int64_t)st->f_frsize);
    if (rc == 0 && f->full_after_write && f->written > 0)
        st->f_bavail = 0;
    return rc;
}

static int f_rename(void *ctx, int dirfd, const char *from, const char *to)
{
    fault *f = F(ctx);
    f->renames++;
    if (f->plant_target && !f->planted && strcmp(to, f->plant_target) == 0) {
        /* Someone plants a symlink between the name check and the rename. */
        assert_int_equal(symlinkat("/nonexistent-victim", dirfd, to), 0);
        f->planted = true;
    }
    return f->base->rename_noreplace(NULL, dirfd, from, to);
}

static int f_unlinkat(void *ctx, int dirfd, const char *name)
{
    return F(ctx)->base->unlinkat(NULL, dirfd, name);
}

static int f_syncfs(void *ctx, int fd)
{
    return F(ctx)->base->syncfs(NULL, fd);
}

void fault_init(fault *f)
{
    memset(f, 0, sizeof *f);
    f->base = export_fs_posix();
    f->ops = (export_fs_ops){
        .open_dir = f_open_dir,
        .openat = f_openat,
        .write = f_write,
        .read = f_read,
        .fsync = f_fsync,
        .drop_cache = f_drop_cache,
        .close = f_close,
        .fstatat = f_fstatat,
        .fstatvfs = f_fstatvfs,
        .rename_noreplace = f_rename,
        .unlinkat = f_unlinkat,
        .syncfs = f_syncfs,
        .ctx = f,
    };
}

/* ---- Helpers -------------------------------------------------------------------------------- */

void record(fx *x, int i)
{
    store_answer_in a[2] = {
        {.question_id = "recommend", .kind = TP_KIND_NPS, .value = i % 11},
        {.question_id = "reason", .kind = TP_KIND_CHOICE, .choice_id = "wait_time"},
    };
    store_session_in in = {
        .survey_id = "checkout-nps",
        .survey_version = 2,
        .store_id = "hcm-01",
        .touchpoint_id = "exit",
        .lang = "vi",
        .n_answers = (i % 3 == 0) ? 2 : 1,
        .answers = a,
    };
    assert_int_equal(store_record_session(x->s, &in, NULL, NULL), TP_OK);
    tp_vclock_advance(&x->vc, 60 * 1000);
}

int64_t cursor(fx *x)
{
    int64_t c = -1;
    assert_int_equal(store_get_export_cursor(x->s, &c), TP_OK);
    return c;
}

int64_t highest(fx *x)
{
    store_info info;
    assert_int_equal(store_get_info(x->s, &info), TP_OK);
    return info.highest_seq;
}

/* Number of entries in the out folder (and how many look like temp files). */
int dir_count(fx *x, int *temps)
{
    int n = 0;
    DIR *d = opendir(x->out);
    assert_non_null(d);
    struct dirent *e;
    if (temps)
        *temps = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (temps && strstr(e->d_name, ".tmp"))
            (*temps)++;
    }
    closedir(d);
    return n;
}

char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

void sha256_hex(const char *buf, size_t n, char hex[65])
{
    unsigned char d[32];
    unsigned int dl = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_non_null(md);
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(md, buf, n), 1);
    assert_int_equal(EVP_DigestFinal_ex(md, d, &dl), 1);
    EVP_MD_CTX_free(md);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

int count_lines(const char *buf, size_t n)
{
    int l = 0;
    for (size_t i = 0; i < n; i++)
        l += buf[i] == '\n';
    return l;
}

tp_err run(fx *x, const export_fs_ops *fs, bool all, export_result *res, char *err, size_t errlen)
{
    export_options o = {
        .out_dir = x->out, .format = EXPORT_CSV, .all = all, .device_id = "kiosk-01", .fs = fs};
    return export_run(x->s, &o, res, err, errlen);
}

/* The common end of every fault test: nothing left, cursor unmoved, and a good export works. */
void after_fault(fx *x, int64_t cursor_before, int files_before)
{
    int temps = 0;
    assert_int_equal(dir_count(x, &temps), files_before);
    assert_int_equal(temps, 0);
    assert_int_equal(cursor(x), cursor_before);
    export_result res;
    char err[1024];
    assert_int_equal(run(x, NULL, false, &res, err, sizeof err), TP_OK);
    assert_int_equal(res.last_seq, highest(x));
    assert_int_equal(cursor(x), highest(x));
    assert_true(res.rows > 0);
    assert_int_equal(dir_count(x, NULL), files_before + 2);
}

/* ---- Fixture -------------------------------------------------------------------------------- */

int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    snprintf(x->root, sizeof x->root, "/tmp/test_export.XXXXXX");
    assert_non_null(mkdtemp(x->root));
    snprintf(x->db, sizeof x->db, "%s/answers.db", x->root);
    snprintf(x->out, sizeof x->out, "%s/usb", x->root);
    assert_int_equal(mkdir(x->out, 0755), 0);
    tp_vclock_init(&x->vc, T0);
    store_options so = {.clock = &x->vc.clock, .device_id = "kiosk-01"};
    char err[TP_ERRMSG_MAX];
    assert_int_equal(store_open(x->db, &so, &x->s, err, sizeof err), TP_OK);
    for (int i = 0; i < N_FIRST; i++)
        record(x, i);
    *state = x;
    return 0;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

int teardown(void **state)
{
    fx *x = *state;
    store_close(x->s);
    nftw(x->root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(x);
    return 0;
}
