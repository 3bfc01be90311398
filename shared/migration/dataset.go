package migration

// DataSet is a data set (analytics, ...) of an app or service; it follows its asset.
type DataSet struct {
	ID      string `json:"id" dynamodbav:"id"`
	AssetID string `json:"assetId" dynamodbav:"assetId"`
	Kind    string `json:"kind" dynamodbav:"kind"`
}
