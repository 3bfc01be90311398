package migration

// Snapshot is the old-platform data to migrate (docs/CONTRACT.md §4). It is loaded
// whole or not at all: ParseSnapshot validates every record before anything is
// written.
type Snapshot struct {
	Version        int             `json:"version"`
	Subjects       []Subject       `json:"subjects"`
	Accounts       []Account       `json:"accounts"`
	Identities     []Identity      `json:"identities"`
	Apps           []App           `json:"apps"`
	Services       []Service       `json:"services"`
	Members        []Member        `json:"members"`
	Data           []DataSet       `json:"data"`
	Orders         []Order         `json:"orders"`
	TargetAccounts []TargetAccount `json:"targetAccounts"`
}
