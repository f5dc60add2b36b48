#!/bin/sh
# Regenerates the go-plugin code for sipkeep.proto (messages, vtproto
# marshalling, guest exports, host loader). Run from anywhere:
#   sh abi/proto/generate.sh
# Needs protoc (Debian: protobuf-compiler). The generator is pinned to the
# go-plugin version in go.mod and installed into abi/proto/.bin (gitignored).
set -eu
cd "$(dirname "$0")"
GOPLUGIN_VERSION=v0.9.0
BIN="$(pwd)/.bin"
mkdir -p "$BIN"
GOBIN="$BIN" GOFLAGS=-mod=mod go install "github.com/knqyf263/go-plugin/cmd/protoc-gen-go-plugin@${GOPLUGIN_VERSION}"
PATH="$BIN:$PATH" protoc \
	--plugin=protoc-gen-go-plugin="$BIN/protoc-gen-go-plugin" \
	--go-plugin_out=. --go-plugin_opt=paths=source_relative \
	sipkeep.proto
