/*
 * store_db.c - the store's SQL connection: each call goes to SQLite as is,
 * or to the PostgreSQL backend (store_pg.c). See store_db.h.
 */
#define STORE_DB_IMPL
#include "store_db.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_db {
    sqlite3 *lite;             /* exactly one of these */
    struct pg_conn_s *pg;
    char err[512];             /* why the PostgreSQL connection failed */
};

struct store_db_stmt {
    sqlite3_stmt *lite;        /* exactly one of these */
    struct pg_stmt_s *pg;
};

int store_db_path_is_pg(const char *path)
{
    return path && (strncmp(path, "postgresql://", 13) == 0 ||
                    strncmp(path, "postgres://", 11) == 0 || strncmp(path, "host=", 5) == 0);
}

int store_db_is_pg(store_db *db)
{
    return db && db->pg != NULL;
}

void store_db_redact(const char *path, char *out, size_t outlen)
{
    const char *scheme = strstr(path, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = scheme ? memchr(scheme + 3, ':', at ? (size_t)(at - scheme - 3) : 0) : NULL;
    if (colon) /* user:password@host -> user:***@host */
        snprintf(out, outlen, "%.*s:***%s", (int)(colon - path), path, at);
    else if (!scheme && strstr(path, "password="))
        snprintf(out, outlen, "(PostgreSQL connection string with a password)");
    else
        snprintf(out, outlen, "%s", path);
}

int store_db_open_v2(const char *path, store_db **out, int flags, const char *vfs)
{
    store_db *db = xcalloc(1, sizeof *db);
    *out = db;
    if (store_db_path_is_pg(path)) {
        db->pg = store__pg_open(path, db->err, sizeof db->err);
        return db->pg ? SQLITE_OK : SQLITE_CANTOPEN;
    }
    return sqlite3_open_v2(path, &db->lite, flags, vfs);
}

int store_db_close(store_db *db)
{
    if (!db)
        return SQLITE_OK;
    if (db->lite)
        sqlite3_close(db->lite);
    store__pg_close(db->pg);
    free(db);
    return SQLITE_OK;
}

int store_db_exec(store_db *db, const char *sql, int (*cb)(void *, int, char **, char **),
                  void *arg, char **errmsg)
{
    if (db->pg)
        return store__pg_exec(db->pg, sql, errmsg);
    char *msg = NULL;
    int rc = sqlite3_exec(db->lite, sql, cb, arg, errmsg ? &msg : NULL);
    if (errmsg) /* one allocator for both backends: store_db_free() */
        *errmsg = msg ? xstrdup(msg) : NULL;
    sqlite3_free(msg);
    return rc;
}

void store_db_free(void *p)
{
    free(p);
}

const char *store_db_errmsg(store_db *db)
{
    if (!db)
        return "out of memory";
    return db->pg ? store__pg_errmsg(db->pg) : db->lite ? sqlite3_errmsg(db->lite) : db->err;
}

int store_db_extended_errcode(store_db *db)
{
    return db->pg ? store__pg_extended_errcode(db->pg) : sqlite3_extended_errcode(db->lite);
}

int store_db_changes(store_db *db)
{
    return db->pg ? store__pg_changes(db->pg) : sqlite3_changes(db->lite);
}

int64_t store_db_last_insert_rowid(store_db *db)
{
    return db->pg ? store__pg_last_insert_id(db->pg) : sqlite3_last_insert_rowid(db->lite);
}

int store_db_wal_checkpoint_v2(store_db *db, const char *name, int mode, int *log, int *ckpt)
{
    if (!db->lite)
        return SQLITE_OK; /* PostgreSQL: the server owns its WAL */
    return sqlite3_wal_checkpoint_v2(db->lite, name, mode, log, ckpt);
}

int store_db_ping(store_db *db, char *err, size_t errlen)
{
    return db->pg ? store__pg_ping(db->pg, err, errlen) : HF_OK;
}

int store_db_try_lock(store_db *db, const char *name)
{
    return db->pg ? store__pg_try_lock(db->pg, name) : 1;
}

void store_db_unlock(store_db *db, const char *name)
{
    if (db->pg)
        store__pg_unlock(db->pg, name);
}

int store_db_migrate_pg(store_db *db, const char *const *migrations, int n, int *version,
                        char *err, size_t errlen)
{
    return store__pg_migrate(db->pg, migrations, n, version, err, errlen);
}

int store_db_prepare_v3(store_db *db, const char *sql, int n, unsigned flags, store_db_stmt **out,
                        const char **tail)
{
    *out = NULL;
    if (db->pg) {
        struct pg_stmt_s *p = store__pg_prepare(db->pg, sql);
        if (!p)
            return SQLITE_ERROR;
        *out = xcalloc(1, sizeof **out);
        (*out)->pg = p;
        return SQLITE_OK;
    }
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v3(db->lite, sql, n, flags, &q, tail);
    if (rc != SQLITE_OK)
        return rc;
    *out = xcalloc(1, sizeof **out);
    (*out)->lite = q;
    return SQLITE_OK;
}

int store_db_prepare_v2(store_db *db, const char *sql, int n, store_db_stmt **out,
                        const char **tail)
{
    return store_db_prepare_v3(db, sql, n, 0, out, tail);
}

int store_db_finalize(store_db_stmt *q)
{
    if (!q)
        return SQLITE_OK;
    if (q->lite)
        sqlite3_finalize(q->lite);
    store__pg_finalize(q->pg);
    free(q);
    return SQLITE_OK;
}

int store_db_reset(store_db_stmt *q)
{
    if (q->pg) {
        store__pg_reset(q->pg);
        return SQLITE_OK;
    }
    return sqlite3_reset(q->lite);
}

int store_db_clear_bindings(store_db_stmt *q)
{
    if (q->pg) {
        store__pg_clear_bindings(q->pg);
        return SQLITE_OK;
    }
    return sqlite3_clear_bindings(q->lite);
}

int store_db_step(store_db_stmt *q)
{
    return q->pg ? store__pg_step(q->pg) : sqlite3_step(q->lite);
}

int store_db_bind_int(store_db_stmt *q, int i, int v)
{
    return store_db_bind_int64(q, i, v);
}

int store_db_bind_int64(store_db_stmt *q, int i, int64_t v)
{
    if (q->pg) {
        char buf[24];
        snprintf(buf, sizeof buf, "%" PRId64, v);
        store__pg_bind(q->pg, i, 'i', buf);
        return SQLITE_OK;
    }
    return sqlite3_bind_int64(q->lite, i, v);
}

int store_db_bind_null(store_db_stmt *q, int i)
{
    if (q->pg) {
        store__pg_bind(q->pg, i, 'i', NULL);
        return SQLITE_OK;
    }
    return sqlite3_bind_null(q->lite, i);
}

int store_db_bind_text(store_db_stmt *q, int i, const char *v, int n, void (*destructor)(void *))
{
    if (q->pg) {
        if (v && n >= 0) {
            char *copy = xstrndup(v, (size_t)n);
            store__pg_bind(q->pg, i, 't', copy);
            free(copy);
        } else {
            store__pg_bind(q->pg, i, 't', v);
        }
        return SQLITE_OK;
    }
    if (!v)
        return sqlite3_bind_null(q->lite, i);
    return sqlite3_bind_text(q->lite, i, v, n, destructor);
}

int store_db_column_count(store_db_stmt *q)
{
    return q->pg ? store__pg_column_count(q->pg) : sqlite3_column_count(q->lite);
}

const char *store_db_column_name(store_db_stmt *q, int col)
{
    return q->pg ? store__pg_column_name(q->pg, col) : sqlite3_column_name(q->lite, col);
}

int store_db_column_type(store_db_stmt *q, int col)
{
    return q->pg ? store__pg_column_type(q->pg, col) : sqlite3_column_type(q->lite, col);
}

int64_t store_db_column_int64(store_db_stmt *q, int col)
{
    if (!q->pg)
        return sqlite3_column_int64(q->lite, col);
    const char *v = store__pg_column_text(q->pg, col);
    if (!v)
        return 0;
    if (v[0] == 't' && !v[1]) /* a boolean */
        return 1;
    return strtoll(v, NULL, 10);
}

int store_db_column_int(store_db_stmt *q, int col)
{
    return q->pg ? (int)store_db_column_int64(q, col) : sqlite3_column_int(q->lite, col);
}

double store_db_column_double(store_db_stmt *q, int col)
{
    if (!q->pg)
        return sqlite3_column_double(q->lite, col);
    const char *v = store__pg_column_text(q->pg, col);
    return v ? strtod(v, NULL) : 0.0;
}

const unsigned char *store_db_column_text(store_db_stmt *q, int col)
{
    if (q->pg)
        return (const unsigned char *)store__pg_column_text(q->pg, col);
    return sqlite3_column_text(q->lite, col);
}
