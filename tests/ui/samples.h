/*
 * samples.h - sample screens for the ui tests, the sample renderer and the ui benchmark: every
 * screen kind and every scale, in Vietnamese and English, as the kiosk would build them.
 */
#ifndef TP_UI_SAMPLES_H
#define TP_UI_SAMPLES_H

#include "ui.h"

typedef struct ui_sample {
    const char *name; /* file-name friendly: "question-nps-vi" */
    ui_screen screen; /* points into static storage: valid for the whole program */
} ui_sample;

/* Returns the number of samples. */
int ui_sample_count(void);

/* Returns sample i (0 <= i < ui_sample_count()), or NULL. Static storage. */
const ui_sample *ui_sample_get(int i);

/* Returns the sample named name, or NULL. */
const ui_sample *ui_sample_find(const char *name);

/* A question with a very long Vietnamese prompt (wrap-and-shrink test). */
extern const char *const ui_sample_long_vi;

#endif /* TP_UI_SAMPLES_H */
