package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The functions' DynamoDB requests are counted with moto's own request
// recorder (moto_api recorder: MOTO_RECORDER_FILEPATH in moto's environment,
// switched on and off over /moto-api/recorder/*). The emulator reports no
// consumed capacity for transactions and 1 for everything else, so write
// units are estimated from the requests themselves (see writeStats.Units).

// recorder drives moto's request recorder through the stack's AWS endpoint
// (the front passes /moto-api/* through to moto).
type recorder struct {
	endpoint string
	client   *http.Client
}

func (r recorder) call(ctx context.Context, op string) ([]byte, error) {
	method := http.MethodPost
	if op == "download-recording" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, r.endpoint+"/moto-api/recorder/"+op, nil)
	if err != nil {
		return nil, err
	}
	res, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("moto recorder %s: %s: %s", op, res.Status, truncate(body, 300))
	}
	return body, nil
}

// start empties the recording and starts recording.
func (r recorder) start(ctx context.Context) error {
	if _, err := r.call(ctx, "reset-recording"); err != nil {
		return err
	}
	_, err := r.call(ctx, "start-recording")
	return err
}

// stop stops recording and returns what was recorded.
func (r recorder) stop(ctx context.Context) ([]byte, error) {
	if _, err := r.call(ctx, "stop-recording"); err != nil {
		return nil, err
	}
	return r.call(ctx, "download-recording")
}

// writeStats counts DynamoDB writes.
type writeStats struct {
	Requests     map[string]int // write requests by operation
	ItemWrites   int            // write actions on ITEM# records (the assets)
	ItemsWritten int            // distinct ITEM# records written
	MaxPerItem   int            // most writes any one ITEM# record got
	// Requests that touch no ITEM# record: the workflow's own bookkeeping
	// (claims, batch transitions, parked tokens, audit, summary).
	BookkeepingRequests int
	// Actions on other records inside requests that also move items: the
	// batch's progress counter, one per chunk of <= 99 items.
	CounterActions int
	// Write units as DynamoDB bills them: 1 per KB (rounded up) for a
	// standard write, 2 per KB for each action of a transaction. Put sizes
	// come from the request; an update or delete is sized by the last put of
	// its record, or counted as 1 KB (the imported items are smaller).
	Units int
	// ItemUnits are the units of the writes to ITEM# records alone: the
	// design's floor, what moving the items costs with no bookkeeping.
	ItemUnits int
	// Reads: requests by operation, and their read request units sized
	// against the table (reads.go).
	ReadRequests int
	Reads        map[string]int
	ReadUnits    float64
	// Write requests recorded again with the same body: the SDK's resends
	// after moto answered 500 (counted once above).
	Resent int
}

func (w writeStats) requests() int {
	n := 0
	for _, v := range w.Requests {
		n += v
	}
	return n
}

// countWrites reads a moto recording (one JSON request per line); reads are
// sized against image, the table as it was when the recording began (nil:
// each read counted at the least a read can cost).
func countWrites(recording []byte, image *tableImage) (writeStats, error) {
	if image == nil {
		image = newImage()
	}
	c := &writeCounter{ws: writeStats{Requests: map[string]int{}, Reads: map[string]int{}}, image: image,
		perItem: map[string]int{}, seen: map[string]bool{}, sizes: map[string]int{}}
	if err := eachDynamoDBRequest(recording, c.request); err != nil {
		return c.ws, err
	}
	c.ws.ItemsWritten = len(c.perItem)
	for _, n := range c.perItem {
		c.ws.MaxPerItem = max(c.ws.MaxPerItem, n)
	}
	return c.ws, nil
}

// eachDynamoDBRequest calls fn with the operation and body of each DynamoDB
// request of a moto recording, in order; other requests are passed over.
func eachDynamoDBRequest(recording []byte, fn func(op string, body []byte) error) error {
	// A stream of JSON documents, not lines: moto's recorder threads may
	// write two entries without a newline between them.
	dec := json.NewDecoder(bytes.NewReader(recording))
	for {
		var entry struct {
			Headers map[string]string `json:"headers"`
			Body    string            `json:"body"`
			Encoded bool              `json:"body_encoded"`
		}
		if err := dec.Decode(&entry); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("recording: %w", err)
		}
		target := ""
		for k, v := range entry.Headers {
			if strings.EqualFold(k, "X-Amz-Target") {
				target = v
			}
		}
		op, ok := strings.CutPrefix(target, "DynamoDB_20120810.")
		if !ok {
			continue
		}
		body := []byte(entry.Body)
		if entry.Encoded {
			b, err := base64.StdEncoding.DecodeString(entry.Body)
			if err != nil {
				return fmt.Errorf("recording: body: %w", err)
			}
			body = b
		}
		if err := fn(op, body); err != nil {
			return err
		}
	}
}

// writeCounter adds up a recording's requests into ws.
type writeCounter struct {
	ws      writeStats
	image   *tableImage
	perItem map[string]int // writes by ITEM# record
	// The SDK resends a request moto failed (HTTP 500) unchanged, same
	// ClientRequestToken and all: the recorder logs requests, not answers,
	// so a write seen twice with the same body is one write.
	seen map[string]bool
	// Updates are billed by the item's size: the last put of the same key
	// tells it (records put before the recording started count as 1 KB).
	sizes map[string]int
}

// request counts one request: a read by its units, a write by its actions.
func (c *writeCounter) request(op string, body []byte) error {
	actions, err := writeActions(op, body)
	if err != nil {
		return err
	}
	if actions == nil {
		u, err := c.image.readUnits(op, body)
		if err != nil {
			return err
		}
		if u > 0 {
			c.ws.ReadRequests++
			c.ws.Reads[op]++
			c.ws.ReadUnits += u
		}
		return nil
	}
	if c.seen[op+string(body)] {
		c.ws.Resent++
		return nil
	}
	c.seen[op+string(body)] = true
	c.write(op, actions)
	return nil
}

// write counts one write request: its units, its item writes, and whether it
// is bookkeeping (touches no ITEM# record) or a progress counter beside items.
func (c *writeCounter) write(op string, actions []writeAction) {
	c.ws.Requests[op]++
	touchesItem := false
	for _, a := range actions {
		if strings.HasPrefix(a.pk, "ITEM#") {
			touchesItem = true
		}
	}
	for _, a := range actions {
		k := a.pk + "|" + a.sk
		if a.put {
			c.sizes[k] = a.size
			c.image.put(a.strs, a.size)
		} else {
			a.size = c.sizes[k]
		}
		units := writeUnits(op, a.size)
		c.ws.Units += units
		switch {
		case strings.HasPrefix(a.pk, "ITEM#"):
			c.ws.ItemWrites++
			c.ws.ItemUnits += units
			c.perItem[k]++
		case touchesItem:
			c.ws.CounterActions++
		}
	}
	if !touchesItem {
		c.ws.BookkeepingRequests++
	}
}

// writeUnits is what one write action of size bytes costs: 1 unit per KB
// started (at least 1), twice that inside a transaction.
func writeUnits(op string, size int) int {
	units := max((size+1023)/1024, 1)
	if op == "TransactWriteItems" {
		units *= 2
	}
	return units
}

type writeAction struct {
	pk, sk string
	put    bool
	size   int               // bytes of the item for puts
	strs   map[string]string // string attributes of a put (for the read image)
}

// writeActions lists the writes of one request; nil for a read.
func writeActions(op string, body []byte) ([]writeAction, error) {
	type keyed struct {
		Key  map[string]map[string]any `json:"Key"`
		Item map[string]map[string]any `json:"Item"`
	}
	one := func(k keyed) writeAction {
		src := k.Key
		a := writeAction{}
		if src == nil {
			src = k.Item
			a.put, a.size = true, itemSize(k.Item)
			a.strs = map[string]string{}
			for name, v := range k.Item {
				if s, ok := v["S"].(string); ok {
					a.strs[name] = s
				}
			}
		}
		a.pk, _ = src["pk"]["S"].(string)
		a.sk, _ = src["sk"]["S"].(string)
		return a
	}
	switch op {
	case "PutItem", "UpdateItem", "DeleteItem":
		var k keyed
		if err := json.Unmarshal(body, &k); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		return []writeAction{one(k)}, nil
	case "TransactWriteItems":
		var in struct {
			TransactItems []map[string]keyed `json:"TransactItems"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		var out []writeAction
		for _, ti := range in.TransactItems {
			for _, k := range ti {
				out = append(out, one(k))
			}
		}
		return out, nil
	case "BatchWriteItem":
		var in struct {
			RequestItems map[string][]struct {
				PutRequest    *keyed `json:"PutRequest"`
				DeleteRequest *keyed `json:"DeleteRequest"`
			} `json:"RequestItems"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		var out []writeAction
		for _, reqs := range in.RequestItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					out = append(out, one(*r.PutRequest))
				}
				if r.DeleteRequest != nil {
					out = append(out, one(*r.DeleteRequest))
				}
			}
		}
		return out, nil
	}
	return nil, nil
}

// itemSize approximates DynamoDB's item size: attribute names plus values.
func itemSize(item map[string]map[string]any) int {
	n := 0
	for name, v := range item {
		n += len(name)
		b, _ := json.Marshal(v)
		n += len(b) - 6 // minus the {"S":} wrapper, roughly
	}
	return n
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
