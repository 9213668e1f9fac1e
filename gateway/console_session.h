/*
 * console_session.h - sign-in sessions of the web console (/console) and
 * the project manager's page (/pm).
 *
 * A person signs in once with their API token (form POST); the gateway then
 * keeps a session server-side and gives the browser only a random session
 * id in a cookie:
 *
 *   Set-Cookie: hf_session=<43 chars base64url>; Path=/; HttpOnly;
 *               SameSite=Strict; Max-Age=<ttl>
 *
 * The session remembers which configured token signed in (by its SHA-256,
 * never the token itself), so a token removed from the config ends its
 * sessions at the next restart, and carries a CSRF token that every
 * cookie-authenticated POST must echo in the X-CSRF-Token header (or the
 * "csrf" form field of the sign-out form). Sessions expire after
 * console.session_ttl without use (sliding), and are held in memory: a
 * restart signs everyone out, which is the safe failure.
 *
 * Session ids are 256 bits from the OS CSPRNG; only their SHA-256 is kept,
 * and lookups compare in constant time. At most CONSOLE_MAX_SESSIONS live
 * at once: signing in when full drops the least recently used one.
 *
 * Leaf module apart from config.h (tokens) and util (random, hashing).
 * Everything here may be called from loop callbacks.
 */
#ifndef HF_CONSOLE_SESSION_H
#define HF_CONSOLE_SESSION_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct api_token;
struct console_sessions;

#define CONSOLE_MAX_SESSIONS 1024
#define CONSOLE_COOKIE "hf_session"
#define CONSOLE_SID_LEN 43   /* base64url of 32 random bytes, no padding */
#define CONSOLE_CSRF_LEN 43

/* A live session as seen by a handler (borrowed, valid until the next call
 * into this module). */
struct console_session {
    const struct api_token *token; /* the configured token that signed in */
    const char *csrf;              /* CONSOLE_CSRF_LEN chars, NUL-terminated */
    int64_t expires_at;            /* UTC ms */
};

/* Caller owns the result; free with console_sessions_free(). */
struct console_sessions *console_sessions_new(void);
/* NULL is a no-op. */
void console_sessions_free(struct console_sessions *s);

/* Start a session for @token (borrowed from @cfg) at @now_ms lasting
 * @ttl_ms after its last use. Writes the new session id to @sid_out
 * (CONSOLE_SID_LEN + 1 bytes) and returns 0. */
int console_session_create(struct console_sessions *s, const struct api_token *token,
                           int64_t now_ms, int64_t ttl_ms, char sid_out[CONSOLE_SID_LEN + 1]);

/* Look up the session @sid (the cookie value) at @now_ms: 0 with @out
 * filled and its expiry pushed to now + @ttl_ms, or -1 when there is no
 * such session, it has expired (and is dropped) or its token is no longer
 * in @cfg. */
int console_session_get(struct console_sessions *s, const struct config *cfg, const char *sid,
                        int64_t now_ms, int64_t ttl_ms, struct console_session *out);

/* End the session @sid (sign-out). Unknown ids are ignored. */
void console_session_delete(struct console_sessions *s, const char *sid);

/* 1 if @given equals the session's CSRF token (constant time). */
int console_session_csrf_ok(const struct console_session *cs, const char *given);

/* Number of live (unexpired at @now_ms) sessions; drops expired ones. */
size_t console_sessions_count(struct console_sessions *s, int64_t now_ms);

#endif
