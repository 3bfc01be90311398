package main

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CPU time is the bench's second clock. On a shared two-core machine the wall
// time of a run depends on what everyone else runs at that moment; the CPU
// time the local stack spends on it hardly does. Every figure that compares
// two runs is given both ways: wall time (what the issue asks) and CPU time
// (what stays put when the machine is busy).

// stackCPU is the CPU time used so far by this process and its
// descendants: moto, every emulator and every function bootstrap, and the
// fronts this process serves; split into moto (the store) and the rest. Read
// from /proc.
type stackCPU struct {
	Moto, Rest time.Duration
}

func (c stackCPU) total() time.Duration { return c.Moto + c.Rest }

func (c stackCPU) sub(o stackCPU) stackCPU {
	return stackCPU{Moto: c.Moto - o.Moto, Rest: c.Rest - o.Rest}
}

// procTable remembers which processes descend from the bench and which is
// moto, so a sample reads the stat of those alone.
type procTable struct {
	mu    sync.Mutex
	known map[int]procInfo
}

type procInfo struct {
	ppid int
	mine bool // a descendant of this process
	moto bool
}

func (t *procTable) read() stackCPU {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.known == nil {
		t.known = map[int]procInfo{}
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return stackCPU{}
	}
	self := os.Getpid()
	var out stackCPU
	var fresh []int
	cpu := map[int]time.Duration{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		info, seen := t.known[pid]
		if seen && !info.mine {
			continue
		}
		ppid, c, ok := readStat(pid)
		if !ok {
			continue
		}
		if !seen || info.ppid != ppid {
			info = procInfo{ppid: ppid}
			if cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil {
				info.moto = strings.Contains(string(cmd), "moto-launcher")
			}
			t.known[pid] = info
			fresh = append(fresh, pid)
		}
		cpu[pid] = c
	}
	// Ancestry of the processes seen for the first time: parents first is
	// not guaranteed, so walk up through what is known.
	for _, pid := range fresh {
		info := t.known[pid]
		info.mine = t.descends(pid, self)
		t.known[pid] = info
	}
	// This process serves the stack's fronts (the AWS endpoint, the HTTP
	// API): its CPU is part of the stack's too.
	out.Rest += processCPU()
	for pid, c := range cpu {
		info := t.known[pid]
		if !info.mine {
			continue
		}
		if info.moto {
			out.Moto += c
		} else {
			out.Rest += c
		}
	}
	return out
}

func (t *procTable) descends(pid, ancestor int) bool {
	for depth := 0; depth < 16; depth++ {
		info, ok := t.known[pid]
		if !ok {
			ppid, _, ok := readStat(pid)
			if !ok {
				return false
			}
			info = procInfo{ppid: ppid}
		}
		if info.ppid == ancestor {
			return true
		}
		pid = info.ppid
	}
	return false
}

// readStat reads a process's parent and CPU time. The command name is in
// parentheses and may hold spaces: fields are counted after its closing one
// (ppid is field 4, utime 14, stime 15, in USER_HZ = 100 ticks a second).
func readStat(pid int) (ppid int, cpu time.Duration, ok bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return 0, 0, false
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return ppid, time.Duration(ut+st) * 10 * time.Millisecond, true
}

// cpuSampler samples stackCPU every few tens of milliseconds, so the CPU of a
// span known only afterwards (the commit, from the audit trail) can be read.
type cpuSampler struct {
	procs   procTable
	mu      sync.Mutex
	samples []cpuSample
	stop    chan struct{}
	done    chan struct{}
}

type cpuSample struct {
	at  time.Time
	cpu stackCPU
}

func startCPUSampler(every time.Duration) *cpuSampler {
	c := &cpuSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			c.take()
			select {
			case <-c.stop:
				c.take()
				return
			case <-t.C:
			}
		}
	}()
	return c
}

func (c *cpuSampler) take() {
	s := cpuSample{at: time.Now(), cpu: c.procs.read()}
	c.mu.Lock()
	c.samples = append(c.samples, s)
	c.mu.Unlock()
}

func (c *cpuSampler) Stop() {
	close(c.stop)
	<-c.done
}

// between is the CPU used from t0 to t1, read at the samples nearest them.
func (c *cpuSampler) between(t0, t1 time.Time) stackCPU {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at(t1).sub(c.at(t0))
}

func (c *cpuSampler) at(t time.Time) stackCPU {
	best := cpuSample{}
	var bestGap time.Duration = -1
	for _, s := range c.samples {
		gap := s.at.Sub(t)
		if gap < 0 {
			gap = -gap
		}
		if bestGap < 0 || gap < bestGap {
			best, bestGap = s, gap
		}
	}
	return best.cpu
}
