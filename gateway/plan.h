/*
 * plan.h - from a milestone that happened to the messages it implies:
 * which channel each goes through, when it is due (moved into its send
 * window, holidays skipped) and until when it is worth sending.
 *
 * Pure functions of their inputs (config, calendar, catalogue, "now"):
 * no I/O, callable from loop callbacks.
 */
#ifndef HF_PLAN_H
#define HF_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "calendar.h"
#include "catalogue.h"
#include "config.h"
#include "windows.h"

/* A trigger's own messages and those of its schedules. */
#define PLAN_MAX_MESSAGES CATALOGUE_MAX_PLANNED

struct planned {
    const struct cat_message *cm; /* borrowed from the catalogue */
    const struct milestone *ms;   /* a scheduled message: its milestone; NULL: the trigger's */
    const char *vars;             /* a scheduled message: the schedule's variables (JSON), or NULL */
    int occurrence;               /* a scheduled message: 1, 2, ... within its schedule */
    const char *channel;          /* static adapter name */
    int64_t due_at;               /* UTC seconds, inside its window */
    int64_t expires_at;           /* after this it is not sent */
};

/* Plan every message of @m for a trigger that occurred at @occurred_at and
 * arrived at @now. @customer is the trigger's customer object, @staff its
 * project.staff object (may be NULL). Returns the number planned, or -1
 * with @err set (no channel can reach a recipient, no window opening). */
int plan_milestone(const struct config *cfg, const struct calendar *cal,
                   const struct milestone *m, int64_t occurred_at, int64_t now,
                   const cJSON *customer, const cJSON *staff, struct planned *out, size_t max,
                   char *err, size_t errlen);

/* Plan the messages of @m that a ticket event plans ("escalation",
 * "resolved"), counted from @occurred_at (the event's time); @event NULL
 * plans the trigger's own messages, as plan_milestone does. */
int plan_event(const struct config *cfg, const struct calendar *cal, const struct milestone *m,
               const char *event, int64_t occurred_at, int64_t now, const cJSON *customer,
               const cJSON *staff, struct planned *out, size_t max, char *err, size_t errlen);

/* Plan the messages of @m's schedules (no trigger of their own: "day 7 and
 * 15 after kickoff", "every 7 days") counted in days from @kickoff_date
 * ("YYYY-MM-DD", or NULL: the local date of @occurred_at) or from the
 * occurred date. Days already past at @now are skipped: a schedule never
 * sends late. Returns how many were planned into @out, or -1 with @err. */
int plan_schedules(const struct config *cfg, const struct calendar *cal,
                   const struct milestone *m, int64_t occurred_at, const char *kickoff_date,
                   int64_t now, const cJSON *customer, const cJSON *staff, struct planned *out,
                   size_t max, char *err, size_t errlen);

/* The customer-service manager of the config as a recipient object
 * {"name","wecom_id","phone","mobile"}, or NULL when none is configured.
 * Caller owns; cJSON_Delete(). */
cJSON *plan_cs_manager(const struct config *cfg);

/* The first instant >= @t inside window class @w (-1 if none). */
int64_t plan_window_next(const struct config *cfg, const struct calendar *cal,
                         enum window_class w, int64_t t);
/* 1 if @t is inside window class @w. */
int plan_window_contains(const struct config *cfg, const struct calendar *cal,
                         enum window_class w, int64_t t);

/* A customer's preferred contact time "HH:MM-HH:MM[,...]" as a window
 * (on working days, as the survey window); -1 when it is malformed or not
 * inside the notice hours (never at night). */
int plan_preferred_window(const struct config *cfg, const char *pref, struct window_def *out);

/* The window of a message: its class (@window: "survey", "notice", "any"),
 * or for a customer survey with a preferred time @pref (NULL or "" for
 * none) that preference. The first instant >= @t inside it (-1: none) /
 * 1 if @t is inside it. */
int64_t plan_message_next(const struct config *cfg, const struct calendar *cal,
                          const char *window, const char *pref, int64_t t);
int plan_message_contains(const struct config *cfg, const struct calendar *cal,
                          const char *window, const char *pref, int64_t t);

/* The channel for a recipient: the customer's preference, else WeChat when
 * an openid is known, else SMS, else the webhook; staff: WeCom, SMS,
 * webhook. Only enabled adapters that can reach the recipient count.
 * Returns a static name or NULL. */
const char *plan_channel(const struct config *cfg, enum recipient_role role,
                         const cJSON *recipient);

#endif
