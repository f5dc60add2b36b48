package abi_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// portable are the module's own packages abi and its imports may use: each
// imports only the standard library, so the guest and every host can build
// abi for any GOOS (the package comment promises it).
var portable = map[string]bool{
	"github.com/sipkeep/sipkeep/internal/asciifold": true,
}

// TestImportsStayPortable fails when abi, or a package of this module it
// imports, imports anything but the standard library and the packages in
// portable.
func TestImportsStayPortable(t *testing.T) {
	dirs := map[string]string{"abi": "."}
	for p := range portable {
		dirs[p] = filepath.Join("..", strings.TrimPrefix(p, "github.com/sipkeep/sipkeep/"))
	}
	for pkg, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files in %s (%v)", pkg, dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatalf("parse %s: %v", f, err)
			}
			for _, is := range af.Imports {
				path, _ := strconv.Unquote(is.Path.Value)
				std := !strings.Contains(strings.SplitN(path, "/", 2)[0], ".")
				if !std && !(pkg == "abi" && portable[path]) {
					t.Errorf("%s imports %s: abi and its own imports must stay standard-library only (abi/abi.go)", f, path)
				}
			}
		}
	}
}
