# sipkeep — see README.md. `make run` and `make test` are the two commands a newcomer needs.
GO ?= go
export GOFLAGS ?= -buildvcs=false

.PHONY: test
test:
	$(GO) vet ./...
	$(GO) test ./...
