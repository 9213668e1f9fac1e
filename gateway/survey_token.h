/*
 * survey_token.h - signed, expiring survey links.
 *
 * A token is "<survey id>.<expiry>.<mac>" where mac is the first 32 hex
 * digits (128 bits) of HMAC-SHA256(survey.secret, "<survey id>.<expiry>").
 * The link sent to the customer is <public_url>/s/<token>.
 *
 * Leaf module.
 */
#ifndef HF_SURVEY_TOKEN_H
#define HF_SURVEY_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define SURVEY_TOKEN_MAX 80

/* Write the token for @id valid until @expires (UTC seconds) into @out. */
void survey_token_make(const char *secret, int64_t id, int64_t expires,
                       char out[SURVEY_TOKEN_MAX]);
/* Check @token at @now: 0 with *id set, -1 if malformed or forged, -2 if
 * expired. Constant-time comparison of the mac. */
int survey_token_verify(const char *secret, const char *token, int64_t now, int64_t *id);

/* The SMS upstream extension code of survey @id with @digits digits (the
 * id modulo 10^digits, zero-padded): a reply to that SMS carries it, so it
 * joins this survey even when the customer has several open. @out needs
 * 8 bytes. */
void survey_extend_code(int64_t id, int digits, char out[8]);

#endif
