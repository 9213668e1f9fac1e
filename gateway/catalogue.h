/*
 * catalogue.h - the milestone catalogue: which messages each milestone
 * sends, to whom, when, in which window, with which template.
 *
 * The catalogue is data (config/milestones.json) and its templates live
 * under templates/<milestone>/<message>.json. Loading checks everything a
 * send would need: unknown keys, kinds, recipients, windows, durations,
 * and every template placeholder against the variables the milestone
 * provides, so a typo stops the start (or the reload), never a send.
 */
#ifndef HF_CATALOGUE_H
#define HF_CATALOGUE_H

#include <stddef.h>
#include <stdint.h>

#include "template.h"

/* Most messages one milestone may send (a plan is a fixed array). */
#define CATALOGUE_MAX_MESSAGES 16

enum msg_kind { KIND_NOTICE = 0, KIND_SURVEY, KIND_ALERT };
enum recipient_role {
    RCPT_CUSTOMER = 0,
    RCPT_PM,
    RCPT_DESIGNER,
    RCPT_FOREMAN,
    RCPT_SUPERVISOR,
    RCPT_CS_MANAGER,   /* the customer-service manager of the config (staff.cs_manager) */
};
enum window_class { WINCLASS_NOTICE = 0, WINCLASS_SURVEY, WINCLASS_ANY };

const char *msg_kind_name(enum msg_kind k);
const char *recipient_role_name(enum recipient_role r);
const char *window_class_name(enum window_class w);
/* Parse the names above; 0 or -1. */
int window_class_parse(const char *s, enum window_class *out);

struct cat_message {
    char *id;                  /* "survey", unique within the milestone */
    enum msg_kind kind;
    enum recipient_role to;
    int64_t delay_ms;          /* after occurred_at (or after the day_offset midnight) */
    int day_offset;            /* 0 = same day; 1 = from local midnight of the next day */
    int after;                 /* index of an earlier message whose due time is the base
                                  instead of occurred_at ("the day after the survey"), or -1 */
    enum window_class window;
    char *survey;              /* surveys: the survey definition id (templates/surveys/<id>.json);
                                  default the milestone id; NULL for other kinds */
    char *on;                  /* NULL: planned with the trigger; else the event that plans
                                  it: a ticket's "escalation" or "resolved", or
                                  "answered_ok" (the milestone's survey answered with
                                  nothing that opens a ticket: "thank you"), or a staff
                                  task's clock: "task_due", "task_overdue" (tasks.h) */
    int fatigue_exempt;        /* surveys: not held back by the one-survey-a-day rule
                                  (complaint follow-ups, repair surveys) */
    struct msg_template *tmpl; /* owned */
};

/* Messages planned by a trigger of another milestone, without a trigger of
 * their own: "day 7 and day 15 after kickoff", "every 7 days until
 * completion", "warranty follow-ups". */
struct cat_schedule {
    char *milestone;           /* the milestone whose messages are planned */
    const struct milestone *ms;/* resolved at load (borrowed from the catalogue) */
    int from_kickoff;          /* days count from project.kickoff_date (else from the
                                  trigger's occurred_at date) */
    int *at_days;              /* explicit day offsets, ascending, or NULL */
    size_t nat;
    int every_days, count;     /* or: every @every_days days, @count times */
    char *vars;                /* JSON object of variables for those messages, or NULL */
};

/* Most occurrences one schedule may plan, and messages one trigger may plan
 * in all (its own and its schedules'). */
#define CATALOGUE_MAX_OCCURRENCES 60
#define CATALOGUE_MAX_PLANNED 96

/* Most staff tasks one milestone may open. */
#define CATALOGUE_MAX_TASKS 16

/* A staff task with a deadline that a trigger of the milestone opens
 * (the refund procedure's "contact the customer within 2 hours"). */
struct cat_task {
    char *id;                  /* "contact", unique within the milestone */
    char *title;               /* what to do, for people (Simplified Chinese) */
    enum recipient_role to;    /* whose task: pm, designer, foreman, supervisor, cs_manager */
    int64_t due_ms;            /* from the task's start */
    int64_t remind_ms;         /* the reminder goes this long before the due time */
    int after;                 /* index of an earlier task whose completion starts this
                                  one's clock, or -1: it starts with the trigger */
    int note_required;         /* marking it done needs a note (e.g. the check's finding) */
};

struct milestone {
    char *id;                  /* "completion" */
    char *name;                /* "竣工验收" */
    char **variables;          /* names of the trigger variables it requires */
    size_t nvariables;
    struct cat_message *msgs;
    size_t nmsgs;
    int opens_ticket;          /* a trigger of this milestone opens a complaint ticket */
    struct cat_schedule *schedules;
    size_t nschedules;
    char **ends;               /* milestones whose pending messages for the project a
                                  trigger of this one cancels ("completion" ends
                                  "weekly_checkin"); */
    size_t nends;
    int campaign;              /* a marketing campaign: the trigger names a list of known
                                  customers ("customers": [ids]); only notices, only to
                                  those who have not opted out, with the opt-out line */
    int ends_all;              /* "ends": ["*"]: every pending customer message of the
                                  project (a cancelled or refunded project) */
    struct cat_task *tasks;    /* staff tasks a trigger opens (key "tasks"), or NULL */
    size_t ntasks;
};

struct catalogue {
    struct milestone *ms;
    size_t n;
};

/* Load @path and the templates it names under @templates_dir. On error
 * NULL and @err names the file, the key and the reason. Caller owns the
 * result; free with catalogue_free(). Not for loop callbacks. */
struct catalogue *catalogue_load(const char *path, const char *templates_dir, char *err,
                                 size_t errlen);
void catalogue_free(struct catalogue *c);
/* Borrowed pointer or NULL. */
const struct milestone *catalogue_find(const struct catalogue *c, const char *id);
const struct cat_message *milestone_find_message(const struct milestone *m, const char *id);
/* The milestone's message planned on @on ("task_due", ...), or NULL. Borrowed. */
const struct cat_message *milestone_message_on(const struct milestone *m, const char *on);

/* 1 if @name is a variable templates of this milestone and message kind
 * may use (see the README's template section for the list). */
int catalogue_var_known(const struct milestone *m, enum msg_kind kind, const char *name);

#endif
