package rie

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ownsListener reports whether process pid holds the TCP socket listening on
// 127.0.0.1:port. Ports are picked free and handed to the emulator, so another
// stack starting at the same moment (parallel test packages) can bind the
// same port first; a readiness dial would then reach the other stack's
// emulator and run the wrong function. Linux only: ok is false when /proc
// cannot say, and the caller then trusts the dial.
//
// Written by hand: no library maps a listening port to its process.
func ownsListener(pid, port int) (owns, ok bool) {
	inodes, err := listenInodes(port)
	if err != nil || len(inodes) == 0 {
		return false, false
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false, false
	}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name()))
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
			return true, true
		}
	}
	return false, true
}

// listenInodes returns the inodes of sockets listening on 127.0.0.1:port.
func listenInodes(port int) (map[string]bool, error) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	want := fmt.Sprintf("0100007F:%04X", port)
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[1] != want || fields[3] != "0A" { // 0A = LISTEN
			continue
		}
		if _, err := strconv.ParseUint(fields[9], 10, 64); err == nil {
			out[fields[9]] = true
		}
	}
	return out, sc.Err()
}
