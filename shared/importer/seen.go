package importer

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"slices"
)

// seqSet is a set of record sequence numbers, one bit each: what the import
// remembers of every record (a later duplicate, a row already there) costs
// 1 bit a record, not a map entry.
type seqSet []uint64

func (s *seqSet) add(seq int64) {
	i := int(seq / 64)
	if i >= len(*s) {
		*s = append(*s, make([]uint64, i-len(*s)+1)...)
	}
	(*s)[i] |= 1 << (seq % 64)
}

func (s seqSet) has(seq int64) bool {
	i := int(seq / 64)
	return i < len(s) && s[i]&(1<<(seq%64)) != 0
}

// dupFinder finds the records whose key an earlier record of the input
// had, in memory bounded by spillAt: keys are kept sorted in runs, spilled
// to temporary files past that, and merged once the input is read (an
// external sort: no well-kept library does this for fixed-size keys on
// disk, so it is written here).
type dupFinder struct {
	buf     []keySeq
	spillAt int
	runs    []*os.File
}

type keySeq struct {
	k   keyID
	seq int64
}

const keySeqLen = 16 + 8

// defaultSpillAt keeps 2^16 keys (1.5 MiB) in memory at a time.
const defaultSpillAt = 1 << 16

func cmpKeySeq(a, b keySeq) int {
	if c := bytes.Compare(a.k[:], b.k[:]); c != 0 {
		return c
	}
	switch {
	case a.seq < b.seq:
		return -1
	case a.seq > b.seq:
		return 1
	}
	return 0
}

func (d *dupFinder) add(k keyID, seq int64) error {
	if d.spillAt == 0 {
		d.spillAt = defaultSpillAt
	}
	d.buf = append(d.buf, keySeq{k, seq})
	if len(d.buf) >= d.spillAt {
		return d.spill()
	}
	return nil
}

func (d *dupFinder) spill() error {
	slices.SortFunc(d.buf, cmpKeySeq)
	f, err := os.CreateTemp("", "import-keys-*")
	if err != nil {
		return err
	}
	_ = os.Remove(f.Name()) // unlinked: gone when closed, whatever happens
	w := bufio.NewWriterSize(f, 1<<16)
	var b [keySeqLen]byte
	for _, e := range d.buf {
		copy(b[:16], e.k[:])
		binary.BigEndian.PutUint64(b[16:], uint64(e.seq))
		if _, err := w.Write(b[:]); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	d.runs = append(d.runs, f)
	d.buf = d.buf[:0]
	return nil
}

// dups is every record that repeats an earlier one's key, and frees what
// add kept.
func (d *dupFinder) dups() (seqSet, error) {
	defer d.close()
	var out seqSet
	if len(d.runs) == 0 {
		slices.SortFunc(d.buf, cmpKeySeq)
		for i := 1; i < len(d.buf); i++ {
			if d.buf[i].k == d.buf[i-1].k {
				out.add(d.buf[i].seq)
			}
		}
		return out, nil
	}
	if len(d.buf) > 0 {
		if err := d.spill(); err != nil {
			return nil, err
		}
	}
	h := &runHeap{}
	for _, f := range d.runs {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		r := &runReader{r: bufio.NewReaderSize(f, 1<<16)}
		if ok, err := r.next(); err != nil {
			return nil, err
		} else if ok {
			*h = append(*h, r)
		}
	}
	heap.Init(h)
	var last keyID
	first := true
	for h.Len() > 0 {
		r := (*h)[0]
		if !first && r.cur.k == last {
			out.add(r.cur.seq)
		}
		last, first = r.cur.k, false
		ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return out, nil
}

func (d *dupFinder) close() {
	for _, f := range d.runs {
		f.Close()
	}
	d.runs, d.buf = nil, nil
}

type runReader struct {
	r   *bufio.Reader
	cur keySeq
}

func (r *runReader) next() (bool, error) {
	var b [keySeqLen]byte
	if _, err := io.ReadFull(r.r, b[:]); errors.Is(err, io.EOF) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	copy(r.cur.k[:], b[:16])
	r.cur.seq = int64(binary.BigEndian.Uint64(b[16:]))
	return true, nil
}

type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return cmpKeySeq(h[i].cur, h[j].cur) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
