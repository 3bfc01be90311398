package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version is set at build time (go build -ldflags "-X main.version=v1.2.3");
// otherwise it comes from the module and VCS stamps Go records in the binary.
var version = ""

// versionString is what `opsctl --version` prints: the version, the commit
// (marked dirty when built from uncommitted changes) and the Go release.
func versionString() string {
	v, rev, dirty, goVersion := version, "", false, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	parts := []string{"opsctl " + v}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "-dirty"
		}
		parts = append(parts, "commit "+rev)
	}
	if goVersion != "" {
		parts = append(parts, goVersion)
	}
	return strings.Join(parts, ", ")
}

func printVersion(w io.Writer) { fmt.Fprintln(w, versionString()) }
