# huifang - one non-recursive Makefile.
#
# Targets:
#   make run      install missing Debian packages, build, start huifangd with the
#                 embedded SQLite store and the local mock provider (tools/run.sh)
#   make test     install missing packages, build, run every test (unit + end-to-end)
#   make asan     the same suite built with -fsanitize=address,undefined
#   make fuzz     build the libFuzzer harnesses (tests/fuzz/) with clang into build/fuzz
#   make fuzz-run run each harness for FUZZ_SECONDS (default 30) on its seed corpus,
#                 FUZZ_JOBS at a time (default: one per core);
#                 fails on any crash, leak or UB (tests/fuzz/run.sh)
#   make lint     clang -Werror build of the whole tree and cppcheck over the sources
#   make valgrind the end-to-end suite with every huifangd under valgrind memcheck
#                 (HUIFANG_VALGRIND=1, see tests/e2e/harness.py): no leak, no invalid access
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
#   E2E_JOBS=n    end-to-end test shards run at once by tests/run_tests.sh
#                 (test, asan, valgrind; default 3)

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
# float-cast-overflow is not part of gcc's "undefined" group: named so that
# casting an untrusted 1e300 to an integer fails the suite too.
ifeq ($(SAN),1)
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow \
          -fno-sanitize-recover=undefined,float-cast-overflow
LDFLAGS += -fsanitize=address,undefined,float-cast-overflow
endif
# FUZZ=1 (set by `make fuzz`): clang, coverage for libFuzzer, ASan + UBSan.
ifeq ($(FUZZ),1)
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
          -fno-sanitize-recover=undefined
endif
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Igateway -Iadapters $(PKG_CFLAGS) -MMD -MP

# ---- objects, listed by directory --------------------------------------
LEAF_SRCS := gateway/util.c gateway/log.c
CORE_SRCS := gateway/config.c gateway/calendar.c gateway/windows.c gateway/template.c \
             gateway/catalogue.c gateway/catalogue_check.c gateway/plan.c gateway/store_sqlite.c gateway/store_db.c gateway/store_pg.c \
             gateway/store_cluster.c gateway/cluster.c gateway/metrics.c \
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
# ---- the web console and PM page: gateway/console*.c and web/, embedded ----
# web/ is turned into C by tools/embed/embed.c (gen/web_assets.c is built
# into $(BUILD)/gen, never into the source tree).
WEB_FILES := web/console.js web/console.css web/pm.js
EMBED := $(BUILD)/embed
CONSOLE_SRCS := gateway/console_session.c gateway/console.c gen/web_assets.c
CORE_SRCS += $(CONSOLE_SRCS)

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
test_store_OBJS := gateway/store_sqlite.c gateway/store_db.c gateway/store_pg.c gateway/store_read.c gateway/store_cluster.c gateway/util.c gateway/log.c
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

# the console's sessions
UNIT_TESTS += test_console_session
test_console_session_OBJS := gateway/console_session.c gateway/util.c gateway/log.c

UNIT_BINS := $(addprefix $(BUILD)/tests/,$(UNIT_TESTS))

.PHONY: all run test check asan install clean deps bench check-catalogue readme-catalogue \
        fuzz fuzz-run fuzzers lint valgrind
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

$(EMBED): tools/embed/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) -O2 -o $@ $<
$(BUILD)/gen/web_assets.c: $(WEB_FILES) $(EMBED)
	@mkdir -p $(dir $@)
	$(EMBED) $@ $(WEB_FILES)
$(BUILD)/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Benchmark helpers (tools/bench): a WeChat secure-mode callback generator.
WXGEN := $(BUILD)/wxgen
$(WXGEN): $(call obj,tools/bench/wxgen.c gateway/wechat_msg.c gateway/util.c gateway/log.c)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench: deps
	@$(MAKE) --no-print-directory $(HUIFANGD) $(MOCK) $(WXGEN)
	@BUILD=$(BUILD) tools/bench/run.sh

deps:
	@tools/deps.sh

# ---- fuzzing (tests/fuzz/<name>.c, seeds in tests/fuzz/corpus/<name>/) ---
FUZZERS := intake reply_parse template wechat_msg callbacks survey_page survey_token config \
           adapters
fuzz_intake_OBJS := gateway/config.c $(test_intake_OBJS)
fuzz_reply_parse_OBJS := $(test_reply_parse_OBJS)
fuzz_template_OBJS := $(test_template_OBJS)
fuzz_wechat_msg_OBJS := $(test_wechat_msg_OBJS)
fuzz_callbacks_OBJS := $(DAEMON_SRCS)
fuzz_survey_page_OBJS := $(test_survey_page_OBJS)
fuzz_survey_token_OBJS := $(test_survey_token_OBJS)
fuzz_config_OBJS := $(test_config_OBJS)
fuzz_adapters_OBJS := gateway/config.c gateway/windows.c gateway/calendar.c gateway/template.c \
                      $(ADAPTER_SRCS) gateway/util.c gateway/log.c
FUZZ_BINS := $(addprefix $(BUILD)/fuzz_,$(FUZZERS))
FUZZ_SECONDS ?= 30

define fuzz_rule
$(BUILD)/fuzz_$(1): $(BUILD)/tests/fuzz/$(1).o $(sort $(call obj,$(fuzz_$(1)_OBJS)))
	$$(CC) -fsanitize=fuzzer,address,undefined -o $$@ $$^ $$(PKG_LIBS)
endef
$(foreach f,$(FUZZERS),$(eval $(call fuzz_rule,$(f))))

fuzzers: $(FUZZ_BINS)

fuzz: deps
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang FUZZ=1 fuzzers

fuzz-run: fuzz
	@FUZZ_BUILD=build/fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZERS)

# ---- static checks: the tree under clang -Werror, then cppcheck ----------
# cppcheck findings are fixed; the few false positives carry an inline
# "cppcheck-suppress <id> ; reason" comment.
CPPCHECK_FLAGS := --enable=warning,style,performance,portability --std=c11 -D_GNU_SOURCE \
                  -Igateway -Iadapters --inline-suppr --error-exitcode=1 --quiet -j2
lint: deps
	@$(MAKE) --no-print-directory BUILD=build/clang CC=clang all
	cppcheck $(CPPCHECK_FLAGS) gateway adapters tools

# ---- the end-to-end suite under valgrind (unit tests: see `make asan`) ---
VALGRIND_SLOW ?= 10
valgrind: deps
	@$(MAKE) --no-print-directory all
	@HUIFANG_VALGRIND=1 TEST_TIMEOUT_MULTIPLIER=$(VALGRIND_SLOW) BUILD=$(BUILD) \
	  tests/run_tests.sh --e2e-only

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
