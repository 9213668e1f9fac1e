/*
 * console_session.c - server-side sign-in sessions (see console_session.h).
 *
 * A small fixed table scanned linearly: a company has tens of
 * customer-service staff and PMs, not thousands, and a scan over at most
 * CONSOLE_MAX_SESSIONS hashes is cheaper than a sign-in's SHA-256. What is
 * kept per session is the SHA-256 of its id (a memory dump does not yield a
 * usable cookie), the SHA-256 of the token that signed in, the CSRF token
 * and the times.
 */
#include "console_session.h"
#include "config.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct slot {
    int used;
    char sid_hash[65];      /* SHA-256 hex of the session id */
    char token_hash[65];    /* api_token.sha256 of the token that signed in */
    char csrf[CONSOLE_CSRF_LEN + 1];
    int64_t expires_at;     /* UTC ms; pushed forward on every use */
    int64_t last_used;      /* UTC ms, for eviction when full */
};

struct console_sessions {
    struct slot slots[CONSOLE_MAX_SESSIONS];
};

/* 32 random bytes as base64url without padding: 43 characters. */
static void random_id(char out[CONSOLE_SID_LEN + 1])
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[33];
    for (int i = 0; i < 32; i += 8) {
        uint64_t r = rand_u64();
        memcpy(raw + i, &r, 8);
    }
    raw[32] = 0;
    size_t o = 0;
    for (int i = 0; i < 33 && o < CONSOLE_SID_LEN; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        for (int k = 3; k >= 0 && o < CONSOLE_SID_LEN; k--)
            out[o++] = b64[(v >> (6 * k)) & 63];
    }
    out[CONSOLE_SID_LEN] = '\0';
}

struct console_sessions *console_sessions_new(void)
{
    return xcalloc(1, sizeof(struct console_sessions));
}

void console_sessions_free(struct console_sessions *s)
{
    free(s);
}

static int valid_sid(const char *sid)
{
    if (!sid || strlen(sid) != CONSOLE_SID_LEN)
        return 0;
    for (const char *p = sid; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return 0;
    return 1;
}

/* The slot of @sid, or NULL. Every used slot is compared, so the time does
 * not tell which one matched. */
static struct slot *find(struct console_sessions *s, const char *sid)
{
    if (!valid_sid(sid))
        return NULL;
    char h[65];
    sha256_hex(sid, CONSOLE_SID_LEN, h);
    struct slot *found = NULL;
    for (size_t i = 0; i < CONSOLE_MAX_SESSIONS; i++)
        if (s->slots[i].used && ct_equal(h, s->slots[i].sid_hash, 64) && !found)
            found = &s->slots[i];
    return found;
}

int console_session_create(struct console_sessions *s, const struct api_token *token,
                           int64_t now_ms, int64_t ttl_ms, char sid_out[CONSOLE_SID_LEN + 1])
{
    struct slot *free_slot = NULL, *lru = NULL;
    for (size_t i = 0; i < CONSOLE_MAX_SESSIONS; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->used && sl->expires_at <= now_ms)
            sl->used = 0; /* expired: reuse */
        if (!sl->used) {
            if (!free_slot)
                free_slot = sl;
        } else if (!lru || sl->last_used < lru->last_used) {
            lru = sl;
        }
    }
    struct slot *sl = free_slot ? free_slot : lru;
    memset(sl, 0, sizeof *sl);
    random_id(sid_out);
    sha256_hex(sid_out, CONSOLE_SID_LEN, sl->sid_hash);
    memcpy(sl->token_hash, token->sha256, 65);
    random_id(sl->csrf);
    sl->expires_at = now_ms + ttl_ms;
    sl->last_used = now_ms;
    sl->used = 1;
    return 0;
}

int console_session_get(struct console_sessions *s, const struct config *cfg, const char *sid,
                        int64_t now_ms, int64_t ttl_ms, struct console_session *out)
{
    struct slot *sl = find(s, sid);
    if (!sl)
        return -1;
    if (sl->expires_at <= now_ms) {
        memset(sl, 0, sizeof *sl);
        return -1;
    }
    const struct api_token *t = NULL;
    for (size_t i = 0; i < cfg->ntokens; i++)
        if (strcmp(cfg->tokens[i].sha256, sl->token_hash) == 0)
            t = &cfg->tokens[i];
    if (!t) {
        memset(sl, 0, sizeof *sl);
        return -1;
    }
    sl->expires_at = now_ms + ttl_ms;
    sl->last_used = now_ms;
    out->token = t;
    out->csrf = sl->csrf;
    out->expires_at = sl->expires_at;
    return 0;
}

void console_session_delete(struct console_sessions *s, const char *sid)
{
    struct slot *sl = find(s, sid);
    if (sl)
        memset(sl, 0, sizeof *sl);
}

int console_session_csrf_ok(const struct console_session *cs, const char *given)
{
    return given && strlen(given) == CONSOLE_CSRF_LEN &&
           ct_equal(given, cs->csrf, CONSOLE_CSRF_LEN);
}

size_t console_sessions_count(struct console_sessions *s, int64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < CONSOLE_MAX_SESSIONS; i++) {
        if (s->slots[i].used && s->slots[i].expires_at <= now_ms)
            memset(&s->slots[i], 0, sizeof s->slots[i]);
        n += s->slots[i].used;
    }
    return n;
}
