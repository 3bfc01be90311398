package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// figure is one measured number: a BENCH line and a row of the table.
type figure struct {
	Section string
	Name    string // BENCH name: [a-z0-9_]
	Label   string
	Value   float64
	Unit    string
	Target  string // "" = for context only
	Met     *bool
	Note    string
}

func met(ok bool) *bool { return &ok }

func (f figure) value() string {
	switch {
	case f.Unit == "USD":
		return fmt.Sprintf("%.6f", f.Value) // a migration costs fractions of a cent
	case f.Value == float64(int64(f.Value)) && (f.Value >= 100 || f.Unit == "bytes" || f.Unit == "writes" || f.Unit == "requests" ||
		f.Unit == "transitions" || f.Unit == "invocations" || f.Unit == "units"):
		return fmt.Sprintf("%d", int64(f.Value))
	case f.Value >= 100:
		return fmt.Sprintf("%.0f", f.Value)
	case f.Value >= 10:
		return fmt.Sprintf("%.1f", f.Value)
	}
	return fmt.Sprintf("%.2f", f.Value)
}

// benchLine is the figure as `BENCH <name> <value> <unit>`.
func (f figure) benchLine() string {
	return fmt.Sprintf("BENCH %s %s %s", f.Name, f.value(), f.Unit)
}

// machine describes where and when the figures were taken.
type machine struct {
	Command   string
	Date      time.Time
	Took      time.Duration
	CPU       string
	Cores     int
	GoVersion string
	Moto      string
	LoadStart string
	LoadEnd   string
	OS, Arch  string
}

func describeMachine(command string) machine {
	m := machine{Command: command, Date: time.Now().UTC(), Cores: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		LoadStart: loadAverage()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	py := os.Getenv("MOTO_PYTHON")
	if py == "" {
		py = "python3"
	}
	if out, err := exec.Command(py, "-c", "import moto; print(moto.__version__)").Output(); err == nil {
		m.Moto = strings.TrimSpace(string(out))
	}
	return m
}

// loadAverage is the 1-minute load average: how busy the machine was.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

const (
	beginMarker = "<!-- bench:begin (rewritten by `make bench`; edit outside the markers) -->"
	endMarker   = "<!-- bench:end -->"
)

// table renders the generated part of BENCHMARKS.md.
func table(m machine, figs []figure) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Command: `%s`  \n", m.Command)
	fmt.Fprintf(&b, "Machine: %s/%s, %d cores (%s), %s, moto %s; 1-minute load average %s at the start, %s at the end (the machine is shared: the higher, the noisier the wall-clock figures)  \n",
		m.OS, m.Arch, m.Cores, m.CPU, m.GoVersion, m.Moto, m.LoadStart, m.LoadEnd)
	fmt.Fprintf(&b, "Date: %s, the run took %s\n\n", m.Date.Format("2006-01-02 15:04 MST"), m.Took.Round(time.Second))
	section := ""
	for _, f := range figs {
		if f.Section != section {
			section = f.Section
			fmt.Fprintf(&b, "\n**%s**\n\n| figure | measured | target | met | BENCH name |\n|---|---|---|---|---|\n", section)
		}
		mark := ""
		if f.Met != nil {
			mark = "no"
			if *f.Met {
				mark = "yes"
			}
		}
		val := f.value() + " " + f.Unit
		if f.Note != "" {
			val += " (" + f.Note + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | `%s` |\n", f.Label, val, f.Target, mark, f.Name)
	}
	return b.String()
}

// rewriteReport replaces what lies between the markers of the report file
// (creating the file, or appending the markers, when they are missing) and
// leaves everything else as it was.
func rewriteReport(path, generated string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	out := spliceMarkers(old, generated)
	return os.WriteFile(path, out, 0o644)
}

func spliceMarkers(old []byte, generated string) []byte {
	block := beginMarker + "\n" + strings.TrimRight(generated, "\n") + "\n" + endMarker
	i := bytes.Index(old, []byte(beginMarker))
	j := bytes.Index(old, []byte(endMarker))
	if i < 0 || j < i {
		if len(old) == 0 {
			return []byte("# Benchmarks\n\n" + block + "\n")
		}
		return append(append(bytes.TrimRight(old, "\n"), "\n\n"...), block+"\n"...)
	}
	var b bytes.Buffer
	b.Write(old[:i])
	b.WriteString(block)
	b.Write(old[j+len(endMarker):])
	return b.Bytes()
}

func printBench(w io.Writer, figs []figure) {
	for _, f := range figs {
		fmt.Fprintln(w, f.benchLine())
	}
}

// savedRun is results.json: what a run measured, to render again later.
type savedRun struct {
	Machine machine
	Results *results
}

func saveResults(path string, m machine, res *results) error {
	b, err := json.MarshalIndent(savedRun{Machine: m, Results: res}, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func loadResults(path string) (machine, *results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return machine{}, nil, err
	}
	var s savedRun
	if err := json.Unmarshal(b, &s); err != nil {
		return machine{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Results == nil {
		return machine{}, nil, fmt.Errorf("%s: no results", path)
	}
	return s.Machine, s.Results, nil
}
