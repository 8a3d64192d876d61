# make demo | make test | make chNN | make test-chNN | make docs | make bench
# Native builds go to build/native, the sanitizer build to build/asan.

CHAPTERS := ch01_blocking ch02_multi ch03_select ch04_poll ch05_epoll ch06_iocp ch07_bridges \
            ch08_uring ch09_measuring
ids       = $(foreach c,$(1),$(firstword $(subst _, ,$(c))))
IDS      := $(call ids,$(CHAPTERS))
slug      = $(filter $(1)_%,$(CHAPTERS))

# LIBCURL=8: build, test and bench against libcurl 8.14.1, which tools/curl-build.sh 8
# builds once from Debian's bookworm-backports source into the cache; its builds
# go to build/curl8 and build/curl8-asan, and the Windows programs, on 8.14.1 cross-built
# by tools/curl-build.sh 8 win, to build/win-curl8. Empty (the default): the system's libcurl.
LIBCURL  ?=
ifeq ($(LIBCURL),8)
CURL8    := $(shell tools/curl-build.sh 8)
ifeq ($(CURL8),)
$(error LIBCURL=8: tools/curl-build.sh 8 could not build libcurl 8.14.1 (its message is above))
endif
PKGCONF  := PKG_CONFIG_PATH='$(CURL8)/lib/pkgconfig' pkg-config
CURL_RUN := -Wl,-rpath,'$(CURL8)/lib'
NATIVE_V := curl8
ASAN_V   := curl8-asan
WIN_CURL_CMD := tools/curl-build.sh 8 win
else ifneq ($(LIBCURL),)
$(error LIBCURL is 8 (libcurl 8.14.1, built once into the cache) or empty (the system's libcurl), not "$(LIBCURL)")
else
PKGCONF  := pkg-config
NATIVE_V := native
ASAN_V   := asan
WIN_CURL_CMD := tools/win-curl.sh
endif
VARIANT  ?= $(NATIVE_V)
OUT      := build/$(VARIANT)
# An exercise build (tools/exercise.sh) compiles EX_WITH in place of EX_REPLACE.
EX_REPLACE ?=
EX_WITH    ?=
CC       ?= cc
PKGS     := libcurl libmicrohttpd libuv
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
CFLAGS   := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O2 \
            $(shell $(PKGCONF) --cflags $(PKGS) 2>/dev/null) $(if $(filter %asan,$(VARIANT)),$(SAN) -O1 -DSANITIZED)
LDLIBS   := $(shell $(PKGCONF) --libs $(PKGS) 2>/dev/null) $(CURL_RUN) -lpthread
ifeq ($(shell pkg-config --exists liburing 2>/dev/null && echo yes),yes)
CFLAGS   += -DLOOP_HAVE_URING $(shell pkg-config --cflags liburing)
LDLIBS   += $(shell pkg-config --libs liburing)
endif
LDFLAGS  := $(if $(filter %asan,$(VARIANT)),$(SAN))
TESTLIBS := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

# A chapter's main.c may say "Requires: linux" (or uring); the build reads it.
# "Demo: ARGS" are the arguments make chNN gives the program (none: it reads $SERVER).
demo_args = $(shell awk -F'Demo: ' 'NF > 1 { sub(/  .*/, "", $$2); print $$2 }' code/$(1)/main.c)
requires  = $(shell sed -n 's/.*Requires: \([a-z]*\).*/\1/p' code/$(1)/main.c)
have_linux := $(filter Linux,$(shell uname -s))
have_uring := $(shell pkg-config --exists liburing 2>/dev/null && echo yes)
runnable  = $(if $(filter linux,$(call requires,$(1))),$(have_linux),\
            $(if $(filter uring,$(call requires,$(1))),$(and $(have_linux),$(have_uring)),yes))
SKIPPED  := $(foreach c,$(CHAPTERS),$(if $(call runnable,$(c)),,$(c)))
ACTIVE   := $(filter-out $(SKIPPED),$(CHAPTERS))
AIDS     := $(call ids,$(ACTIVE))
# Windows-only chapters have no native program: their tests drive .exe files under Wine.
WINONLY  := $(foreach c,$(ACTIVE),$(if $(filter windows,$(call requires,$(c))),$(call ids,$(c))))
NIDS     := $(filter-out $(WINONLY),$(AIDS))

# The loop and its backends grouped by model, the libcurl glue, the job runner
# with its command line, and the server (its main.c is the server program).
CODE_DIRS := code/loop code/loop/reactor code/loop/proactor code/loop/bridge code/glue code/jobs
CORE_SRC := $(filter-out %_win.c,$(wildcard $(CODE_DIRS:%=%/*.c))) code/server/server.c
CODE_H   := $(wildcard $(CODE_DIRS:%=%/*.h) code/server/*.h)
CORE_OBJ := $(CORE_SRC:%.c=$(OUT)/obj/%.o)
COMMON_T := $(wildcard tests/common/*.c)
chobjs    = $(patsubst %.c,$(OUT)/obj/%.o,$(filter-out %/main.c,$(wildcard code/$(1)/*.c)))

.PHONY: all deps build build-all demo demo-run test test-run docs excerpts bench bench-profile bench-figures doctor fresh-check clean $(IDS) $(IDS:%=test-%) $(IDS:%=build-%)
.DELETE_ON_ERROR:
.SECONDEXPANSION:
# One progress line per phase; V=1 lists every file compiled and linked.
V        ?=
SAY      := $(if $(filter 1,$(V)),echo,:)

all: build

deps:
	@tools/bootstrap.sh windows

# ---- Windows programs: mingw-w64 against the cached static libcurl, run under Wine
WIN_CC   ?= x86_64-w64-mingw32-gcc
WIN_OUT  := $(if $(filter native asan,$(VARIANT)),build/win,$(if $(filter curl8 curl8-asan,$(VARIANT)),build/win-curl8,$(OUT)/win))
HAVE_WIN := $(shell command -v $(WIN_CC) >/dev/null 2>&1 && command -v wine >/dev/null 2>&1 && echo yes)
WIN_STATIC ?= -DCURL_STATICLIB
WIN_CFLAGS = -std=gnu11 -Wall -Wextra -Werror -O2 -g $(WIN_STATIC) -D_WIN32_WINNT=0x0600 \
             -I$(WIN_CURL)/include
WIN_LIBS  ?= -L$(WIN_CURL)/lib -lcurl -lws2_32 -lcrypt32 -lsecur32 -lbcrypt -ladvapi32 \
             -lnormaliz -static -lpthread
WIN_LOOP := code/loop/loop.c code/loop/reactor/loop_select.c code/loop/reactor/loop_poll.c code/loop/proactor/loop_iocp.c \
            code/loop/bridge/loop_thread.c code/loop/bridge/loop_afd.c code/loop/bridge/loop_event.c
WIN_GLUE := $(WIN_LOOP) code/glue/curlx.c code/jobs/job.c
WIN_EXES ?= win_quirks win_contract win_iocp win_bridges win_events win_multi ch02 ch03 ch04 ch06 \
            ch07
win_src_win_quirks   := tests/ch04_poll/win_quirks.c $(WIN_LOOP)
win_src_win_contract := tests/ch04_poll/win_contract.c tests/common/contract.c $(WIN_GLUE)
win_src_win_multi    := tests/ch02_multi/win_multi.c $(WIN_GLUE)
win_src_ch02         := code/ch02_multi/main.c code/ch02_multi/multi.c code/jobs/cli.c $(WIN_GLUE)
win_src_ch03         := code/ch03_select/main.c code/jobs/cli.c $(WIN_GLUE)
win_src_ch04         := code/ch04_poll/main.c code/jobs/cli.c $(WIN_GLUE)
win_src_win_iocp     := tests/ch06_iocp/win_iocp.c $(WIN_GLUE)
win_src_ch06         := code/ch06_iocp/main.c code/jobs/cli.c $(WIN_GLUE)
win_src_win_bridges  := tests/ch07_bridges/win_bridges.c $(WIN_GLUE)
win_src_win_events   := tests/ch07_bridges/win_events.c $(WIN_GLUE)
win_src_ch07         := code/ch07_bridges/main.c code/jobs/cli.c $(WIN_GLUE)

.PHONY: win win-exes win-objs
win:
ifeq ($(HAVE_WIN),yes)
	@echo "build: the Windows programs into $(WIN_OUT) (mingw-w64, run under Wine)"
	@p=$$($(WIN_CURL_CMD)) && [ -n "$$p" ] || { echo "win: the Windows libcurl could not be built ($(WIN_CURL_CMD) says why above)" >&2; exit 1; }; \
	 $(MAKE) --no-print-directory win-exes WIN_CURL="$$p"
else
	@echo "skip: Windows programs (need mingw-w64 and wine: apt-get install gcc-mingw-w64-x86-64 wine64 wine)"
endif
win-exes: $(WIN_EXES:%=$(WIN_OUT)/bin/%.exe)
# One object per source, so an edit recompiles one file and relinks the programs.
win_objs = $(patsubst %.c,$(WIN_OUT)/obj/%.o,$(win_src_$(1)))
# named here, so make keeps them and rebuilds them when missing (not intermediate)
win-objs: $(sort $(foreach e,$(WIN_EXES),$(call win_objs,$(e))))
$(WIN_OUT)/obj/%.o: %.c $(CODE_H) $(wildcard tests/common/*.h)
	@mkdir -p $(@D); $(SAY) "  WINCC   $<"
	@$(WIN_CC) $(WIN_CFLAGS) -c $< -o $@
ifneq ($(EX_REPLACE),)
$(WIN_OUT)/obj/$(EX_REPLACE:.c=.o): $(EX_WITH) FORCE
	@mkdir -p $(@D); $(SAY) "  WINCC   $(EX_WITH) (in place of $(EX_REPLACE))"
	@$(WIN_CC) $(WIN_CFLAGS) -I$(dir $(EX_REPLACE)) -c $(EX_WITH) -o $@
endif
$(WIN_OUT)/bin/%.exe: $$(call win_objs,$$*)
	@mkdir -p $(@D); $(SAY) "  WINLD   $@"
	@$(WIN_CC) $^ -o $@ $(WIN_LIBS)

# After deps, a new make reads the Makefile again: what deps installed (liburing's
# pkg-config file) is seen by the build, the demo and the test run of a first make.
build: deps
	@$(MAKE) --no-print-directory build-all
build-all:
	@echo "build: the programs and tests into $(OUT)$(if $(filter 1,$(V)),, (V=1 lists each file))"
	@$(MAKE) --no-print-directory progs tests
	@$(MAKE) --no-print-directory win
	@for c in $(SKIPPED); do echo "skip: $$c needs $$(sed -n 's/.*Requires: \([a-z]*\).*/\1/p' code/$$c/main.c), which this machine lacks"; done

PROGS := $(OUT)/bin/server $(NIDS:%=$(OUT)/bin/%)
# The scripts a test runs, copied beside the programs at every build, so a
# breaker can swap one (EX_REPLACE=tools/NAME.sh EX_WITH=its patched copy).
SCRIPTS := $(OUT)/tools/bench-report.sh
TESTS := $(AIDS:%=$(OUT)/tests/test-%)
.PHONY: progs tests
progs: $(PROGS) $(SCRIPTS)
$(OUT)/tools/%.sh: FORCE
	@mkdir -p $(@D); cp $(if $(filter tools/$*.sh,$(EX_REPLACE)),$(EX_WITH),tools/$*.sh) $@
tests: $(TESTS)

# The tests find this build's programs relative to where the test binary is,
# so a tree that is copied or moved tests its own programs.
rel_to_tests = $(shell realpath -m --relative-to=$(OUT)/tests $(1))
PATHS := -DBIN_REL='"$(call rel_to_tests,$(OUT)/bin)"' -DWIN_BIN_REL='"$(call rel_to_tests,$(WIN_OUT)/bin)"' \
         -DROOT_REL='"$(call rel_to_tests,.)"'

$(OUT)/obj/%.o: %.c $(CODE_H) $(wildcard code/*/*.h tests/common/*.h)
	@mkdir -p $(@D); $(SAY) "  CC      $<"
	@$(CC) $(CFLAGS) $(PATHS) -c $< -o $@

ifneq ($(EX_REPLACE),)
$(OUT)/obj/$(EX_REPLACE:.c=.o): $(EX_WITH) FORCE
	@mkdir -p $(@D); $(SAY) "  CC      $(EX_WITH) (in place of $(EX_REPLACE))"
	@$(CC) $(CFLAGS) -I$(dir $(EX_REPLACE)) $(PATHS) -c $(EX_WITH) -o $@
endif
.PHONY: FORCE
FORCE:

$(OUT)/bin/server: $(OUT)/obj/code/server/main.o $(CORE_OBJ)
	@mkdir -p $(@D); $(SAY) "  LINK    $@"
	@$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

define chapter_rules
$(OUT)/bin/$(1): $(OUT)/obj/code/$(2)/main.o $(call chobjs,$(2)) $(CORE_OBJ)
	@mkdir -p $$(@D); $(SAY) "  LINK    $$@"
	@$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
$(OUT)/tests/test-$(1): $(patsubst %.c,$(OUT)/obj/%.o,$(filter-out $(wildcard tests/$(2)/win_*.c),$(wildcard tests/$(2)/*.c)) $(COMMON_T)) \
                        $(call chobjs,$(2)) $(CORE_OBJ) | $(PROGS) $(SCRIPTS)
	@mkdir -p $$(@D); $(SAY) "  LINK    $$@"
	@$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) $$(TESTLIBS) -o $$@
build-$(1): deps
	@$$(MAKE) --no-print-directory $(if $(filter $(1),$(WINONLY)),,$(OUT)/bin/$(1)) $(OUT)/bin/server $(OUT)/tests/test-$(1) win
$(1): build-$(1)
	@$(if $(filter ch09,$(1)),$$(MAKE) --no-print-directory bench QUICK=1; exit 0;) \
	 $(if $(filter $(1),$(WINONLY)),[ -f $(WIN_OUT)/bin/$(1).exe ] || { echo "skip: $(1) is a Windows program and needs mingw-w64 and wine"; exit 0; }; \
	  tools/with-server.sh $(OUT)/bin sh -c 'tools/wine-run.sh 120 $(WIN_OUT)/bin/$(1).exe $$$$SERVER',\
	  tools/with-server.sh $(OUT)/bin $(OUT)/bin/$(1) $(call demo_args,$(2)))
	@if [ -z "$(filter $(1),$(WINONLY))" ] && [ -f $(WIN_OUT)/bin/$(1).exe ]; then echo "-- the same program for Windows, under Wine:"; \
	  tools/with-server.sh $(OUT)/bin sh -c 'tools/wine-run.sh 120 $(WIN_OUT)/bin/$(1).exe -n 4 $$$$SERVER/delay/300 $$$$SERVER/bytes/65536'; fi
test-$(1): build-$(1)
	@tools/run-tests.sh --variants $(VARIANT) $(1)
endef
$(foreach c,$(CHAPTERS),$(eval $(call chapter_rules,$(call ids,$(c)),$(c))))

demo: build
	@$(MAKE) --no-print-directory demo-run
demo-run:
	@tools/demo.sh $(OUT)/bin $(filter-out ch08 ch09,$(NIDS))

excerpts:
	@tools/excerpts.sh chapters/*.md

docs: deps
	@mkdir -p build/docs
	@doxygen docs/Doxyfile > build/docs/doxygen.log && echo "docs: build/docs/html/index.html (0 warnings)"
	@tools/docs-check.sh

# Everything: the suites, natively and under ASan+UBSan, then the checks of the
# text, the exercises and the docs, one after another; beside them all, from the
# start, the claims and their breakers (a lane: mostly waiting, in trees and
# Wine prefixes of their own).
# With LIBCURL=8, the suites only (native and ASan): the checks of the text and the
# exercises are about the project's files, and run on the default libcurl.
test: build
	@tools/bootstrap.sh test
	@$(MAKE) --no-print-directory test-run
test-run:
	@echo "build: the same under ASan+UBSan into build/$(ASAN_V)"
	@$(MAKE) --no-print-directory VARIANT=$(ASAN_V) progs $(filter-out $(WINONLY:%=build/$(ASAN_V)/tests/test-%),$(TESTS:build/$(NATIVE_V)/%=build/$(ASAN_V)/%))
ifeq ($(LIBCURL),8)
	@echo "libcurl $$($(PKGCONF) --modversion libcurl) from $(CURL8)"
	@tools/run-tests.sh --variants $(NATIVE_V),$(ASAN_V) --only-native "$(WINONLY)" $(AIDS)
else
	@tools/run-tests.sh --variants native,asan --only-native "$(WINONLY)" \
	    --lane "claims=tools/claims.sh build/native/tests chapters/*.md" \
	    --check "runner=tools/runner-selftest.sh" \
	    --check "excerpts=$(MAKE) --no-print-directory excerpts" \
	    --check "outputs=tools/outputs.sh README.md chapters/*.md docs/workshop/workshop.md" \
	    --check "moved-tree=tools/moved-tree.sh" \
	    --check "exercises=tools/exercise.sh --verify" \
	    --check "docs=$(MAKE) --no-print-directory docs" $(AIDS)
endif

# ---- benchmarks: not tests. QUICK=1 for small counts.
bench: deps
	@tools/bootstrap.sh bench
	@$(MAKE) --no-print-directory progs
	@QUICK=$(QUICK) BENCH_BIN=build/$(NATIVE_V)/bin BENCH_OUT=build/bench$(if $(LIBCURL),-curl$(LIBCURL)) tools/bench.sh

# Only the profiles a full make bench ends with (tools/bench-profile.sh).
bench-profile: deps
	@tools/bootstrap.sh bench
	@$(MAKE) --no-print-directory progs
	@BENCH_PART=profile BENCH_BIN=build/$(NATIVE_V)/bin BENCH_OUT=build/bench$(if $(LIBCURL),-curl$(LIBCURL)) tools/bench.sh

# Exercises: make exercise-ch03 checks your exercises/ch03_*/work copy
# (SOLUTION=1: the reference, which is the project's own code).
exercise-%: deps
	@tools/exercise.sh $* $(if $(HINT),hint $(HINT),$(if $(RESET),reset,$(if $(SOLUTION),solution,work)))

# The README's two commands in a minimal Debian 12 root (tools/fresh-check.sh);
# FRESH_ARGS=--backports enables bookworm-backports there.
fresh-check:
	@tools/fresh-check.sh $(FRESH_ARGS)

# What this machine has for the workshop; installs nothing.
doctor:
	@tools/doctor.sh

# Copy the last full run's figures, CSV and profiles into docs/figures for the
# site and chapter 9 (LIBCURL=8: build/bench-curl8 into docs/figures/curl8, no plots).
FIG_IN  := build/bench$(if $(LIBCURL),-curl$(LIBCURL))
FIG_OUT := docs/figures$(if $(LIBCURL),/curl$(LIBCURL))
bench-figures:
	@mkdir -p $(FIG_OUT)
	@tools/bench-report.sh $(FIG_IN)/results.csv $(FIG_IN) > $(FIG_OUT)/report.txt
	@cp $(FIG_IN)/results.csv $(FIG_IN)/syscalls.csv $(FIG_OUT)/
	@# the plots are the default run's (one name each for Doxygen's image path)
	@$(if $(LIBCURL),true,cp $(FIG_IN)/rate.svg $(FIG_IN)/iteration.svg $(FIG_IN)/memory.svg $(FIG_IN)/held.svg $(FIG_OUT)/)
	@if [ -f $(FIG_IN)/profile.txt ]; then cp $(FIG_IN)/profile.txt $(FIG_OUT)/; fi
	@echo "bench-figures: $(FIG_OUT) updated from $(FIG_IN)"

clean:
	rm -rf build
