/*
 * cjarena.c - a batch's JSON tree in one arena (see cjarena.h).
 */
#include "cjarena.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define CHUNK_MIN ((size_t)1 << 20)

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
} chunk;

struct cjarena {
    chunk *head; /* the chunk being filled first */
};

static bool installed;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Thread_local cjarena *active; /* the arena of the parse running on this thread */

static void *arena_alloc(cjarena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
        if (!(c = malloc(sizeof *c + cap)))
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static bool arena_owns(const cjarena *a, const void *p)
{
    for (const chunk *c = a->head; c; c = c->next)
        if ((uintptr_t)p >= (uintptr_t)c->data && (uintptr_t)p < (uintptr_t)(c->data + c->cap))
            return true;
    return false;
}

static void *hook_malloc(size_t n)
{
    return active ? arena_alloc(active, n) : malloc(n);
}

/* cJSON frees a partial tree when a parse fails: its blocks go with the arena. */
static void hook_free(void *p)
{
    if (active && arena_owns(active, p))
        return;
    free(p);
}

static void install_once(void)
{
    cJSON_Hooks h = {hook_malloc, hook_free};
    cJSON_InitHooks(&h);
    installed = true;
}

void cjarena_install(void)
{
    pthread_once(&once, install_once);
}

static void arena_free(cjarena *a)
{
    while (a && a->head) {
        chunk *c = a->head;
        a->head = c->next;
        free(c);
    }
    free(a);
}

cJSON *cjarena_parse(const char *text, size_t len, cjarena **arena)
{
    *arena = NULL;
    if (!installed)
        return cJSON_ParseWithLengthOpts(text, len, NULL, false);
    cjarena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    active = a;
    cJSON *tree = cJSON_ParseWithLengthOpts(text, len, NULL, false);
    active = NULL;
    if (!tree) {
        arena_free(a);
        return NULL;
    }
    *arena = a;
    return tree;
}

void cjarena_release(cjarena *arena, cJSON *tree)
{
    if (arena)
        arena_free(arena);
    else
        cJSON_Delete(tree);
}
