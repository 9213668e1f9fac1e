/*
 * api_triggers.c - POST /v1/triggers with group commit.
 *
 * A request is validated and planned at once (4xx answered immediately,
 * nothing stored). A valid one is parked; in the loop's before-sleep hook
 * every parked trigger of this iteration is written in one transaction
 * (one fsync with synchronous=FULL), each in its own savepoint so a
 * failing one does not spoil the others, and only after COMMIT returned
 * are they answered: a 2xx always means "on disk".
 */
#include "api.h"
#include "dispatch.h"
#include "gateway.h"
#include "intake.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

struct pending {
    struct http_request *req;      /* parked; NULL once aborted */
    struct intake_trigger t;
    char token_name[64];
    int status;                    /* outcome of intake_store, valid after commit */
    char *answer;                  /* its response body (owned) */
    struct pending *next;
};

struct intake_batch {
    struct pending *head, **tail;
    size_t n;
};

static struct intake_batch *batch_of(struct gateway *gw)
{
    if (!gw->intake) {
        gw->intake = xcalloc(1, sizeof *gw->intake);
        gw->intake->tail = &gw->intake->head;
    }
    return gw->intake;
}

static void on_abort(struct http_request *req)
{
    struct pending *p = req->user;
    if (p)
        p->req = NULL; /* still committed; nobody to answer */
}

enum http_result api_post_trigger(struct gateway *gw, struct http_request *req,
                                  struct http_response *resp)
{
    const struct api_token *tok = api_auth(gw, req, ROLE_TRIGGER | ROLE_ADMIN, resp);
    if (!tok) {
        metrics_reject(&gw->metrics, resp->status);
        return HTTP_DONE;
    }
    if (gw->stopping) {
        resp->status = 503;
        resp->body = api_error_body("shutting_down", NULL, "the gateway is restarting; retry");
        return HTTP_DONE;
    }
    struct pending *p = xcalloc(1, sizeof *p);
    struct api_error e;
    if (intake_validate(gw->cfg, gw->cat, gw->cal, req->body.data, req->body.len, clock_now(),
                        &p->t, &e) != 0) {
        free(p);
        metrics_reject(&gw->metrics, e.status);
        resp->status = e.status;
        resp->body = api_error_json(&e);
        LOG_INFO("intake", "rejected status=%d code=%s field=%s token=%s", e.status, e.code,
                 e.field[0] ? e.field : "-", tok->name);
        return HTTP_DONE;
    }
    snprintf(p->token_name, sizeof p->token_name, "%s", tok->name);
    p->req = req;
    req->user = p;
    req->on_abort = on_abort;
    struct intake_batch *b = batch_of(gw);
    *b->tail = p;
    b->tail = &p->next;
    b->n++;
    return HTTP_PARK;
}

static void answer(struct gateway *gw, struct pending *p, int status, char *body)
{
    if (!p->req) {
        free(body);
        return;
    }
    p->req->user = NULL;
    p->req->on_abort = NULL;
    http_server_resume(gw->http, p->req, status, body, NULL);
}

void api_triggers_commit(struct gateway *gw)
{
    struct intake_batch *b = gw->intake;
    if (!b || !b->head)
        return;
    struct pending *list = b->head;
    size_t n = b->n;
    b->head = NULL;
    b->tail = &b->head;
    b->n = 0;

    int64_t now = clock_now();
    int ok = store_begin(gw->store) == HF_OK;
    int new_messages = 0;
    for (struct pending *p = list; ok && p; p = p->next) {
        /* The outcome is kept, not sent, until COMMIT says it is on disk. */
        new_messages += intake_store(gw->store, &p->t, p->token_name, now, &p->status, &p->answer);
    }
    if (ok && store_commit(gw->store) != HF_OK) {
        store_rollback(gw->store);
        ok = 0;
    }
    if (!ok)
        LOG_ERR("intake", "group commit of %zu triggers failed; answered 503", n);
    gw->metrics.group_commits++;
    gw->metrics.group_commit_triggers += n;
    while (list) {
        struct pending *p = list;
        list = p->next;
        if (ok) {
            int status = p->status;
            char *body = p->answer;
            p->answer = NULL;
            if (status == 202) {
                gw->metrics.triggers_accepted++;
                LOG_INFO("intake", "accepted milestone=%s key=%s token=%s", p->t.m->id,
                         p->t.idem_key, p->token_name);
            } else if (status == 200) {
                gw->metrics.triggers_replayed++;
            } else {
                metrics_reject(&gw->metrics, status);
            }
            answer(gw, p, status, body);
        } else {
            metrics_reject(&gw->metrics, 503);
            answer(gw, p, 503,
                   api_error_body("store_unavailable", NULL,
                                  "the trigger could not be stored; retry with the same key"));
        }
        free(p->answer);
        intake_trigger_cleanup(&p->t);
        free(p);
    }
    if (new_messages > 0)
        dispatch_kick(gw->disp);
}

size_t api_triggers_pending(const struct gateway *gw)
{
    return gw->intake ? gw->intake->n : 0;
}

void api_triggers_free(struct gateway *gw)
{
    struct intake_batch *b = gw->intake;
    if (!b)
        return;
    while (b->head) {
        struct pending *p = b->head;
        b->head = p->next;
        intake_trigger_cleanup(&p->t);
        free(p);
    }
    free(b);
    gw->intake = NULL;
}
