package kamailio

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sipkeep/sipkeep/internal/testnet"
	"github.com/sipkeep/sipkeep/internal/testwasm"
)

var cfgBlock = regexp.MustCompile("(?s)```cfg\n(.*?)```")

// TestReadmeSnippetsPassKamailioCheck runs `kamailio -c` on every cfg
// snippet of the example's README and the module's README, so what an
// operator pastes works: each snippet goes into a minimal cfg (a listener;
// the module loaded with its two required parameters when the snippet does
// not load it itself), with the install paths replaced by the test's.
func TestReadmeSnippetsPassKamailioCheck(t *testing.T) {
	bin := needKamailio(t)
	root := testwasm.ModuleRoot()
	mod, lib, wasm := kamModule(t), capiLib(t), testwasm.Path(t)
	dir := t.TempDir()
	n := 0
	for _, readme := range []string{"examples/kamailio/README.md", "hostadapters/kamailio/module/README.md"} {
		b, err := os.ReadFile(filepath.Join(root, readme))
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range cfgBlock.FindAllStringSubmatch(string(b), -1) {
			snippet := m[1]
			var cfg strings.Builder
			fmt.Fprintf(&cfg, "#!KAMAILIO\nlisten=udp:127.0.0.1:%d\nmpath=%q\n", testnet.FreePort(t), kamailioModules)
			cfg.WriteString("loadmodule \"xlog.so\"\nloadmodule \"sl.so\"\nloadmodule \"registrar.so\"\nloadmodule \"usrloc.so\"\n")
			if !strings.Contains(snippet, `loadmodule "/usr/local/lib/sipkeep/sipkeep.so"`) {
				cfg.WriteString("loadmodule \"/usr/local/lib/sipkeep/sipkeep.so\"\n" +
					"modparam(\"sipkeep\", \"library\", \"/usr/local/lib/sipkeep/libsipkeep.so\")\n" +
					"modparam(\"sipkeep\", \"module\", \"/usr/local/lib/sipkeep/sipkeep.wasm\")\n")
			}
			cfg.WriteString(snippet)
			cfg.WriteString("\nrequest_route {\n\tsl_send_reply(\"404\", \"Not here\");\n}\n")
			text := strings.NewReplacer(
				"/usr/local/lib/sipkeep/sipkeep.so", mod,
				"/usr/local/lib/sipkeep/libsipkeep.so", lib,
				"/usr/local/lib/sipkeep/sipkeep.wasm", wasm,
				"/var/cache/sipkeep", dir,
			).Replace(cfg.String())
			path := filepath.Join(dir, fmt.Sprintf("snippet-%d-%d.cfg", n, i))
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bin, "-c", "-f", path).CombinedOutput(); err != nil {
				t.Errorf("%s snippet %d fails kamailio -c: %v\n%s\n--- cfg:\n%s", readme, i+1, err, tail(string(out), 15), text)
			}
			n++
		}
	}
	if n < 10 {
		t.Errorf("checked %d snippets; the READMEs have more", n)
	}
	t.Logf("%d cfg snippets pass kamailio -c", n)
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
