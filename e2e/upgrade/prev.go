// Package upgrade tests a release against the migrations in flight: the
// previous release runs on the local stack with migrations parked in every
// wait and one mid-move, this build is deployed into the same running stack
// (stack.Deploy, as `sam deploy` does), and every migration is driven to its
// end. `make upgrade-test [PREV=<git ref>]` runs it; `make test` too.
package upgrade

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// prevRelease is the build this one is deployed over: UPGRADE_PREV (make's
// PREV) if set, else the newest v* tag before HEAD, else HEAD~1.
type prevRelease struct {
	Ref      string // as given or found
	Commit   string
	Describe string // what its functions report (git describe)
}

func findPrev(t *testing.T, root string) prevRelease {
	t.Helper()
	ref := os.Getenv("UPGRADE_PREV")
	if ref == "" {
		// HEAD~1, not HEAD: on a tagged release commit the previous release
		// is the tag before it.
		if out, err := git(root, "describe", "--tags", "--abbrev=0", "--match", "v[0-9]*", "HEAD~1"); err == nil {
			ref = out
		} else {
			ref = "HEAD~1"
		}
	}
	commit, err := git(root, "rev-parse", "--verify", ref+"^{commit}")
	require.NoError(t, err, "PREV=%s is not a commit of this repository (a shallow clone lacks history and tags: clone it whole)", ref)
	desc, err := git(root, "describe", "--tags", "--always", "--match", "v[0-9]*", commit)
	require.NoError(t, err)
	return prevRelease{Ref: ref, Commit: commit, Describe: desc}
}

// build exports the release's tree (git archive: the repository and its
// worktrees stay as they are) and builds its functions with its own
// Makefile, as `make build-local` did when it was released.
func (p prevRelease) build(t *testing.T, root string) (projectDir, buildDir string) {
	t.Helper()
	projectDir = t.TempDir()
	buildDir = filepath.Join(projectDir, ".build")
	archive := exec.Command("git", "-C", root, "archive", "--format=tar", p.Commit)
	var tarball bytes.Buffer
	archive.Stdout = &tarball
	archive.Stderr = os.Stderr
	require.NoError(t, archive.Run(), "git archive %s", p.Commit)
	untar := exec.Command("tar", "-x", "-C", projectDir)
	untar.Stdin = &tarball
	out, err := untar.CombinedOutput()
	require.NoError(t, err, "untar: %s", out)

	// The emulator is the stack's tooling, not part of the release: reuse
	// this build's when it is there.
	if rie, err := os.ReadFile(filepath.Join(root, ".build", "aws-lambda-rie")); err == nil {
		require.NoError(t, os.MkdirAll(buildDir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(buildDir, "aws-lambda-rie"), rie, 0o755))
	}
	build := exec.Command("make", "--no-print-directory", "-C", projectDir, "build-local",
		"LOCAL_BUILD="+buildDir, "VERSION="+p.Describe)
	// Not the calling make's variables (PREV, -j...): the release's own.
	build.Env = withoutEnv(os.Environ(), "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "VERSION", "UPGRADE_PREV")
	out, err = build.CombinedOutput()
	require.NoError(t, err, "make build-local of %s: %s", p.Ref, out)
	return projectDir, buildDir
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Stderr = io.Discard
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

func withoutEnv(env []string, names ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || name == n
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
