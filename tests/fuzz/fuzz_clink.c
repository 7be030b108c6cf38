/*
 * fuzz_clink.c - libFuzzer target for the comment link's parser (sync/clink.h clink_parse and
 * clink_verify), which reads a URL any phone can send to the collector's comment page.
 *
 * Whatever the bytes (as a link, NUL-terminated): the parser refuses them with a message naming
 * a field, or returns fields in their formats; clink_verify with a fixed key never accepts a
 * link whose mac is not the key's (a forged link stays forged), and a link rebuilt from the
 * parsed fields with that key's own mac parses back to the same fields and verifies. A broken
 * promise aborts, which libFuzzer reports with the input saved.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_clink: promise broken: %s (line %d)\n", #cond, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char *KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), err[256];
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    clink l, back;
    tp_err rc = clink_parse(s, &l, err, sizeof err);
    if (rc != TP_OK) {
        CHECK(rc == TP_ERR_INVALID && err[0] && strchr(err, ':'));
        CHECK(clink_verify(s, KEY, 0, NULL, err, sizeof err) == CLINK_MALFORMED);
        free(s);
        return 0;
    }
    CHECK(tp_id_valid(l.device) && strlen(l.session) == 36 && l.expiry_s >= 0);
    CHECK(strcmp(l.lang, "vi") == 0 || strcmp(l.lang, "en") == 0);
    char want[CLINK_MAC_LEN + 1];
    CHECK(clink_mac(KEY, l.device, l.session, l.expiry_s, want) == TP_OK);
    clink_result r = clink_verify(s, KEY, 0, NULL, err, sizeof err);
    CHECK(strcmp(want, l.mac) == 0 ? r == CLINK_VALID : r == CLINK_FORGED);
    char url[CLINK_URL_MAX];
    CHECK(clink_build("https://x.vn/c", KEY, l.device, l.session, l.expiry_s, l.lang, url,
                      sizeof url) == TP_OK);
    CHECK(clink_verify(url, KEY, l.expiry_s, &back, err, sizeof err) == CLINK_VALID);
    CHECK(strcmp(back.device, l.device) == 0 && strcmp(back.session, l.session) == 0 &&
          back.expiry_s == l.expiry_s && strcmp(back.lang, l.lang) == 0);
    CHECK(clink_verify(url, KEY, l.expiry_s + 1, NULL, err, sizeof err) == CLINK_EXPIRED);
    free(s);
    return 0;
}
