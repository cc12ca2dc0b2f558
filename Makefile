# medfraud — PGXS build.  The two commands a new user runs:
#   make demo   install what is missing, build, run the demo city end to end
#   make test   install what is missing, build, run every test suite
# Both work on a machine with no PostgreSQL at all: the PGXS include below is
# skipped until tools/install-deps.sh has installed the server dev packages,
# and those targets re-enter make once it has.

EXTENSION   = medfraud
EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" medfraud.control)
MODULE_big  = medfraud
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/core/*.c src/pg/*.c)))
# the current full install script is assembled from sql/install/*.sql;
# released versions' scripts and every upgrade script are kept verbatim
DATA        = $(filter-out sql/$(EXTENSION)--$(EXTVERSION).sql,$(wildcard sql/$(EXTENSION)--*.sql)) \
              sql/$(EXTENSION)--$(EXTVERSION).sql
REGRESS     = $(sort $(patsubst sql/%.sql,%,$(filter-out sql/$(EXTENSION)--%,$(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)
PG_CPPFLAGS = -I$(srcdir)/src/core -I$(srcdir)/src/pg
PG_CFLAGS   = -std=gnu11 -Wno-declaration-after-statement
EXTRA_CLEAN = test/unit/build test/unit/build-san

PG_CONFIG  ?= pg_config
PGXS       := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all:
	@bash tools/install-deps.sh
	@$(MAKE) --no-print-directory all
endif

all: sql/$(EXTENSION)--$(EXTVERSION).sql

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard sql/install/*.sql))
	@{ echo '-- GENERATED from sql/install/*.sql by make: edit those files, not this one.'; \
	   printf '%s\n' '\echo Use "CREATE EXTENSION medfraud" to load this file. \quit'; \
	   for f in $^; do echo; echo "-- ===== $$f"; cat $$f; done; } > $@

.PHONY: deps build-install demo test unit bench installcheck-all
deps:
	@bash tools/install-deps.sh

build-install: deps
	@$(MAKE) --no-print-directory all
	@$(SUDO) $(MAKE) --no-print-directory install >/dev/null

demo: build-install
	@bash tools/demo.sh

test: build-install
	@bash tools/run-tests.sh

unit:
	@$(MAKE) --no-print-directory -C test/unit

bench: build-install
	@bash bench/run.sh
