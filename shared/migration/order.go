package migration

// Order is an order or bill of an app or service; it follows its asset.
type Order struct {
	ID          string `json:"id" dynamodbav:"id"`
	AssetID     string `json:"assetId" dynamodbav:"assetId"`
	AmountCents int64  `json:"amountCents" dynamodbav:"amountCents"`
	Currency    string `json:"currency" dynamodbav:"currency"`
	Status      string `json:"status" dynamodbav:"status"`
}
