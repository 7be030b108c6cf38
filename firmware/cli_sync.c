/*
 * cli_sync.c - `touchpoint sync`: uploads pending answers to the central collector, once or as a
 * daemon. The work is in sync/uploader.c; this file maps the config file's [sync] section and the
 * command line onto it. Runs as its own process, so a hung network never slows the kiosk's UI.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "enroll.h"
#include "pidfile.h"
#include "uploader.h"

#define CMD "sync"

#ifndef TP_APP_VERSION
#define TP_APP_VERSION "0.1.0"
#endif

static void sync_help(FILE *f)
{
    fputs("Usage: touchpoint [--db PATH] sync --config FILE [--once | --daemon [--pid-file PATH]]\n"
          "                                 [--verbose]\n"
          "\n"
          "Sends the answers waiting in the database to the collector named by [sync] url, in\n"
          "batches (POST /v1/batches, see sync/PROTOCOL.md). Answers are marked synced only when\n"
          "the collector acknowledges them; rejected answers are quarantined with the collector's\n"
          "reason (see `touchpoint check`); every attempt is logged in the database for the\n"
          "staff screen.\n"
          "\n"
          "Options:\n"
          "  --config FILE  the kiosk's configuration ([device] id, [sync] and [storage])\n"
          "  --once         send everything pending, then exit (the default): 0 when all was\n"
          "                 acknowledged, 1 when the collector could not be reached or refused\n"
          "  --daemon       keep running: a round every [sync] interval_s (+-20%), exponential\n"
          "                 backoff after failures (capped at backoff_max_s), Retry-After\n"
          "                 honoured; SIGUSR1 syncs now, SIGTERM/SIGINT exit cleanly\n"
          "  --pid-file PATH  with --daemon: hold PATH (locked) with the daemon's pid, written\n"
          "                 once SIGUSR1 is safe to send, removed on exit if it still holds\n"
          "                 our pid; the kiosk's staff \"Sync now\" signals the pid in its\n"
          "                 [sync] pid_file. PATH must be missing, empty or hold only a pid:\n"
          "                 anything else is refused and left untouched. A second daemon on\n"
          "                 the same pid file or database (lock DB.sync.lock) refuses to start\n"
          "  --verbose      one line per batch on stderr\n"
          "\n"
          "--db defaults to the config's [storage] database. The bearer token is read from\n"
          "[sync] token_file (keep it mode 600); with --daemon and no such file, the kiosk is\n"
          "paired by code first (POST /v1/enroll; the kiosk shows the code and its QR code;\n"
          "`touchpoint-collector device approve CODE --node PATH --id ID` approves it) and the\n"
          "token it receives is written there, mode 600. Proxies come from https_proxy /\n"
          "http_proxy / no_proxy.\n"
          "\n"
          "Examples:\n"
          "  touchpoint sync --config /etc/touchpoint/kiosk.conf --once\n"
          "  touchpoint sync --config /etc/touchpoint/kiosk.conf --daemon\n"
          "  touchpoint sync --config kiosk.conf --daemon --pid-file /run/touchpoint/sync.pid\n"
          "  kill -USR1 $(cat /run/touchpoint/sync.pid)      # sync now\n",
          f);
}

static int sync_run(const struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},   {"once", no_argument, NULL, 'o'},
        {"daemon", no_argument, NULL, 'd'},         {"verbose", no_argument, NULL, 'v'},
        {"pid-file", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *pid_file = NULL;
    pidfile *pf = NULL, *db_lock = NULL;
    bool once = false, daemon = false, verbose = false;
    int c, rc = CLI_OK;
    int sigfd = -1;
    store *s = NULL;
    uploader *u = NULL;
    config *cfg = NULL;
    char token[UPLOADER_TOKEN_MAX] = "";
    char err[TP_ERRMSG_MAX] = "", warn[TP_ERRMSG_MAX] = "";

    while ((c = cli_getopt(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'o': once = true; break;
        case 'd': daemon = true; break;
        case 'v': verbose = true; break;
        case 'p': pid_file = optarg; break;
        default: return cli_bad_option(ctx, CMD, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage(ctx, CMD, "unexpected argument '%s'", argv[optind]);
    if (!config_path)
        return cli_usage(ctx, CMD, "missing --config FILE");
    if (once && daemon)
        return cli_usage(ctx, CMD, "--once and --daemon exclude each other");
    if (pid_file && (!daemon || !pid_file[0]))
        return cli_usage(ctx, CMD, "--pid-file PATH goes with --daemon");

    cfg = calloc(1, sizeof *cfg); /* large: fixed-size path fields */
    if (!cfg)
        return cli_fail(ctx, CMD, "out of memory");
    tp_err trc = config_load(config_path, cfg, err, sizeof err);
    if (trc != TP_OK) {
        rc = cli_fail(ctx, CMD, "%s", err);
        goto out;
    }
    const config_sync *sc = &cfg->sync;
    if (!sc->url[0]) {
        rc = cli_fail(ctx, CMD, "%s: [sync] url is empty: sync is off for this kiosk", cfg->path);
        goto out;
    }
    /* Signals are blocked before anything can start a thread (curl's resolver), so every thread
     * inherits the mask and only the signalfd sees them. */
    if (daemon) {
        trc = uploader_signals_open(&sigfd, err, sizeof err);
        if (trc != TP_OK) {
            rc = cli_fail(ctx, CMD, "%s", err);
            goto out;
        }
    }
    char state_dir[CONFIG_PATH_MAX];
    config_state_dir(cfg, state_dir, sizeof state_dir);
    trc = uploader_read_token(sc->token_file, token, sizeof token, warn, sizeof warn, err,
                              sizeof err);
    if (trc == TP_ERR_NOT_FOUND && daemon && sc->token_file[0]) {
        /* No token yet: pair by code (the kiosk shows it), then sync with what we get. */
        char dev[TP_ID_MAX + 1] = "";
        enroll_options eo = {.url = sc->url,
                             .token_file = sc->token_file,
                             .state_dir = state_dir,
                             .device_id = cfg->device_id,
                             .ca_file = sc->ca_file,
                             .pinned_pubkey = sc->pinned_pubkey,
                             .connect_timeout_s = sc->connect_timeout_s,
                             .poll_s = sc->interval_s < 5 ? sc->interval_s : 5,
                             .sigfd = sigfd,
                             .log = stderr};
        trc = enroll_run(&eo, dev, sizeof dev, err, sizeof err);
        if (trc == TP_ERR_BUSY)
            goto out; /* stopped while waiting for approval */
        if (trc != TP_OK) {
            rc = cli_fail(ctx, CMD, "enrollment: %s", err);
            goto out;
        }
        if (dev[0] && strcmp(dev, cfg->device_id) != 0)
            fprintf(stderr,
                    "%s: %s: warning: the collector approved this kiosk as '%s' but [device] id "
                    "is '%s': approve with --id %s\n",
                    ctx->prog, CMD, dev, cfg->device_id, cfg->device_id);
        trc = uploader_read_token(sc->token_file, token, sizeof token, warn, sizeof warn, err,
                                  sizeof err);
    }
    if (trc != TP_OK) {
        rc = cli_fail(ctx, CMD, "%s", err);
        goto out;
    }
    if (warn[0])
        fprintf(stderr, "%s: %s: warning: %s\n", ctx->prog, CMD, warn);
    const char *db = ctx->db_path && ctx->db_path[0] ? ctx->db_path : cfg->database;
    if (daemon) {
        /* One daemon per database, whatever pid file each was given (or none). */
        char lock_path[CONFIG_PATH_MAX + 16];
        if (snprintf(lock_path, sizeof lock_path, "%s.sync.lock", db) >= (int)sizeof lock_path) {
            rc = cli_fail(ctx, CMD, "%s: path too long", db);
            goto out;
        }
        trc = pidfile_acquire(lock_path, &db_lock, err, sizeof err);
        if (trc != TP_OK) {
            rc = cli_fail(ctx, CMD, "%s%s; not starting", err,
                          trc == TP_ERR_BUSY ? " on this database" : "");
            goto out;
        }
    }
    store_options so = {.device_id = cfg->device_id};
    trc = store_open(db, &so, &s, err, sizeof err);
    if (trc != TP_OK) {
        rc = cli_fail(ctx, CMD, "%s", err);
        goto out;
    }

    uploader_options uo = {
        .state_dir = state_dir,
        .url = sc->url,
        .token = token,
        .device_id = cfg->device_id,
        .app_version = TP_APP_VERSION,
        .interval_s = sc->interval_s,
        .batch_max = sc->batch_max,
        .batch_max_bytes = sc->batch_max_bytes,
        .no_gzip = !sc->gzip,
        .ca_file = sc->ca_file,
        .pinned_pubkey = sc->pinned_pubkey,
        .connect_timeout_s = sc->connect_timeout_s,
        .low_speed_time_s = sc->low_speed_time_s,
        .backoff_max_s = sc->backoff_max_s,
        .log = stderr,
        .verbose = verbose,
    };
    trc = uploader_new(&uo, s, &u, err, sizeof err);
    if (trc != TP_OK) {
        rc = cli_fail(ctx, CMD, "%s: %s", cfg->path, err);
        goto out;
    }

    if (daemon) {
        /* Written only now: SIGUSR1 is blocked (its default action would kill us) and the
         * uploader is ready, so whoever reads the file may signal at once. */
        if (pid_file) {
            trc = pidfile_acquire(pid_file, &pf, err, sizeof err);
            if (trc != TP_OK) {
                rc = cli_fail(ctx, CMD, "--pid-file %s; not starting", err);
                goto out;
            }
        }
        trc = uploader_run(u, sigfd);
        if (trc != TP_OK)
            rc = cli_fail(ctx, CMD, "%s: %s (%s)", db, tp_strerror(trc), store_errmsg(s));
        goto out;
    }

    uploader_round r;
    trc = uploader_sync_round(u, &r);
    if (trc != TP_OK) {
        rc = cli_fail(ctx, CMD, "%s (%s): %s; %lld answers acknowledged before it",
                      tp_strerror(trc), tp_err_name(trc), r.message,
                      (long long)(r.accepted + r.duplicates + r.rejected));
        goto out;
    }
    printf("synced: %lld sent, %lld accepted, %lld duplicates, %lld rejected in %d requests\n",
           (long long)r.sent, (long long)r.accepted, (long long)r.duplicates, (long long)r.rejected,
           r.attempts + r.config_requests);
    if (r.config_message[0])
        printf("config: %s\n", r.config_message);
    if (r.left_pending > 0)
        rc = cli_fail(ctx, CMD, "%lld answers were not acknowledged and stay pending",
                      (long long)r.left_pending);
out:
    pidfile_release(pf);
    pidfile_release(db_lock);
    explicit_bzero(token, sizeof token);
    uploader_free(u);
    store_close(s);
    if (sigfd >= 0)
        close(sigfd);
    free(cfg);
    return rc;
}

const struct cli_cmd cli_cmd_sync = {
    .name = "sync",
    .summary = "upload pending answers to the collector (--once or --daemon)",
    .run = sync_run,
    .help = sync_help,
};
