/*
 * http_error.h - the one JSON error shape every API answer uses:
 *
 *   {"error": {"code": "invalid_mobile", "field": "customer.mobile",
 *              "message": "customer.mobile is not a mainland China mobile number ..."}}
 *
 * Leaf module (cJSON only).
 */
#ifndef HF_HTTP_ERROR_H
#define HF_HTTP_ERROR_H

struct api_error {
    int status;          /* HTTP status */
    char code[40];       /* machine-readable: "invalid_field", "unknown_milestone", ... */
    char field[96];      /* dotted path of the offending field, "" if none */
    char message[256];   /* human-readable, English */
};

/* Fill @e; @field may be NULL. */
void api_error_set(struct api_error *e, int status, const char *code, const char *field,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Render @e as the JSON error body. Caller owns the result; free(). */
char *api_error_json(const struct api_error *e);
/* Shorthand: the body for one error. Caller owns the result; free(). */
char *api_error_body(const char *code, const char *field, const char *message);

#endif
