/*
 * ui_shape.c - anti-aliased shapes (rounded buttons, faces, icons, rings, PIN dots) rasterized
 * into ARGB8888 pixel buffers with signed distance functions.
 *
 * Why not SDL_RenderGeometry: the software renderer draws triangles without anti-aliasing, so
 * circles and mouths would be jagged. Here each pixel's coverage comes from its signed distance
 * to the shape's edge (coverage = 0.5 - d, clamped), which gives a one-pixel analytic soft edge at
 * any size. The results are turned into textures once and cached (ui.c), so the per-pixel math
 * runs only when a size or colour is first needed.
 */
#include <math.h>
#include <stdlib.h>

#include "ui_int.h"

/* Premultiplied float accumulator of one pixel. */
typedef struct px4 {
    float r, g, b, a;
} px4;

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Coverage of a pixel whose centre lies d pixels outside an edge (negative: inside). */
static float cover(float d)
{
    return clampf(0.5f - d, 0.0f, 1.0f);
}

/* Paints colour c with coverage cov over acc (Porter-Duff over, premultiplied). */
static void over(px4 *acc, ui_rgba c, float cov)
{
    float a = cov * (float)c.a / 255.0f;
    if (a <= 0.0f)
        return;
    acc->r = (float)c.r / 255.0f * a + acc->r * (1.0f - a);
    acc->g = (float)c.g / 255.0f * a + acc->g * (1.0f - a);
    acc->b = (float)c.b / 255.0f * a + acc->b * (1.0f - a);
    acc->a = a + acc->a * (1.0f - a);
}

/* Stores acc as straight-alpha ARGB8888. */
static uint32_t pack(px4 acc)
{
    if (acc.a <= 0.0f)
        return 0;
    float a = clampf(acc.a, 0.0f, 1.0f);
    uint32_t r = (uint32_t)lroundf(clampf(acc.r / a, 0.0f, 1.0f) * 255.0f);
    uint32_t g = (uint32_t)lroundf(clampf(acc.g / a, 0.0f, 1.0f) * 255.0f);
    uint32_t b = (uint32_t)lroundf(clampf(acc.b / a, 0.0f, 1.0f) * 255.0f);
    uint32_t al = (uint32_t)lroundf(a * 255.0f);
    return al << 24 | r << 16 | g << 8 | b;
}

/* Signed distance from (px, py) to a box centred at (cx, cy) with half sizes hw, hh and corner
 * radius rad. */
static float sd_rrect(float px, float py, float cx, float cy, float hw, float hh, float rad)
{
    float qx = fabsf(px - cx) - (hw - rad);
    float qy = fabsf(py - cy) - (hh - rad);
    float ox = qx > 0 ? qx : 0, oy = qy > 0 ? qy : 0;
    float outside = sqrtf(ox * ox + oy * oy);
    float inside = fminf(fmaxf(qx, qy), 0.0f);
    return outside + inside - rad;
}

static float sd_circle(float px, float py, float cx, float cy, float r)
{
    return hypotf(px - cx, py - cy) - r;
}

/* Distance from (px, py) to the segment a-b. */
static float dist_seg(float px, float py, float ax, float ay, float bx, float by)
{
    float vx = bx - ax, vy = by - ay;
    float wx = px - ax, wy = py - ay;
    float len2 = vx * vx + vy * vy;
    float t = len2 > 0 ? clampf((wx * vx + wy * vy) / len2, 0.0f, 1.0f) : 0.0f;
    return hypotf(wx - t * vx, wy - t * vy);
}

/* Distance to the circular arc through (cx - mw, my), (cx, my + s), (cx + mw, my): the mouth.
 * s > 0 bends down in the middle (a smile, y grows downwards), s < 0 up (a frown). */
static float dist_arc(float px, float py, float cx, float my, float mw, float s)
{
    if (fabsf(s) < 0.5f)
        return dist_seg(px, py, cx - mw, my, cx + mw, my);
    float as = fabsf(s);
    float rad = (mw * mw + as * as) / (2.0f * as);
    float sign = s > 0 ? 1.0f : -1.0f;
    float ccy = my + s - sign * rad; /* centre on the far side of the middle point */
    float vx = px - cx, vy = py - ccy;
    float len = hypotf(vx, vy);
    float cos_half = (rad - as) / rad;
    float cosang = len > 0 ? (vy * sign) / len : 1.0f;
    if (cosang >= cos_half)
        return fabsf(len - rad);
    float da = hypotf(px - (cx - mw), py - my);
    float db = hypotf(px - (cx + mw), py - my);
    return fminf(da, db);
}

void ui_shape_rrect(uint32_t *pix, int w, int h, float radius, ui_rgba fill, float border,
                    ui_rgba border_col, float shadow)
{
    float bh = (float)h - shadow; /* body height: the shadow lives in the strip below it */
    float hw = (float)w / 2.0f, hh = bh / 2.0f;
    float rad = fminf(radius, fminf(hw, hh));
    ui_rgba shade = {20, 30, 45, 46};
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            float fx = (float)x + 0.5f, fy = (float)y + 0.5f;
            px4 acc = {0, 0, 0, 0};
            if (shadow > 0) {
                float ds = sd_rrect(fx, fy, hw, hh + shadow, hw - 0.5f, hh, rad);
                over(&acc, shade, clampf(0.5f - ds / shadow, 0.0f, 1.0f));
            }
            float d = sd_rrect(fx, fy, hw, hh, hw, hh, rad);
            if (border > 0) {
                over(&acc, border_col, cover(d));
                over(&acc, fill, cover(d + border));
            } else {
                over(&acc, fill, cover(d));
            }
            pix[y * w + x] = pack(acc);
        }
    }
}

void ui_shape_face(uint32_t *pix, int w, int h, ui_rgba fill, float mood, ui_rgba ink, float ring,
                   ui_rgba ring_col)
{
    float cx = (float)w / 2.0f, cy = (float)h / 2.0f;
    float outer = fminf(cx, cy) - 0.5f;
    /* With a ring (highlight) the disc shrinks to leave a gap the size of the ring; a negative
     * ring is an outline of that width on the disc's own edge (its boundary against the screen). */
    float r = ring > 0 ? outer - ring * 2.0f : outer;
    float edge = ring < 0 ? -ring : 0.0f;
    float eye_dx = 0.34f * r, eye_y = cy - 0.2f * r, eye_r = 0.095f * r;
    float mouth_y = cy + 0.3f * r - mood * 0.08f * r, mouth_w = 0.42f * r;
    float sag = mood * 0.2f * r, stroke = 0.06f * r;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            float fx = (float)x + 0.5f, fy = (float)y + 0.5f;
            px4 acc = {0, 0, 0, 0};
            float dc = sd_circle(fx, fy, cx, cy, outer);
            if (ring > 0)
                over(&acc, ring_col, cover(fmaxf(dc, -(dc + ring))));
            over(&acc, fill, cover(sd_circle(fx, fy, cx, cy, r)));
            if (edge > 0)
                over(&acc, ring_col, cover(fmaxf(dc, -(dc + edge))));
            float de = fminf(sd_circle(fx, fy, cx - eye_dx, eye_y, eye_r),
                             sd_circle(fx, fy, cx + eye_dx, eye_y, eye_r));
            over(&acc, ink, cover(de));
            over(&acc, ink, cover(dist_arc(fx, fy, cx, mouth_y, mouth_w, sag) - stroke));
            if (mood <= -0.9f) { /* brows raised in the middle: the very unhappy face */
                float db = fminf(
                    dist_seg(fx, fy, cx - 0.5f * r, cy - 0.38f * r, cx - 0.2f * r, cy - 0.5f * r),
                    dist_seg(fx, fy, cx + 0.5f * r, cy - 0.38f * r, cx + 0.2f * r, cy - 0.5f * r));
                over(&acc, ink, cover(db - stroke * 0.8f));
            }
            pix[y * w + x] = pack(acc);
        }
    }
}

void ui_shape_check(uint32_t *pix, int w, int h, ui_rgba fill, ui_rgba ink)
{
    float cx = (float)w / 2.0f, cy = (float)h / 2.0f, r = fminf(cx, cy) - 0.5f;
    float st = 0.085f * r;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            float fx = (float)x + 0.5f, fy = (float)y + 0.5f;
            px4 acc = {0, 0, 0, 0};
            over(&acc, fill, cover(sd_circle(fx, fy, cx, cy, r)));
            float d = fminf(
                dist_seg(fx, fy, cx - 0.36f * r, cy + 0.02f * r, cx - 0.1f * r, cy + 0.28f * r),
                dist_seg(fx, fy, cx - 0.1f * r, cy + 0.28f * r, cx + 0.4f * r, cy - 0.26f * r));
            over(&acc, ink, cover(d - st));
            pix[y * w + x] = pack(acc);
        }
    }
}

void ui_shape_warn(uint32_t *pix, int w, int h, ui_rgba fill, ui_rgba ink)
{
    float cx = (float)w / 2.0f, cy = (float)h / 2.0f, r = fminf(cx, cy) - 0.5f;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            float fx = (float)x + 0.5f, fy = (float)y + 0.5f;
            px4 acc = {0, 0, 0, 0};
            over(&acc, fill, cover(sd_circle(fx, fy, cx, cy, r)));
            float d = fminf(dist_seg(fx, fy, cx, cy - 0.45f * r, cx, cy + 0.1f * r) - 0.09f * r,
                            sd_circle(fx, fy, cx, cy + 0.4f * r, 0.11f * r));
            over(&acc, ink, cover(d));
            pix[y * w + x] = pack(acc);
        }
    }
}

void ui_shape_ring(uint32_t *pix, int w, int h, float progress, ui_rgba col, ui_rgba track)
{
    const float two_pi = 6.28318530718f;
    float cx = (float)w / 2.0f, cy = (float)h / 2.0f;
    float ro = fminf(cx, cy) - 0.5f, width = fmaxf(3.0f, 0.16f * ro * 2.0f);
    float rm = ro - width / 2.0f;
    float end = clampf(progress, 0.0f, 1.0f) * two_pi;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            float fx = (float)x + 0.5f, fy = (float)y + 0.5f;
            px4 acc = {0, 0, 0, 0};
            float dr = fabsf(hypotf(fx - cx, fy - cy) - rm) - width / 2.0f;
            float c = cover(dr);
            over(&acc, track, c);
            float ang = atan2f(fx - cx, -(fy - cy)); /* clockwise from 12 o'clock */
            if (ang < 0)
                ang += two_pi;
            float edge = clampf(0.5f + (end - ang) * rm, 0.0f, 1.0f);
            over(&acc, col, c * edge);
            pix[y * w + x] = pack(acc);
        }
    }
}

void ui_shape_dots(uint32_t *pix, int w, int h, int n, int filled, ui_rgba col)
{
    if (n <= 0)
        return;
    float step = (float)w / (float)n;
    float r = fminf((float)h / 2.0f, step * 0.3f) - 0.5f;
    float st = fmaxf(1.5f, r * 0.16f);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            float fx = (float)x + 0.5f, fy = (float)y + 0.5f;
            int i = (int)(fx / step);
            if (i >= n)
                i = n - 1;
            float cx = step * ((float)i + 0.5f), cy = (float)h / 2.0f;
            float d = sd_circle(fx, fy, cx, cy, r);
            if (i >= filled)
                d = fabsf(d + st / 2.0f) - st / 2.0f; /* outline only */
            px4 acc = {0, 0, 0, 0};
            over(&acc, col, cover(d));
            pix[y * w + x] = pack(acc);
        }
    }
}
