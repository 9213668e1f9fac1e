/*
 * log.h - leveled logging. One line per event on stderr:
 *
 *   2026-11-24T02:30:00.123Z INFO  intake trigger=12 milestone=completion
 *
 * The macros test the level before any argument is formatted. Mobile
 * numbers go through log_mask_phone(); secrets, tokens and signatures are
 * never passed to these macros.
 *
 * Leaf module: never includes gateway.h.
 */
#ifndef HF_LOG_H
#define HF_LOG_H

enum log_level { LOG_LVL_DEBUG = 0, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERR };

extern enum log_level log_min_level;

/* Parse "debug", "info", "warn", "error". 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);
void log_write(enum log_level lvl, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_AT(lvl, tag, ...) \
    do { if ((lvl) >= log_min_level) log_write((lvl), (tag), __VA_ARGS__); } while (0)
#define LOG_DEBUG(tag, ...) LOG_AT(LOG_LVL_DEBUG, tag, __VA_ARGS__)
#define LOG_INFO(tag, ...) LOG_AT(LOG_LVL_INFO, tag, __VA_ARGS__)
#define LOG_WARN(tag, ...) LOG_AT(LOG_LVL_WARN, tag, __VA_ARGS__)
#define LOG_ERR(tag, ...) LOG_AT(LOG_LVL_ERR, tag, __VA_ARGS__)

/* Mask a mobile number for logs: "13812345678" -> "138****5678". Anything
 * with fewer than 11 digits is masked whole ("***"). @out needs 24 bytes.
 * Returns @out. */
const char *log_mask_phone(const char *phone, char out[24]);

#endif
