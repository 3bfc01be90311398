package demo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// WriteRecords writes n old-platform records as JSON Lines (docs/CONTRACT.md
// §4), streamed, for imports at scale: accounts of company subjects, each
// with certified mini-programs, and data sets and orders for them. Every
// record refers only to records written before it; the same n always gives
// the same records.
func WriteRecords(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	written := 0
	put := func(rec map[string]any) error {
		if written >= n {
			return nil
		}
		written++
		return enc.Encode(rec)
	}
	// Per account: subject, account, 5 apps, 20 data sets, 20 orders (47).
	for a := 0; written < n; a++ {
		subj, acct := fmt.Sprintf("gen-subj-%06d", a), fmt.Sprintf("gen-ma-%06d", a)
		if err := put(map[string]any{"type": "subject", "id": subj, "name": "Generated " + subj, "kind": "company", "certified": true}); err != nil {
			return err
		}
		if err := put(map[string]any{"type": "account", "platform": "microapp", "id": acct, "login": acct + "@example.com", "subjectId": subj}); err != nil {
			return err
		}
		for i := 0; i < 5; i++ {
			app := fmt.Sprintf("gen-app-%06d-%d", a, i)
			if err := put(map[string]any{"type": "app", "id": app, "platform": "microapp", "kind": "miniprogram", "name": app,
				"creatorAccountId": acct, "subjectId": subj, "certified": true}); err != nil {
				return err
			}
			for j := 0; j < 4; j++ {
				if err := put(map[string]any{"type": "data", "id": fmt.Sprintf("gen-ds-%06d-%d-%d", a, i, j), "assetId": app, "kind": "analytics"}); err != nil {
					return err
				}
				if err := put(map[string]any{"type": "order", "id": fmt.Sprintf("gen-ord-%06d-%d-%d", a, i, j), "assetId": app,
					"amountCents": 100 * (j + 1), "currency": "CNY", "status": "paid"}); err != nil {
					return err
				}
			}
		}
	}
	return bw.Flush()
}
