/*
 * store_internal.h - what the store's own files share and nobody else
 * uses: the connection behind struct store (SQLite or PostgreSQL,
 * store_db.h).
 *
 * store_sqlite.c owns the connection, the migrations and the cached
 * statements of the write paths; store_read.c holds the read-only queries
 * of the customer-service API (filters, timelines, reports), which build
 * their SQL per request.
 */
#ifndef HF_STORE_INTERNAL_H
#define HF_STORE_INTERNAL_H

#include "store_db.h" /* the SQLite API names, on SQLite or PostgreSQL */

#include "store.h"

/* The one connection of @s. Borrowed: valid until store_close(). */
sqlite3 *store__db(struct store *s);

/* Run @sql (not cached) with @nbinds text binds ?1..?N and return the rows
 * as a printed JSON array of objects, as store_read.c renders rows
 * (integer *_at columns as local ISO-8601 times). *last_id (may be NULL)
 * gets the first column of the last row. Caller frees; NULL on error. */
char *store__query_json(struct store *s, const char *sql, const char *const *binds, int nbinds,
                        int64_t *last_id);

#endif
