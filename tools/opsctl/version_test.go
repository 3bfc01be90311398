package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersionFromLdflags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "opsctl")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	got, err := exec.Command(bin, "--version").Output()
	require.NoError(t, err)
	assert.Regexp(t, `^opsctl v9\.8\.7(, commit [0-9a-f]{12}(-dirty)?)?, go\d`, string(got))
}

func TestVersionWithoutLdflags(t *testing.T) {
	var out bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"--version"}, &out, &out))
	assert.True(t, strings.HasPrefix(out.String(), "opsctl "), out.String())
}

func TestCompletionListsCommandsAndTheirFlags(t *testing.T) {
	for _, shell := range []string{"bash", "zsh"} {
		var out, errOut bytes.Buffer
		require.Equal(t, exitOK, run(context.Background(), []string{"completion", shell}, &out, &errOut), errOut.String())
		s := out.String()
		assert.Contains(t, s, `compgen -W "audit bulk-start completion erase help import reconcile redrive resume show stuck waiting"`)
		assert.Regexp(t, `bulk-start\) flags="[^"]*--dry-run[^"]*--retry-from`, s)
		assert.Regexp(t, `resume\) flags="[^"]*--close-waiting[^"]*--dry-run`, s)
		assert.Contains(t, s, "complete -o default -F _opsctl opsctl")
	}
	var out bytes.Buffer
	assert.Equal(t, exitError, run(context.Background(), []string{"completion", "tcsh"}, &out, &out))
}

// The bash script must at least parse.
func TestCompletionScriptIsValidBash(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	var out bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"completion", "bash"}, &out, &out))
	cmd := exec.Command("bash", "-n")
	cmd.Stdin = &out
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, string(b))
}
