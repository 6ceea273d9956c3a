// Log Analytics workspace + workspace-based Application Insights.
// The container app's logs go to the workspace; the sidecar's OpenTelemetry
// exporter sends traces/metrics to Application Insights by connection string.

@description('Azure region.')
param location string

@description('Name prefix shared by all resources.')
param prefix string

@description('Days of log retention in the workspace.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

param tags object = {}

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' = {
  name: '${prefix}-logs'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${prefix}-appi'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    // Local auth stays enabled: the OpenTelemetry exporter authenticates with
    // the connection string (instrumentation key), not with Entra ID.
    DisableLocalAuth: false
  }
}

output workspaceName string = workspace.name
output appInsightsName string = appInsights.name
