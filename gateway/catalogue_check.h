/*
 * catalogue_check.h - what `huifangd --check-config` adds on top of loading:
 * every template of the catalogue rendered with realistic sample data, each
 * SMS preview printed with its length and part count and held to the part
 * count its template declares; and the Markdown table of the catalogue that
 * `huifangd --catalogue-markdown` prints for the README.
 *
 * Loading (catalogue_load) already refuses unknown keys and placeholders;
 * this module catches what only a rendering shows: a preview that grew past
 * its parts once real names, addresses and links are filled in, a provider
 * parameter that renders empty, a message over the 500-character cap.
 *
 * Not for loop callbacks (prints to FILEs); used by main.c and the tests.
 */
#ifndef HF_CATALOGUE_CHECK_H
#define HF_CATALOGUE_CHECK_H

#include <stdio.h>

#include "catalogue.h"
#include "config.h"

/* Longest SMS a provider accepts, signature included (Aliyun: 500). */
#define CATALOGUE_CHECK_SMS_MAX 500

/* Render every message template of @cat with the sample trigger (all four
 * staff with 3-character names and 11-digit phones, a 3-character customer
 * name, a 30-character address, every declared variable, a survey link on
 * cfg->public_url with a full-length token) and check it. For each SMS
 * preview one line goes to @out (NULL: none):
 *   sms completion.survey: 119 chars, 2 parts (declared 2): 【安居装饰】王建国先生您好，…
 * Each problem goes to @errout (NULL: none) as one line naming the template
 * file and the key, e.g.
 *   templates/kickoff/survey.json: sms.preview: 143 characters with 【安居装饰】 need 3
 *   SMS parts, sms.parts declares 2 (referenced by milestones.kickoff.messages[0])
 * Returns the number of problems (0: all good). Borrows everything. */
int catalogue_check(const struct config *cfg, const struct catalogue *cat, FILE *out,
                    FILE *errout);

/* Check one template of milestone @m the same way (for templates the
 * catalogue does not reference yet; load it with catalogue_var_known() for
 * its kind first). @label names it in the lines written
 * ("praise_received.thanks"), @file is its path. Returns the number of
 * problems. Borrows everything. */
int catalogue_check_template(const struct config *cfg, const struct milestone *m,
                             const struct msg_template *t, const char *label, const char *file,
                             FILE *out, FILE *errout);

/* The rendered SMS of @t with the sample trigger, as msg_template_render()
 * returns it ({"text", "sms": {"preview", "length", "segments", ...}, ...}).
 * Caller owns; cJSON_Delete(). */
cJSON *catalogue_check_render(const struct config *cfg, const struct milestone *m,
                              const struct msg_template *t);

/* Write the catalogue as a Markdown table, one row per message: milestone
 * id, 中文名, message, what is sent to whom, when, window. Built only from
 * @cat, so the README's copy can be compared with it. */
void catalogue_markdown(const struct catalogue *cat, FILE *out);

#endif
