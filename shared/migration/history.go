package migration

import (
	"context"
	"encoding/base64"
	"strconv"
)

// HistoryEntry is one of an account's migrations with its batches.
type HistoryEntry struct {
	Migration Migration
	Batches   []Batch
}

// History is one page of the account's migrations, newest first.
type History struct {
	Migrations []HistoryEntry
	NextCursor string
}

// History lists the caller's migrations, newest first, each with its batches:
// an account that has moved everything still sees what moved where.
func (s *Reads) History(ctx context.Context, src AccountRef, cursor string, limit int) (History, error) {
	if limit <= 0 || limit > 50 {
		limit = 20 // each migration costs one more read, for its batches
	}
	ms, next, err := s.Store.MigrationsOf(ctx, src, cursor, limit)
	if err != nil {
		return History{}, err
	}
	h := History{Migrations: make([]HistoryEntry, 0, len(ms)), NextCursor: next}
	for _, m := range ms {
		batches, err := s.Store.Batches(ctx, m.MigrationID)
		if err != nil {
			return History{}, err
		}
		h.Migrations = append(h.Migrations, HistoryEntry{Migration: m, Batches: batches})
	}
	return h, nil
}

// encodeOffset and decodeOffset make a position in a list read whole (a
// receipt) an opaque cursor, as the store's cursors are.
func encodeOffset(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(n)))
}

func decodeOffset(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && len(raw) > 2 && string(raw[:2]) == "o:" {
		if n, err := strconv.Atoi(string(raw[2:])); err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, Errorf(CodeInvalidInput, "cursor is not valid")
}
