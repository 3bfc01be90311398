package migration

import "strings"

// Arrival is what becomes of a record that arrives while its account may be
// migrating (docs/CONTRACT.md §4: records that arrive while migrations run).
type Arrival int

const (
	// ArrivePlain: no batch of the account's active migration is concerned;
	// the record is put where it is placed (a later migration takes it).
	ArrivePlain Arrival = iota
	// ArriveJoin: its batch still waits for the developer; it joins the
	// batch (the review shows it, the point of no return counts it).
	ArriveJoin
	// ArriveJoinMoving: a data set or order of an asset still at the source
	// whose batch is moving; the move takes it, and the batch counts it.
	ArriveJoinMoving
	// ArriveWait: an app, service, identity or relation under a batch past
	// its point of no return; it waits for a later migration.
	ArriveWait
	// ArriveFollow: a data set or order of an asset that has moved; it
	// follows the asset to the same target account.
	ArriveFollow
)

// ArrivalOf decides for a placed item and the batch of its account's active
// migration under the item's batch key (nil for none).
func ArrivalOf(it Item, b *Batch) Arrival {
	child := it.Type == ItemData || it.Type == ItemOrder
	switch {
	case child && it.MovedBy != "" && strings.HasPrefix(it.Holder, "tgt:"):
		return ArriveFollow
	case it.Skip != "" || it.BatchKey == "" || it.WaitsFor != "" || b == nil:
		return ArrivePlain
	case b.State.WaitingOnDeveloper():
		return ArriveJoin
	case b.State == Committing && child && b.Left != nil:
		return ArriveJoinMoving
	case b.State.PastPointOfNoReturn() && !child:
		return ArriveWait
	}
	return ArrivePlain
}

// CountsField is the batch's count (Counts) an item of type t adds to.
func CountsField(t ItemType) string {
	switch t {
	case ItemApp:
		return "apps"
	case ItemService:
		return "services"
	case ItemIdentity:
		return "identities"
	case ItemMember:
		return "members"
	case ItemData:
		return "data"
	}
	return "orders"
}
