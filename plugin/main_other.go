//go:build !wasip1

// Command plugin is the sipkeep WebAssembly module; it only makes sense built
// for GOOS=wasip1 GOARCH=wasm (see main.go, `make plugin`).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "sipkeep plugin: build with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared (make plugin)")
	os.Exit(2)
}
