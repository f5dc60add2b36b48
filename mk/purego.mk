# The scanner without its wasm assembly (plugin/internal/sipscan, the
# purego build tag): a Go release that breaks the assembly's register and
# frame conventions must still leave a plugin.
#   make conformance TAGS=purego   the conformance run on a purego build
#   make test-purego               the same, into build/purego/ (make test runs it)
# TAGS reaches every go command of the make run; the plugin is rebuilt
# whenever TAGS differs from the build it has (a stamp next to it).
ifneq ($(TAGS),)
GOFLAGS += -tags=$(TAGS)
endif

$(WASM): $(WASM).tags
$(WASM).tags: FORCE
	@mkdir -p $(dir $@)
	@echo '$(TAGS)' | cmp -s - $@ || echo '$(TAGS)' > $@

.PHONY: FORCE test-purego
FORCE:

# Its own file, so the assembly build the other tests use stays in place.
test-purego:
	$(MAKE) --no-print-directory conformance TAGS=purego WASM=$(BUILD)/purego/sipkeep.wasm
