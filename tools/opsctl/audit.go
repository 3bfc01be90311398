package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
)

func runAudit(ctx context.Context, c *cli, args []string) (int, error) {
	fs := c.flags("audit")
	out := fs.String("out", "", "write the JSON lines to this file instead of stdout")
	ref, env, err := c.forAccount(ctx, fs, args)
	if err != nil {
		return exitError, err
	}
	var w io.Writer = c.stdout
	var f *os.File
	if *out != "" {
		if f, err = os.Create(*out); err != nil {
			return exitError, err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	n := 0
	cursor := ""
	for {
		evs, next, err := env.store.AuditTrail(ctx, ref, cursor, 1000)
		if err != nil {
			return exitError, err
		}
		for _, ev := range evs {
			if err := writeJSONLine(bw, ev); err != nil {
				return exitError, err
			}
			n++
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if err := bw.Flush(); err != nil {
		return exitError, err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return exitError, err
		}
		fmt.Fprintf(c.stdout, "%d audit event(s) of %s written to %s\n", n, ref, *out)
	}
	return exitOK, nil
}
