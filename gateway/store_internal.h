/*
 * store_internal.h - what the store's own files share and nobody else
 * uses: the SQLite handle behind struct store.
 *
 * store_sqlite.c owns the connection, the migrations and the cached
 * statements of the write paths; store_read.c holds the read-only queries
 * of the customer-service API (filters, timelines, reports), which build
 * their SQL per request.
 */
#ifndef HF_STORE_INTERNAL_H
#define HF_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

/* The one connection of @s. Borrowed: valid until store_close(). */
sqlite3 *store__db(struct store *s);

#endif
