/*
 * collector_main.c - the touchpoint-collector program: argument parsing, `add-device`, and a
 * clean stop on SIGINT/SIGTERM (the signals are blocked in every thread and taken with sigwait
 * in main, so no handler runs inside a worker).
 */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "calert.h"
#include "canalytics.h"
#include "cauth.h"
#include "ccase_cli.h"
#include "ccomment.h"
#include "cdeliver_cli.h"
#include "cfleet_cli.h"
#include "collector.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: touchpoint-collector --listen HOST:PORT --store sqlite:PATH|postgresql://...\n"
        "                            [--devices FILE] [--tz ZONE] [--threads N]\n"
        "                            [--batch-workers N]\n"
        "                            [--rate PER_SECOND] [--burst N] [--silent-after SECONDS]\n"
        "                            [--read-token TOKEN | --read-token-file FILE]\n"
        "                            [--read-rate PER_SECOND] [--read-burst N] "
        "[--read-concurrency N]\n"
        "                            [--conn-per-ip N] [--conn-max N] [--head-timeout S]\n"
        "                            [--body-timeout S] [--bodies-mb MB] [--health-listen "
        "HOST:PORT]\n"
        "                            [--public-url URL] [--alert-interval-ms MS]\n"
        "                            [--alert-health-ms MS]\n"
        "       touchpoint-collector add-device ID --devices FILE\n"
        "       touchpoint-collector node|device|survey|admin-token|audit ... (see README, Fleet)\n"
        "       touchpoint-collector case|digest ... (see README, Alerts, cases and digests)\n"
        "       touchpoint-collector read-token ... (see README, Read access and audit)\n"
        "       touchpoint-collector comments|tags|privacy ... (see README, Personal data)\n"
        "       touchpoint-collector alert add|list|test|remove|disable|enable ... (README)\n"
        "       touchpoint-collector retention --before YYYY-MM-DD --store URL\n"
        "\n"
        "  --listen        address to serve on (port 0: pick a free port, printed on stdout)\n"
        "  --store         central store: SQLite file or PostgreSQL connection URL\n"
        "  --devices       file of 'DEVICE_ID SHA256_HEX_OF_TOKEN' lines (add-device makes them);\n"
        "                  optional: devices in the store (device add) need no file\n"
        "  --tz            time zone of report days (default: TZ of the process)\n"
        "  --threads       HTTP threads, and as many read workers (default 4)\n"
        "  --batch-workers batches stored at once, whichever HTTP thread took them in\n"
        "                  (default: the online CPUs, at most --threads); the store keeps a\n"
        "                  connection for each thread and each worker\n"
        "  --rate, --burst per-device batch rate limit (default 100/s, burst 200)\n"
        "  --silent-after  a device with no batch for this long is shown as silent (3600)\n"
        "  --read-token    require 'Authorization: Bearer TOKEN' on /v1/report and /v1/devices\n"
        "                  (the dashboard takes it as /#token=...); --read-token-file reads it\n"
        "                  from a file, which keeps it out of the process list; unscoped,\n"
        "                  like admin tokens; read tokens (read-token add) are bound to a node\n"
        "  --read-rate, --read-burst  reads per second per reader (default 10, burst 60)\n"
        "  --read-concurrency         reads in flight per reader (default 2); over either: 429\n"
        "  --conn-per-ip   connections one address may hold (default 64)\n"
        "  --conn-max      connections in all (default 4096)\n"
        "  --head-timeout  seconds for a request's head, however slowly it trickles (default 10)\n"
        "  --body-timeout  seconds for a request's body (default 60)\n"
        "  --bodies-mb     MiB that request bodies in flight may hold together (default 256);\n"
        "                  above it a batch gets 503 busy with Retry-After\n"
        "  --health-listen a second address serving only /healthz, on its own thread and store\n"
        "                  connection, for monitors (port 0: pick one, printed on stdout)\n"
        "  --public-url    the address people reach this collector at (https://host[/path]): the\n"
        "                  base of the dashboard links in alerts and of the comment page\n"
        "  --alert-interval-ms how often stored batches are evaluated against alert rules (1000)\n"
        "  --alert-health-ms   how often the device-health alert rules run (30000)\n");
    cdeliver_cli_usage(f);
}

/* Parses a positive number option. */
static bool num_arg(const char *name, const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "touchpoint-collector: %s: expected a number in %g..%g\n", name, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

static int add_device(int argc, char **argv)
{
    const char *id = NULL, *devices = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--devices") == 0 && i + 1 < argc)
            devices = argv[++i];
        else if (!id && argv[i][0] != '-')
            id = argv[i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!id || !devices) {
        usage(stderr);
        return 2;
    }
    char token[64], err[TP_ERRMSG_MAX];
    tp_err rc = cauth_add_device(devices, id, token, err, sizeof err);
    if (rc != TP_OK) {
        fprintf(stderr, "touchpoint-collector: add-device: %s\n", err);
        return 1;
    }
    printf("%s\n", token);
    fprintf(stderr,
            "touchpoint-collector: added %s to %s; put the token above in the device's "
            "[sync] token_file\n",
            id, devices);
    return 0;
}

/* Reads the first line of a token file into out. */
static bool load_token_file(const char *path, char *out, size_t outlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        fprintf(stderr, "touchpoint-collector: %s: %s\n", path, strerror(errno));
        return false;
    }
    bool ok = fgets(out, (int)outlen, f) != NULL;
    fclose(f);
    if (ok)
        out[strcspn(out, "\r\n")] = '\0';
    if (!ok || !*out)
        fprintf(stderr, "touchpoint-collector: %s: empty token file\n", path);
    return ok && *out;
}

int main(int argc, char **argv)
{
    collector_options opt = {0};
    const char *tz = NULL, *read_token_file = NULL;
    char read_token[CAUTH_TOKEN_MAX + 2];
    double v;
    int taken;

    if (argc > 1 && strcmp(argv[1], "add-device") == 0)
        return add_device(argc, argv);
    if (cfleet_cli_is(argc, argv))
        return cfleet_cli_main(argc, argv);
    if (ccase_cli_is(argc, argv))
        return ccase_cli_main(argc, argv);
    if (ccomment_cli_is(argc, argv))
        return ccomment_cli_main(argc, argv);
    if (cdeliver_cli_is(argc, argv))
        return cdeliver_cli_main(argc, argv);
    if (calert_cli_is(argc, argv))
        return calert_cli_main(argc, argv);
    if (argc > 1 && strcmp(argv[1], "retention") == 0) /* issue 14 */
        return canalytics_cli_main(argc, argv);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (!val) {
            usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "--listen") == 0)
            opt.listen = val;
        else if (strcmp(a, "--store") == 0)
            opt.store_url = val;
        else if (strcmp(a, "--devices") == 0)
            opt.devices_path = val;
        else if (strcmp(a, "--tz") == 0)
            tz = val;
        else if (strcmp(a, "--read-token-file") == 0)
            read_token_file = val;
        else if (strcmp(a, "--read-token") == 0)
            opt.read_token = val;
        else if (strcmp(a, "--threads") == 0 && num_arg(a, val, 1, 64, &v))
            opt.threads = (unsigned)v;
        else if (strcmp(a, "--batch-workers") == 0 && num_arg(a, val, 1, 64, &v))
            opt.batch_workers = (unsigned)v;
        else if (strcmp(a, "--rate") == 0 && num_arg(a, val, 0.001, 1e6, &v))
            opt.rate_per_s = v;
        else if (strcmp(a, "--burst") == 0 && num_arg(a, val, 1, 1e6, &v))
            opt.burst = v;
        else if (strcmp(a, "--read-rate") == 0 && num_arg(a, val, 0.001, 1e6, &v))
            opt.read_rate_per_s = v;
        else if (strcmp(a, "--read-burst") == 0 && num_arg(a, val, 1, 1e6, &v))
            opt.read_burst = v;
        else if (strcmp(a, "--read-concurrency") == 0 && num_arg(a, val, 1, 1000, &v))
            opt.read_concurrency = (unsigned)v;
        else if (strcmp(a, "--silent-after") == 0 && num_arg(a, val, 1, 1e8, &v))
            opt.silent_after_s = (int)v;
        else if (strcmp(a, "--conn-per-ip") == 0 && num_arg(a, val, 1, 1e5, &v))
            opt.conn_per_ip = (unsigned)v;
        else if (strcmp(a, "--conn-max") == 0 && num_arg(a, val, 1, 1e6, &v))
            opt.conn_max = (unsigned)v;
        else if (strcmp(a, "--head-timeout") == 0 && num_arg(a, val, 1, 3600, &v))
            opt.head_s = (unsigned)v;
        else if (strcmp(a, "--body-timeout") == 0 && num_arg(a, val, 1, 3600, &v))
            opt.body_s = (unsigned)v;
        else if (strcmp(a, "--bodies-mb") == 0 && num_arg(a, val, 8, 1e6, &v))
            opt.bodies_mb = (unsigned)v;
        else if (strcmp(a, "--health-listen") == 0)
            opt.health_listen = val;
        else if (strcmp(a, "--public-url") == 0)
            opt.public_url = val;
        else if (strcmp(a, "--alert-interval-ms") == 0 && num_arg(a, val, 10, 3.6e6, &v))
            opt.alert_interval_ms = (unsigned)v;
        else if (strcmp(a, "--alert-health-ms") == 0 && num_arg(a, val, 10, 3.6e6, &v))
            opt.alert_health_ms = (unsigned)v;
        else if ((taken = cdeliver_cli_option(a, val, &opt.deliver)) != 0) {
            if (taken < 0)
                return 2;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!opt.listen || !opt.store_url) {
        usage(stderr);
        return 2;
    }
    if (tz) {
        setenv("TZ", tz, 1);
    }
    tzset();
    if (read_token_file) {
        if (!load_token_file(read_token_file, read_token, sizeof read_token))
            return 1;
        opt.read_token = read_token;
    }

    /* Block the stop signals before any thread exists, so only sigwait below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Each connection is a descriptor: take the hard limit, so that --conn-max is what bounds
     * connections rather than a soft limit of 1024. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }

#ifdef __GLIBC__
    /* A batch parses into many small blocks and a few large ones, all freed at its end. glibc
     * would hand the freed memory back to the system after each batch and fault it in again
     * for the next (about a tenth of the ingest CPU): keep up to 256 MiB of it. Memory stays
     * bounded by the request limits (body size, concurrent connections). */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 32 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    /* No fastbins: a batch frees thousands of small JSON nodes, and the next large request
     * would consolidate them all (malloc_consolidate) first; the per-thread cache remains. */
    mallopt(M_MXFAST, 0);
#endif
    collector *c = NULL;
    char err[TP_ERRMSG_MAX];
    tp_err rc = collector_start(&opt, &c, err, sizeof err);
    if (rc != TP_OK) {
        fprintf(stderr, "touchpoint-collector: %s\n", err);
        return 1;
    }
    /* Tests start the collector on port 0 and read the port from this line. */
    printf("touchpoint-collector: listening on port %u (%s store)\n", collector_port(c),
           opt.store_url[0] == 's' ? "sqlite" : "postgresql");
    if (collector_health_port(c))
        printf("touchpoint-collector: /healthz also on port %u\n", collector_health_port(c));
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "touchpoint-collector: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    collector_stop(c);
    return 0;
}
