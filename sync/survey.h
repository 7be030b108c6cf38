/*
 * survey.h - survey definitions: versioned JSON files in assets/surveys/ (parsed with cJSON).
 *
 * A survey has one main rating question (nps, csat, ces or smiley4) and up to
 * SURVEY_MAX_QUESTIONS - 1 follow-ups of kind choice, each shown only when its condition on an
 * earlier answer holds ("when": {"question": "recommend", "op": "<=", "value": 6}). Every text
 * is given in every language the survey lists. File format (format 1):
 *
 *   {"format": 1, "id": "checkout-nps", "version": 2, "languages": ["vi", "en"],
 *    "title": {"vi": "...", "en": "..."},
 *    "questions": [
 *      {"id": "recommend", "kind": "nps", "prompt": {...},
 *       "low_label": {...}, "high_label": {...},             (labels optional; nps/ces only)
 *       "scale_style": "neutral"},                           (nps/ces; or "traffic"; optional)
 *      {"id": "felt", "kind": "csat", "prompt": {...},       (faces: a caption per value,
 *       "labels": {"1": {...}, ..., "5": {...}}},             optional, all values or none)
 *      {"id": "reason", "kind": "choice", "prompt": {...},
 *       "when": {"question": "recommend", "op": "<=", "value": 6},
 *       "options": [{"id": "wait", "label": {...}}, ...]}],  (2..SURVEY_MAX_OPTIONS options)
 *    "thanks": {...},
 *    "comment": {"after": "low", "prompt": {...}, "link_minutes": 30}}      (optional, issue 15)
 *
 * "comment" offers the customer a QR code on the thank-you screen that opens the collector's
 * comment page on their phone (sync/clink.h): after every rating ("any"), only after a negative
 * one ("low") or only after a positive one ("high"), per survey_value_band. "prompt" is the
 * page's question (optional: the page has its own); "link_minutes" how long the link stays
 * valid after the tap (1..1440, optional: the kiosk's comment_link_minutes, default 30).
 *
 * A bad file is rejected with the file and the JSON path of the fault, e.g.
 * "assets/surveys/x.json: $.questions[1].options[2].label.vi: missing".
 * The result is plain data; free it with survey_free().
 *
 * Thread-safety: reentrant; a loaded survey is read-only and may be shared between threads.
 */
#ifndef TP_SURVEY_H
#define TP_SURVEY_H

#include "tp.h"

#define SURVEY_FORMAT 1
#define SURVEY_MAX_LANGS 4
#define SURVEY_MAX_QUESTIONS 5
#define SURVEY_MAX_OPTIONS 8
#define SURVEY_MIN_OPTIONS 2
#define SURVEY_TEXT_MAX 400          /* bytes of UTF-8 per text, excluding NUL */
#define SURVEY_FILE_MAX (256 * 1024) /* bytes */
#define SURVEY_PATH_MAX 1024
#define SURVEY_MAX_VALUE_LABELS 5 /* csat 1..5, smiley4 1..4 */

/* One text in every language of the survey: t[i] is in survey.langs[i]. */
typedef struct survey_text {
    char t[SURVEY_MAX_LANGS][SURVEY_TEXT_MAX + 1];
} survey_text;

typedef enum survey_op {
    SURVEY_OP_LT = 0,
    SURVEY_OP_LE,
    SURVEY_OP_EQ,
    SURVEY_OP_NE,
    SURVEY_OP_GE,
    SURVEY_OP_GT,
} survey_op;

typedef struct survey_cond {
    bool present; /* false: always shown */
    int question; /* index of an earlier question */
    survey_op op;
    int value;
} survey_cond;

typedef struct survey_option {
    char id[TP_ID_MAX + 1];
    survey_text label;
} survey_option;

/* How a numbered scale (nps, ces) is coloured. Neutral: one colour for every value, the number
 * is the label and the end labels carry the meaning (the default). Traffic: nps red / amber /
 * green by the NPS bands, ces a gradient (the look before neutral became the default). */
typedef enum survey_scale_style {
    SURVEY_SCALE_NEUTRAL = 0,
    SURVEY_SCALE_TRAFFIC = 1,
} survey_scale_style;

typedef struct survey_question {
    char id[TP_ID_MAX + 1];
    tp_kind kind;
    survey_text prompt;
    bool has_labels; /* low_label/high_label given */
    survey_text low_label, high_label;
    survey_cond when; /* follow-ups only */
    int n_options;    /* choice only */
    survey_option options[SURVEY_MAX_OPTIONS];

    /* How the main question looks (survey_parse fills the defaults). */
    survey_scale_style scale_style; /* nps / ces */
    bool has_value_labels;          /* csat / smiley4: "labels" given */
    /* csat / smiley4: the caption of value v at [v - low] */
    survey_text value_labels[SURVEY_MAX_VALUE_LABELS];
} survey_question;

/* When the thank-you screen offers a comment link. */
typedef enum survey_comment_after {
    SURVEY_COMMENT_NONE = 0, /* no "comment" in the survey */
    SURVEY_COMMENT_ANY = 1,
    SURVEY_COMMENT_LOW = 2,  /* negative band only */
    SURVEY_COMMENT_HIGH = 3, /* positive band only */
} survey_comment_after;

typedef struct survey {
    char path[SURVEY_PATH_MAX];
    char id[TP_ID_MAX + 1];
    int version;
    int n_langs;
    char langs[SURVEY_MAX_LANGS][TP_LANG_MAX + 1];
    survey_text title;
    survey_text thanks;
    int n_questions; /* questions[0] is the main rating */
    survey_question questions[SURVEY_MAX_QUESTIONS];
    survey_comment_after comment_after;
    bool has_comment_prompt;
    survey_text comment_prompt;
    int comment_minutes; /* 0: not given (the kiosk's setting applies) */
} survey;

/* Loads and validates the survey file at path. On TP_OK *out is a new survey (free with
 * survey_free). Errors: TP_ERR_NOT_FOUND / TP_ERR_IO (cannot read), TP_ERR_INVALID (not a
 * regular file: a folder or a FIFO is refused, never waited on), TP_ERR_TOO_LARGE (file over
 * SURVEY_FILE_MAX), TP_ERR_SURVEY ("PATH: $.json.path: cause" in err, size errlen, may be NULL). */
tp_err survey_load(const char *path, survey **out, char *err, size_t errlen);

/* Parses a survey from the len bytes at json; path is only used in messages. Same results as
 * survey_load. */
tp_err survey_parse(const char *path, const char *json, size_t len, survey **out, char *err,
                    size_t errlen);

/* The font's answer to "can this character be drawn?" (ui_font_has_glyph in the kiosk). */
typedef bool (*survey_glyph_fn)(void *ctx, uint32_t codepoint);

/* Checks that has_glyph(ctx, c) holds for every character of every text the kiosk shows from s
 * (title, prompts, scale labels, option labels, thanks; every language), so that a text the font
 * cannot draw (an emoji, CJK) is refused at load instead of drawn as boxes. Control characters
 * (line breaks) are not drawn and not asked about. Returns TP_OK, or TP_ERR_SURVEY with the first
 * missing character in err: "PATH: $.questions[1].options[0].label.en: character U+1F600 (...) is
 * not in the font". Calls nothing but has_glyph, so it needs no SDL; thread-safety is
 * has_glyph's. */
tp_err survey_check_glyphs(const survey *s, survey_glyph_fn has_glyph, void *ctx, char *err,
                           size_t errlen);

/* Frees a survey. NULL is a no-op. */
void survey_free(survey *s);

/* Returns the index of lang in s->langs, or -1. */
int survey_lang_index(const survey *s, const char *lang);

/* Returns the text in lang, falling back to the survey's first language. Borrowed from t. */
const char *survey_text_get(const survey *s, const survey_text *t, const char *lang);

/* Returns true when value satisfies the condition c (a condition not present always holds). */
bool survey_cond_holds(const survey_cond *c, int value);

/* Returns "<", "<=", "==", "!=", ">=" or ">". */
const char *survey_op_name(survey_op op);

/* The band of rating value of kind k: -1 negative, 0 neutral, +1 positive. The bands the reports
 * use: NPS detractors 0-6 / promoters 9-10 (tp_nps_band_of); CSAT 1-2 / 4-5 (csat_pct counts
 * 4-5); CES 1-3 / 5-7 (ces_pct_5_7); smiley4 1-2 / 3-4 (smiley4_pct_happy counts 3-4). 0 for
 * choice. */
int survey_value_band(tp_kind k, int value);

/* Whether the thank-you after main rating value offers the comment link (survey "comment"). */
bool survey_comment_offered(const survey *s, int value);

/* Index of the first follow-up after question `after` whose condition holds for the main answer
 * value main_value, or -1 when there is none. */
int survey_next_followup(const survey *s, int after, int main_value);

/* Lists the survey files (*.json) in dir, sorted by name, as full paths into names (max entries
 * of SURVEY_PATH_MAX bytes); *n gets the count. Returns TP_OK, TP_ERR_NOT_FOUND or TP_ERR_IO. */
tp_err survey_list_dir(const char *dir, char (*names)[SURVEY_PATH_MAX], size_t max, size_t *n);

#endif /* TP_SURVEY_H */
