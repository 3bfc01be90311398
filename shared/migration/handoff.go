package migration

import "context"

// The hand-off to the new platforms: each committed batch's list of what
// moved (the receipt's canonical list) as an object the BatchCommitted event
// points to (the claim-check pattern), so an event stays small whatever the
// batch's size.

// Manifest says where a committed batch's list is and how to check it.
type Manifest struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	URI    string `json:"uri"`
	// SHA256 is the hex SHA-256 of the object's bytes: the receipt's hash.
	SHA256 string `json:"sha256"`
	Items  int    `json:"items"`
	Bytes  int    `json:"bytes"`
}

// Manifests stores manifest objects.
type Manifests interface {
	// PutManifest writes body under key (again, with the same bytes, when
	// retried) and says where it is.
	PutManifest(ctx context.Context, key string, body []byte, sha string) (Manifest, error)
}

// ManifestKey is where a batch's manifest is kept: one object per batch.
func ManifestKey(migrationID, batchID string) string {
	return "manifests/" + migrationID + "/" + batchID + ".jsonl"
}

// HandOff records the committed batch's receipt hash in the audit trail and
// writes its manifest, before the workflow announces the batch: safe to run
// again (the same bytes, the same hash recorded once).
func (s *WorkflowSteps) HandOff(ctx context.Context, migrationID, batchID string) (Manifest, error) {
	b, err := s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Manifest{}, err
	}
	items, sum, err := s.reads().IssueReceipt(ctx, b, "workflow")
	if err != nil {
		return Manifest{}, err
	}
	if s.Manifests == nil {
		return Manifest{SHA256: sum, Items: len(items)}, nil
	}
	body := CanonicalItems(items)
	m, err := s.Manifests.PutManifest(ctx, ManifestKey(migrationID, batchID), body, sum)
	if err != nil {
		return Manifest{}, err
	}
	m.SHA256, m.Items, m.Bytes = sum, len(items), len(body)
	return m, nil
}
