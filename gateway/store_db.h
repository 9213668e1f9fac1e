/*
 * store_db.h - the SQL connection under the store: SQLite or PostgreSQL.
 *
 * The store's files (store_sqlite.c, store_read.c) are written against the
 * subset of the SQLite C API below. Included through store_internal.h,
 * this header maps those names onto store_db_*(), which run each call on
 * the connection's backend:
 *   - SQLite: forwarded as is (store_db.c);
 *   - PostgreSQL: libpq, synchronous, on the caller's (the loop's) thread
 *     (store_pg.c). Each statement's SQL is translated once at prepare
 *     (?N -> $N, INTEGER -> BIGINT, INSERT OR IGNORE, ...; see
 *     store_pg.c), and a plain INSERT ... VALUES that hits a UNIQUE
 *     constraint reports SQLITE_CONSTRAINT_UNIQUE without aborting the
 *     caller's transaction, as SQLite does.
 *
 * Why the SQLite names stay: the store's statements are shared by both
 * backends, and several branches extend them at once; keeping the calls
 * as they are lets those branches merge without touching every line.
 *
 * A URL "postgresql://..." or "postgres://..." (or a libpq "host=..."
 * string) opens PostgreSQL; anything else is a SQLite path.
 */
#ifndef HF_STORE_DB_H
#define HF_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

typedef struct store_db store_db;
typedef struct store_db_stmt store_db_stmt;

/* 1 if @path names a PostgreSQL database rather than a SQLite file. */
int store_db_path_is_pg(const char *path);
/* 1 if @db is a PostgreSQL connection. */
int store_db_is_pg(store_db *db);
/* The database as it may be logged: a PostgreSQL URL without its password. */
void store_db_redact(const char *path, char *out, size_t outlen);

int store_db_open_v2(const char *path, store_db **db, int flags, const char *vfs);
int store_db_close(store_db *db);
int store_db_exec(store_db *db, const char *sql, int (*cb)(void *, int, char **, char **),
                  void *arg, char **errmsg);
void store_db_free(void *p);
const char *store_db_errmsg(store_db *db);
int store_db_extended_errcode(store_db *db);
int store_db_changes(store_db *db);
int64_t store_db_last_insert_rowid(store_db *db);
int store_db_wal_checkpoint_v2(store_db *db, const char *name, int mode, int *log, int *ckpt);

int store_db_prepare_v2(store_db *db, const char *sql, int n, store_db_stmt **out,
                        const char **tail);
int store_db_prepare_v3(store_db *db, const char *sql, int n, unsigned flags, store_db_stmt **out,
                        const char **tail);
int store_db_finalize(store_db_stmt *q);
int store_db_reset(store_db_stmt *q);
int store_db_clear_bindings(store_db_stmt *q);
int store_db_step(store_db_stmt *q);

int store_db_bind_int(store_db_stmt *q, int i, int v);
int store_db_bind_int64(store_db_stmt *q, int i, int64_t v);
/* An absent integer. */
int store_db_bind_null(store_db_stmt *q, int i);
/* @v NULL binds an absent text. */
int store_db_bind_text(store_db_stmt *q, int i, const char *v, int n, void (*destructor)(void *));

int store_db_column_count(store_db_stmt *q);
const char *store_db_column_name(store_db_stmt *q, int col);
int store_db_column_type(store_db_stmt *q, int col);
int store_db_column_int(store_db_stmt *q, int col);
int64_t store_db_column_int64(store_db_stmt *q, int col);
double store_db_column_double(store_db_stmt *q, int col);
const unsigned char *store_db_column_text(store_db_stmt *q, int col);

/* Apply @migrations (SQLite dialect, translated) on PostgreSQL after the
 * schema prelude, recording each in table schema_version, under an advisory
 * lock so that instances starting together migrate once. 0 with *version,
 * or -1 with @err. */
int store_db_migrate_pg(store_db *db, const char *const *migrations, int n, int *version,
                        char *err, size_t errlen);

/* Whether a PostgreSQL server answers (for /healthz): HF_OK, or HF_ERR_DB
 * with @err. SQLite: always HF_OK. */
int store_db_ping(store_db *db, char *err, size_t errlen);

/* A lock named @name across every instance on the database, held by this
 * connection until store_db_unlock() or until the connection ends.
 * PostgreSQL: a session-level advisory lock (pg_try_advisory_lock), which
 * the server releases when the process dies or its connection drops; it
 * does not wait, and transactions neither take nor release it. SQLite: one
 * instance per database, always granted. Not re-entrant: lock once,
 * unlock once. 1 granted, 0 held by another connection, -1 error
 * (store_db_errmsg()). */
int store_db_try_lock(store_db *db, const char *name);
/* Release @name taken with store_db_try_lock(); a no-op on SQLite. */
void store_db_unlock(store_db *db, const char *name);

#ifdef STORE_DB_IMPL
/* The PostgreSQL backend (store_pg.c), for store_db.c only. */
struct pg_conn_s;
struct pg_stmt_s;
struct pg_conn_s *store__pg_open(const char *conninfo, char *err, size_t errlen);
void store__pg_close(struct pg_conn_s *c);
const char *store__pg_errmsg(struct pg_conn_s *c);
int store__pg_extended_errcode(struct pg_conn_s *c);
int store__pg_changes(struct pg_conn_s *c);
int64_t store__pg_last_insert_id(struct pg_conn_s *c);
int store__pg_exec(struct pg_conn_s *c, const char *sql, char **errmsg);
int store__pg_ping(struct pg_conn_s *c, char *err, size_t errlen);
int store__pg_try_lock(struct pg_conn_s *c, const char *name);
void store__pg_unlock(struct pg_conn_s *c, const char *name);
int store__pg_migrate(struct pg_conn_s *c, const char *const *migrations, int n, int *version,
                      char *err, size_t errlen);
struct pg_stmt_s *store__pg_prepare(struct pg_conn_s *c, const char *sql);
void store__pg_finalize(struct pg_stmt_s *q);
void store__pg_reset(struct pg_stmt_s *q);
void store__pg_clear_bindings(struct pg_stmt_s *q);
int store__pg_step(struct pg_stmt_s *q);
/* @type: 'i' integer, 't' text; @v NULL binds NULL of that type. */
void store__pg_bind(struct pg_stmt_s *q, int i, char type, const char *v);
int store__pg_column_count(struct pg_stmt_s *q);
const char *store__pg_column_name(struct pg_stmt_s *q, int col);
int store__pg_column_type(struct pg_stmt_s *q, int col);
const char *store__pg_column_text(struct pg_stmt_s *q, int col);
#else
#define sqlite3 store_db
#define sqlite3_stmt store_db_stmt
#define sqlite3_open_v2 store_db_open_v2
#define sqlite3_close store_db_close
#define sqlite3_exec store_db_exec
#define sqlite3_free store_db_free
#define sqlite3_errmsg store_db_errmsg
#define sqlite3_extended_errcode store_db_extended_errcode
#define sqlite3_changes store_db_changes
#define sqlite3_last_insert_rowid store_db_last_insert_rowid
#define sqlite3_wal_checkpoint_v2 store_db_wal_checkpoint_v2
#define sqlite3_prepare_v2 store_db_prepare_v2
#define sqlite3_prepare_v3 store_db_prepare_v3
#define sqlite3_finalize store_db_finalize
#define sqlite3_reset store_db_reset
#define sqlite3_clear_bindings store_db_clear_bindings
#define sqlite3_step store_db_step
#define sqlite3_bind_int store_db_bind_int
#define sqlite3_bind_int64 store_db_bind_int64
#define sqlite3_bind_null store_db_bind_null
#define sqlite3_bind_text store_db_bind_text
#define sqlite3_column_count store_db_column_count
#define sqlite3_column_name store_db_column_name
#define sqlite3_column_type store_db_column_type
#define sqlite3_column_int store_db_column_int
#define sqlite3_column_int64 store_db_column_int64
#define sqlite3_column_double store_db_column_double
#define sqlite3_column_text store_db_column_text
#endif

#endif
