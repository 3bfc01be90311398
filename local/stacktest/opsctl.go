package stacktest

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// BuildOpsctl builds the ops tool of the project at projectDir into a
// directory of t's and returns the binary's path, for tests that run it as
// ops do (and kill it: `go run` would leave the binary running).
func BuildOpsctl(t testing.TB, projectDir string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "opsctl")
	build := exec.Command("go", "build", "-o", bin, "./tools/opsctl")
	build.Dir = projectDir
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}
