/* test_survey.c - unit tests of survey.c: the shipped demo surveys load, every validation error
 * names the file and the JSON path of the fault, conditions and follow-up selection, and the
 * check of every display text against the font (with a test font). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "survey.h"

/* A valid survey; tests replace one fragment at a time to break it. */
static const char *GOOD =
    "{\"format\": 1, \"id\": \"t\", \"version\": 3, \"languages\": [\"vi\", \"en\"],"
    " \"title\": {\"vi\": \"Tiêu đề\", \"en\": \"Title\"},"
    " \"questions\": ["
    "  {\"id\": \"recommend\", \"kind\": \"nps\", \"prompt\": {\"vi\": \"Câu hỏi\", \"en\": \"Q\"},"
    "   \"low_label\": {\"vi\": \"Thấp\", \"en\": \"Low\"},"
    "   \"high_label\": {\"vi\": \"Cao\", \"en\": \"High\"}},"
    "  {\"id\": \"reason\", \"kind\": \"choice\", \"prompt\": {\"vi\": \"Vì sao?\", \"en\": "
    "\"Why?\"},"
    "   \"when\": {\"question\": \"recommend\", \"op\": \"<=\", \"value\": 6},"
    "   \"options\": [{\"id\": \"wait\", \"label\": {\"vi\": \"Chờ lâu\", \"en\": \"Wait\"}},"
    "                {\"id\": \"price\", \"label\": {\"vi\": \"Giá\", \"en\": \"Price\"}},"
    "                {\"id\": \"other\", \"label\": {\"vi\": \"Khác\", \"en\": \"Other\"}}]}],"
    " \"thanks\": {\"vi\": \"Cảm ơn!\", \"en\": \"Thanks!\"}}";

/* Replaces the first occurrence of from by to in GOOD, parses, and checks the error text. */
static void expect_fault(const char *from, const char *to, const char *want)
{
    char doc[4096], err[512];
    const char *at = strstr(GOOD, from);
    if (!at)
        fail_msg("fragment '%s' not in GOOD", from);
    snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - GOOD), GOOD, to, at + strlen(from));
    survey *s = NULL;
    tp_err rc = survey_parse("x.json", doc, strlen(doc), &s, err, sizeof err);
    if (rc != TP_ERR_SURVEY)
        fail_msg("'%s' -> '%s': rc %d, want survey error", from, to, rc);
    assert_null(s);
    if (strcmp(err, want) != 0 && strncmp(err, want, strlen(want)) != 0)
        fail_msg("'%s' -> '%s':\n got  '%s'\n want '%s'", from, to, err, want);
}

static void good_survey_parses(void **state)
{
    (void)state;
    survey *s = NULL;
    char err[512];
    assert_int_equal(survey_parse("x.json", GOOD, strlen(GOOD), &s, err, sizeof err), TP_OK);
    assert_string_equal(s->id, "t");
    assert_int_equal(s->version, 3);
    assert_int_equal(s->n_langs, 2);
    assert_int_equal(s->n_questions, 2);
    assert_int_equal(s->questions[0].kind, TP_KIND_NPS);
    assert_true(s->questions[0].has_labels);
    assert_int_equal(s->questions[1].n_options, 3);
    assert_string_equal(survey_text_get(s, &s->questions[1].options[0].label, "vi"), "Chờ lâu");
    assert_string_equal(survey_text_get(s, &s->questions[1].options[0].label, "en"), "Wait");
    assert_string_equal(survey_text_get(s, &s->thanks, "fr"), "Cảm ơn!"); /* falls back */
    assert_int_equal(survey_next_followup(s, 0, 6), 1);
    assert_int_equal(survey_next_followup(s, 0, 0), 1);
    assert_int_equal(survey_next_followup(s, 0, 7), -1);
    assert_int_equal(survey_next_followup(s, 1, 3), -1);
    survey_free(s);
    survey_free(NULL);
    print_message("checked: a valid survey parses; texts per language with fallback; follow-up "
                  "shown for nps <= 6 and not for 7\n");
}

static void conditions(void **state)
{
    (void)state;
    survey_cond c = {true, 0, SURVEY_OP_LT, 5};
    assert_true(survey_cond_holds(&c, 4));
    assert_false(survey_cond_holds(&c, 5));
    c.op = SURVEY_OP_LE;
    assert_true(survey_cond_holds(&c, 5));
    c.op = SURVEY_OP_EQ;
    assert_true(survey_cond_holds(&c, 5));
    assert_false(survey_cond_holds(&c, 6));
    c.op = SURVEY_OP_NE;
    assert_true(survey_cond_holds(&c, 6));
    c.op = SURVEY_OP_GE;
    assert_true(survey_cond_holds(&c, 5));
    assert_false(survey_cond_holds(&c, 4));
    c.op = SURVEY_OP_GT;
    assert_false(survey_cond_holds(&c, 5));
    c.present = false;
    assert_true(survey_cond_holds(&c, 0));
    assert_string_equal(survey_op_name(SURVEY_OP_GE), ">=");
    print_message("checked: all six condition operators at and around the boundary\n");
}

static void faults_name_json_path(void **state)
{
    (void)state;
    expect_fault("{\"id\": \"other\", \"label\": {\"vi\": \"Khác\", \"en\": \"Other\"}}",
                 "{\"id\": \"other\", \"label\": {\"en\": \"Other\"}}",
                 "x.json: $.questions[1].options[2].label.vi: missing");
    expect_fault("\"format\": 1", "\"format\": 2", "x.json: $.format: 2 not in 1..1");
    expect_fault("\"version\": 3", "\"version\": 0", "x.json: $.version: 0 not in 1..1000000");
    expect_fault("\"version\": 3", "\"version\": 1.5", "x.json: $.version: not a whole number");
    expect_fault("\"id\": \"t\"", "\"id\": \"t t\"", "x.json: $.id: 't t' is not a valid id");
    expect_fault("\"kind\": \"nps\"", "\"kind\": \"stars\"",
                 "x.json: $.questions[0].kind: expected nps");
    expect_fault("\"kind\": \"nps\"", "\"kind\": \"choice\"",
                 "x.json: $.questions[0].kind: the first question must be a rating");
    expect_fault("\"kind\": \"choice\"", "\"kind\": \"csat\"",
                 "x.json: $.questions[1].kind: follow-up questions must be of kind choice");
    expect_fault("\"op\": \"<=\"", "\"op\": \"=<\"",
                 "x.json: $.questions[1].when.op: '=<' is not one of");
    expect_fault("\"value\": 6", "\"value\": 11",
                 "x.json: $.questions[1].when.value: 11 not in 0..10");
    expect_fault("\"question\": \"recommend\"", "\"question\": \"nope\"",
                 "x.json: $.questions[1].when.question: 'nope' is not an earlier question");
    expect_fault("\"prompt\": {\"vi\": \"Câu hỏi\", \"en\": \"Q\"}",
                 "\"prompt\": {\"vi\": \"Câu hỏi\", \"en\": \"Q\", \"fr\": \"Q\"}",
                 "x.json: $.questions[0].prompt.fr: language not listed in $.languages");
    expect_fault("\"prompt\": {\"vi\": \"Câu hỏi\", \"en\": \"Q\"}",
                 "\"prompt\": {\"vi\": \"\", \"en\": \"Q\"}",
                 "x.json: $.questions[0].prompt.vi: empty");
    expect_fault("\"prompt\": {\"vi\": \"Câu hỏi\", \"en\": \"Q\"}",
                 "\"prompt\": {\"vi\": 5, \"en\": \"Q\"}",
                 "x.json: $.questions[0].prompt.vi: not a string");
    expect_fault("\"high_label\"", "\"high_lable\"",
                 "x.json: $.questions[0].high_lable: unknown key");
    expect_fault("{\"id\": \"price\"", "{\"id\": \"wait\"",
                 "x.json: $.questions[1].options[1].id: 'wait' is used by an earlier option");
    expect_fault("\"languages\": [\"vi\", \"en\"]", "\"languages\": [\"vi\", \"vi\"]",
                 "x.json: $.languages[1]: listed twice");
    expect_fault("\"thanks\"", "\"thankz\"", "x.json: $.thankz: unknown key");
    expect_fault("{\"format\"", "[{\"format\"", "x.json: $: not valid JSON");
    expect_fault(
        "\"options\": [",
        "\"options\": [{\"id\": \"a\", \"label\": {\"vi\": \"a\", "
        "\"en\": \"a\"}}, {\"id\": \"b\", \"label\": {\"vi\": \"a\", \"en\": \"a\"}}, "
        "{\"id\": \"c\", \"label\": {\"vi\": \"a\", \"en\": \"a\"}}, {\"id\": \"d\", "
        "\"label\": {\"vi\": \"a\", \"en\": \"a\"}}, {\"id\": \"e\", \"label\": {\"vi\": "
        "\"a\", \"en\": \"a\"}}, {\"id\": \"f\", \"label\": {\"vi\": \"a\", \"en\": \"a\"}},",
        "x.json: $.questions[1].options: needs 2 to 8 options");
    expect_fault("\"Chờ lâu\"", "\"Ch\xff lâu\"",
                 "x.json: $.questions[1].options[0].label.vi: not valid UTF-8");
    print_message("checked: 21 kinds of fault each reported as FILE: $.json.path: cause\n");
}

/* A font with Latin and Vietnamese letters only (no emoji, no CJK); counts what it was asked. */
static bool latin_font(void *ctx, uint32_t c)
{
    int *asked = ctx;
    (*asked)++;
    return c < 0x2000;
}

/* Replaces from by to in GOOD, parses (must succeed) and runs the glyph check into err. */
static tp_err glyph_check(const char *from, const char *to, int *asked, char *err, size_t errlen)
{
    char doc[4096];
    const char *at = strstr(GOOD, from);
    if (!at)
        fail_msg("fragment '%s' not in GOOD", from);
    snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - GOOD), GOOD, to, at + strlen(from));
    survey *s = NULL;
    if (survey_parse("x.json", doc, strlen(doc), &s, err, errlen) != TP_OK)
        fail_msg("'%s' -> '%s': %s", from, to, err);
    *asked = 0;
    tp_err rc = survey_check_glyphs(s, latin_font, asked, err, errlen);
    survey_free(s);
    return rc;
}

static void glyphs_missing_from_font(void **state)
{
    (void)state;
    char err[512];
    int asked = 0;
    assert_int_equal(glyph_check("\"Q\"", "\"Q\"", &asked, err, sizeof err), TP_OK);
    /* Every character of every text in both languages, spaces included: */
    assert_int_equal(asked, 87);
    assert_int_equal(glyph_check("\"Wait\"", "\"Wait \xf0\x9f\x98\x80\xf0\x9f\x98\x81\"", &asked,
                                 err, sizeof err),
                     TP_ERR_SURVEY);
    assert_string_equal(err, "x.json: $.questions[1].options[0].label.en: character U+1F600 "
                             "(\xf0\x9f\x98\x80) is not in the font");
    assert_int_equal(
        glyph_check("\"Cảm ơn!\"", "\"Cảm ơn \xe8\xb0\xa2\xe8\xb0\xa2\"", &asked, err, sizeof err),
        TP_ERR_SURVEY);
    assert_string_equal(err,
                        "x.json: $.thanks.vi: character U+8C22 (\xe8\xb0\xa2) is not in the font");
    assert_int_equal(glyph_check("\"High\"", "\"\xe2\x98\x85\"", &asked, err, sizeof err),
                     TP_ERR_SURVEY);
    assert_string_equal(err, "x.json: $.questions[0].high_label.en: character U+2605 "
                             "(\xe2\x98\x85) is not in the font");
    assert_int_equal(glyph_check("\"Title\"", "\"T\\u4e00\"", &asked, err, sizeof err),
                     TP_ERR_SURVEY);
    assert_string_equal(err,
                        "x.json: $.title.en: character U+4E00 (\xe4\xb8\x80) is not in the font");
    /* A line break is not drawn, so not asked about. */
    assert_int_equal(glyph_check("\"Q\"", "\"Q\\nR\"", &asked, err, sizeof err), TP_OK);
    assert_int_equal(asked, 88);
    print_message("checked: every display text is asked about, character by character; an emoji, "
                  "a CJK or a symbol character the font lacks is refused with the JSON path of "
                  "its text and the first missing character as U+XXXX (character)\n");
}

static void load_is_bounded(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_survey.XXXXXX", path[64], err[512];
    survey *s = NULL;
    assert_non_null(mkdtemp(dir));
    /* A FIFO under a survey's name is refused, not waited on (no writer would ever come). */
    snprintf(path, sizeof path, "%s/fifo.json", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(survey_load(path, &s, err, sizeof err), TP_ERR_INVALID);
    assert_null(s);
    assert_non_null(strstr(err, "fifo.json"));
    unlink(path);
    /* One byte over SURVEY_FILE_MAX. */
    snprintf(path, sizeof path, "%s/big.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i <= SURVEY_FILE_MAX; i++)
        fputc(' ', f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(survey_load(path, &s, err, sizeof err), TP_ERR_TOO_LARGE);
    assert_null(s);
    unlink(path);
    rmdir(dir);
    print_message("checked: survey_load refuses a FIFO at once and a file over %d bytes\n",
                  SURVEY_FILE_MAX);
}

/* "scale_style" (nps, ces) and "labels" (a caption per value of csat and smiley4). */
static void look_fields(void **state)
{
    (void)state;
    char doc[4096], err[512];
    survey *s = NULL;
    assert_int_equal(survey_parse("x.json", GOOD, strlen(GOOD), &s, err, sizeof err), TP_OK);
    assert_int_equal(s->questions[0].scale_style, SURVEY_SCALE_NEUTRAL); /* the default */
    assert_false(s->questions[0].has_value_labels);
    survey_free(s);
    const char *hl = "\"high_label\": {\"vi\": \"Cao\", \"en\": \"High\"}";
    const char *at = strstr(GOOD, hl);
    assert_non_null(at);
    snprintf(doc, sizeof doc, "%.*s%s, \"scale_style\": \"traffic\"%s", (int)(at - GOOD), GOOD, hl,
             at + strlen(hl));
    assert_int_equal(survey_parse("x.json", doc, strlen(doc), &s, err, sizeof err), TP_OK);
    assert_int_equal(s->questions[0].scale_style, SURVEY_SCALE_TRAFFIC);
    survey_free(s);
    expect_fault(hl, "\"high_label\": {\"vi\": \"Cao\", \"en\": \"High\"}, \"scale_style\": 1",
                 "x.json: $.questions[0].scale_style: expected \"neutral\" or \"traffic\"");
    expect_fault(hl,
                 "\"high_label\": {\"vi\": \"Cao\", \"en\": \"High\"}, \"scale_style\": \"red\"",
                 "x.json: $.questions[0].scale_style: expected \"neutral\" or \"traffic\"");
    expect_fault(hl,
                 "\"high_label\": {\"vi\": \"Cao\", \"en\": \"High\"}, \"labels\": {\"1\": "
                 "{\"vi\": \"a\", \"en\": \"a\"}}",
                 "x.json: $.questions[0].labels: only csat and smiley4 questions have a label "
                 "per value");
    /* A csat main question with its five captions. */
    static const char *const csat5 =
        "\"kind\": \"csat\", \"labels\": {\"1\": {\"vi\": \"Rất không hài lòng\", \"en\": "
        "\"Very dissatisfied\"}, \"2\": {\"vi\": \"b\", \"en\": \"b\"}, \"3\": {\"vi\": \"c\", "
        "\"en\": \"c\"}, \"4\": {\"vi\": \"d\", \"en\": \"d\"}, \"5\": {\"vi\": \"Rất hài lòng\", "
        "\"en\": \"Very satisfied\"}}";
    const char *low = "\"kind\": \"nps\", \"prompt\": {\"vi\": \"Câu hỏi\", \"en\": \"Q\"},"
                      "   \"low_label\": {\"vi\": \"Thấp\", \"en\": \"Low\"},"
                      "   \"high_label\": {\"vi\": \"Cao\", \"en\": \"High\"}";
    at = strstr(GOOD, low);
    assert_non_null(at);
    snprintf(doc, sizeof doc, "%.*s%s, \"prompt\": {\"vi\": \"Câu hỏi\", \"en\": \"Q\"}%s",
             (int)(at - GOOD), GOOD, csat5, at + strlen(low));
    char *six = strstr(doc, "\"value\": 6"); /* the follow-up's condition, on the 1..5 scale */
    assert_non_null(six);
    six[9] = '2';
    if (survey_parse("x.json", doc, strlen(doc), &s, err, sizeof err) != TP_OK)
        fail_msg("%s", err);
    assert_true(s->questions[0].has_value_labels);
    assert_string_equal(survey_text_get(s, &s->questions[0].value_labels[0], "vi"),
                        "Rất không hài lòng");
    assert_string_equal(survey_text_get(s, &s->questions[0].value_labels[4], "en"),
                        "Very satisfied");
    survey_free(s);
    /* Faults in the captions: a value missing, a value off the scale, a language missing. */
    const struct {
        const char *from, *to, *want;
    } bad[] = {
        {"\"3\": {\"vi\": \"c\", \"en\": \"c\"}, ", "", "x.json: $.questions[0].labels.3: missing"},
        {"\"3\":", "\"6\":", "x.json: $.questions[0].labels.6: not a value of the scale (1..5)"},
        {"\"3\": {\"vi\": \"c\", \"en\": \"c\"}", "\"3\": {\"vi\": \"c\"}",
         "x.json: $.questions[0].labels.3.en: missing"},
        {strchr(csat5, '{'), "[]",
         "x.json: $.questions[0].labels: not an object of captions per value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char d2[4096];
        const char *f = strstr(doc, bad[i].from);
        assert_non_null(f);
        snprintf(d2, sizeof d2, "%.*s%s%s", (int)(f - doc), doc, bad[i].to,
                 f + strlen(bad[i].from));
        assert_int_equal(survey_parse("x.json", d2, strlen(d2), &s, err, sizeof err),
                         TP_ERR_SURVEY);
        if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0)
            fail_msg("got '%s', want '%s'", err, bad[i].want);
    }
    /* The shipped service desk survey captions its faces in both languages. */
    assert_int_equal(survey_load("assets/surveys/service-csat.json", &s, err, sizeof err), TP_OK);
    assert_true(s->questions[0].has_value_labels);
    assert_string_equal(survey_text_get(s, &s->questions[0].value_labels[4], "en"),
                        "Very satisfied");
    survey_free(s);
    print_message("checked: scale_style defaults to neutral, \"traffic\" parses, other values and "
                  "labels on nps are refused; csat captions per value parse, a missing or "
                  "off-scale value or language is named by its JSON path; service-csat has "
                  "them\n");
}

static void demo_surveys_load(void **state)
{
    (void)state;
    char names[16][SURVEY_PATH_MAX], err[512];
    size_t n = 0;
    int kinds_seen = 0;
    assert_int_equal(survey_list_dir("assets/surveys", names, 16, &n), TP_OK);
    assert_true(n >= 3);
    for (size_t i = 0; i < n; i++) {
        survey *s = NULL;
        if (survey_load(names[i], &s, err, sizeof err) != TP_OK)
            fail_msg("%s", err);
        assert_int_equal(survey_lang_index(s, "vi"), 0);
        assert_true(survey_lang_index(s, "en") >= 0);
        kinds_seen |= 1 << s->questions[0].kind;
        survey_free(s);
    }
    assert_int_equal(kinds_seen & 0xf, 0xf); /* nps, csat, ces and smiley4 are all shipped */
    survey *s = NULL;
    assert_int_equal(survey_load("assets/surveys/nope.json", &s, err, sizeof err),
                     TP_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "nope.json"));
    assert_int_equal(survey_list_dir("/nonexistent-dir", names, 16, &n), TP_ERR_NOT_FOUND);
    print_message("checked: every shipped survey in assets/surveys loads, has vi and en, and "
                  "together they cover nps, csat, ces and smiley4\n");
}

/* Issue 15: the optional "comment" object; each fault names its field. */
static void comment_field(void **state)
{
    (void)state;
    static const char *C = "\"thanks\": {\"vi\": \"Cảm ơn!\", \"en\": \"Thanks!\"}";
    char doc[4096], err[512];
    survey *s = NULL;
    const char *at = strstr(GOOD, C);
    assert_non_null(at);
    /* Without "comment" nothing is offered. */
    assert_int_equal(survey_parse("x.json", GOOD, strlen(GOOD), &s, err, sizeof err), TP_OK);
    assert_int_equal(s->comment_after, SURVEY_COMMENT_NONE);
    assert_false(survey_comment_offered(s, 0));
    survey_free(s);
    snprintf(doc, sizeof doc,
             "%.*s%s, \"comment\": {\"after\": \"low\", \"prompt\": {\"vi\": \"Góp ý\", \"en\": "
             "\"Tell us\"}, \"link_minutes\": 45}%s",
             (int)(at - GOOD), GOOD, C, at + strlen(C));
    assert_int_equal(survey_parse("x.json", doc, strlen(doc), &s, err, sizeof err), TP_OK);
    assert_int_equal(s->comment_after, SURVEY_COMMENT_LOW);
    assert_true(s->has_comment_prompt);
    assert_string_equal(survey_text_get(s, &s->comment_prompt, "en"), "Tell us");
    assert_int_equal(s->comment_minutes, 45);
    assert_true(survey_comment_offered(s, 6));
    assert_false(survey_comment_offered(s, 7));
    assert_false(survey_comment_offered(s, 10));
    s->comment_after = SURVEY_COMMENT_HIGH;
    assert_false(survey_comment_offered(s, 8));
    assert_true(survey_comment_offered(s, 9));
    s->comment_after = SURVEY_COMMENT_ANY;
    assert_true(survey_comment_offered(s, 7));
    survey_free(s);

    static const struct {
        const char *comment, *want;
    } bad[] = {
        {"\"comment\": true", "x.json: $.comment: not an object"},
        {"\"comment\": {}", "x.json: $.comment.after: missing"},
        {"\"comment\": {\"after\": \"always\"}",
         "x.json: $.comment.after: expected \"any\", \"low\" or \"high\""},
        {"\"comment\": {\"after\": 1}",
         "x.json: $.comment.after: expected \"any\", \"low\" or \"high\""},
        {"\"comment\": {\"after\": \"any\", \"promt\": {}}",
         "x.json: $.comment.promt: unknown key"},
        {"\"comment\": {\"after\": \"any\", \"prompt\": {\"vi\": \"Góp ý\"}}",
         "x.json: $.comment.prompt.en: missing"},
        {"\"comment\": {\"after\": \"any\", \"prompt\": \"Góp ý\"}",
         "x.json: $.comment.prompt: not an object of texts per language"},
        {"\"comment\": {\"after\": \"any\", \"link_minutes\": 0}",
         "x.json: $.comment.link_minutes: 0 not in 1..1440"},
        {"\"comment\": {\"after\": \"any\", \"link_minutes\": \"30\"}",
         "x.json: $.comment.link_minutes: not a whole number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char with[600];
        snprintf(with, sizeof with, "%s, %s", C, bad[i].comment);
        expect_fault(C, with, bad[i].want);
    }
}

/* The negative / positive bands "low" and "high" use, per kind. */
static void value_bands(void **state)
{
    (void)state;
    static const int nps[11] = {-1, -1, -1, -1, -1, -1, -1, 0, 0, 1, 1};
    for (int v = 0; v <= 10; v++)
        assert_int_equal(survey_value_band(TP_KIND_NPS, v), nps[v]);
    static const int csat[6] = {0, -1, -1, 0, 1, 1};
    static const int ces[8] = {0, -1, -1, -1, 0, 1, 1, 1};
    static const int smiley[5] = {0, -1, -1, 1, 1};
    for (int v = 1; v <= 5; v++)
        assert_int_equal(survey_value_band(TP_KIND_CSAT, v), csat[v]);
    for (int v = 1; v <= 7; v++)
        assert_int_equal(survey_value_band(TP_KIND_CES, v), ces[v]);
    for (int v = 1; v <= 4; v++)
        assert_int_equal(survey_value_band(TP_KIND_SMILEY4, v), smiley[v]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_survey_parses),
        cmocka_unit_test(comment_field),
        cmocka_unit_test(value_bands),
        cmocka_unit_test(conditions),
        cmocka_unit_test(faults_name_json_path),
        cmocka_unit_test(demo_surveys_load),
        cmocka_unit_test(glyphs_missing_from_font),
        cmocka_unit_test(load_is_bounded),
        cmocka_unit_test(look_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
