# make check: the static checks `make test` runs first, each failing on
# what it finds. gofmt; go vet natively and, for the code that builds into
# the plugin, for GOOS=wasip1 (its assembly and build-tagged files differ);
# staticcheck at the version go.mod's tool directive pins, likewise for
# both; go.mod and go.sum as `go mod tidy` would leave them.
#
# The wasip1 staticcheck runs the host-built binary (`go tool -n` names it)
# with U1000 off: it cannot see the uses by //go:wasmexport or by assembly.
.PHONY: check
check:
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './build/*' -not -path './.git/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt -w these files:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./plugin/... ./abi/...
	$(GO) tool staticcheck ./...
	GOOS=wasip1 GOARCH=wasm $$($(GO) tool -n staticcheck) -checks inherit,-U1000 ./plugin/... ./abi/...
	$(GO) mod tidy -diff
