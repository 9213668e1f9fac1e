/*
 * ratelimit.c - token buckets and per-number sliding windows.
 *
 * Per-number state is a small open-addressing hash table keyed by the
 * 11-digit number; each entry keeps the times of its recent sends (as many
 * as the largest limit needs, at most RL_MAX_KEEP) in a ring.
 *
 * Per-address state is another open-addressing table keyed by the IPv4
 * address; a slot whose bucket would be full again is as good as empty, so
 * the table is rebuilt without those whenever it fills up.
 */
#include "ratelimit.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RL_MAX_KEEP 64

void bucket_init(struct bucket *b, double rate, int64_t now_ms)
{
    b->rate = rate > 0 ? rate : 1;
    b->tokens = b->rate;
    b->last_ms = now_ms;
}

int64_t bucket_take(struct bucket *b, int64_t now_ms)
{
    double elapsed = (double)(now_ms - b->last_ms) / 1000.0;
    if (elapsed > 0) {
        b->tokens += elapsed * b->rate;
        if (b->tokens > b->rate)
            b->tokens = b->rate;
        b->last_ms = now_ms;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 0;
    }
    return (int64_t)((1.0 - b->tokens) / b->rate * 1000.0) + 1;
}

struct entry {
    char number[16];          /* "" = free slot */
    int n;                    /* how many are valid */
    int head;                 /* next write position */
    int64_t sends[];          /* ring of `keep` send times, newest at head-1 */
};

struct number_limits {
    int per_minute, per_hour, per_day;
    int keep;                 /* sends remembered per number */
    size_t stride;            /* bytes per slot: entry + keep send times */
    unsigned char *tab;
    size_t cap, used;
};

static struct entry *slot(const struct number_limits *nl, unsigned char *tab, size_t i)
{
    return (struct entry *)(void *)(tab + i * nl->stride);
}

struct number_limits *number_limits_new(int per_minute, int per_hour, int per_day)
{
    struct number_limits *nl = xcalloc(1, sizeof *nl);
    nl->per_minute = per_minute;
    nl->per_hour = per_hour;
    nl->per_day = per_day;
    int keep = per_minute;
    if (per_hour > keep)
        keep = per_hour;
    if (per_day > keep)
        keep = per_day;
    nl->keep = keep < 1 ? 1 : keep > RL_MAX_KEEP ? RL_MAX_KEEP : keep;
    nl->stride = sizeof(struct entry) + (size_t)nl->keep * sizeof(int64_t);
    nl->cap = 256;
    nl->tab = xcalloc(nl->cap, nl->stride);
    return nl;
}

void number_limits_free(struct number_limits *nl)
{
    if (!nl)
        return;
    free(nl->tab);
    free(nl);
}

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct entry *find(struct number_limits *nl, const char *number, int create);
static int64_t kth_newest(const struct number_limits *nl, const struct entry *e, int k);

/* Rehash into a table of `cap` slots, keeping the numbers whose newest
 * send is after `since` (INT64_MIN keeps all). */
static void rebuild(struct number_limits *nl, size_t cap, int64_t since)
{
    unsigned char *old = nl->tab;
    size_t oldcap = nl->cap;
    nl->cap = cap;
    nl->tab = xcalloc(nl->cap, nl->stride);
    nl->used = 0;
    for (size_t i = 0; i < oldcap; i++) {
        struct entry *o = slot(nl, old, i);
        if (o->number[0] && (since == INT64_MIN || kth_newest(nl, o, 1) > since))
            memcpy(find(nl, o->number, 1), o, nl->stride);
    }
    free(old);
}

static struct entry *find(struct number_limits *nl, const char *number, int create)
{
    if (create && (nl->used + 1) * 2 > nl->cap)
        rebuild(nl, nl->cap * 2, INT64_MIN);
    size_t i = hash(number) & (nl->cap - 1);
    for (;;) {
        struct entry *e = slot(nl, nl->tab, i);
        if (!e->number[0]) {
            if (!create)
                return NULL;
            snprintf(e->number, sizeof e->number, "%s", number);
            nl->used++;
            return e;
        }
        if (strcmp(e->number, number) == 0)
            return e;
        i = (i + 1) & (nl->cap - 1);
    }
}

/* The k-th newest send (k = 1 newest), or -1. */
static int64_t kth_newest(const struct number_limits *nl, const struct entry *e, int k)
{
    if (k < 1 || k > e->n)
        return -1;
    int idx = (e->head - k + nl->keep * 2) % nl->keep;
    return e->sends[idx];
}

int64_t number_limits_next(struct number_limits *nl, const char *number, int64_t now)
{
    struct entry *e = find(nl, number, 0);
    if (!e)
        return now;
    int64_t next = now;
    const struct { int limit; int64_t span; } rules[] = {
        {nl->per_minute, 60}, {nl->per_hour, 3600}, {nl->per_day, 86400},
    };
    for (size_t r = 0; r < HF_ARRAY_LEN(rules); r++) {
        int limit = rules[r].limit;
        if (limit <= 0 || limit > nl->keep)
            continue;
        /* With `limit` sends in the span, the next may go when the oldest
         * of those leaves the span. */
        int64_t t = kth_newest(nl, e, limit);
        if (t >= 0 && t + rules[r].span > next)
            next = t + rules[r].span;
    }
    return next;
}

void number_limits_note(struct number_limits *nl, const char *number, int64_t now)
{
    if (nl->per_minute <= 0 && nl->per_hour <= 0 && nl->per_day <= 0)
        return;               /* no per-number limit: nothing to remember */
    struct entry *e = find(nl, number, 1);
    e->sends[e->head] = now;
    e->head = (e->head + 1) % nl->keep;
    if (e->n < nl->keep)
        e->n++;
}

void number_limits_expire(struct number_limits *nl, int64_t now)
{
    /* Drop numbers whose newest send is more than a day old; shrink the
     * table back when most of it has emptied. */
    if (nl->used == 0 && nl->cap == 256)
        return;
    size_t cap = nl->cap;
    while (cap > 256 && nl->used * 8 < cap)
        cap /= 2;
    rebuild(nl, cap, now - 86400);
}

size_t number_limits_size(const struct number_limits *nl)
{
    return nl->used;
}

/* ---- per-address limits --------------------------------------------------- */

struct ip_slot {
    uint32_t ip;
    uint32_t used;            /* 0 = free slot */
    double tokens;
    int64_t last_ms;
};

struct ip_limits {
    double rate, burst;
    int64_t refill_ms;        /* time an empty bucket takes to fill up */
    struct ip_slot *tab;
    size_t cap, used;         /* cap is a power of two */
};

struct ip_limits *ip_limits_new(double rate, double burst)
{
    struct ip_limits *l = xcalloc(1, sizeof *l);
    l->rate = rate > 0 ? rate : 1;
    l->burst = burst >= 1 ? burst : 1;
    l->refill_ms = (int64_t)(l->burst / l->rate * 1000.0) + 1;
    l->cap = 64;
    l->tab = xcalloc(l->cap, sizeof *l->tab);
    return l;
}

void ip_limits_free(struct ip_limits *l)
{
    if (!l)
        return;
    free(l->tab);
    free(l);
}

size_t ip_limits_size(const struct ip_limits *l)
{
    return l ? l->used : 0;
}

static size_t ip_hash(uint32_t ip, size_t cap)
{
    return (size_t)((ip * 2654435761u) ^ (ip >> 16)) & (cap - 1);
}

static struct ip_slot *ip_find(struct ip_slot *tab, size_t cap, uint32_t ip)
{
    for (size_t i = ip_hash(ip, cap);; i = (i + 1) & (cap - 1))
        if (!tab[i].used || tab[i].ip == ip)
            return &tab[i];
}

/* Rebuild into a table sized for what is still limited at @now_ms (slots
 * whose bucket has refilled are dropped). */
static void ip_rebuild(struct ip_limits *l, int64_t now_ms)
{
    size_t keep = 0;
    for (size_t i = 0; i < l->cap; i++)
        if (l->tab[i].used && now_ms - l->tab[i].last_ms < l->refill_ms)
            keep++;
    size_t cap = 64;
    while (cap < keep * 4 && cap < 4 * (size_t)IP_LIMITS_MAX)
        cap *= 2;
    struct ip_slot *tab = xcalloc(cap, sizeof *tab);
    for (size_t i = 0; i < l->cap; i++) {
        struct ip_slot *o = &l->tab[i];
        if (o->used && now_ms - o->last_ms < l->refill_ms)
            *ip_find(tab, cap, o->ip) = *o;
    }
    free(l->tab);
    l->tab = tab;
    l->cap = cap;
    l->used = keep;
}

int64_t ip_limits_take(struct ip_limits *l, uint32_t ip, int64_t now_ms)
{
    struct ip_slot *s = ip_find(l->tab, l->cap, ip);
    if (!s->used) {
        if (l->used + 1 > l->cap / 2) {
            ip_rebuild(l, now_ms);
            if (l->used + 1 > l->cap / 2)
                return 0; /* IP_LIMITS_MAX addresses limited at once: let it through */
            s = ip_find(l->tab, l->cap, ip);
        }
        s->used = 1;
        s->ip = ip;
        s->tokens = l->burst;
        s->last_ms = now_ms;
        l->used++;
    }
    double elapsed = (double)(now_ms - s->last_ms) / 1000.0;
    if (elapsed > 0) {
        s->tokens += elapsed * l->rate;
        if (s->tokens > l->burst)
            s->tokens = l->burst;
        s->last_ms = now_ms;
    }
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
        return 0;
    }
    return (int64_t)((1.0 - s->tokens) / l->rate * 1000.0) + 1;
}
