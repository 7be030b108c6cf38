/*
 * script.h - the scripted input harness of the kiosk (`touchpoint-kiosk --script FILE`).
 *
 * One command per line; blank lines and lines starting with # are ignored:
 *   tap WIDGET_ID          press and release the centre of a control ("nps-9", "lang-en")
 *   tap-at X Y             press and release at window pixel (X, Y)
 *   hold X Y MS            press at (X, Y), keep it down MS virtual milliseconds, release
 *   advance MS             move the virtual clock MS milliseconds (timers fire on the way)
 *   key NAME               a key or window event: escape, alt+f4, ctrl+q, quit, close
 *   screenshot PATH        save the current screen as PNG
 *   expect-screen NAME     fail (exit 3) unless the current screen is NAME
 *   press NAME             a GPIO input of the sim backend goes active: NAME is a button number
 *                          (1-based, in [gpio] buttons order), staff, pir, or a line as written
 *                          in the config (GPIO17)
 *   release NAME           that input goes inactive
 *   stall MS               block the main loop MS milliseconds of REAL time (a hang: the
 *                          systemd watchdog pings stop; MS 0..SCRIPT_MAX_STALL_MS)
 * Numbers are decimal; X, Y 0..65535, MS 0..86400000.
 *
 * Thread-safety: reentrant; a loaded script is read-only.
 */
#ifndef TP_SCRIPT_H
#define TP_SCRIPT_H

#include "tp.h"

#define SCRIPT_ARG_MAX 1024   /* bytes of a WIDGET_ID, NAME or PATH, excluding NUL */
#define SCRIPT_LINE_MAX 1200  /* bytes of one line */
#define SCRIPT_MAX_CMDS 20000 /* commands in one file */
#define SCRIPT_MAX_MS 86400000
#define SCRIPT_MAX_STALL_MS 600000

typedef enum script_op {
    SCRIPT_TAP = 0,
    SCRIPT_TAP_AT,
    SCRIPT_HOLD,
    SCRIPT_ADVANCE,
    SCRIPT_KEY,
    SCRIPT_SCREENSHOT,
    SCRIPT_EXPECT_SCREEN,
    SCRIPT_STALL,
    SCRIPT_PRESS,   /* press NAME: a GPIO input (sim backend) goes active */
    SCRIPT_RELEASE, /* release NAME: it goes inactive */
} script_op;

typedef struct script_cmd {
    script_op op;
    int line;                     /* 1-based line in the file */
    int x, y;                     /* tap-at, hold */
    int ms;                       /* hold, advance, stall */
    char arg[SCRIPT_ARG_MAX + 1]; /* tap: widget id; key: name; screenshot: path; expect: name */
} script_cmd;

typedef struct script {
    size_t n;
    script_cmd *cmds;
} script;

/* Returns the command's name ("tap", "tap-at", ...). */
const char *script_op_name(script_op op);

/* Returns true when name is a key NAME the harness knows (escape, alt+f4, ctrl+q, quit, close). */
bool script_key_known(const char *name);

/* Parses one line (without or with its newline) into *out. *is_cmd is false for a blank or comment
 * line. Returns TP_OK or TP_ERR_INVALID with "FILE:LINE: cause" in err (file names the source). */
tp_err script_parse_line(const char *file, int lineno, const char *line, script_cmd *out,
                         bool *is_cmd, char *err, size_t errlen);

/* Parses a whole script text (len bytes). On TP_OK *out is a new script (free with script_free).
 * Errors: TP_ERR_INVALID ("FILE:LINE: cause"), TP_ERR_TOO_LARGE, TP_ERR_NOMEM. */
tp_err script_parse(const char *file, const char *text, size_t len, script **out, char *err,
                    size_t errlen);

/* Reads and parses the file at path (see script_parse); TP_ERR_NOT_FOUND / TP_ERR_IO when it
 * cannot be read. */
tp_err script_load(const char *path, script **out, char *err, size_t errlen);

/* Frees a script. NULL is a no-op. */
void script_free(script *s);

#endif /* TP_SCRIPT_H */
