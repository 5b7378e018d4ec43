# libFuzzer builds of the library, separate from the main Makefile (which
# stays as it is). Called by tests/fuzz/run.sh:
#   make -f tests/fuzz/fuzz.mk FUZZ_BUILD=build-fuzz
# The library sources are compiled with coverage instrumentation
# (-fsanitize=fuzzer-no-link) plus ASan and UBSan; each harness
# tests/fuzz/fuzz_NAME.c links into FUZZ_BUILD/fuzz_NAME.
FUZZ_BUILD ?= build-fuzz
CC := clang
PKGS := libelf zlib liblzma libzstd libxxhash json-c libcgraph libgvc libcrypto
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Wno-unused-parameter $(SAN) \
	  -Isrc -Itests/fuzz $(shell pkg-config --cflags $(PKGS)) -MMD -MP
LIBS := $(shell pkg-config --libs $(PKGS)) -lpthread

LIB_SRCS := $(sort $(wildcard src/util/*.c src/elf/*.c src/tree/*.c src/graph/*.c \
	      src/index/*.c src/report/*.c src/check/*.c src/cache/*.c src/model/*.c \
	      src/depmod/*.c src/match/*.c src/query/*.c src/sig/*.c src/why/*.c src/diff/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
HARNESSES := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BINS := $(HARNESSES:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

all: $(BINS)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o $(LIB_OBJS)
	$(CC) $(SAN) -fsanitize=fuzzer -o $@ $< $(LIB_OBJS) $(LIBS)

.PHONY: all
.SECONDARY:
-include $(LIB_OBJS:.o=.d) $(HARNESSES:tests/fuzz/%.c=$(FUZZ_BUILD)/obj/tests/fuzz/%.d)
