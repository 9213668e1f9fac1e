/*
 * client.c - huifang talking to huifangd: where it is, the token, and
 * requests over one libcurl easy handle (keep-alive across an import).
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#define DEFAULT_URL "http://127.0.0.1:8080"

/* The first line of @path without surrounding blanks; NULL if unreadable. */
static char *read_token_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char line[1024];
    char *out = NULL;
    if (fgets(line, sizeof line, f)) {
        char *s = line, *e = line + strlen(line);
        while (*s == ' ' || *s == '\t')
            s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        out = xstrndup(s, (size_t)(e - s));
    }
    fclose(f);
    return out;
}

/* ~/.config/huifang/cli.conf: "key = value" lines, "#" comments; keys
 * token and url. A missing file is fine. */
static void read_conf(struct cli *c)
{
    const char *home = getenv("HOME");
    if (!home)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/.config/huifang/cli.conf", home);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
        fprintf(stderr, "huifang: warning: %s is readable by others; it holds a token "
                        "(chmod 600 it)\n", path);
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq)
            continue;
        char *k = line, *ke = eq, *v = eq + 1, *ve = line + strlen(line);
        while (*k == ' ' || *k == '\t')
            k++;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
            ke--;
        while (*v == ' ' || *v == '\t')
            v++;
        while (ve > v && (ve[-1] == '\n' || ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        *ke = '\0';
        *ve = '\0';
        if (strcmp(k, "token") == 0 && !c->token)
            c->token = xstrdup(v);
        else if (strcmp(k, "url") == 0 && !c->conf_url)
            c->conf_url = xstrdup(v);
    }
    fclose(f);
}

int cli_setup(struct cli *c)
{
    /* Token: --token-file, else $HUIFANG_TOKEN, else cli.conf. */
    if (c->token_file) {
        c->token = read_token_file(c->token_file);
        if (!c->token || !*c->token) {
            fprintf(stderr, "huifang: cannot read a token from %s: %s\n", c->token_file,
                    c->token ? "empty file" : strerror(errno));
            return -1;
        }
    } else if (getenv("HUIFANG_TOKEN") && *getenv("HUIFANG_TOKEN")) {
        c->token = xstrdup(getenv("HUIFANG_TOKEN"));
    }
    read_conf(c);
    if (!c->token || !*c->token) {
        fprintf(stderr, "huifang: no API token: set HUIFANG_TOKEN, pass --token-file FILE, or "
                        "put \"token = ...\" in ~/.config/huifang/cli.conf\n");
        return -1;
    }
    /* URL: --url, else $HUIFANG_URL, else cli.conf, else the default. */
    if (!c->url)
        c->url = getenv("HUIFANG_URL") && *getenv("HUIFANG_URL") ? getenv("HUIFANG_URL")
                 : c->conf_url                                    ? c->conf_url
                                                                  : DEFAULT_URL;
    if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0) {
        fprintf(stderr, "huifang: the URL must start with http:// or https://: %s\n", c->url);
        return -1;
    }
    return 0;
}

void cli_cleanup(struct cli *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
    free(c->token);
    free(c->conf_url);
    c->token = NULL;
    c->conf_url = NULL;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    if (b->len + size * n > 64u * 1024 * 1024)
        return 0; /* 64 MiB: something is wrong */
    buf_append(b, p, size * n);
    return size * n;
}

int cli_request(struct cli *c, const char *method, const char *path, const char *body,
                struct cli_resp *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body);
    if (!c->curl)
        c->curl = curl_easy_init();
    CURL *h = c->curl;
    curl_easy_reset(h);
    size_t ul = strlen(c->url);
    char *url = xasprintf("%.*s%s", (int)(ul && c->url[ul - 1] == '/' ? ul - 1 : ul), c->url,
                          path);
    char *auth = xasprintf("Authorization: Bearer %s", c->token);
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    if (body)
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "huifang-cli");
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    } else {
        r->status = 0;
        snprintf(r->error, sizeof r->error, "cannot reach huifangd at %s: %s", c->url,
                 curl_easy_strerror(rc));
    }
    /* The token is in @auth: wipe it before freeing. */
    memset(auth, 0, strlen(auth));
    free(auth);
    curl_slist_free_all(hdrs);
    free(url);
    if (!r->body.data)
        buf_append(&r->body, "", 0);
    return rc == CURLE_OK ? 0 : -1;
}

void cli_resp_cleanup(struct cli_resp *r)
{
    buf_cleanup(&r->body);
}

int cli_fail(const struct cli_resp *r)
{
    if (r->status == 0) {
        fprintf(stderr, "huifang: %s\n", r->error);
        return CLI_UNREACHABLE;
    }
    cJSON *j = cJSON_Parse(r->body.data);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
    const char *field = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "field"));
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
    if (code)
        fprintf(stderr, "huifang: huifangd answered %ld %s%s%s: %s\n", r->status, code,
                field ? " on " : "", field ? field : "", msg ? msg : "");
    else
        fprintf(stderr, "huifang: huifangd answered %ld\n", r->status);
    cJSON_Delete(j);
    return CLI_REJECTED;
}

void cli_query_add(struct buf *q, const char *name, const char *value)
{
    if (!value)
        return;
    char *esc = curl_easy_escape(NULL, value, 0);
    buf_printf(q, "%c%s=%s", q->len && strchr(q->data, '?') ? '&' : '?', name, esc ? esc : "");
    curl_free(esc);
}
