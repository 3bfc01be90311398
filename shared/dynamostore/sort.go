package dynamostore

import (
	"sort"

	"github.com/devplatform/account-migration/shared/migration"
)

func sortBatches(bs []migration.Batch) {
	sort.Slice(bs, func(i, j int) bool { return bs[i].BatchKey < bs[j].BatchKey })
}
