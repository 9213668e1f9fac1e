# huifang - one non-recursive Makefile.
#
# Targets:
#   make run      install missing Debian packages, build, start huifangd with the
#                 embedded SQLite store and the local mock provider (tools/run.sh)
#   make test     install missing packages, build, run every test (unit + end-to-end)
#   make asan     the same suite built with -fsanitize=address,undefined
#   make all      build huifangd, the huifang CLI, the mock provider and the unit tests
#   make install  install huifangd and the default config/templates (PREFIX, DESTDIR)
#   make check-catalogue   huifangd --check-config on the shipped config (make test runs it)
#   make readme-catalogue  regenerate README.md's milestone table from config/milestones.json
#   make clean
#
# Switches:
#   BUILD=dir     output directory (default build; `make asan` uses build/asan)
#   SAN=1         sanitizer build (address + undefined behaviour)
#   PREFIX=/usr/local DESTDIR=   install locations
#   TEST_TIMEOUT_MULTIPLIER=n    stretch per-test timeouts (asan sets 3)

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
SAN ?= 0
CC ?= cc

PKGS := libcurl libcrypto libcjson sqlite3 libpq libmicrohttpd expat
# libev ships no pkg-config file on Debian: fall back to -lev.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lev -lm
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes
CFLAGS ?= -O2 -g
ifeq ($(SAN),1)
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Igateway -Iadapters $(PKG_CFLAGS) -MMD -MP

# ---- objects, listed by directory --------------------------------------
LEAF_SRCS := gateway/util.c gateway/log.c
CORE_SRCS := gateway/config.c gateway/calendar.c gateway/windows.c gateway/template.c \
             gateway/catalogue.c gateway/catalogue_check.c gateway/plan.c gateway/store_sqlite.c gateway/store_db.c gateway/store_pg.c \
             gateway/metrics.c \
             gateway/http_error.c gateway/http_server.c gateway/outbound.c gateway/intake.c \
             gateway/survey_token.c gateway/ratelimit.c gateway/tokens.c gateway/dispatch.c \
             gateway/survey_def.c gateway/survey_page.c gateway/reply_parse.c gateway/wechat_msg.c \
             gateway/answers.c gateway/tickets.c gateway/tasks.c gateway/api.c gateway/api_triggers.c \
             gateway/api_callbacks.c gateway/api_surveys.c gateway/api_results.c gateway/api_wechat.c \
             gateway/api_customers.c gateway/campaign.c gateway/api_tasks.c \
             gateway/gateway.c
# issue 6: the customer-service API (reads, reports, CSV)
CORE_SRCS += gateway/store_read.c gateway/csv.c gateway/api_query.c gateway/api_messages.c \
             gateway/api_reports.c
ADAPTER_SRCS := adapters/registry.c adapters/webhook.c adapters/wechat.c adapters/wecom.c \
                adapters/aliyun_sms.c adapters/tencent_sms.c adapters/sign_aliyun.c \
                adapters/sign_tc3.c
DAEMON_SRCS := $(LEAF_SRCS) $(CORE_SRCS) $(ADAPTER_SRCS)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

DAEMON_OBJS := $(call obj,$(DAEMON_SRCS))
HUIFANGD := $(BUILD)/huifangd
MOCK := $(BUILD)/mock_provider
# issue 6: the huifang command-line tool (a client of the HTTP API)
HUIFANG := $(BUILD)/huifang
HUIFANG_SRCS := tools/huifang/main.c tools/huifang/client.c tools/huifang/commands.c \
                tools/huifang/import.c gateway/csv.c gateway/util.c gateway/log.c

# ---- unit tests: each binary links its module and what it needs --------
UNIT_TESTS := test_util test_calendar test_windows test_template test_config \
              test_catalogue test_plan test_store test_intake test_webhook test_ratelimit test_aliyun test_tencent test_wechat test_wecom test_wechat_msg test_survey_page test_reply_parse
test_util_OBJS := gateway/util.c gateway/log.c
test_reply_parse_OBJS := gateway/reply_parse.c gateway/util.c gateway/log.c
test_calendar_OBJS := gateway/calendar.c gateway/util.c gateway/log.c
test_windows_OBJS := gateway/windows.c gateway/calendar.c gateway/util.c gateway/log.c
test_template_OBJS := gateway/template.c gateway/util.c gateway/log.c
test_config_OBJS := gateway/config.c gateway/windows.c gateway/calendar.c gateway/util.c gateway/log.c
test_catalogue_OBJS := gateway/catalogue.c gateway/catalogue_check.c gateway/survey_token.c \
                       gateway/template.c gateway/windows.c gateway/calendar.c gateway/util.c gateway/log.c
test_plan_OBJS := gateway/plan.c $(test_catalogue_OBJS) $(ADAPTER_SRCS)
test_store_OBJS := gateway/store_sqlite.c gateway/store_db.c gateway/store_pg.c gateway/store_read.c gateway/util.c gateway/log.c
test_ratelimit_OBJS := gateway/ratelimit.c gateway/util.c gateway/log.c
test_intake_OBJS := gateway/intake.c gateway/campaign.c gateway/tasks.c gateway/plan.c \
                    gateway/http_error.c gateway/store_sqlite.c gateway/store_db.c gateway/store_pg.c gateway/store_read.c \
                    $(test_catalogue_OBJS) $(ADAPTER_SRCS)
test_webhook_OBJS := $(ADAPTER_SRCS) gateway/util.c gateway/log.c
test_wechat_OBJS := $(ADAPTER_SRCS) gateway/util.c gateway/log.c
test_wecom_OBJS := $(ADAPTER_SRCS) gateway/util.c gateway/log.c
test_aliyun_OBJS := $(ADAPTER_SRCS) gateway/util.c gateway/log.c
test_tencent_OBJS := $(ADAPTER_SRCS) gateway/util.c gateway/log.c
UNIT_TESTS += test_survey_def test_survey_token test_dispatch test_tasks
test_tasks_OBJS := $(test_intake_OBJS)
test_dispatch_OBJS := $(DAEMON_SRCS)
test_survey_token_OBJS := gateway/survey_token.c gateway/util.c gateway/log.c
test_survey_def_OBJS := gateway/survey_def.c gateway/util.c gateway/log.c
test_wechat_msg_OBJS := gateway/wechat_msg.c gateway/util.c gateway/log.c
test_survey_page_OBJS := gateway/survey_page.c gateway/survey_def.c gateway/util.c gateway/log.c
UNIT_TESTS += test_csv test_store_read
test_csv_OBJS := gateway/csv.c gateway/util.c gateway/log.c
test_store_read_OBJS := gateway/store_read.c gateway/store_sqlite.c gateway/store_db.c gateway/store_pg.c gateway/util.c gateway/log.c

UNIT_BINS := $(addprefix $(BUILD)/tests/,$(UNIT_TESTS))

.PHONY: all run test check asan install clean deps bench check-catalogue readme-catalogue
all: $(HUIFANGD) $(MOCK) $(HUIFANG) $(UNIT_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(HUIFANGD): $(DAEMON_OBJS) $(BUILD)/gateway/main.o
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(HUIFANG): $(call obj,$(HUIFANG_SRCS))
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

MOCK_SRCS := tools/mock/mock.c tools/mock/wechat.c tools/mock/aliyun.c tools/mock/tencent.c \
             adapters/sign_aliyun.c adapters/sign_tc3.c gateway/util.c gateway/log.c
$(MOCK): $(call obj,$(MOCK_SRCS))
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

define unit_rule
$(BUILD)/tests/$(1): $(BUILD)/tests/unit/$(1).o $(sort $(call obj,$($(1)_OBJS)))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(PKG_LIBS) $$(CMOCKA_LIBS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

# Benchmark helpers (tools/bench): a WeChat secure-mode callback generator.
WXGEN := $(BUILD)/wxgen
$(WXGEN): $(call obj,tools/bench/wxgen.c gateway/wechat_msg.c gateway/util.c gateway/log.c)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench: deps
	@$(MAKE) --no-print-directory $(HUIFANGD) $(MOCK) $(WXGEN)
	@BUILD=$(BUILD) tools/bench/run.sh

deps:
	@tools/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@tools/run.sh $(BUILD)

test: deps
	@$(MAKE) --no-print-directory check

check: all
	@BUILD=$(BUILD) tests/run_tests.sh
	@$(MAKE) --no-print-directory check-catalogue

# The shipped catalogue through the same check an operator runs before a
# restart: every template rendered with a sample trigger, every SMS preview
# within its declared parts. The check sends nothing, so placeholder
# secrets do when the environment has none.
check-catalogue: $(HUIFANGD)
	@out=$$(HUIFANG_SURVEY_SECRET=$${HUIFANG_SURVEY_SECRET:-check-config-placeholder} \
	  HUIFANG_WEBHOOK_SECRET=$${HUIFANG_WEBHOOK_SECRET:-check-config-placeholder} \
	  $(HUIFANGD) -c config/huifang.json --check-config 2>&1) || \
	  { printf '%s\n' "$$out"; echo "FAIL check-catalogue (huifangd --check-config)"; exit 1; }; \
	  echo "ok   check-catalogue ($$(printf '%s\n' "$$out" | grep -c '^sms ') SMS previews within their parts)"

readme-catalogue: $(HUIFANGD)
	@BUILD=$(BUILD) tools/readme_catalogue.sh

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 all
	@BUILD=build/asan TEST_TIMEOUT_MULTIPLIER=3 \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  tests/run_tests.sh

install: $(HUIFANGD) $(HUIFANG)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/huifang
	install -m 755 $(HUIFANGD) $(DESTDIR)$(PREFIX)/bin/huifangd
	install -m 755 $(HUIFANG) $(DESTDIR)$(PREFIX)/bin/huifang
	cp -r config templates $(DESTDIR)$(PREFIX)/share/huifang/

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
