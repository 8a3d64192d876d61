# make demo | make test | make chNN | make test-chNN | make docs | make bench
# Native builds go to build/native, the sanitizer build to build/asan.

CHAPTERS := ch01_blocking ch02_multi ch03_select
ids       = $(foreach c,$(1),$(firstword $(subst _, ,$(c))))
IDS      := $(call ids,$(CHAPTERS))
slug      = $(filter $(1)_%,$(CHAPTERS))

VARIANT  ?= native
OUT      := build/$(VARIANT)
CC       ?= cc
PKGS     := libcurl libmicrohttpd
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
CFLAGS   := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O2 \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(if $(filter asan,$(VARIANT)),$(SAN) -O1)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
LDFLAGS  := $(if $(filter asan,$(VARIANT)),$(SAN))
TESTLIBS := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

CORE_SRC := $(filter-out %_win.c,$(wildcard code/core/*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(OUT)/obj/%.o)
COMMON_T := $(wildcard tests/common/*.c)
chobjs    = $(patsubst %.c,$(OUT)/obj/%.o,$(filter-out %/main.c,$(wildcard code/$(1)/*.c)))

.PHONY: all deps build demo test docs excerpts bench clean $(IDS) $(IDS:%=test-%) $(IDS:%=build-%)
.DELETE_ON_ERROR:

all: build

deps:
	@tools/bootstrap.sh native

build: deps
	@$(MAKE) --no-print-directory progs tests

PROGS := $(OUT)/bin/server $(IDS:%=$(OUT)/bin/%)
TESTS := $(IDS:%=$(OUT)/tests/test-%)
.PHONY: progs tests
progs: $(PROGS)
tests: $(TESTS)

$(OUT)/obj/%.o: %.c $(wildcard code/*/*.h tests/common/*.h)
	@mkdir -p $(@D); echo "  CC      $<"
	@$(CC) $(CFLAGS) -DBIN_DIR='"$(abspath $(OUT)/bin)"' -c $< -o $@

$(OUT)/bin/server: $(OUT)/obj/code/server/main.o $(CORE_OBJ)
	@mkdir -p $(@D); echo "  LINK    $@"
	@$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

define chapter_rules
$(OUT)/bin/$(1): $(OUT)/obj/code/$(2)/main.o $(call chobjs,$(2)) $(CORE_OBJ)
	@mkdir -p $$(@D); echo "  LINK    $$@"
	@$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
$(OUT)/tests/test-$(1): $(patsubst %.c,$(OUT)/obj/%.o,$(wildcard tests/$(2)/*.c) $(COMMON_T)) \
                        $(call chobjs,$(2)) $(CORE_OBJ) | $(PROGS)
	@mkdir -p $$(@D); echo "  LINK    $$@"
	@$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) $$(TESTLIBS) -o $$@
build-$(1): deps
	@$$(MAKE) --no-print-directory $(OUT)/bin/$(1) $(OUT)/bin/server $(OUT)/tests/test-$(1)
$(1): build-$(1)
	@tools/with-server.sh $(OUT)/bin $(OUT)/bin/$(1) -n 4 /delay/300 /bytes/65536
test-$(1): build-$(1)
	@tools/run-tests.sh --variants $(VARIANT) $(1)
endef
$(foreach c,$(CHAPTERS),$(eval $(call chapter_rules,$(call ids,$(c)),$(c))))

demo: build
	@tools/demo.sh $(OUT)/bin $(IDS)

excerpts:
	@tools/excerpts.sh chapters/*.md

docs: deps
	@mkdir -p build/docs
	@doxygen docs/Doxyfile > build/docs/doxygen.log && echo "docs: build/docs/html/index.html (0 warnings)"

# Everything: tests, then excerpts and docs, then the native tests again under ASan+UBSan.
test: build
	@$(MAKE) --no-print-directory VARIANT=asan progs tests
	@tools/run-tests.sh --variants native,asan \
	    --check "excerpts=$(MAKE) --no-print-directory excerpts" \
	    --check "docs=$(MAKE) --no-print-directory docs" $(IDS)

clean:
	rm -rf build
