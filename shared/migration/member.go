package migration

// Member is a collaboration relation: accountId is admin or collaborator of assetId.
type Member struct {
	AssetID   string `json:"assetId" dynamodbav:"assetId"`
	AccountID string `json:"accountId" dynamodbav:"accountId"`
	Role      Role   `json:"role" dynamodbav:"role"`
}
